import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWPolicy

/// `inventory/example` rendered for each target, compared byte for byte with the files in Golden/.
@Suite struct ExampleGoldenTests {
    static func renderExample(target: FirewallTarget?) throws -> ([FleetRender.HostResult], CollectedFiles) {
        let inventory = try Inventory.load(RepoPaths.root.appendingPathComponent("inventory/example").path)
        // A fixed generator string: the golden files must not change with the version number.
        let renderer = try FirewallRenderer(templatesDirectory: RepoPaths.root.appendingPathComponent("templates").path,
                                            generator: "fwctl")
        let fleet = FleetRender(compiler: PolicyCompiler(forcedTarget: target), renderer: renderer)
        let collected = CollectedFiles()
        let results = fleet.run(hosts: inventory.hosts.map(\.name), inventory: inventory,
                                addressBook: AddressBook(inventory: inventory)) { host, files in collected.add(host, files) }
        return (results, collected)
    }

    @Test(arguments: FirewallTarget.allCases)
    func exampleMatchesGoldenFiles(target: FirewallTarget) throws {
        let (results, collected) = try Self.renderExample(target: target)
        #expect(results.count == 20)
        var expected: Set<String> = []
        for result in results {
            guard case .rendered(let firewall, let summaries) = result.outcome else {
                Issue.record("\(result.host) did not render: \(result.outcome)")
                continue
            }
            #expect(firewall.target == target)
            let files = collected.files(of: result.host)
            #expect(files.map(\.name) == summaries.map(\.name))
            #expect(files.map(\.bytes.count) == summaries.map(\.byteCount))
            for file in files {
                let name = "example-\(target.rawValue)/\(result.host)/\(file.name)"
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
        let (results, _) = try Self.renderExample(target: nil)
        var names: [String: [String]] = [:]
        for result in results {
            if case .rendered(let firewall, let files) = result.outcome {
                names[firewall.target.rawValue, default: []].append(files.map(\.name).joined(separator: ","))
            }
        }
        #expect(Set(names["iptables"] ?? []) == ["rules.v4,rules.v6"])
        #expect(Set(names["ufw"] ?? []) == ["user.rules,user6.rules,ufw-defaults"])
        #expect(Set(names["nftables"] ?? []) == ["fwctl.nft"])
    }
}
