import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWPolicy

/// Address lists are normalised before rendering, so every list `check` accepts loads into netfilter's interval
/// sets: the same addresses, no overlaps, adjacent ranges merged, `any` instead of `/0`.
@Suite(.serialized) struct AddressNormalisationTests {
    static func parse(_ texts: [String]) -> [IPNetwork] { texts.map { try! IPNetwork(parsing: $0) } }

    @Test(arguments: [
        (["10.0.0.0/8", "10.0.0.5"], ["10.0.0.0/8"]),
        (["10.0.0.5", "10.0.0.0/8", "10.0.0.5"], ["10.0.0.0/8"]),
        (["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/24"]),
        (["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]),
        (["10.0.0.2", "10.0.0.3", "10.0.0.0/31"], ["10.0.0.0/30"]),
        (["0.0.0.0/0", "192.0.2.1"], ["0.0.0.0/0"]),
        (["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/0"]),
        (["255.255.255.255", "255.255.255.254"], ["255.255.255.254/31"]),
        (["2001:db8::/32", "2001:db8::1"], ["2001:db8::/32"]),
        (["::/1", "8000::/1"], ["::/0"]),
        (["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"], ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"]),
    ])
    func normalisesOverlapsAndNeighbours(_ input: [String], _ expected: [String]) {
        #expect(IPNetwork.normalised(Self.parse(input)).map(\.description) == expected)
    }

    /// Random lists: the normalised list holds exactly the same addresses, and is canonical.
    @Test func normalisingKeepsExactlyTheSameAddresses() {
        var random = SeededRandom(seed: 0x5EED)
        for _ in 0..<2_000 {
            let family: IPNetwork.Family = random.next() % 2 == 0 ? .v4 : .v6
            let input = RandomAddressList.networks(family, count: Int(random.next() % 30) + 1, using: &random)
            let output = IPNetwork.normalised(input)
            for (a, b) in zip(output, output.dropFirst()) {
                #expect(a.range.high < b.range.low, "\(input) -> \(output): sorted, no overlap")
                // Neighbours only where a range needs several networks: never two halves of one network.
                let siblings = a.prefix == b.prefix && a.prefix > 0 && a.range.high + 1 == b.range.low
                    && a.range.low & IPNetwork.hostMask(prefix: a.prefix - 1, width: a.family == .v4 ? 32 : 128) == 0
                #expect(!siblings, "\(input) -> \(output): \(a) and \(b) make one network")
            }
            #expect(IPNetwork.normalised(output) == output, "normalising twice changes nothing")
            // Every range edge of the input, and one address each side, is in the output exactly when in the input.
            for network in input {
                let (low, high) = network.range
                for probe in [low, high, low &- 1, high &+ 1] {
                    let inInput = input.contains { $0.range.low <= probe && probe <= $0.range.high }
                    let inOutput = output.contains { $0.range.low <= probe && probe <= $0.range.high }
                    #expect(inInput == inOutput, "\(input) -> \(output) at \(probe)")
                }
            }
        }
    }

    /// The property that matters: random lists, rendered for every target, load into the real tools.
    @Test(arguments: FirewallTarget.allCases)
    func randomListsLoadIntoRealNetfilter(target: FirewallTarget) throws {
        try Integration.require(NetfilterLoadTests.requirements)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let host = try lab.addHost("norm")
        let folder = try TemporaryFolder("fwctl-normalise")
        defer { folder.remove() }
        let renderer = try FirewallRenderer(templatesDirectory: RenderFixtures.templates, generator: "fwctl")
        var random = SeededRandom(seed: 0xADD2 &+ UInt64(FirewallTarget.allCases.firstIndex(of: target)!))
        for round in 0..<25 {
            let v4 = RandomAddressList.networks(.v4, count: Int(random.next() % 40) + 1, using: &random)
            let v6 = RandomAddressList.networks(.v6, count: Int(random.next() % 20), using: &random)
            let sources = (v4 + v6).map { "\"\($0)\"" }.joined(separator: ", ")
            let inventory = try PolicyFixtures.inventory("""
                all:
                  hosts:
                    h1:
                      ansible_host: 192.0.2.1
                      firewall:
                        target: \(target.rawValue)
                        management: [\(sources)]
                        allow:
                          - {from: [\(sources)], ports: [80]}
                          - {from: [\(v4.prefix(3).map { "\"\($0)\"" }.joined(separator: ", "))], ports: [81]}
                """)
            let firewall = try #require(try PolicyCompiler(setThreshold: 8).compile(host: "h1", addressBook: AddressBook(inventory: inventory)))
            let problems = NetfilterLoadTests.loadProblems(firewall, try renderer.render(firewall), lab: lab, host: host, folder: folder)
            #expect(problems.isEmpty, "round \(round), sources \(sources): \(problems)")
        }
    }
}

/// Lists made to collide: a few bases, many prefix lengths, single addresses inside them, now and then the whole
/// space, so overlaps, duplicates and neighbours are common.
enum RandomAddressList {
    static func networks(_ family: IPNetwork.Family, count: Int, using random: inout SeededRandom) -> [IPNetwork] {
        (0..<count).map { _ in
            let roll = random.next() % 100
            if family == .v4 {
                let bases: [UInt32] = [0x0A00_0000, 0x0A00_0080, 0xC000_0200, 0xC633_6400, 0xFFFF_FFF0, 0x0000_0000]
                let base = bases[Int(random.next() % UInt64(bases.count))] | UInt32(truncatingIfNeeded: random.next() % 512)
                let prefix: UInt8 = roll < 2 ? 0 : roll < 40 ? 32 : UInt8(8 + random.next() % 25)
                let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix))
                return .v4(address: base & mask, prefix: prefix)
            } else {
                let bases: [UInt128] = [UInt128(0x2001_0db8) << 96, (UInt128(0x2001_0db8) << 96) | (UInt128(1) << 64), .max - 0xFF]
                let base = bases[Int(random.next() % UInt64(bases.count))] | UInt128(random.next() % 1024)
                let prefix: UInt8 = roll < 2 ? 0 : roll < 40 ? 128 : UInt8(32 + random.next() % 97)
                let mask: UInt128 = prefix == 0 ? 0 : UInt128.max << (128 - UInt128(prefix))
                return .v6(address: base & mask, prefix: prefix)
            }
        }
    }
}
