import Foundation

/// The accounts lab hosts log in as: each `ansible_user` the machine does not have gets a uid and gid free on the
/// machine, the same on every lab host, written only into the hosts' private /etc (the machine's own passwd, group
/// and shadow are never changed).
struct LabAccounts: Sendable {
    struct Account: Sendable {
        var name: String
        var uid: Int
        var gid: Int
        var home: String
    }

    let basePasswd: String
    let baseGroup: String
    let baseShadow: String
    let accounts: [String: Account]
    /// The gid of the `shadow` group (who may read /etc/shadow on Debian), else root's.
    let shadowGID: Int

    static func isValidUserName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), let first = bytes.first, (first >= 0x61 && first <= 0x7A) || first == 0x5F else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    /// Accounts for `users`: the machine's own entry when it has one, else a new one.
    init(users: Set<String>) {
        basePasswd = Self.withNewline(LabFiles.read("/etc/passwd") ?? "root:x:0:0:root:/root:/bin/sh\n")
        baseGroup = Self.withNewline(LabFiles.read("/etc/group") ?? "root:x:0:\n")
        baseShadow = Self.withNewline(LabFiles.read("/etc/shadow") ?? "")
        let passwd = Self.table(basePasswd)
        let groups = Self.table(baseGroup)
        shadowGID = groups.first { $0[0] == "shadow" }.flatMap { $0.count > 2 ? Int($0[2]) : nil } ?? 0
        var usedUIDs = Set(passwd.compactMap { $0.count > 2 ? Int($0[2]) : nil })
        var usedGIDs = Set(groups.compactMap { $0.count > 2 ? Int($0[2]) : nil })
        let homeBase = FileManager.default.fileExists(atPath: "/home") ? "/home" : "/var/home"
        var accounts: [String: Account] = [:]
        for name in users.sorted() where !passwd.contains(where: { $0[0] == name }) {
            var id = 2000
            while usedUIDs.contains(id) || usedGIDs.contains(id) { id += 1 }
            usedUIDs.insert(id)
            usedGIDs.insert(id)
            accounts[name] = Account(name: name, uid: id, gid: id, home: "\(homeBase)/\(name)")
        }
        self.accounts = accounts
    }

    /// passwd, group and shadow for a host whose login is `user` (nil: root, nothing to add).
    func files(for user: String?) -> (passwd: String, group: String, shadow: String)? {
        guard let user, let account = accounts[user] else { return nil }
        return (basePasswd + "\(user):x:\(account.uid):\(account.gid):fwctl lab:\(account.home):/bin/sh\n",
                baseGroup + "\(user):x:\(account.gid):\n",
                // `*`: no password can log in; the key can (and sshd does not count `*` as a locked account).
                baseShadow + "\(user):*:19000:0:99999:7:::\n")
    }

    private static func table(_ text: String) -> [[Substring]] {
        text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }.filter { !$0.isEmpty }
    }

    private static func withNewline(_ text: String) -> String {
        text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
    }
}
