/// The INI parser under fuzzing: what `Fuzz/` (libFuzzer) runs on every input, and what the fuzz regression
/// tests run on the inputs it once crashed on. Kept in the library so both run exactly the same code.
public enum FuzzTarget {
    /// Parses `bytes` as an INI inventory and, when that succeeds, computes every view of it. Must return for any
    /// input: no crash, no hang (ranges are capped at a few thousand hosts here).
    public static func exercise(_ bytes: [UInt8]) {
        checkFastPaths(bytes)
        var builder = InventoryBuilder()
        do {
            try INIInventoryParser.parse(bytes, file: "fuzz.ini", into: &builder, maxHosts: 5000)
        } catch {
            _ = String(describing: error)
            return
        }
        let inventory = InventoryLoader.finish(sources: ["fuzz.ini"], warnings: [], builder: builder)
        _ = inventory.listJSON()
        _ = try? inventory.graph()
        for host in inventory.hosts.prefix(100) {
            _ = inventory.vars(of: host.name)
            _ = try? inventory.connection(of: host.name)
            _ = try? inventory.hostJSON(host.name)
        }
        for group in inventory.groups.prefix(100) {
            _ = inventory.hosts(inGroup: group.name)
            _ = try? inventory.select("\(group.name):!ungrouped")
        }
        // The first line as a host pattern (not a regular expression: those are the user's own to get right).
        if let line = String(decoding: bytes.prefix(200), as: UTF8.self).split(separator: "\n").first, !line.contains("~") {
            _ = try? inventory.select(String(line))
        }
    }

    /// The parser's shortcuts must give exactly what the full code gives: a difference is a bug, reported as a
    /// crash so libFuzzer keeps the input.
    static func checkFastPaths(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        for line in PythonText.splitLines(text).prefix(50) {
            let fast = try? ShellWords.split(line)
            let full = try? ShellWords.splitFully(line)
            if fast != full {
                preconditionFailure("ShellWords fast path differs for \(line.debugDescription)")
            }
            for word in full ?? [] {
                let value = word.firstIndex(of: "=").map { word[word.index(after: $0)...] } ?? Substring(word)
                let quick = try? PythonLiteral.ansibleValue(of: value)
                let slow = try? PythonLiteral.ansibleValue(of: value, shortcuts: false)
                if quick != slow {
                    preconditionFailure("PythonLiteral shortcut differs for \(value.debugDescription)")
                }
            }
        }
    }
}
