import FWBase
import FWSSH
import Foundation
import Testing
import TestSupport

/// Uploads: exact modes, atomic replacement, SCP where SFTP is off.
@Suite struct UploadTests {
    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func inode(_ path: String) throws -> UInt64 {
        try #require((FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value)
    }

    private func leftovers(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".fwctl-") }
    }

    @Test(arguments: [true, false])
    func modesAndAtomicReplace(sftp: Bool) throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519], sftp: sftp)
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        let target = sshd.dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let expectedMethod: UploadMethod = sftp ? .sftp : .scp

        // Default mode 0600, whatever the umask.
        let rules = target.appendingPathComponent("rules.v4").path
        #expect(try session.upload(FileBytes(path: rules, bytes: Array("*filter\nCOMMIT\n".utf8), mode: 0o600)) == expectedMethod)
        #expect(try Data(contentsOf: URL(fileURLWithPath: rules)) == Data("*filter\nCOMMIT\n".utf8))
        #expect(try mode(rules) == 0o600)

        // An explicit mode.
        let script = target.appendingPathComponent("revert.sh").path
        try session.upload(FileBytes(path: script, bytes: Array("#!/bin/sh\n".utf8), mode: 0o755))
        #expect(try mode(script) == 0o755)
        let shared = target.appendingPathComponent("shared.txt").path
        try session.upload(FileBytes(path: shared, bytes: Array("x".utf8), mode: 0o644))
        #expect(try mode(shared) == 0o644)
        // Set-id bits too (SCP carries only 0777: they take a chmod after the copy).
        let setgid = target.appendingPathComponent("setgid").path
        try session.upload(FileBytes(path: setgid, bytes: Array("#!/bin/sh\n".utf8), mode: 0o2755))
        #expect(try mode(setgid) == 0o2755)

        // An existing file with another mode gets the requested one, and is replaced, not rewritten in place:
        // a new inode, the new content, no temporary file left.
        let existing = target.appendingPathComponent("existing").path
        try Data("old content that is longer".utf8).write(to: URL(fileURLWithPath: existing))
        chmod(existing, 0o666)
        let oldInode = try inode(existing)
        let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
        try session.upload(FileBytes(path: existing, bytes: Array(payload), mode: 0o640))
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == payload)
        #expect(try mode(existing) == 0o640)
        #expect(try inode(existing) != oldInode)

        // Empty files and awkward names work too.
        let odd = target.appendingPathComponent("it's a \"file\" $(x)").path
        try session.upload(FileBytes(path: odd, bytes: [], mode: 0o600))
        #expect(try Data(contentsOf: URL(fileURLWithPath: odd)).isEmpty)
        #expect(try leftovers(in: target).isEmpty)
    }

    @Test func failuresNameThePathAndLeaveNothingBehind() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        let missing = sshd.dir.appendingPathComponent("no/such/dir/file").path
        let error = try #require(throws: SSHError.self) { try session.upload(FileBytes(path: missing, bytes: Array("x".utf8), mode: 0o600)) }
        #expect(error.step == .upload)
        #expect(error.message.contains("no such directory"))

        // A directory in the way is not replaced (mv -T refuses), and the temporary file is removed.
        let directory = sshd.dir.appendingPathComponent("adir")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let blocked = try #require(throws: SSHError.self) { try session.upload(FileBytes(path: directory.path, bytes: Array("x".utf8), mode: 0o600)) }
        #expect(blocked.step == .upload)
        #expect(blocked.message.contains("renaming"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(try leftovers(in: sshd.dir).isEmpty)

        let badMode = try #require(throws: SSHError.self) { try session.upload(FileBytes(path: "/tmp/x", bytes: [], mode: 0o17777)) }
        #expect(badMode.message.contains("not a file mode"))
        // The session is still fine after all that.
        #expect(try session.exec("true").succeeded)
    }

    @Test func aFailingScpIsReportedAndTheSessionLivesOn() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        // An scp on the host that accepts the file as the protocol wants, then fails, as a full disk would.
        let scp = """
            #!/bin/sh
            printf '\\0'; read -r times; printf '\\0'; read -r header; printf '\\0'
            cat >/dev/null
            echo "scp: write failed: No space left on device" >&2
            exit 1
            """
        let sshd = try SSHDFixture(hostKeys: [.ed25519], sftp: false, programs: ["scp": scp])
        defer { sshd.stop() }
        let session = try sshd.connect()
        defer { session.close() }
        let path = sshd.dir.appendingPathComponent("tool").path
        let error = try #require(throws: SSHError.self) { try session.upload(FileBytes(path: path, bytes: Array("x".utf8), mode: 0o600)) }
        #expect(error.step == .upload)
        #expect(error.message.contains("exit status 1"))
        #expect(error.message.contains("No space left on device"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try session.exec("echo fine").stdoutText == "fine\n")
    }
}
