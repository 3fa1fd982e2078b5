import Foundation
import Testing
import TestSupport

@testable import FWInventory

/// The binding parity check: for each tricky inventory, fwctl's view equals `ansible-inventory`'s (ansible-core
/// 2.19.14 from PyPI, installed into .venv by `make test`): group membership, children, every host's merged vars
/// with the same JSON types, and byte for byte the same `--list` and `--graph` output.
@Suite struct ParityTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// What ansible-inventory reads (relative to the fixtures).
        var ansibleSource: String
        /// What fwctl reads, when different (a saved JSON inventory that Ansible can only read through a script).
        var fwctlSource: String?
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ranges", ansibleSource: "ranges/hosts"),
        Case(name: "children chains and diamonds", ansibleSource: "children/hosts"),
        Case(name: "precedence with group_vars/host_vars", ansibleSource: "precedence/hosts"),
        Case(name: "ipv6 and ports", ansibleSource: "ipv6/hosts"),
        Case(name: "quoting and typing", ansibleSource: "typing/hosts"),
        Case(name: "yaml inventory", ansibleSource: "yaml/inventory.yml"),
        Case(name: "unsafe values", ansibleSource: "unsafe/inventory.yml"),
        Case(name: "script", ansibleSource: "script/inventory.sh"),
        Case(name: "saved dynamic JSON", ansibleSource: "script/inventory.sh", fwctlSource: "script/inventory.json"),
        Case(name: "inventory directory", ansibleSource: "multi"),
        Case(name: "example fleet", ansibleSource: "../../../inventory/example"),
    ]

    struct AnsibleFailed: Error, CustomStringConvertible {
        var description: String
    }

    static let ansibleInventory = RepoPaths.root.appendingPathComponent(".venv/bin/ansible-inventory").path

    func ansible(_ arguments: [String]) throws -> String {
        // An empty configuration, so no ansible.cfg of the machine or user changes the result.
        let home = try TemporaryFolder("fwctl-ansible-home", files: ["ansible.cfg": ""])
        defer { home.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_HOME"] = home.url.path
        environment["ANSIBLE_LOCAL_TEMP"] = home.path("tmp")
        environment["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "true"
        environment["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"] = "true"
        environment["ANSIBLE_CONFIG"] = home.path("ansible.cfg")
        let result = try runProcess(
            Self.ansibleInventory, arguments, environment: environment, currentDirectory: FileManager.default.temporaryDirectory,
            timeout: 300)
        guard result.status == 0 else {
            throw AnsibleFailed(description: "ansible-inventory \(arguments.joined(separator: " ")) failed:\n\(result.stderrText)")
        }
        return result.stdoutText
    }

    @Test(arguments: cases)
    func listMatchesAnsible(_ testCase: Case) throws {
        try Integration.require(.path(Self.ansibleInventory))
        let expected = try ansible(["-i", Fixtures.path(testCase.ansibleSource), "--list"])
        let inventory = try Inventory.load(Fixtures.path(testCase.fwctlSource ?? testCase.ansibleSource))
        let actual = inventory.listJSON()

        let ours = try JSONReader.parse(Array(actual.utf8)).value
        let theirs = try JSONReader.parse(Array(expected.utf8)).value
        // Groups: hosts and children.
        let groupNames = Set((theirs.dictValue ?? [:]).keys).union((ours.dictValue ?? [:]).keys).subtracting(["_meta"])
        for group in groupNames.sorted() {
            #expect(ours[group]?["hosts"] == theirs[group]?["hosts"], "hosts of group \(group)")
            #expect(ours[group]?["children"] == theirs[group]?["children"], "children of group \(group)")
        }
        // Every host's merged vars, types included (InventoryValue distinguishes 1, 1.0, "1", true).
        let theirVars = theirs["_meta"]?["hostvars"]?.dictValue ?? [:]
        let ourVars = ours["_meta"]?["hostvars"]?.dictValue ?? [:]
        #expect(Set(ourVars.keys) == Set(theirVars.keys), "hosts with vars")
        for (host, vars) in theirVars.sorted(by: { $0.key < $1.key }) {
            for (key, value) in (vars.dictValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                #expect(ourVars[host]?[key] == value, "\(host).\(key)")
            }
            #expect(Set((ourVars[host]?.dictValue ?? [:]).keys) == Set((vars.dictValue ?? [:]).keys), "var names of \(host)")
        }
        #expect(actual == expected, "byte-for-byte --list output")
    }

    @Test(arguments: cases.filter { $0.fwctlSource == nil })
    func graphMatchesAnsible(_ testCase: Case) throws {
        try Integration.require(.path(Self.ansibleInventory))
        let expected = try ansible(["-i", Fixtures.path(testCase.ansibleSource), "--graph"])
        let actual = try Inventory.load(Fixtures.path(testCase.ansibleSource)).graph()
        #expect(actual == expected)
    }
}
