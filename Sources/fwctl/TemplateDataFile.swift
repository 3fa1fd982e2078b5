import FWTemplate
import Foundation
import Yams

/// Data files for `fwctl template render`: JSON through Foundation, YAML through Yams, into `TemplateValue`.
enum TemplateDataFile {
    /// The most values one data file may expand to (YAML aliases can multiply a small file).
    static let maxValues = 10_000_000

    static func load(_ path: String) throws -> TemplateValue {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TemplateDataFileError(file: path, message: "cannot read the data file (\(error.localizedDescription))")
        }
        if path.hasSuffix(".json") {
            do {
                return try JSONDecoder().decode(TemplateValue.self, from: contents)
            } catch let error as DecodingError {
                throw TemplateDataFileError(file: path, message: "not valid JSON: \(syntaxError(in: contents) ?? describe(error))")
            }
        }
        if path.hasSuffix(".yml") || path.hasSuffix(".yaml") {
            guard let text = String(data: contents, encoding: .utf8) else {
                throw TemplateDataFileError(file: path, message: "the file is not valid UTF-8")
            }
            do {
                guard let node = try Yams.compose(yaml: text) else { return [:] }
                var budget = maxValues
                return try value(of: node, budget: &budget, file: path)
            } catch let error as TemplateDataFileError {
                throw error
            } catch {
                throw TemplateDataFileError(file: path, message: "not valid YAML: \(error)")
            }
        }
        throw TemplateDataFileError(file: path, message: "unknown data format; name the file .json, .yml or .yaml")
    }

    /// A YAML node as a value. Plain scalars get the types Yams' default resolver gives them, which are YAML 1.1's,
    /// as Ansible (PyYAML) reads the inventory: `yes`/`on` are true, `0443` is the octal 291, `1_000` is 1000.
    /// Quoted scalars and timestamps stay strings.
    static func value(of node: Node, budget: inout Int, file: String) throws -> TemplateValue {
        budget -= 1
        guard budget >= 0 else {
            throw TemplateDataFileError(file: file, message: "the data expands to more than \(maxValues) values (YAML aliases?)")
        }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(TemplateValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map(TemplateValue.int) ?? .string(scalar.string)
            case .float: return node.float.map(TemplateValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [TemplateValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try value(of: item, budget: &budget, file: file)) }
            return .list(items)
        case .mapping(let mapping):
            var object = TemplateObject()
            object.reserveCapacity(mapping.count)
            for (key, item) in mapping {
                object.set(key.string ?? "\(key)", try value(of: item, budget: &budget, file: file))
            }
            return .object(object)
        case .alias:
            throw TemplateDataFileError(file: file, message: "unresolved YAML alias")
        }
    }

    /// JSONDecoder does not say where JSON is broken; JSONSerialization does (as a character offset).
    static func syntaxError(in contents: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: contents, options: [.fragmentsAllowed])
            return nil
        } catch {
            guard let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else { return nil }
            guard let range = detail.range(of: "around character "),
                let offset = Int(detail[range.upperBound...].prefix { $0.isNumber })
            else { return detail }
            let before = contents.prefix(offset)
            let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
            let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
            return "\(detail) (line \(line), column \(column))"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            return (path.isEmpty ? "" : "at \(path): ") + context.debugDescription + underlying
        @unknown default:
            return "\(error)"
        }
    }
}

/// A data file that cannot be read or parsed.
struct TemplateDataFileError: Error, CustomStringConvertible {
    var file: String
    var message: String
    var description: String { "\(file): \(message)" }
}
