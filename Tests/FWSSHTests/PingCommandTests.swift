import FWSSH
import Foundation
import Testing
import TestSupport

/// `fwctl ping`, run as a user runs it, against a real sshd and an inventory the test writes.
@Suite struct PingCommandTests {
    let fwctl = RepoPaths.fwctl.path

    /// An INI inventory: (name, address, port, key file) per host.
    private func writeInventory(_ sshd: SSHDFixture, _ hosts: [(String, String, Int, String)]) throws -> String {
        var lines = ["[fleet]"]
        for (name, address, port, key) in hosts {
            lines.append("\(name) ansible_host=\(address) ansible_port=\(port) ansible_user=root ansible_ssh_private_key_file=\(key)")
        }
        let path = sshd.dir.appendingPathComponent("inventory.ini").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The child sees none of the user's ~/.ssh or agent.
    private func environment(_ sshd: SSHDFixture, _ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": sshd.dir.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"].merging(extra) { $1 }
    }

    @Test func tableAndExitStatusWithAReasonPerHost() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(listen: ["127.0.0.1", "127.0.0.2"], hostKeys: [.ed25519])
        defer { sshd.stop() }
        let key = try TestKeys.client(.ed25519)
        let closed = try SSHDFixture.freePort()
        let inventory = try writeInventory(sshd, [("web1", "127.0.0.1", sshd.port, key), ("web2", "127.0.0.2", sshd.port, key),
                                                  ("db1", "127.0.0.1", closed, key)])
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519, address: "127.0.0.1")])
        let result = try runProcess(fwctl, ["ping", "-i", inventory, "--known-hosts", knownHosts, "--parallel", "2", "--timeout", "20"],
                                    environment: environment(sshd))
        #expect(result.status == 1)
        let rows = result.stdoutText.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["HOST", "ADDRESS", "RESULT", "TIME"])
        #expect(rows.count == 4)
        #expect(rows[1].prefix(3) == ["web1", "127.0.0.1:\(sshd.port)", "ok"])
        #expect(rows[2].prefix(5) == ["web2", "127.0.0.2:\(sshd.port)", "host", "key", "unknown"])
        #expect(rows[3].prefix(3) == ["db1", "127.0.0.1:\(closed)", "unreachable"])
        // The full reasons on stderr: the fingerprint and line to add for web2, and a summary.
        #expect(result.stderrText.contains("[127.0.0.2]:\(sshd.port) \(try TestKeys.publicKey(TestKeys.host(.ed25519)))"))
        #expect(result.stderrText.contains("db1: cannot connect"))
        #expect(result.stderrText.contains("2 of 3 hosts failed"))
        #expect(result.stderrText.contains("[3/3]"))
    }

    @Test func acceptNewThenJSON() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let inventory = try writeInventory(sshd, [("web1", "127.0.0.1", sshd.port, try TestKeys.client(.ed25519))])
        // Default known_hosts: ~/.ssh/known_hosts under the test's HOME, created by --accept-new.
        let first = try runProcess(fwctl, ["ping", "-i", inventory, "--accept-new"], environment: environment(sshd))
        #expect(first.status == 0, "\(first.stderrText)")
        let knownHosts = sshd.dir.appendingPathComponent(".ssh/known_hosts").path
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == (try sshd.knownHostsLine(.ed25519)) + "\n")
        #expect(first.stderrText.contains("permanently added ssh-ed25519 SHA256:"))

        let second = try runProcess(fwctl, ["ping", "-i", inventory, "--json", "--quiet"], environment: environment(sshd))
        #expect(second.status == 0, "\(second.stderrText)")
        #expect(second.stderr.isEmpty)
        let rows = try #require(try JSONSerialization.jsonObject(with: second.stdout) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows[0]["host"] as? String == "web1")
        #expect(rows[0]["ok"] as? Bool == true)
        #expect(rows[0]["result"] as? String == "ok")
        #expect(rows[0]["port"] as? Int == sshd.port)
        #expect((rows[0]["seconds"] as? Double).map { $0 > 0 } == true)
    }

    @Test func encryptedKeyWithThePassphraseInTheEnvironment() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let inventory = try writeInventory(sshd, [("web1", "127.0.0.1", sshd.port, try TestKeys.client(.encrypted))])
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        let ok = try runProcess(fwctl, ["ping", "-i", inventory, "--known-hosts", knownHosts],
                                environment: environment(sshd, ["FWCTL_SSH_PASSPHRASE": TestKeys.passphrase]))
        #expect(ok.status == 0, "\(ok.stderrText)")
        let refused = try runProcess(fwctl, ["ping", "-i", inventory, "--known-hosts", knownHosts], environment: environment(sshd))
        #expect(refused.status == 1)
        #expect(refused.stdoutText.contains("auth refused"))
        #expect(refused.stderrText.contains("FWCTL_SSH_PASSPHRASE"))
    }

    @Test func passphraseIsAskedOnTheTerminalWithoutEcho() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"), .command("script"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        // Two hosts with the same encrypted key: one prompt serves both.
        let key = try TestKeys.client(.encrypted)
        let inventory = try writeInventory(sshd, [("web1", "127.0.0.1", sshd.port, key), ("web2", "127.0.0.1", sshd.port, key)])
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        // script(1) gives fwctl a terminal. The passphrase is typed once the prompt shows, as a person would:
        // typed ahead, the terminal would echo it before fwctl turns echo off (and fwctl then discards it).
        let command = [fwctl, "ping", "-i", inventory, "--known-hosts", knownHosts, "--timeout", "20"].map(SSHSession.shellQuoted).joined(separator: " ")
        let prompt = "Enter passphrase for key '\(key)': "
        let (status, screen) = try converse(["script", "-q", "-e", "-c", command, "/dev/null"], environment: environment(sshd, ["TERM": "dumb"]),
                                            when: prompt, type: TestKeys.passphrase + "\n")
        #expect(status == 0, "\(screen)")
        #expect(screen.components(separatedBy: prompt).count == 2, "asked exactly once:\n\(screen)")
        #expect(!screen.contains(TestKeys.passphrase), "the passphrase was echoed")
        #expect(screen.contains("web2"))
    }

    /// Runs a program, waits (at most 30 s) until its output contains `prompt`, writes `input`, and collects the
    /// rest of its output until it exits.
    func converse(_ command: [String], environment: [String: String], when prompt: String, type input: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try which(command[0]))
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        let output = Pipe(), inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = inputPipe
        try process.run()
        var screen = Data()
        var typed = false
        let until = Date().addingTimeInterval(30)
        while Date() < until {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of output: the program exited
            screen.append(chunk)
            if !typed, String(decoding: screen, as: UTF8.self).contains(prompt) {
                inputPipe.fileHandleForWriting.write(Data(input.utf8))
                typed = true
            }
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: screen, as: UTF8.self))
    }

    @Test func badOptionsAreUsageErrors() throws {
        let zero = try runProcess(fwctl, ["ping", "-i", "x.ini", "--parallel", "0"])
        #expect(zero.status == 64)
        #expect(zero.stderrText.contains("--parallel"))
        let timeout = try runProcess(fwctl, ["ping", "-i", "x.ini", "--timeout", "-1"])
        #expect(timeout.status == 64)
    }
}
