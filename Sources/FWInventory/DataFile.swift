import FWBase
import FWTemplate

/// A JSON or YAML data file, typed as Ansible types vars files: JSON as Python's `json.loads` reads it, YAML with
/// PyYAML's YAML 1.1 rules (`yes` is true, `0443` is octal 291, `1e3`, `08` and `0o17` stay strings). The format
/// comes from the name: `.json`, else `.yml`/`.yaml`.
public enum DataFile {
    public static func read(_ path: String) throws(InventoryError) -> InventoryValue {
        try read(path, json: { try JSONReader.parse($0).value }, yaml: { $0 })
    }

    /// The file as template data: what `TemplateValue(read(path))` gives, but JSON is built straight into
    /// template values (a large data file is not built twice).
    public static func readTemplateData(_ path: String) throws(InventoryError) -> TemplateValue {
        try read(path, json: JSONReader.parseTemplateValue, yaml: TemplateValue.init)
    }

    private static func read<Value>(
        _ path: String, json: ([UInt8]) throws -> Value, yaml: (InventoryValue) -> Value
    ) throws(InventoryError) -> Value {
        let origin = FileLocation(file: path)
        let isJSON = path.hasSuffix(".json")
        guard isJSON || path.hasSuffix(".yml") || path.hasSuffix(".yaml") else {
            throw InventoryError("unknown data format", at: origin, hint: "name the file .json, .yml or .yaml")
        }
        let bytes: [UInt8]
        do {
            bytes = try LocalFile.readBytes(path)
        } catch {
            throw InventoryError("cannot read the data file (\(error.reason))", at: origin)
        }
        if isJSON {
            do {
                return try json(bytes)
            } catch let failure as JSONReader.Failure {
                throw InventoryError("not valid JSON: \(failure.message)",
                                     at: FileLocation(file: path, line: failure.line, column: failure.column))
            } catch {
                throw InventoryError("not valid JSON: \(error)", at: origin)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InventoryError("the data file is not valid UTF-8", at: origin, hint: "save it as UTF-8")
        }
        do {
            // The YAML reader recurses once per nesting level: give it room.
            return yaml(try WorkerThread.run(stackSize: WorkerThread.deepRecursionStackSize) {
                try YAMLReader.parse(text).value
            })
        } catch let failure as YAMLReader.Failure {
            throw InventoryError(failure.message, at: FileLocation(file: path, line: failure.line, column: failure.column))
        } catch {
            throw InventoryError("not valid YAML: \(error)", at: origin)
        }
    }
}
