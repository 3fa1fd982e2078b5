/// The name of a lab, and every name derived from it: its state folder, its namespaces. Labs with different names
/// stand side by side; nothing of one is named like anything of another.
///
/// Only letters and digits, so the separators in derived names ('.', '-', '_') cannot come from the lab name and
/// `a` and `a-b` can never produce the same namespace name.
public struct LabName: Sendable, Hashable, CustomStringConvertible {
    public static let defaultName = "fwctl"
    public static let maxLength = 16

    public let text: String

    public init(_ text: String) throws(LabInputError) {
        let bytes = Array(text.utf8)
        guard (1...Self.maxLength).contains(bytes.count),
              bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) })
        else {
            throw LabInputError("\(text.debugDescription) is not a lab name", hint: "use 1 to \(Self.maxLength) letters and digits")
        }
        self.text = text
    }

    public var description: String { text }

    /// Where the lab keeps everything it made: /run/fwctl/lab/NAME.
    public var stateDirectory: String { LabPaths.root + "/" + text }

    /// The namespace holding the bridge every lab host is plugged into.
    public var switchNamespace: String { text + ".sw" }
    /// The namespace commands reaching the lab run in (`fwctl lab run`).
    public var controllerNamespace: String { text + ".ctl" }

    /// A host's namespace: `LAB-HOST` when the inventory name is plain, else `LAB_hN` by the host's lab number.
    public func hostNamespace(host: String, index: Int) -> String {
        LabName.isPlainHostName(host) ? "\(text)-\(host)" : "\(text)_h\(index)"
    }

    /// Names safe in a file name, a hostname and an ssh_config `Host` line.
    static func isPlainHostName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), bytes[0] != 0x2D, bytes[0] != 0x2E else { return false }
        return bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
            || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }
    }
}

/// Where labs live on this machine.
public enum LabPaths {
    public static let root = "/run/fwctl/lab"
    /// Programs the lab runs come from the system folders, whatever PATH the caller has.
    static let systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The full path of a system program, or nil.
    static func program(_ name: String) -> String? {
        for dir in systemPath.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
