import Testing

@testable import FWInventory

/// The INI format, with expectations checked by hand against ansible-inventory 2.19.
@Suite struct INIParserTests {
    @Test func hostsBeforeTheFirstSectionAreUngrouped() throws {
        let inventory = try ini("""
            loose
            w1
            [web]
            w1
            w2
            """)
        #expect(inventory.hostNames == ["loose", "w1", "w2"])
        #expect(inventory.group(named: "ungrouped")?.hosts == ["loose"])
        #expect(inventory.group(named: "web")?.hosts == ["w1", "w2"])
        #expect(inventory.group(named: "all")?.children == ["ungrouped", "web"])
    }

    @Test func repeatedSectionsAppend() throws {
        let inventory = try ini("""
            [web]
            w1
            [db]
            d1
            [web]
            w2
            w1
            [web:vars]
            a=1
            [web:vars]
            b=2
            """)
        #expect(inventory.group(named: "web")?.hosts == ["w1", "w2"])
        #expect(inventory.merged("w2") == ["a": 1, "b": 2])
    }

    @Test func childrenMayBeDeclaredLater() throws {
        let inventory = try ini("""
            [prod:children]
            web
            db
            [web]
            w1
            [db:children]
            pg
            [pg]
            p1
            """)
        #expect(inventory.group(named: "prod")?.children == ["web", "db"])
        #expect(inventory.group(named: "db")?.children == ["pg"])
        #expect(inventory.group(named: "pg")?.depth == 3)
        #expect(inventory.hosts(inGroup: "prod")?.map(\.name) == ["w1", "p1"])
        #expect(inventory.group(named: "all")?.children == ["ungrouped", "prod"])
    }

    @Test func portsAndLineVarsAreTypedLikeAnsible() throws {
        let inventory = try ini("""
            [t]
            h1:2222 a=true b=True c=8080 d="8080" e=1.5 f=[1,2] g=yes h=0x10 j='x y'
            [t:vars]
            va=1
            vb="8080"
            vc = True
            ve=[1, 2]  # comment
            vf=a=b
            """)
        #expect(inventory.merged("h1") == [
            "ansible_port": 2222, "a": "true", "b": true, "c": 8080, "d": 8080, "e": 1.5, "f": [1, 2], "g": "yes",
            "h": 16, "j": "x y", "va": 1, "vb": "8080", "vc": true, "ve": [1, 2], "vf": "a=b",
        ])
    }

    @Test func aPortIsOnlyTakenWhenTheHostIsFirstDeclared() throws {
        let inventory = try ini("""
            [a]
            h1
            [b]
            h1:2222
            h2:2200
            [c]
            h2
            """)
        #expect(inventory.merged("h1")["ansible_port"] == nil)
        #expect(inventory.merged("h2")["ansible_port"] == 2200)
    }

    @Test func commentsAndBlankLinesAreSkipped() throws {
        let inventory = try ini("""
            # comment
            ; comment

            [web]   # trailing comment
            w1      # host comment
              w2
            """)
        #expect(inventory.hostNames == ["w1", "w2"])
    }

    @Test func groupNamesAreNotSanitized() throws {
        #expect(try ini("[web-servers]\nw1\n").group(named: "web-servers")?.hosts == ["w1"])
    }

    @Test func windowsLineEndingsAndNonUTF8CommentsAreRead() throws {
        let crlf = try ini("[web]\r\nw1\r\n[web:vars]\r\na=1\r\n")
        #expect(crlf.merged("w1") == ["a": 1])
        var bytes = Array("[web]\n# caf".utf8) + [0xE9] + Array("\nw1\n".utf8)
        var builder = InventoryBuilder()
        try INIInventoryParser.parse(bytes, file: "latin1", into: &builder, maxHosts: 10)
        #expect(builder.hostIndex["w1"] != nil)
        bytes = Array("[web]\nw".utf8) + [0xE9] + Array("\n".utf8)
        builder = InventoryBuilder()
        #expect(throws: InventoryError.self) {
            try INIInventoryParser.parse(bytes, file: "latin1", into: &builder, maxHosts: 10)
        }
    }

    // MARK: Errors: each names the line and says what was expected

    @Test func malformedHeader() throws {
        let error = try #require(iniError("[web]\nw1\n[web ]\n"))
        #expect(error.line == 3)
        #expect(error.file == "test.ini")
        #expect(error.description.contains("invalid section header '[web ]'"))
        #expect(error.hint?.contains("[GROUP:children]") == true)
    }

    @Test func unknownSectionType() throws {
        let error = try #require(iniError("[web]\nw1\n\n[web:host]\n"))
        #expect(error.line == 4)
        #expect(error.message.contains("unknown type 'host'"))
        #expect(try ini("[web:hosts]\nw1\n").group(named: "web")?.hosts == ["w1"])  // the explicit form of [web]
    }

    @Test func varsOfAnUndeclaredGroup() throws {
        let error = try #require(iniError("[web]\nw1\n[dbs:vars]\nport=5432\n"))
        #expect(error.line == 3)
        #expect(error.message.contains("[dbs:vars]"))
        #expect(error.message.contains("never declared"))
    }

    @Test func varsBeforeTheGroupsDeclarationAreFine() throws {
        let inventory = try ini("[db:vars]\nport=5432\n[db]\nd1\n")
        #expect(inventory.merged("d1") == ["port": 5432])
    }

    @Test func childNeverDeclared() throws {
        let error = try #require(iniError("[prod:children]\nweb\ndb\n[web]\nw1\n"))
        #expect(error.line == 3)
        #expect(error.message.contains("[prod:children] names group 'db'"))
    }

    @Test func childDeclaredOnlyByVarsIsStillUndeclared() throws {
        // As in Ansible: [g:vars] alone does not declare g for a :children reference made before it.
        let error = try #require(iniError("[prod:children]\nweb\n[web:vars]\na=1\n"))
        #expect(error.line == 2)
    }

    @Test func directCycle() throws {
        let error = try #require(iniError("[a:children]\nb\n[b:children]\na\n"))
        #expect(error.line == 4)
        #expect(error.message.contains("cycle: a -> b -> a"))
    }

    /// 'all' under another group closes a loop once every top-level group goes under 'all' (Ansible: "creates a
    /// recursive dependency loop"); it was accepted, and `--graph` then walked the loop without end.
    @Test func allAsAChildIsACycle() throws {
        let error = try #require(iniError("[g]\nh1\n[g:children]\nall\n"))
        #expect(error.line == 4)
        #expect(error.message.contains("'all' a child of 'g' creates a cycle"), "\(error.message)")
        #expect(throws: InventoryError.self) { try Inventory.parse(yaml: "g:\n  children:\n    all:\n", file: "inv.yml") }
    }

    @Test func longCycleThroughPendingChildren() throws {
        let error = try #require(iniError("""
            [a:children]
            b
            [b:children]
            c
            [c:children]
            a
            """))
        #expect(error.line == 6)
        #expect(error.message.contains("a -> b -> c -> a"))
    }

    @Test func groupAsItsOwnChild() throws {
        let error = try #require(iniError("[a]\n[a:children]\na\n"))
        #expect(error.line == 3)
        #expect(error.message.contains("child of itself"))
    }

    @Test func hostLineErrors() throws {
        #expect(iniError("[a]\nh1 foo\n")?.message.contains("expected KEY=VALUE") == true)
        #expect(iniError("[a]\nh1 x='abc\n")?.message.contains("quotation is not closed") == true)
        #expect(iniError("[a]\nh1:\n")?.message.contains("without a port") == true)
        #expect(iniError("[a]\n---\n")?.message.contains("'---'") == true)
        #expect(iniError("[a]\nh[01:5]\n")?.line == 2)
        #expect(iniError("[a]\n''\n")?.message.contains("empty host name") == true)
        #expect(iniError("[a]\nh1 x={[1]:2}\n")?.message.contains("dict key") == true)
        #expect(iniError("[a]\n[a:vars]\nnoequals\n")?.message.contains("expected KEY=VALUE") == true)
        #expect(iniError("[a:children]\nb:c\n")?.message.contains("expected a group name") == true)
    }

    @Test func groupPriorityMustBeAnInteger() throws {
        let inventory = try ini("[a]\nh1\n[a:vars]\nansible_group_priority=7\n")
        #expect(inventory.group(named: "a")?.priority == 7)
        #expect(inventory.merged("h1")["ansible_group_priority"] == nil)  // not a variable, as in Ansible
        let error = try #require(iniError("[a]\nh1\n[a:vars]\nansible_group_priority=abc\n"))
        #expect(error.line == 4)
        #expect(error.message.contains("must be an integer"))
    }

    @Test func rangesAreBoundedByMaxHosts() {
        #expect(throws: InventoryError.self) {
            try Inventory.parse(ini: "[a]\nh[0:99999]\n", options: LoadOptions(maxHosts: 1000))
        }
    }
}
