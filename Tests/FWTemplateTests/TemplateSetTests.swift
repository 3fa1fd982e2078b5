import FWTemplate
import Foundation
import Testing
import TestSupport

/// Template sets loaded from folders, by name, with partials in subfolders.
@Suite struct TemplateSetTests {
    func folder(_ files: [String: String]) throws -> TemporaryFolder {
        try TemporaryFolder("fwtemplate", files: files)
    }

    @Test func loadsEveryMustacheFileByRelativeName() throws {
        let dir = try folder([
            "main.mustache": "{{> iptables/chain}}|{{> iptables/deep/leaf}}",
            "iptables/chain.mustache": "chain {{name}}",
            "iptables/deep/leaf.mustache": "leaf",
            "iptables/rules.v4.mustache": "*filter\n{{#chains}}\n{{> iptables/chain}}\n{{/chains}}\nCOMMIT\n",
            ".hidden.mustache": "{{",
            "notes.txt": "not a template",
        ])
        defer { dir.remove() }
        let set = try TemplateSet(directory: dir.url.path)
        #expect(set.names == ["iptables/chain", "iptables/deep/leaf", "iptables/rules.v4", "main"])
        #expect(String(decoding: try set.render("main", ["name": "INPUT"]), as: UTF8.self) == "chain INPUT|leaf")
        let rules = try set.template(named: "iptables/rules.v4")
        #expect(try rules.renderString(["chains": [["name": "INPUT"], ["name": "FORWARD"]]])
            == "*filter\nchain INPUTchain FORWARDCOMMIT\n")
        #expect(rules.name == "iptables/rules.v4")
        #expect(rules.options == .fwctl)
    }

    @Test func errorsNameTheFileTheTemplateCameFrom() throws {
        let dir = try folder(["a.mustache": "ok\n{{#x}}\n"])
        defer { dir.remove() }
        #expect(throws: TemplateError.self) { try TemplateSet(directory: dir.url.path) }
        do {
            _ = try TemplateSet(directory: dir.url.path)
        } catch {
            #expect(error.file == dir.path("a.mustache"))
            #expect(error.description.hasPrefix("\(dir.path("a.mustache")):2:1: section 'x' is never closed"))
        }
    }

    @Test func unknownTemplateAndMissingFolder() throws {
        let set = try TemplateSet(templates: ["a": "x", "b": "y"])
        #expect(throws: TemplateError.self) { try set.template(named: "c") }
        do {
            _ = try set.template(named: "c")
        } catch {
            #expect(error.kind == .notFound)
            #expect(error.help == "the set has: a, b")
        }
        do {
            _ = try TemplateSet(directory: "/nonexistent-fwtemplate-dir")
            Issue.record("a missing folder loaded")
        } catch {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("No such file or directory"))
        }
    }

    @Test func duplicateNamesAreRefused() throws {
        #expect(throws: TemplateError.self) {
            try TemplateSet([TemplateSource(name: "a", text: "1"), TemplateSource(name: "a", text: "2")])
        }
    }

    @Test func invalidUTF8FilesAreRefused() throws {
        let dir = try folder([:])
        defer { dir.remove() }
        try Data([0x61, 0xFF, 0x62]).write(to: dir.url.appendingPathComponent("bad.mustache"))
        do {
            _ = try TemplateSet(directory: dir.url.path)
            Issue.record("invalid UTF-8 loaded")
        } catch {
            #expect(error.message == "the file is not valid UTF-8")
        }
    }
}
