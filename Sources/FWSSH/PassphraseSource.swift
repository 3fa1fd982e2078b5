import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Supplies passphrases for encrypted private keys. The default reads `FWCTL_SSH_PASSPHRASE`, else asks once per
/// key on the controlling terminal with echo off; the answer is kept in memory for the other hosts of this run.
/// Passphrases are never logged or put in an error message.
public struct PassphraseSource: Sendable {
    /// `(key path, attempt)` -> passphrase; attempt counts from 1 and grows after a wrong passphrase.
    let provide: @Sendable (String, Int) -> String?
    /// What to say when no passphrase was available.
    let unavailableHint: String

    public init(hint: String, _ provide: @escaping @Sendable (String, Int) -> String?) {
        self.provide = provide
        unavailableHint = hint
    }

    public static let none = PassphraseSource(hint: "no passphrase source") { _, _ in nil }

    public static func environmentOrTerminal(_ environment: [String: String], variable: String = "FWCTL_SSH_PASSPHRASE") -> PassphraseSource {
        let fromEnvironment = environment[variable]
        return PassphraseSource(hint: "set \(variable) or run fwctl on a terminal to be asked") { keyPath, attempt in
            if let fromEnvironment { return attempt == 1 ? fromEnvironment : nil }
            guard attempt <= 3 else { return nil }
            return TerminalPrompt.shared.passphrase(for: keyPath, fresh: attempt > 1)
        }
    }
}

/// Asks on /dev/tty, one prompt at a time across all worker threads, and remembers answers per key file.
final class TerminalPrompt: Sendable {
    static let shared = TerminalPrompt()
    private let answers = Mutex<[String: String]>([:])

    func passphrase(for keyPath: String, fresh: Bool) -> String? {
        answer(key: "key:" + keyPath, prompt: "Enter passphrase for key '\(keyPath)': ", fresh: fresh)
    }

    /// The answer remembered under `key`, else asks with `prompt` (unless `fresh`: then asks again).
    func answer(key: String, prompt: String, fresh: Bool = false) -> String? {
        // The lock is held while the user types: other hosts wanting the same answer wait and then reuse it.
        answers.withLock { answers in
            if !fresh, let known = answers[key] { return known }
            guard let answer = Self.ask(prompt) else { return nil }
            answers[key] = answer
            return answer
        }
    }

    private static func ask(_ prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        guard tcsetattr(fd, TCSAFLUSH, &silent) == 0 else { return nil }
        defer { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != 0x0A, bytes.count < 4096 {
            if byte != 0x0D { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
