import FWSSH
import Foundation
import Testing
import TestSupport

/// Host keys against known_hosts files as OpenSSH writes them.
@Suite struct HostKeyTests {
    @Test func unknownHostIsRefusedWithFingerprintAndTheLineToAdd() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        }
        #expect(error.step == .hostKey)
        #expect(error.hostKeyProblem == .unknown)
        #expect(error.reason == "host key unknown")
        // The fingerprint exactly as ssh-keygen prints it, and the exact line.
        let fingerprint = try runProcess("ssh-keygen", ["-l", "-E", "sha256", "-f", try TestKeys.host(.ed25519) + ".pub"])
        let expected = try #require(fingerprint.stdoutText.split(separator: " ").dropFirst().first.map(String.init))
        #expect(expected.hasPrefix("SHA256:"))
        #expect(error.message.contains("ssh-ed25519 \(expected)"))
        #expect(error.message.contains(try sshd.knownHostsLine(.ed25519)))
        #expect(error.message.contains("--accept-new"))
        // Nothing was written.
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).isEmpty)
    }

    @Test func changedKeyIsRefusedLoudlyEvenWithAcceptNew() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519Other])
        defer { sshd.stop() }
        // known_hosts holds the "real" ed25519 key on line 2; the server now offers another one.
        let comment = "# managed by hand"
        let knownHosts = try sshd.writeKnownHosts([comment, try sshd.knownHostsLine(.ed25519)])
        let before = try String(contentsOfFile: knownHosts, encoding: .utf8)
        for acceptNew in [false, true] {
            let error = try #require(throws: SSHError.self) {
                try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: acceptNew))
            }
            #expect(error.step == .hostKey)
            #expect(error.hostKeyProblem == .changed)
            #expect(error.message.contains("HOST KEY CHANGED"))
            #expect(error.message.contains("\(knownHosts) line 2"))
            #expect(error.message.contains(try fingerprint(of: .ed25519)), "expected key named")
            #expect(error.message.contains(try fingerprint(of: .ed25519Other)), "offered key named")
            #expect(error.message.contains("ssh-keygen -f \(knownHosts) -R '[127.0.0.1]:\(sshd.port)'"))
        }
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == before)
    }

    @Test func acceptNewRecordsExactlyOneLineThenConnects() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        // The file does not exist yet, nor does its directory.
        let knownHosts = sshd.dir.appendingPathComponent("new/.ssh/known_hosts").path
        let first = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: true))
        first.close()
        let lines = try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines == [Substring(try sshd.knownHostsLine(.ed25519)), ""])
        let attributes = try FileManager.default.attributesOfItem(atPath: knownHosts)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // Now known: a second connect passes without accept-new, and the file is unchanged.
        let second = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        second.close()
        let again = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: true))
        again.close()
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").count == 1)
        // OpenSSH agrees with what was recorded.
        let check = try runProcess("ssh-keygen", ["-F", "[127.0.0.1]:\(sshd.port)", "-f", knownHosts])
        #expect(check.status == 0)
    }

    @Test func acceptNewAppendsWithoutTouchingExistingLines() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        // An existing file whose last line has no newline, and odd lines libssh2 cannot read.
        let existing = "other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        let knownHosts = sshd.dir.appendingPathComponent("kh").path
        try existing.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        chmod(knownHosts, 0o644)
        let session = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: true))
        session.close()
        let text = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(text == existing + "\n" + (try sshd.knownHostsLine(.ed25519)) + "\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: knownHosts)
        #expect((attributes[.posixPermissions] as? Int) == 0o644, "an existing file keeps its mode")
    }

    @Test func hashedEntriesMatch() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        let hash = try runProcess("ssh-keygen", ["-H", "-f", knownHosts])
        try #require(hash.status == 0, "ssh-keygen -H: \(hash.stderrText)")
        let hashed = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(hashed.hasPrefix("|1|"))
        #expect(!hashed.contains("127.0.0.1"))
        let session = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        session.close()

        // A hashed entry with another key is a change, not an unknown host.
        let other = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519Other)], name: "kh-other")
        _ = try runProcess("ssh-keygen", ["-H", "-f", other])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: other))
        }
        #expect(error.hostKeyProblem == .changed)
        #expect(error.message.contains("\(other) line 1"))
    }

    @Test func linesLibssh2CannotReadDoNotHideLaterEntries() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        // libssh2_knownhost_readfile would stop at the first of these lines and never see the last one.
        let knownHosts = try sshd.writeKnownHosts([
            "# comment",
            "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            "[127.0.0.1]:\(sshd.port) sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==",
            "garbage line",
            "host.example ssh-ed25519 !!!notbase64",
            "",
            try sshd.knownHostsLine(.ed25519),
        ])
        let session = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        defer { session.close() }
        #expect(session.hostKey.fingerprint == (try fingerprint(of: .ed25519)))
    }

    @Test func plainHostEntryDoesNotVouchForAnotherPort() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        // "127.0.0.1 key" is port 22's entry; OpenSSH does not use it for another port, and neither does FWSSH.
        let knownHosts = try sshd.writeKnownHosts(["127.0.0.1 " + (try TestKeys.publicKey(TestKeys.host(.ed25519)))])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        }
        #expect(error.hostKeyProblem == .unknown)
    }

    @Test func aKnownKeyTypeIsPreferredInNegotiation() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519, .ecdsa])
        defer { sshd.stop() }
        // Only the ECDSA key is known: the server must be asked for ECDSA, not its preferred Ed25519.
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ecdsa)])
        let session = try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts))
        defer { session.close() }
        #expect(session.hostKey.type == "ecdsa-sha2-nistp256")
        #expect(session.hostKey.fingerprint == (try fingerprint(of: .ecdsa)))
    }

    @Test func aKnownTypeTheServerNoLongerOffersIsRefusedNotAccepted() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ecdsa)])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: true))
        }
        #expect(error.hostKeyProblem == .otherTypeKnown)
        #expect(error.message.contains("ecdsa-sha2-nistp256 (line 1)"))
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func revokedKeyIsRefused() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([
            "@revoked * " + (try TestKeys.publicKey(TestKeys.host(.ed25519))),
            try sshd.knownHostsLine(.ed25519),
        ])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(), options: sshd.options(knownHosts: knownHosts, acceptNew: true))
        }
        #expect(error.hostKeyProblem == .revoked)
        #expect(error.message.contains("line 1 marks @revoked"))
    }

    private func fingerprint(of key: TestKeys.HostKey) throws -> String {
        let result = try runProcess("ssh-keygen", ["-l", "-E", "sha256", "-f", try TestKeys.host(key) + ".pub"])
        return String(result.stdoutText.split(separator: " ")[1])
    }
}
