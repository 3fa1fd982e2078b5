/// Ansible's privilege escalation for a host: `ansible_become`, `ansible_become_method` (fwctl: sudo only),
/// `ansible_become_user` (default root), `ansible_become_password` (or `ansible_become_pass`).
public struct BecomeSettings: Sendable, Hashable {
    public var user: String
    /// From the inventory; nil leaves it to FWCTL_BECOME_PASSWORD or a prompt, when sudo asks.
    public var password: BecomePassword?

    public init(user: String = "root", password: BecomePassword? = nil) {
        self.user = user
        self.password = password
    }
}

/// A sudo password from the inventory: never shown by printing, dumping or interpolating the value.
public struct BecomePassword: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension Inventory {
    /// The host's become settings, or nil when `ansible_become` is not true. Errors name the variable and file.
    func become(from vars: HostVars) throws -> BecomeSettings? {
        guard let flag = vars["ansible_become"] else { return nil }
        guard let enabled = Self.ansibleBoolean(flag) else {
            throw InventoryError("ansible_become of host '\(vars.host)' must be a boolean (true/false, yes/no), not \(flag)",
                                 at: vars.location(of: "ansible_become"))
        }
        guard enabled else { return nil }
        if let method = vars["ansible_become_method"], !method.isNull {
            guard method.stringValue?.lowercased() == "sudo" else {
                throw InventoryError("ansible_become_method of host '\(vars.host)' is \(method): fwctl can become root only with sudo",
                                     at: vars.location(of: "ansible_become_method"),
                                     hint: "set ansible_become_method: sudo (the default) or give the login user sudo rights")
            }
        }
        var settings = BecomeSettings()
        if let user = vars["ansible_become_user"], !user.isNull {
            guard let name = user.stringValue, !name.isEmpty, !name.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw InventoryError("ansible_become_user of host '\(vars.host)' must be a user name, not \(user.kindDescription)",
                                     at: vars.location(of: "ansible_become_user"))
            }
            settings.user = name
        }
        for key in ["ansible_become_password", "ansible_become_pass"] {
            guard let value = vars[key], !value.isNull else { continue }
            let text: String
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            default:
                throw InventoryError("\(key) of host '\(vars.host)' must be a string, not \(value.kindDescription)", at: vars.location(of: key))
            }
            // Never echo the value itself in a message.
            guard !text.contains("{{"), !text.hasPrefix("$ANSIBLE_VAULT") else {
                throw InventoryError("\(key) of host '\(vars.host)' is a template or vault value, which fwctl cannot evaluate",
                                     at: vars.location(of: key), hint: "leave it out and set FWCTL_BECOME_PASSWORD, or let fwctl ask on the terminal")
            }
            guard !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw InventoryError("\(key) of host '\(vars.host)' contains a line break, which sudo would not read", at: vars.location(of: key))
            }
            settings.password = BecomePassword(text)
            break
        }
        return settings
    }

    /// Ansible's `boolean()`: true, yes, on, 1, t, y (any case) and their opposites.
    static func ansibleBoolean(_ value: InventoryValue) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .double(let d) where d == 0 || d == 1: return d == 1
        case .string(let s):
            switch s.lowercased() {
            case "y", "yes", "on", "1", "true", "t", "1.0": return true
            case "n", "no", "off", "0", "false", "f", "0.0": return false
            default: return nil
            }
        default: return nil
        }
    }
}
