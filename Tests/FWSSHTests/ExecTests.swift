import FWSSH
import Foundation
import Testing
import TestSupport

/// Running commands: both streams at once, exit statuses, signals, timeouts.
@Suite struct ExecTests {
    @Test func twentyMegabytesOnStdoutAndStderrAtOnce() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        var generator = SystemRandomNumberGenerator()
        let size = 20 * 1024 * 1024
        let data = Data((0..<size / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } })
        let file = sshd.dir.appendingPathComponent("random.bin")
        try data.write(to: file)
        let session = try sshd.connect()
        defer { session.close() }
        // Both streams written concurrently: a reader that drains only one of them would hang here.
        let result = try session.exec("cat \(file.path) & cat \(file.path) >&2; wait", timeout: .seconds(120))
        #expect(result.status == 0)
        #expect(result.stdout.count == size)
        #expect(result.stderr.count == size)
        #expect(result.stdout == data)
        #expect(result.stderr == data)
    }

    @Test func stdinIsFedWhileOutputIsRead() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        // cat echoes 8 MiB while it is still being fed: writing all stdin first would deadlock on the windows.
        let input = Data((0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let echoed = try session.exec("cat; echo done >&2", stdin: input)
        #expect(echoed.stdout == input)
        #expect(echoed.stderrText == "done\n")
        // Without stdin the command sees EOF at once instead of waiting.
        #expect(try session.exec("cat | wc -c").stdoutText.trimmingCharacters(in: .whitespaces) == "0\n")
        // A command that ignores its stdin does not hang the upload of it.
        #expect(try session.exec("exit 0", stdin: input).succeeded)
    }

    @Test func exitStatusesAndSignals() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        for status: Int32 in [0, 1, 42, 255] {
            let result = try session.exec("exit \(status)")
            #expect(result.status == status)
            #expect(result.signal == nil)
        }
        let killed = try session.exec("echo before; kill -TERM $$; echo after")
        #expect(killed.signal == "TERM")
        #expect(killed.status == nil)
        #expect(killed.stdoutText == "before\n")
        #expect(killed.outcomeDescription == "killed by signal TERM")
        let killed9 = try session.exec("kill -KILL $$")
        #expect(killed9.signal == "KILL")
        // The session stays usable for the next command.
        #expect(try session.exec("echo ok").stdoutText == "ok\n")
    }

    @Test func aConnectionLostBeforeTheExitStatusIsAnErrorNotSuccess() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        // The command closes its output, so the server sends EOF; then the server's session process (the shell's
        // parent) dies before any exit status is sent. libssh2 reads an exit status of 0 for such a channel.
        let error = try #require(throws: SSHError.self) { try session.exec("exec >&- 2>&-; sleep 0.3; kill -KILL $PPID") }
        #expect(error.step == .exec)
        #expect(error.message.contains("before `exec >&- 2>&-; sleep 0.3; kill -KILL $PPID` reported its exit status"))
        #expect(error.message.contains("closed or reset"))
        // The session knows its connection is gone and says so at once.
        let next = try #require(throws: SSHError.self) { try session.exec("true") }
        #expect(next.message.contains("no longer usable"))
    }

    @Test func commandTimeoutEndsTheWaitAndKeepsTheSession() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        let started = ContinuousClock.now
        let error = try #require(throws: SSHError.self) { try session.exec("sleep 30", timeout: .milliseconds(800)) }
        let elapsed = ContinuousClock.now - started
        #expect(error.step == .timeout)
        #expect(error.during == .exec)
        #expect(error.message.contains("`sleep 30` did not finish within 800 ms"))
        #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(10), "took \(elapsed)")
        #expect(try session.exec("echo still here").stdoutText == "still here\n")
    }

    @Test func hostDeadlineBoundsEveryCommand() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])),
                                             deadline: .after(.seconds(2)))
        defer { session.close() }
        let started = ContinuousClock.now
        let error = try #require(throws: SSHError.self) { try session.exec("sleep 30", timeout: .seconds(60)) }
        #expect(error.step == .timeout)
        #expect(error.during == .exec)
        #expect(error.message.contains("`sleep 30` did not finish within what was left of the per-host timeout"))
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
