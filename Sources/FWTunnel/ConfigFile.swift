import FWBase
import FoundationEssentials

/// Reading the JSON config files (CONFIG.md beside this file): typed, with unknown keys refused so a typo never
/// silently leaves a default in place, and every error naming the file and the key.
enum ConfigFile {
    static func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        let bytes = try readFile(path)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ConfigError(file: path, describe(error))
        } catch let error as ConfigError {
            throw ConfigError(file: path, error.message)
        } catch {
            throw ConfigError(file: path, "not valid JSON: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            guard !keys.isEmpty else { return "the top level" }
            return keys.reduce("") { path, key in
                if let index = key.intValue { return path + "[\(index)]" }
                return path.isEmpty ? key.stringValue : path + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)) is null"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws when the object has a key not in `known`.
    func rejectUnknownKeys(_ known: [String]) throws {
        let container = try self.container(keyedBy: AnyKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key],
                debugDescription: "unknown key (known keys: \(known.joined(separator: ", ")))"))
        }
    }
}

/// "host:port", "[v6]:port" or ":port" (all addresses).
public struct HostPort: Sendable, Equatable, CustomStringConvertible, Decodable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConfigError(file: "", "\(DisplayEscaping.escaped(text)) is not [address]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ConfigError(file: "", "\(DisplayEscaping.escaped(text)) is not host:port (write IPv6 addresses as [address]:port)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "::" }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigError(file: "", "\(DisplayEscaping.escaped(text)): the port must be 1 to 65535")
        }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigError(file: "", "\(DisplayEscaping.escaped(text)): the host has characters no host name has")
        }
        self.init(host: String(host), port: port)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch let error as ConfigError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Seconds as a JSON number, bounded so a config cannot ask for a zero or endless wait.
struct Seconds: Decodable, Sendable {
    var value: Double

    init(_ value: Double) { self.value = value }

    init(from decoder: Decoder) throws {
        value = try decoder.singleValueContainer().decode(Double.self)
        guard value >= 0.01 && value <= 86400 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be between 0.01 and 86400 seconds"))
        }
    }

    var timeAmount: TimeAmountValue { TimeAmountValue(nanoseconds: Int64(value * 1e9)) }
}

/// Nanoseconds, convertible to NIO's TimeAmount where used (keeps NIO out of the config types).
public struct TimeAmountValue: Sendable, Equatable {
    public var nanoseconds: Int64
}
