import FWTemplate
import Testing

/// Names resolve through the context stack from the top, whatever the renderer remembers of where a name was
/// found last time: a key that appears, disappears and reappears at every level as sections iterate.
@Suite struct NameLookupTests {
    @Test func aKeyFoundAtDifferentLevelsInEachIteration() throws {
        let data: TemplateValue = [
            "name": "root",
            "rows": [
                ["name": "row1", "cells": ["x", ["name": "cell1"], "y", ["other": 1], ["name": "cell2"]]],
                ["cells": ["z", ["name": "c2"], [:], "w"]],
                ["name": "row3", "cells": [[:], "v", ["name": "c3"]]],
            ],
        ]
        let out = try render("{{#rows}}[{{#cells}}{{name}};{{/cells}}]{{/rows}}", data)
        #expect(out == "[row1;cell1;row1;row1;cell2;][root;c2;root;root;][row3;row3;c3;]")
    }

    @Test func theSameTagInPartialsAtDifferentDepths() throws {
        let data: TemplateValue = ["v": "top", "a": ["b": ["v": "deep"], "c": [:]]]
        let out = try render("{{>p}}|{{#a}}{{>p}}|{{#b}}{{>p}}{{/b}}|{{#c}}{{>p}}{{/c}}{{/a}}", data, partials: ["p": "{{v}}"])
        #expect(out == "top|top|deep|top")
    }

    /// More tags than the renderer's table of remembered lookups: tags whose instruction numbers share a slot
    /// must not take each other's answer.
    @Test func tagsThatShareARememberedSlotKeepTheirOwnNames() throws {
        let names = (0..<600).map { "k\($0)" }
        let text = "{{#items}}" + names.map { "{{\($0)}}," }.joined() + "\n{{/items}}"
        var items: [TemplateValue] = []
        var expected = ""
        for row in 0..<3 {
            items.append(.object(TemplateObject(names.enumerated().map { ($0.element, TemplateValue.string("r\(row)v\($0.offset)")) })))
            expected += names.indices.map { "r\(row)v\($0)," }.joined() + "\n"
        }
        #expect(try render(text, ["items": .list(items)]) == expected)
    }

    @Test func dottedNamesAndListsOfScalars() throws {
        let data: TemplateValue = ["s": ["t": "x"], "items": [1, 2, 3], "n": "k"]
        #expect(try render("{{#items}}{{s.t}}{{.}}{{n}},{{/items}}", data) == "x1k,x2k,x3k,")
    }
}
