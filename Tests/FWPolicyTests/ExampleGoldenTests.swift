import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWPolicy

/// `inventory/example` rendered for each target, compared byte for byte with the files in Golden/.
@Suite struct ExampleGoldenTests {
    @Test(arguments: FirewallTarget.allCases)
    func exampleMatchesGoldenFiles(target: FirewallTarget) throws {
        let rendered = try RenderFixtures.render(try RenderFixtures.example, target: target)
        #expect(rendered.count == 20)
        var expected: Set<String> = []
        for (firewall, files) in rendered {
            #expect(firewall.target == target)
            for file in files {
                let name = "example-\(target.rawValue)/\(firewall.host)/\(file.name)"
                expected.insert(name)
                expectGolden(Data(file.bytes), named: name)
            }
        }
        // A golden file nothing renders any more is stale: it would hide a file fwctl stopped writing.
        let folder = RepoPaths.directory(of: #filePath).appendingPathComponent("Golden/example-\(target.rawValue)")
        let present = Set((FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { $0.contains("/") }.map { "example-\(target.rawValue)/\($0)" })
        if !Golden.updating {
            #expect(present == expected, "stale golden files: \(present.subtracting(expected).sorted())")
        }
    }

    @Test func eachHostGetsItsOwnTargetsFiles() throws {
        var names: [String: [String]] = [:]
        for (firewall, files) in try RenderFixtures.render(try RenderFixtures.example) {
            names[firewall.target.rawValue, default: []].append(files.map(\.name).joined(separator: ","))
        }
        #expect(Set(names["iptables"] ?? []) == ["rules.v4,rules.v6"])
        #expect(Set(names["ufw"] ?? []) == ["user.rules,user6.rules,ufw-defaults"])
        #expect(Set(names["nftables"] ?? []) == ["fwctl.nft"])
    }
}
