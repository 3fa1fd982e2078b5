import FWSSH
import Foundation
import Logging
import Testing
import TestSupport

@Test func tmpSpeed() throws {
    let sshd = try SSHDFixture(hostKeys: [.ed25519])
    defer { sshd.stop() }
    let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
    let options = sshd.options(knownHosts: knownHosts)
    let target = try sshd.target()
    var t = ContinuousClock.now
    for _ in 0..<50 {
        let s = try SSHSession.connect(to: target, options: options)
        _ = try s.exec("true")
        s.close()
    }
    print("FWSSH p1 per session: \((ContinuousClock.now - t) / 50)")
    t = ContinuousClock.now
    let targets = Array(repeating: target, count: 100)
    let r = HostRunner(parallelism: 32).run(targets, options: options) { try $0.exec("true").succeeded }
    print("FWSSH p32 100: \(ContinuousClock.now - t) ok=\(r.filter { $0.outcome.value == true }.count)")
    t = ContinuousClock.now
    let key = try TestKeys.client(.ed25519)
    let r2 = try runShell("for i in $(seq 50); do ssh -F /dev/null -o ControlMaster=no -o BatchMode=yes -o UserKnownHostsFile=\(knownHosts) -o StrictHostKeyChecking=yes -i \(key) -p \(sshd.port) root@127.0.0.1 true || exit 1; done")
    print("ssh p1 per session: \((ContinuousClock.now - t) / 50) status \(r2.status) \(r2.stderrText)")
}
