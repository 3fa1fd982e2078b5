import FWInventory
import FWPolicy
import FWTemplate
import Foundation
import Testing
import TestSupport
@testable import FWTunnelDeploy

/// The parts of `fwctl tunnel install` that need no host: the platform check against the local binaries, the
/// secret that never shows, and the configs rendered from templates/tunnel as fwtunnel reads them.
@Suite struct TunnelDeployUnitTests {
    static var binaries: String { RepoPaths.fwctl.deletingLastPathComponent().path }

    @Test func theLocalBinaryMatchesThisMachineAndOthersAreRefusedWithTheReason() throws {
        let path = "\(Self.binaries)/fwtunnel-work"
        try Integration.require(.path(path))
        let platform = try BinaryPlatform.read(path: path)
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(platform.machine == machine)
        #expect(platform.libc == "glibc" && platform.interpreter?.hasPrefix("/lib") == true, "\(platform)")
        let here = "glibc-\(platform.glibcVersion ?? "0")"
        #expect(platform.mismatch(hostArch: machine, hostLibc: here, interpreterPresent: true) == nil)
        #expect(platform.mismatch(hostArch: machine == "aarch64" ? "x86_64" : "aarch64", hostLibc: here, interpreterPresent: true)?.contains("built for \(machine)") == true)
        #expect(platform.mismatch(hostArch: machine, hostLibc: "musl", interpreterPresent: false)?.contains("C library is musl") == true)
        #expect(platform.mismatch(hostArch: machine, hostLibc: "glibc-2.1", interpreterPresent: true)?.contains("glibc 2.1") == true)
        #expect(platform.mismatch(hostArch: machine, hostLibc: here, interpreterPresent: false)?.contains("has no") == true)
        #expect(throws: TunnelDeployError.self) { try BinaryPlatform.read(path: RepoPaths.root.appendingPathComponent("README.md").path) }
    }

    @Test func theSecretNeverShows() throws {
        let secret = TunnelSecret.generate()
        #expect(secret.hex.count == 64 && secret != TunnelSecret.generate())
        for shown in ["\(secret)", String(describing: secret), String(reflecting: secret), "\([secret])"] {
            #expect(!shown.contains(secret.hex) && shown.contains("<secret>"), "\(shown)")
        }
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains(secret.hex))
        #expect(TunnelSecret(fileBytes: Data(secret.fileBytes)) == secret)
        #expect(TunnelSecret(fileBytes: Data("short\n".utf8)) == nil)
        let folder = try TemporaryFolder("fti-secret")
        try secret.save(tunnel: "t1", in: folder.url.path)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.path("t1.secret"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func configsRenderFromThePlanAndFwtunnelAcceptsThem() throws {
        let home = "\(Self.binaries)/fwtunnel-home"
        try Integration.require(.path(home), .command("openssl"))
        let inventory = try Inventory.parse(yaml: """
            all:
              vars:
                tunnels: [{name: t1, home: gw, work: [w1], service: "[::1]:22", client_port: 9001, control_port: 9000, allow: [a, 192.0.2.0/24], proxy_protocol: true}]
              hosts:
                gw: {ansible_host: "2001:db8::1"}
                w1: {ansible_host: 10.0.0.1}
                a: {ansible_host: 198.51.100.7}
            """, file: "t.yml")
        let plan = try #require(AddressBook(inventory: inventory).tunnelCatalog.tunnels.first)
        let scripts = try TunnelScripts(templates: try TemplateSet(directory: RepoPaths.root.appendingPathComponent("templates").path),
                                        generator: "test")
        let work = try JSONSerialization.jsonObject(with: Data(try scripts.workConfig(plan, agent: "w1", fingerprint: "ab:cd").bytes)) as? [String: Any]
        #expect(work?["home"] as? String == "[2001:db8::1]:9000")
        let service = (work?["services"] as? [[String: Any]])?.first
        #expect(service?["target"] as? String == "[::1]:22" && service?["proxyProtocol"] as? Bool == true, "\(String(describing: work))")
        let allowlist = String(decoding: try scripts.allowlist(plan).bytes, as: UTF8.self)
        #expect(allowlist.split(separator: "\n").filter { !$0.hasPrefix("#") } == ["192.0.2.0/24", "198.51.100.7"], "\(allowlist)")

        // home's config, with the files it names, passes fwtunnel-home --check-config.
        let folder = try TemporaryFolder("fti-config")
        let config = try scripts.homeConfig(plan)
        var text = String(decoding: config.bytes, as: UTF8.self)
        for (from, to) in [("/etc/fwtunnel/t1", folder.url.path), ("/var/lib/fwtunnel/t1", folder.url.path)] { text = text.replacingOccurrences(of: from, with: to) }
        try text.write(toFile: folder.path("home.json"), atomically: true, encoding: .utf8)
        try Data(allowlist.utf8).write(to: folder.url.appendingPathComponent("allowlist"))
        try TunnelSecret.generate().save(tunnel: "secret", in: folder.url.path)
        try FileManager.default.moveItem(atPath: folder.path("secret.secret"), toPath: folder.path("secret"))
        let made = try runProcess("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                   "-days", "1", "-subj", "/CN=t", "-keyout", folder.path("home.key"), "-out", folder.path("home.crt")])
        #expect(made.status == 0)
        let checked = try runProcess(home, ["--check-config", "--config", folder.path("home.json")])
        #expect(checked.status == 0, "\(text)\n\(checked.stdoutText)\(checked.stderrText)")
    }
}
