import Foundation
import Testing
import TestSupport

@testable import FWInventory

/// Variable precedence and the per-scope API the policy compiler uses. Expected values derived by hand from
/// Ansible's rules (and equal to ansible-inventory's output for the same fixture, see ParityTests).
@Suite struct VarsPrecedenceTests {
    let inventory: Inventory

    init() throws {
        inventory = try Inventory.load(Fixtures.path("precedence/hosts"))
    }

    @Test func groupsAreOrderedByDepthThenPriorityThenName() throws {
        // aaa has ansible_group_priority 5 in the inventory, so it comes after prod and zzz (priority 1) at depth 1;
        // the ansible_group_priority: 100 in group_vars/aaa.yml is only a variable, as in Ansible.
        #expect(inventory.groups(of: "w2")?.map(\.name) == ["all", "prod", "zzz", "aaa", "web"])
        #expect(inventory.groups(of: "d1")?.map(\.name) == ["all", "prod", "db"])
        #expect(inventory.group(named: "aaa")?.priority == 5)
        #expect(inventory.group(named: "db")?.depth == 2)
    }

    @Test func mergedVarsFollowAnsiblePrecedence() throws {
        let vars = try #require(inventory.vars(of: "w2"))
        #expect(vars.merged == [
            "a_only": 1, "aaa_file": 1, "ansible_group_priority": 100, "from_prod_dir": true, "prod_json": 1.0,
            "prod_list": [1, 2], "settings": ["a": 10], "src": "w2_b", "w2_a": 1, "web_only": "inline",
            "zzz": [1, 2.5, nil],
        ])
        #expect(vars.location(of: "src") == FileLocation(file: Fixtures.path("precedence/host_vars/w2/b.yml"), line: 1))
        #expect(vars.location(of: "web_only") == FileLocation(file: Fixtures.path("precedence/hosts"), line: 12))
        // group_vars/db (no extension) wins over db.yml; a dict is replaced whole, never merged.
        #expect(inventory.merged("d1")["src"] == "db_noext")
        #expect(inventory.merged("w1")["settings"] == ["a": 10])
        #expect(inventory.merged("w1")["src"] == "w1_file")
    }

    @Test func scopesKeepEachGroupsOwnVarsInPrecedenceOrder() throws {
        let vars = try #require(inventory.vars(of: "w2"))
        #expect(vars.scopes.map(\.owner) == [
            .group("all"), .group("prod"), .group("zzz"), .group("aaa"), .group("web"), .host("w2"),
        ])
        let web = vars.scopes[4]
        // Inventory vars of the group, replaced key by key by its group_vars file.
        #expect(web.vars["src"] == "web_file")
        #expect(web.vars["web_only"] == "inline")
        #expect(web.location(of: "src") == FileLocation(file: Fixtures.path("precedence/group_vars/web.yml"), line: 2))
        let prod = vars.scopes[1]
        #expect(prod.vars["src"] == "prod_file3")  // group_vars/prod/ files in name order, sub/30.json last
        #expect(prod.vars["prod_list"] == [1, 2])
        #expect(vars.scopes[5].vars == ["src": "w2_b", "w2_a": 1])
        #expect(inventory.vars(ofGroup: "web")?.vars == web.vars)
        #expect(inventory.vars(ofGroup: "nosuch") == nil)
    }

    @Test func ignoredAndUnusedVarsFilesAreReported() throws {
        #expect(inventory.warnings.contains { $0.contains("group_vars/nosuchgroup.yml") && $0.contains("no group named 'nosuchgroup'") })
        #expect(inventory.warnings.contains { $0.contains("group_vars/db.yml") && $0.contains("comes first") })
        // group_vars/prod/ holds a hidden file, a .txt and two backups (`~`), each setting a key of its own.
        let prod = try #require(inventory.vars(ofGroup: "prod"))
        #expect(prod.vars["prod_json"] == 1.0)  // the folder's vars files are read
        for ignored in ["ignored_hidden", "ignored_txt", "ignored_backup", "ignored_backup_noext"] {
            #expect(prod.vars[ignored] == nil, "\(ignored)")
        }
    }

    /// Ansible's stages: every group's inventory vars come before any group_vars file, so group_vars/all.yml
    /// beats [web:vars] for a host in web, while [web:vars] still beats [all:vars].
    @Test func inventoryGroupVarsLoseToAnyGroupVarsFile() throws {
        let folder = try TemporaryFolder("fwctl-inv-stages", files: [
            "hosts": "[all:vars]\na=all_inline\nb=all_inline\n[web]\nw1\n[web:vars]\na=web_inline\nb=web_inline\n",
            "group_vars/all.yml": "a: all_file\n",
        ])
        defer { folder.remove() }
        let inventory = try Inventory.load(folder.path("hosts"))
        #expect(inventory.merged("w1") == ["a": "all_file", "b": "web_inline"])
        // Per scope, `all` has its file's value and web its own.
        let vars = try #require(inventory.vars(of: "w1"))
        #expect(vars.scopes[0].vars["a"] == "all_file")
        #expect(vars.scopes[1].vars["a"] == "web_inline")
        // The layers show Ansible's actual order.
        #expect(vars.layers.map(\.owner) == [.group("all"), .group("web"), .group("all")])
        #expect(vars.layers.map(\.source) == [.inventory, .inventory, .varsFile])
        #expect(vars.layers[2].location(of: "a") == FileLocation(file: folder.path("group_vars/all.yml"), line: 1))
        #expect(vars.location(of: "a") == FileLocation(file: folder.path("group_vars/all.yml"), line: 1))
        #expect(vars.location(of: "b") == FileLocation(file: folder.path("hosts"), line: 8))
    }

    @Test func varsOfManyHostsAtOnceEqualOneByOne() throws {
        let all = inventory.vars(of: inventory.hosts)
        #expect(all.map(\.host) == inventory.hostNames)
        for vars in all {
            let single = try #require(inventory.vars(of: vars.host))
            #expect(vars.merged == single.merged)
            #expect(vars.scopes.map(\.owner) == single.scopes.map(\.owner))
            #expect(vars.merged.keys.allSatisfy { vars.location(of: $0) == single.location(of: $0) })
        }
    }

    /// `--host` (from `vars(of:)`) and `--list` (from the listing's own merge of converted values) agree.
    @Test func hostJSONEqualsTheListsHostvars() throws {
        let list = try JSONReader.parse(Array(inventory.listJSON().utf8)).value
        for host in inventory.hosts {
            let listed = list["_meta"]?["hostvars"]?[host.name] ?? [:]
            #expect(try JSONReader.parse(Array(inventory.hostJSON(host.name).utf8)).value == listed, "\(host)")
        }
    }

    @Test func severalSourcesMergeTheirVarsDirectoriesInOrder() throws {
        let folder = try TemporaryFolder("fwctl-inv-sources", files: [
            "one/hosts": "[web]\nw1\n[db]\nd1\n",
            "two/hosts": "[web]\nw2\n",
            "one/group_vars/web.yml": "x: one_web\n",
            "two/group_vars/all.yml": "x: two_all\ny: two_all\n",
            "one/host_vars/w1.yml": "y: one_w1\n",
        ])
        defer { folder.remove() }
        let inventory = try Inventory.load([folder.path("one/hosts"), folder.path("two/hosts")])
        #expect(inventory.hostNames == ["w1", "d1", "w2"])
        // all's files (from every source) come before web's.
        #expect(inventory.merged("w1") == ["x": "one_web", "y": "one_w1"])
        #expect(inventory.merged("d1") == ["x": "two_all", "y": "two_all"])
    }

    @Test func symbolicLinkLoopsEndAndEmptyFilesAreSkipped() throws {
        let folder = try TemporaryFolder("fwctl-inv-links", files: [
            "inv/hosts": "[web]\nw1\n",
            "inv/group_vars/web/a.yml": "a: 1\n",
            "inv/group_vars/web/empty.yml": "",
        ])
        defer { folder.remove() }
        try FileManager.default.createSymbolicLink(atPath: folder.path("inv/group_vars/web/loop"), withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: folder.path("inv/again"), withDestinationPath: ".")
        let inventory = try Inventory.load(folder.path("inv"))
        #expect(inventory.hostNames == ["w1"])
        #expect(inventory.merged("w1") == ["a": 1])
    }

    @Test func varsFileErrorsNameTheFileAndLine() throws {
        let folder = try TemporaryFolder("fwctl-inv-badvars", files: ["hosts": "[web]\nw1\n", "group_vars/web.yml": "a: 1\nb: [1\n"])
        defer { folder.remove() }
        let varsFile = folder.url.appendingPathComponent("group_vars/web.yml")
        let error = try #require(throws: InventoryError.self) { try Inventory.load(folder.path("hosts")) }
        #expect(error.file == varsFile.path)
        #expect(error.line == 3)
        try Data("- 1\n- 2\n".utf8).write(to: varsFile)
        let listError = try #require(throws: InventoryError.self) { try Inventory.load(folder.path("hosts")) }
        #expect(listError.message.contains("mapping of variables"))
        try Data("# only a comment\n".utf8).write(to: varsFile)
        #expect(try Inventory.load(folder.path("hosts")).merged("w1") == [:])
    }

    @Test func connectionSettings() throws {
        let inventory = try ini("""
            [web]
            w1 ansible_host=192.0.2.10 ansible_port=2222 ansible_user=ops ansible_ssh_private_key_file=~/.ssh/fw
            w2:2200
            w3 ansible_port='"22"'
            bad ansible_port=70000
            """)
        #expect(try inventory.connection(of: "w1") == Connection(
            name: "w1", address: "192.0.2.10", port: 2222, user: "ops", privateKeyFile: "~/.ssh/fw"))
        #expect(try inventory.connection(of: "w2") == Connection(name: "w2", address: "w2", port: 2200))
        #expect(try inventory.connection(of: "w3").port == 22)
        #expect(try inventory.connection(of: "w2").effectivePort == 2200)
        let error = try #require(throws: InventoryError.self) { try inventory.connection(of: "bad") }
        #expect(error.line == 5)
        #expect(error.message.contains("1 to 65535"))
        #expect(throws: InventoryError.self) { try inventory.connection(of: "nosuch") }

        // From vars the caller already holds (here from the batch `vars(of: hosts)`), without a second merge.
        let held = Dictionary(uniqueKeysWithValues: inventory.vars(of: inventory.hosts).map { ($0.host, $0) })
        #expect(try inventory.connection(from: try #require(held["w1"])) == Connection(
            name: "w1", address: "192.0.2.10", port: 2222, user: "ops", privateKeyFile: "~/.ssh/fw"))
        #expect(try inventory.connection(from: try #require(held["w2"])) == Connection(name: "w2", address: "w2", port: 2200))
        let bad = try #require(held["bad"])
        let heldError = try #require(throws: InventoryError.self) { try inventory.connection(from: bad) }
        #expect(heldError.line == 5)
        #expect(heldError.message.contains("of host 'bad'"))
    }
}
