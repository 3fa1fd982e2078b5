/// The INI parser under fuzzing: what `Fuzz/` (libFuzzer, `make fuzz-inventory`) runs on every input, and what the
/// fuzz regression tests run on the inputs kept in `Tests/FWInventoryTests/FuzzRegressions/`. Kept in the library
/// so both run exactly the same code.
@_spi(Fuzzing) public enum INIInventoryFuzzTarget {
    /// Parses `bytes` as an INI inventory (ranges capped at a few thousand hosts) and, when that succeeds, computes
    /// every view of it. Each input must end in an inventory whose views work, or in an `InventoryError` naming the
    /// file and line; what does not is returned, described (the fuzzer crashes on it, the tests record it). Crashes
    /// and hangs are bugs too.
    public static func exercise(_ bytes: [UInt8]) -> [String] {
        var problems = fastPathProblems(bytes)
        var builder = InventoryBuilder()
        do {
            try INIInventoryParser.parse(bytes, file: "fuzz.ini", into: &builder, maxHosts: 5000)
        } catch let error as InventoryError {
            if error.file != "fuzz.ini" || error.line == nil { problems.append("an error without file and line: \(error)") }
            return problems
        } catch {
            return problems + ["an error that is not an InventoryError: \(error)"]
        }
        let inventory = InventoryLoader.finish(sources: ["fuzz.ini"], warnings: [], builder: builder)
        if (try? JSONReader.parse(inventory.listJSONBytes())) == nil { problems.append("--list output is not valid JSON") }
        _ = try? inventory.graph()
        for host in inventory.hosts.prefix(100) {
            _ = try? inventory.connection(of: host.name)
            if (try? inventory.hostJSON(host.name)) == nil { problems.append("--host '\(host.name)' fails for a listed host") }
        }
        for group in inventory.groups.prefix(100) {
            _ = inventory.hosts(inGroup: group.name)
            _ = try? inventory.select("\(group.name):!ungrouped")
        }
        // The first line as a host pattern (not a regular expression: those are the user's own to get right).
        if let line = String(decoding: bytes.prefix(200), as: UTF8.self).split(separator: "\n").first, !line.contains("~") {
            _ = try? inventory.select(String(line))
        }
        return problems
    }

    /// The parser's shortcuts must give exactly what the full code gives: each difference is a problem.
    static func fastPathProblems(_ bytes: [UInt8]) -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else { return [] }
        var problems: [String] = []
        for line in PythonText.splitLines(text).prefix(50) {
            let fast = try? ShellWords.split(line)
            let full = try? ShellWords.splitFully(line)
            if fast != full { problems.append("ShellWords fast path differs for \(line.debugDescription)") }
            for word in full ?? [] {
                let value = word.firstIndex(of: "=").map { word[word.index(after: $0)...] } ?? Substring(word)
                let quick = try? PythonLiteral.ansibleValue(of: value)
                let slow = try? PythonLiteral.ansibleValue(of: value, shortcuts: false)
                if quick != slow { problems.append("PythonLiteral shortcut differs for \(value.debugDescription)") }
            }
        }
        return problems
    }
}
