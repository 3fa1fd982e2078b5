import Foundation
import Testing
import TestSupport

/// `fwctl template render`, run as a user runs it: exact bytes on stdout, errors on stderr with exit status 2.
@Suite struct TemplateCommandTests {
    let fwctl = RepoPaths.fwctl.path
    @Test func printsExactlyTheRenderedBytes() throws {
        let folder = try TemporaryFolder("fwctl-template", files: [
            "t.mustache": "-A INPUT -p tcp --dport {{port}} -j ACCEPT",
            "data.json": #"{"port": 22}"#,
        ])
        defer { folder.remove() }
        let result = try runProcess(fwctl, ["template", "render", folder.path("t.mustache"), "--data", folder.path("data.json")])
        #expect(result.status == 0)
        #expect(result.stdout == Data("-A INPUT -p tcp --dport 22 -j ACCEPT".utf8), "no newline added")
        #expect(result.stderr.isEmpty)
    }

    /// Plain YAML scalars are typed as YAML 1.1 (as Ansible reads them): 0443 is octal; quoted, it stays text.
    @Test func rendersYAMLDataWithPartialsFromAFolder() throws {
        let folder = try TemporaryFolder("fwctl-template", files: [
            "rules.v4.mustache": "*filter\n{{#rules}}\n  {{> iptables/rule}}\n{{/rules}}\nCOMMIT\n",
            "partials/iptables/rule.mustache": "{{#sources}}\n-A INPUT -s {{.}} --dport {{port}} -m comment --comment \"{{comment}}\"\n{{/sources}}\n",
            "data.yaml": """
                rules:
                  - port: 22
                    comment: ssh from the office
                    sources: [192.0.2.10, "2001:db8::/32"]
                  - port: 0443
                    comment: "0443"
                    sources: [198.51.100.7]
                  - port: 80
                    comment: none
                    sources: []
                """,
        ])
        defer { folder.remove() }
        let result = try runProcess(fwctl, [
            "template", "render", folder.path("rules.v4.mustache"), "--data", folder.path("data.yaml"),
            "--partials", folder.path("partials"),
        ])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == """
            *filter
              -A INPUT -s 192.0.2.10 --dport 22 -m comment --comment "ssh from the office"
              -A INPUT -s 2001:db8::/32 --dport 22 -m comment --comment "ssh from the office"
              -A INPUT -s 198.51.100.7 --dport 291 -m comment --comment "0443"
            COMMIT

            """)
    }

    @Test func escapeModesAndLenientNames() throws {
        let folder = try TemporaryFolder("fwctl-template", files: ["t.mustache": "{{v}}|{{{v}}}|{{missing}}", "d.json": #"{"v": "<a & \"b\">"}"#])
        defer { folder.remove() }
        let base = ["template", "render", folder.path("t.mustache"), "--data", folder.path("d.json"), "--lenient"]
        let html = try runProcess(fwctl, base + ["--escape", "html"])
        #expect(html.status == 0)
        #expect(html.stdoutText == "&lt;a &amp; &quot;b&quot;&gt;|<a & \"b\">|")
        let none = try runProcess(fwctl, base + ["--escape", "none"])
        #expect(none.stdoutText == "<a & \"b\">|<a & \"b\">|")
        let rules = try runProcess(fwctl, base)
        #expect(rules.status == 2)
        #expect(rules.stdout.isEmpty)
        #expect(rules.stderrText.contains("t.mustache:1:1: the value of 'v' contains \"<\" (U+003C)"))
    }

    @Test func strictByDefaultAMissingNameExitsWithStatus2() throws {
        let folder = try TemporaryFolder("fwctl-template", files: ["t.mustache": "ok\n  {{#rules}}{{port}}{{/rules}}", "d.yml": "rules: [{proto: tcp}]\n"])
        defer { folder.remove() }
        let result = try runProcess(fwctl, ["template", "render", folder.path("t.mustache"), "--data", folder.path("d.yml")])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty, "nothing is printed when rendering fails")
        #expect(result.stderrText == "fwctl: error: \(folder.path("t.mustache")):2:13: 'port' is not defined (strict mode, in {{port}}); define 'port' in the data\n")
    }

    /// Data files are typed as Ansible types vars files (PyYAML, json.loads), not as Yams' or Foundation's defaults.
    @Test func dataIsTypedAsAnsibleTypesIt() throws {
        let template = "{{#list}}[{{#flag}}yes {{/flag}}{{exp}} {{leadingZero}} {{pyOctal}} {{octal}} {{big}} {{float}}]{{/list}}"
        let folder = try TemporaryFolder("fwctl-template", files: [
            "t.mustache": template,
            // PyYAML: 1e3, 08 and 0o17 are strings (Yams' resolver made 1e3 and 08 floats, 0o17 an int); 010 is
            // octal 8; 1_000 is 1000; 1.5e+3 is a float.
            "d.yml": "list:\n  - {flag: yes, exp: 1e3, leadingZero: 08, pyOctal: 0o17, octal: 010, big: 1_000, float: 1.5e+3}\n",
            // json.loads: 1E3 is a float, 08 is not JSON.
            "d.json": #"{"list": [{"flag": true, "exp": 1E3, "leadingZero": "08", "pyOctal": "0o17", "octal": 10, "big": 1000, "float": 1.5e3}]}"#,
        ])
        defer { folder.remove() }
        let yaml = try runProcess(fwctl, ["template", "render", folder.path("t.mustache"), "--data", folder.path("d.yml")])
        #expect(yaml.status == 0, "\(yaml.stderrText)")
        #expect(yaml.stdoutText == "[yes 1e3 08 0o17 8 1000 1500]")
        let json = try runProcess(fwctl, ["template", "render", folder.path("t.mustache"), "--data", folder.path("d.json")])
        #expect(json.status == 0, "\(json.stderrText)")
        #expect(json.stdoutText == "[yes 1000 08 0o17 10 1000 1500]")
    }

    @Test func badInputsExitWithStatus2AndSayWhere() throws {
        let folder = try TemporaryFolder("fwctl-template", files: [
            "t.mustache": "{{x}}", "unclosed.mustache": "a\n{{#s}}", "partial.mustache": "{{> nope}}",
            "bad.json": "{\"x\": 1,\n  oops", "bad.yml": "x: [1\n", "d.txt": "x=1", "ok.json": #"{"x": 1}"#,
        ])
        defer { folder.remove() }
        let cases: [([String], String)] = [
            ([folder.path("t.mustache"), "--data", folder.path("bad.json")], "bad.json:2:3: not valid JSON: expected a quoted key"),
            ([folder.path("t.mustache"), "--data", folder.path("bad.yml")], "bad.yml:2:1: invalid YAML"),
            ([folder.path("t.mustache"), "--data", folder.path("d.txt")], "unknown data format"),
            ([folder.path("t.mustache"), "--data", folder.path("absent.json")], "cannot read the data file"),
            ([folder.path("unclosed.mustache")], "unclosed.mustache:2:1: section 's' is never closed"),
            ([folder.path("partial.mustache")], "partial.mustache:1:1: unknown partial 'nope'"),
            ([folder.path("absent.mustache")], "absent.mustache: cannot read the template (No such file or directory)"),
            ([folder.path("t.mustache"), "--partials", folder.path("absent")], "cannot open the template folder"),
        ]
        for (arguments, expected) in cases {
            let result = try runProcess(fwctl, ["template", "render"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderrText)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderrText.hasPrefix("fwctl: error: "))
            #expect(result.stderrText.contains(expected), "\(result.stderrText)")
        }
    }

    /// The README's tour runs this example; its output is kept as a golden file.
    @Test func theReadmeExampleRenders() throws {
        let example = RepoPaths.root.appendingPathComponent("templates/example")
        let result = try runProcess(fwctl, [
            "template", "render", example.appendingPathComponent("allow-ssh.mustache").path,
            "--data", example.appendingPathComponent("allow-ssh.yml").path,
        ])
        #expect(result.status == 0, "\(result.stderrText)")
        expectGolden(result.stdoutText, named: "template-example-allow-ssh.txt")
    }

    @Test func unknownEscapeModeIsAUsageError() throws {
        let result = try runProcess(fwctl, ["template", "render", "x.mustache", "--escape", "shell"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("shell"))
    }

    @Test func helpSaysTheDefaultsAndIsListedInTheMainHelp() throws {
        let help = try runProcess(fwctl, ["template", "render", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("default: rules"))
        #expect(help.stdoutText.contains("strict"))
        // A subcommand line, not just the word: "template" is also in the exit-status table.
        let main = try runProcess(fwctl, ["--help"])
        #expect(main.stdoutText.split(separator: "\n").contains { $0.hasPrefix("  template ") })
    }
}
