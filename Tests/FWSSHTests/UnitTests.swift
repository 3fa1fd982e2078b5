@testable import FWSSH
import Foundation
import Testing
import TestSupport

/// Pieces that need no server.
@Suite struct UnitTests {
    @Test func fingerprintIsOpenSSHFormat() throws {
        let key = try #require(PublicKey(base64: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"))
        #expect(key.type == "ssh-ed25519")
        #expect(key.fingerprint.hasPrefix("SHA256:"))
        #expect(!key.fingerprint.hasSuffix("="))
        #expect(key.fingerprint.count == 7 + 43)
        #expect(key.fingerprint == "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU", "as ssh-keygen -l prints it")
    }

    @Test func knownHostsLinesAreSorted() {
        let key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        let text = """
            # comment

            @cert-authority *.example ssh-ed25519 \(key)
            @revoked * ssh-ed25519 \(key)
            web1,10.0.0.1 ssh-ed25519 \(key) comment here
            web2 sk-ssh-ed25519@openssh.com \(key)
            short line
            |1|abc=|def= ssh-ed25519 \(key)\r
            web3 ssh-rsa !!!
            *.example ecdsa-sha2-nistp256 \(key)
            """
        let snapshot = KnownHostsSnapshot(path: "kh", contents: text)
        #expect(snapshot.entries.map(\.number) == [5, 8, 10])
        #expect(snapshot.entries[1].text == "|1|abc=|def= ssh-ed25519 \(key)")
        #expect(snapshot.revoked.map(\.number) == [4])
        #expect(snapshot.skipped.map(\.line) == [3, 6, 7, 9, 10])
        #expect(snapshot.skipped.first { $0.line == 6 }?.reason.contains("sk-ssh-ed25519@openssh.com") == true)
    }

    @Test func knownHostsNamesFollowOpenSSH() {
        #expect(SSHTarget(name: "a", address: "Web1.Example", port: 22, user: "u").knownHostsName == "web1.example")
        #expect(SSHTarget(name: "a", address: "10.0.0.1", port: 2222, user: "u").knownHostsName == "[10.0.0.1]:2222")
        #expect(SSHTarget(name: "a", address: "[2001:db8::1]", port: 22, user: "u").knownHostsName == "2001:db8::1")
        #expect(SSHTarget(name: "a", address: "2001:db8::1", port: 2200, user: "u").knownHostsName == "[2001:db8::1]:2200")
        #expect(SSHTarget(name: "web1").address == "web1")
    }

    @Test func shellQuotingSurvivesTheShell() throws {
        for text in ["plain", "it's", "a b", "$(rm -rf /)", "`x`", "\"q\"", "'", "''", "back\\slash", "new\nline"] {
            #expect(try runShell("printf %s \(SSHSession.shellQuoted(text))").stdoutText == text)
        }
    }

    @Test func privateKeyFilesAreInspectedWithoutDecrypting() throws {
        try Integration.require(.command("ssh-keygen"))
        let folder = try TemporaryFolder("fwssh-unit")
        defer { folder.remove() }
        for (type, passphrase, expectedType) in [("ed25519", "", "ssh-ed25519"), ("ed25519", "secret", "ssh-ed25519"),
                                                 ("ecdsa", "", "ecdsa-sha2-nistp256"), ("rsa", "", "ssh-rsa")] {
            let path = folder.path("\(type)-\(passphrase.isEmpty ? "plain" : "enc")")
            let keygen = try runProcess("ssh-keygen", ["-q", "-t", type] + (type == "rsa" ? ["-b", "1024"] : []) + ["-N", passphrase, "-f", path])
            try #require(keygen.status == 0, "ssh-keygen: \(keygen.stderrText)")
            try FileManager.default.removeItem(atPath: path + ".pub")  // the type must come from the key file itself
            let info = try #require(PrivateKeyFile.inspect(path))
            #expect(info.keyType == expectedType)
            #expect(info.encrypted == !passphrase.isEmpty)
        }
        #expect(PrivateKeyFile.inspect(folder.path("absent")) == nil)
    }

    @Test func durationsReadWell() {
        #expect(Duration.milliseconds(800).humanReadable == "800 ms")
        #expect(Duration.seconds(5).humanReadable == "5 s")
        #expect(Duration.milliseconds(1500).humanReadable == "1.5 s")
        #expect(Deadline.after(.seconds(-1)).hasPassed)
        #expect(Deadline.after(.seconds(-1)).pollMilliseconds == 0)
        #expect(Deadline.after(.seconds(10)).pollMilliseconds > 9000)
    }
}
