import FWBase

/// Rows of cells as aligned text: each column padded to its widest cell, two spaces apart, the last column not
/// padded. `paint` may colour a cell after padding (colour codes would upset the widths before).
public enum TextTable {
    public static func render(_ rows: [[String]], paint: (_ row: Int, _ column: Int, _ padded: String) -> String = { $2 }) -> String {
        // Cells hold input values (host names): each is escaped, so none can move the cursor or start a line.
        let rows = rows.map { $0.map(DisplayEscaping.escaped) }
        // Widths in Unicode scalars: cheap to count (a render summary has a row per host), right for the names
        // and numbers these tables hold.
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.unicodeScalars.count) }
        }
        var text = ""
        for (rowIndex, row) in rows.enumerated() {
            for (column, cell) in row.enumerated() {
                if column > 0 { text += "  " }
                let last = column == row.count - 1
                let padding = last ? "" : String(repeating: " ", count: widths[column] - cell.unicodeScalars.count)
                text += paint(rowIndex, column, cell + padding)
            }
            text += "\n"
        }
        return text
    }
}
