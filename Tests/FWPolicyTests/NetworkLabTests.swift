import Foundation
import Testing
import TestSupport

/// The namespace lab the behaviour tests stand on: hosts reach each other over the bridge, and nothing is left.
@Suite struct NetworkLabTests {
    @Test func hostsReachEachOtherAndShutdownRemovesEverything() throws {
        try Integration.require(.networkNamespaces)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let a = try lab.addHost("a", ipv4: "10.77.0.1/24", ipv6: "fd77::1/64")
        let b = try lab.addHost("b", ipv4: "10.77.0.2/24", ipv6: "fd77::2/64")
        #expect(try lab.run(a, ["ping", "-c", "1", "-W", "2", "10.77.0.2"]).status == 0)
        #expect(try lab.run(b, ["ping", "-6", "-c", "1", "-W", "2", "fd77::1"]).status == 0)
        // A third address nobody holds does not answer: the lab is not faking reachability.
        #expect(try lab.run(a, ["ping", "-c", "1", "-W", "1", "10.77.0.3"]).status != 0)

        lab.shutdown()
        let remaining = try runProcess("/usr/bin/env", ["ip", "netns", "list"]).stdoutText
        #expect(!remaining.contains(lab.id))
    }
}
