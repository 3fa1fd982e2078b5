/// Rows of cells as aligned text: each column padded to its widest cell, two spaces apart, the last column not
/// padded. `paint` may colour a cell after padding (colour codes would upset the widths before).
enum TextTable {
    static func render(_ rows: [[String]], paint: (_ row: Int, _ column: Int, _ padded: String) -> String = { $2 }) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        var text = ""
        for (rowIndex, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                let padded = column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                return paint(rowIndex, column, padded)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }
}
