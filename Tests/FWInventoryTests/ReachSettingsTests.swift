import Testing

@testable import FWInventory

/// Jump hosts from ssh arguments and become settings, as `connection(of:)` resolves them.
@Suite struct ReachSettingsTests {
    private func connection(_ text: String, _ host: String) throws -> Connection {
        try ini(text).connection(of: host)
    }

    private func error(_ text: String, _ host: String) -> InventoryError? {
        do {
            _ = try ini(text).connection(of: host)
            Issue.record("expected an error for \(host)")
            return nil
        } catch let error as InventoryError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func proxyJumpFormsAndInventoryHostsAsJumps() throws {
        let inventory = """
            bastion ansible_host=203.0.113.10 ansible_port=2222 ansible_user=ops ansible_ssh_private_key_file=/k/b
            a ansible_host=10.0.0.1 ansible_ssh_common_args='-o ProxyJump=bastion'
            b ansible_host=10.0.0.2 ansible_ssh_common_args='-oProxyJump=admin@bastion:2200'
            c ansible_host=10.0.0.3 ansible_ssh_extra_args='-J jump.example.org,root@[2001:db8::1]:2022'
            d ansible_host=10.0.0.4 ansible_ssh_common_args='-o "ProxyJump ssh://me@192.0.2.7:23"'
            e ansible_host=10.0.0.5 ansible_ssh_common_args='-o ProxyJump=none -J bastion'
            f ansible_host=10.0.0.6 ansible_ssh_common_args='-Jbastion'
            """
        let bastion = JumpHost(name: "bastion", isInventoryHost: true, address: "203.0.113.10", port: 2222, user: "ops", privateKeyFile: "/k/b")
        #expect(try connection(inventory, "a").jumpHosts == [bastion])
        var overridden = bastion
        overridden.connection.user = "admin"
        overridden.connection.port = 2200
        #expect(try connection(inventory, "b").jumpHosts == [overridden])
        #expect(try connection(inventory, "c").jumpHosts == [
            JumpHost(name: "jump.example.org", isInventoryHost: false, address: "jump.example.org"),
            JumpHost(name: "2001:db8::1", isInventoryHost: false, address: "2001:db8::1", port: 2022, user: "root"),
        ])
        #expect(try connection(inventory, "d").jumpHosts == [
            JumpHost(name: "192.0.2.7", isInventoryHost: false, address: "192.0.2.7", port: 23, user: "me"),
        ])
        // The first jump setting wins, as in ssh; the later one is reported.
        let e = try connection(inventory, "e")
        #expect(e.jumpHosts.isEmpty)
        #expect(e.warnings.count == 1)
        #expect(e.warnings[0].contains("host 'e'") && e.warnings[0].contains("-J bastion is ignored"))
        #expect(try connection(inventory, "f").jumpHosts == [bastion])
        #expect(try connection(inventory, "bastion").jumpHosts.isEmpty)
    }

    @Test func proxyCommandWithSSHMinusW() throws {
        let inventory = #"""
            [all:vars]
            ansible_user=deploy
            [hosts]
            a ansible_host=10.0.0.1 ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p -q -p 2222 ops@203.0.113.10"'
            b ansible_host=10.0.0.2 ansible_ssh_common_args='-o ProxyCommand="ssh -l ops -i ~/.ssh/jump -W %h:%p bastion.example.org"'
            c ansible_host=10.0.0.3 ansible_ssh_common_args='-o ProxyCommand="nc -X 5 -x proxy:1080 %h %p"'
            d ansible_host=10.0.0.4 ansible_ssh_common_args='-o ProxyCommand="ssh -W 10.9.9.9:22 bastion"'
            """#
        #expect(try connection(inventory, "a").jumpHosts == [
            JumpHost(name: "203.0.113.10", isInventoryHost: false, address: "203.0.113.10", port: 2222, user: "ops"),
        ])
        #expect(try connection(inventory, "b").jumpHosts == [
            JumpHost(name: "bastion.example.org", isInventoryHost: false, address: "bastion.example.org", user: "ops",
                     privateKeyFile: "~/.ssh/jump"),
        ])
        for host in ["c", "d"] {
            let c = try connection(inventory, host)
            #expect(c.jumpHosts.isEmpty)
            #expect(c.warnings.count == 1)
            #expect(c.warnings.first?.contains("host '\(host)': ansible_ssh_common_args: -o ProxyCommand=") == true)
            #expect(c.warnings.first?.contains("is not honoured") == true)
        }
    }

    @Test func everyOtherOptionIsAWarningNamingHostAndOption() throws {
        let inventory = """
            a ansible_ssh_common_args='-o StrictHostKeyChecking=no -o ProxyJump=10.0.0.9' ansible_ssh_extra_args='-C -p 2200 -o ControlMaster=auto'
            """
        let a = try connection(inventory, "a")
        #expect(a.jumpHosts.map(\.connection.address) == ["10.0.0.9"])
        #expect(a.warnings.count == 4)
        #expect(a.warnings.allSatisfy { $0.hasPrefix("host 'a': ") })
        #expect(a.warnings[0].contains("ansible_ssh_common_args: -o StrictHostKeyChecking=no is not honoured"))
        #expect(a.warnings[1].contains("ansible_ssh_extra_args: -C is not honoured"))
        #expect(a.warnings[2].contains("ansible_ssh_extra_args: -p 2200 is not honoured"))
        #expect(a.warnings[3].contains("-o ControlMaster=auto is not honoured"))
    }

    @Test func jumpChainsThroughJumpHostsOwnJumpsAndLoops() throws {
        let inventory = """
            outer ansible_host=192.0.2.1
            middle ansible_host=10.1.0.1 ansible_ssh_common_args='-J outer'
            inner ansible_host=10.2.0.1 ansible_ssh_common_args='-J middle'
            loop1 ansible_ssh_common_args='-J loop2'
            loop2 ansible_ssh_common_args='-J loop1'
            """
        #expect(try connection(inventory, "inner").jumpHosts.map(\.name) == ["outer", "middle"])
        let loop = try #require(error(inventory, "loop1"))
        #expect(loop.message.contains("loop"))
        #expect(loop.location?.file == "test.ini")
    }

    @Test func badJumpSettingsAreErrorsWithTheLine() throws {
        for args in ["-J", "-o ProxyJump=host:99999", "-o ProxyJump=,", "-o 'ProxyJump=a b'", "-J user@", "-o ProxyJump=[::1"] {
            let text = "h ansible_ssh_common_args=\"\(args)\"\n"
            let failure = try #require(error(text, "h"), "\(args)")
            #expect(failure.message.contains("ansible_ssh_common_args of host 'h'"), "\(args): \(failure)")
            #expect(failure.location?.line == 1)
        }
    }

    @Test func become() throws {
        let inventory = """
            [all:vars]
            ansible_user=ops
            [sudo]
            a ansible_become=true
            b ansible_become=yes ansible_become_user=postgres ansible_become_password=s3cret
            c ansible_become=false ansible_become_method=su
            d
            e ansible_become=True ansible_become_pass=12345
            """
        #expect(try connection(inventory, "a").become == BecomeSettings(user: "root"))
        let b = try #require(try connection(inventory, "b").become)
        #expect(b.user == "postgres")
        #expect(b.password?.text == "s3cret")
        // The password never shows in a description or a dump of the connection.
        let shown = "\(try connection(inventory, "b"))" + String(reflecting: try connection(inventory, "b"))
        #expect(!shown.contains("s3cret"))
        var dumped = ""
        dump(try connection(inventory, "b"), to: &dumped)
        #expect(!dumped.contains("s3cret"))
        #expect(try connection(inventory, "c").become == nil)
        #expect(try connection(inventory, "d").become == nil)
        #expect(try connection(inventory, "e").become?.password?.text == "12345")
    }

    @Test func becomeErrors() throws {
        let su = try #require(error("h ansible_become=true ansible_become_method=su\n", "h"))
        #expect(su.message.contains("only with sudo"))
        #expect(su.location?.line == 1)
        let notBool = try #require(error("h ansible_become=maybe\n", "h"))
        #expect(notBool.message.contains("must be a boolean"))
        let templated = try #require(error("h ansible_become=true ansible_become_password='{{ vault_pw }}'\n", "h"))
        #expect(templated.message.contains("template or vault"))
        #expect(!templated.description.contains("vault_pw"))
    }
}
