import Testing
@testable import FWInventory

/// One source of how a host is reached, resolved as Ansible's ssh connection plugin resolves it.
@Suite struct ConnectionResolutionTests {
    func inventory(_ text: String) throws -> Inventory { try Inventory.parse(ini: text, file: "hosts") }

    @Test func theSSHPrefixedVariablesAreReadAndEqualValuesAgree() throws {
        let inv = try inventory("""
            a ansible_ssh_host=192.0.2.1 ansible_ssh_port=2222 ansible_ssh_user=ops
            b ansible_host=192.0.2.2 ansible_ssh_host=192.0.2.2 ansible_port=22 ansible_ssh_port='"22"'
            c ansible_ssh_private_key_file=/k1
            """)
        #expect(try inv.connection(of: "a") == Connection(name: "a", address: "192.0.2.1", port: 2222, user: "ops"))
        #expect(try inv.connection(of: "b") == Connection(name: "b", address: "192.0.2.2", port: 22))
        #expect(try inv.connection(of: "c").privateKeyFile == "/k1")
        let vars = try #require(inv.vars(of: "a"))
        #expect(Connection.addressVariable(in: vars) == "ansible_ssh_host")
    }

    @Test(arguments: [
        ("ansible_host=192.0.2.1 ansible_ssh_host=192.0.2.9", "ansible_ssh_host"),
        ("ansible_port=22 ansible_ssh_port=2222", "ansible_ssh_port"),
        ("ansible_user=root ansible_ssh_user=ops", "ansible_ssh_user"),
        ("ansible_private_key_file=/a ansible_ssh_private_key_file=/b", "ansible_ssh_private_key_file"),
    ])
    func conflictingValuesAreAnErrorNamingBoth(_ settings: String, _ winner: String) throws {
        let inv = try inventory("[web]\nw1 \(settings)\n")
        let error = try #require(throws: InventoryError.self) { try inv.connection(of: "w1") }
        #expect(error.location?.file == "hosts")
        #expect(error.location?.line == 2)
        #expect(error.message.contains(winner) && error.message.contains("Ansible connects with \(winner)"), "\(error)")
        #expect(error.message.contains("(hosts:2)"), "both places are named: \(error)")
    }

    @Test func conflictsAcrossFilesNameEachFile() throws {
        let inv = try Inventory.parse(yaml: """
            all:
              vars: {ansible_ssh_port: 2200}
              hosts:
                h1: {ansible_port: 22}
            """, file: "inv.yml")
        let error = try #require(throws: InventoryError.self) { try inv.connection(of: "h1") }
        #expect(error.description.contains("inv.yml:2") && error.description.contains("inv.yml:4"), "\(error)")
    }
}
