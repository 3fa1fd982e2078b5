import FWBase
import Foundation

/// How a host runs the commands that need root: through sudo, as Ansible's `become` does.
public struct Become: Sendable, Hashable {
    /// The user sudo runs commands as (`ansible_become_user`, default root).
    public var user: String
    /// The sudo password from the inventory (`ansible_become_password`); without it `SSHOptions.becomePasswords`
    /// is asked, and only when sudo wants one.
    public var password: SecretText?

    public init(user: String = "root", password: SecretText? = nil) {
        self.user = user
        self.password = password
    }
}

/// A password or other secret: never shown by `print`, `dump`, string interpolation or a debugger's summary.
public struct SecretText: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Where a sudo password comes from when the inventory has none: `FWCTL_BECOME_PASSWORD`, else one prompt on the
/// terminal (echo off) whose answer serves every host of the run, as Ansible's `--ask-become-pass` does.
public struct BecomePasswordSource: Sendable {
    /// `(host, login user)` -> password, or nil when there is none.
    let provide: @Sendable (String, String) -> String?
    let unavailableHint: String

    public init(hint: String, _ provide: @escaping @Sendable (String, String) -> String?) {
        self.provide = provide
        unavailableHint = hint
    }

    public static let none = BecomePasswordSource(hint: "set ansible_become_password for the host") { _, _ in nil }

    public static func environmentOrTerminal(_ environment: [String: String], variable: String = "FWCTL_BECOME_PASSWORD") -> BecomePasswordSource {
        let fromEnvironment = environment[variable]
        return BecomePasswordSource(hint: "set \(variable) (or ansible_become_password), or run fwctl on a terminal to be asked") { _, _ in
            fromEnvironment ?? TerminalPrompt.shared.answer(key: "become", prompt: "BECOME password (sudo): ")
        }
    }
}

/// How sudo behaves on one host, found out by the first command that needs root.
enum BecomeMode {
    /// The login user is the become user (root logging in as root): no sudo.
    case direct
    case passwordless(user: String)
    case password(user: String, SecretText)
}

extension SSHSession {
    /// The user commands run as with `asRoot` ("root"), after checking that sudo works on the host: `sudo -n true`
    /// for passwordless sudo, else the password (inventory, then `options.becomePasswords`) on sudo's stdin.
    /// Throws a `.become` error saying what sudo said: it needs a password we do not have, refused the password,
    /// refuses this user, or is not installed.
    @discardableResult
    public func checkBecome() throws -> String {
        switch try becomeMode() {
        case .direct: return target.user
        case .passwordless(let user), .password(let user, _): return user
        }
    }

    /// Runs `command`; with `asRoot`, as the become user through `sudo -S -p '' -u USER -- sh -c COMMAND` (the
    /// password, when sudo needs one, is the first line of stdin: never in argv, a log or an error), or directly
    /// when the login user is root already.
    public func run(_ command: String, asRoot: Bool, stdin: Data? = nil, timeout: Duration? = nil) throws -> ExecResult {
        guard asRoot else { return try exec(command, stdin: stdin, timeout: timeout) }
        switch try becomeMode() {
        case .direct:
            return try exec(command, stdin: stdin, timeout: timeout)
        case .passwordless(let user):
            return try exec(Self.sudo(user: user, password: false, command), stdin: stdin, timeout: timeout)
        case .password(let user, let password):
            var input = Data((password.value + "\n").utf8)
            if let stdin { input.append(stdin) }
            return try exec(Self.sudo(user: user, password: true, command), stdin: input, timeout: timeout)
        }
    }

    /// Installs `files`, each atomically with its mode. With `asRoot` (and a non-root login) the bytes first land as
    /// the login user in a private temporary folder (`mktemp -d`, mode 0700), then root copies each to a temporary
    /// name beside its destination, sets the mode and renames it over the destination (so a reader never sees half
    /// a file, and the file is root's); the folder is removed afterwards, also after a failure.
    public func install(_ files: [FileBytes], asRoot: Bool, timeout: Duration? = nil) throws {
        let mode = asRoot ? try becomeMode() : .direct
        guard case .direct = mode else {
            return try installWithSudo(files, timeout: timeout)
        }
        for file in files { _ = try upload(file, timeout: timeout) }
    }

    private func installWithSudo(_ files: [FileBytes], timeout: Duration?) throws {
        guard target.become?.user ?? "root" == "root" else {
            throw SSHError(.become, host: hostName, "installing files as \(target.become!.user) is not supported: fwctl installs as root (ansible_become_user)")
        }
        for file in files {
            guard file.path.hasPrefix("/"), !file.path.hasSuffix("/"), !file.path.contains("\n"), !file.path.utf8.contains(0), file.mode <= 0o7777 else {
                throw SSHError(.upload, host: hostName, "\(file.path.debugDescription) (mode \(String(file.mode, radix: 8))) is not an absolute file path and mode")
            }
        }
        let made = try exec("umask 077 && mktemp -d -t fwctl-install.XXXXXXXX", timeout: timeout)
        let folder = made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard made.succeeded, folder.hasPrefix("/"), !folder.contains("\n") else {
            throw SSHError(.upload, host: hostName, "cannot make a private temporary folder (mktemp -d): \(made.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        defer { _ = try? exec("rm -rf -- \(Self.shellQuoted(folder))", timeout: .seconds(10)) }
        var script = ["set -e"]
        for (index, file) in files.enumerated() {
            let staged = "\(folder)/\(index)"
            _ = try upload(FileBytes(path: staged, bytes: file.bytes, mode: 0o600), timeout: timeout)
            let slash = file.path.lastIndex(of: "/")!
            let directory = String(file.path[...slash])
            let base = String(file.path[file.path.index(after: slash)...])
            let temporary = Self.shellQuoted("\(directory).\(base).fwctl-XXXXXXXX")
            script.append("t=$(mktemp -- \(temporary)); cat -- \(Self.shellQuoted(staged)) > \"$t\" && chmod \(String(file.mode, radix: 8)) -- \"$t\" && mv -f -T -- \"$t\" \(Self.shellQuoted(file.path)) || { rm -f -- \"$t\"; exit 1; }")
        }
        let result = try run(script.joined(separator: "\n"), asRoot: true, timeout: timeout)
        guard result.succeeded else {
            throw SSHError(.upload, host: hostName, "moving the uploaded files into place as root failed (\(result.outcomeDescription)): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    // MARK: Finding out how sudo behaves

    func becomeMode() throws -> BecomeMode {
        if let learntBecomeMode { return learntBecomeMode }
        let mode = try probeBecome()
        learntBecomeMode = mode
        return mode
    }

    private func probeBecome() throws -> BecomeMode {
        guard let become = target.become else {
            if target.user == "root" { return .direct }
            throw SSHError(.become, host: hostName,
                           "fwctl logs in as \(target.user), which is not root, and the host has no become: set ansible_become: true (sudo) or log in as root")
        }
        if become.user == target.user { return .direct }
        let user = become.user
        let probe = try exec(Self.sudo(user: user, password: false, "true"))
        if probe.succeeded { return .passwordless(user: user) }
        let said = Self.firstLines(probe.stderrText)
        if probe.status == 127 || said.contains("sudo: not found") || said.contains("command not found") {
            throw SSHError(.become, host: hostName, "sudo is not installed on the host (`sudo -n true` as \(target.user): \(said))")
        }
        guard said.contains("password is required") else {
            throw SSHError(.become, host: hostName, "sudo refuses \(target.user) (as \(user)): \(said)")
        }
        guard let password = become.password ?? options.becomePasswords.provide(hostName, target.user).map(SecretText.init) else {
            throw SSHError(.become, host: hostName,
                           "sudo asks \(target.user) for a password and fwctl has none: \(options.becomePasswords.unavailableHint)")
        }
        let check = try exec(Self.sudo(user: user, password: true, "true"), stdin: Data((password.value + "\n").utf8))
        if check.succeeded { return .password(user: user, password) }
        let refused = Self.firstLines(check.stderrText)
        if refused.contains("incorrect password") || refused.contains("Sorry, try again") || refused.contains("no password was provided") {
            throw SSHError(.become, host: hostName, "sudo refused the password of \(target.user): \(refused)")
        }
        throw SSHError(.become, host: hostName, "sudo refuses \(target.user) (as \(user)): \(refused)")
    }

    /// `-k`: ignore cached credentials, so sudo reads the password line exactly when the probe said it would and
    /// never passes it on to the command as input. `-p ''`: no prompt in the output.
    static func sudo(user: String, password: Bool, _ command: String) -> String {
        let mode = password ? "-S -p ''" : "-n"
        return "sudo -k \(mode) -u \(shellQuoted(user)) -- sh -c \(shellQuoted(command))"
    }

    private static func firstLines(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shown = lines.prefix(3).joined(separator: " / ")
        return shown.isEmpty ? "(no message)" : String(shown.prefix(400))
    }
}
