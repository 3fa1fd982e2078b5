import FWTemplate
import Foundation
import Testing

@Suite struct TemplateValueTests {
    @Test func literalsBuildEveryKind() {
        let value: TemplateValue = ["s": "x", "i": 1, "d": 1.5, "b": true, "n": nil, "l": [1, "a"], "o": ["k": "v"]]
        #expect(value["s"] == .string("x"))
        #expect(value["i"] == .int(1))
        #expect(value["d"] == .double(1.5))
        #expect(value["b"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["l"] == .list([.int(1), .string("a")]))
        #expect(value["o"]?["k"] == "v")
        #expect(value["missing"] == nil)
    }

    @Test func objectsKeepOrderReplaceAndRemove() {
        var object = TemplateObject()
        object.set("b", 1)
        object.set("a", 2)
        object.set("b", 3)
        #expect(object.keys == ["b", "a"])
        #expect(object["b"] == 3)
        let copy = object
        object["a"] = nil
        #expect(object.keys == ["b"])
        #expect(copy.keys == ["b", "a"], "copies are independent")
        #expect(TemplateObject([("x", 1), ("y", 2)]) == TemplateObject([("y", 2), ("x", 1)]))
        #expect(TemplateObject([("x", 1)]) != TemplateObject([("x", 2)]))
    }

    @Test func largeObjectsLookUpEveryKey() throws {
        var object = TemplateObject()
        for i in 0..<1000 { object.set("key\(i)", .int(i)) }
        for i in stride(from: 0, to: 1000, by: 37) { #expect(object["key\(i)"] == .int(i)) }
        object.remove("key500")
        #expect(object["key500"] == nil)
        #expect(object["key501"] == 501)
        #expect(try render("{{key999}} {{key3}}", .object(object), options: .fwctl) == "999 3")
    }

    @Test func layoutObjectsLookUpLikeOthersAndCopyOnWrite() throws {
        let layout = TemplateObject.Layout(["port", "proto", "sources"])
        var a = TemplateObject(layout, [22, "tcp", ["192.0.2.1"]])
        let b = TemplateObject(layout, [80, "udp", []])
        let built: TemplateObject = ["sources": ["192.0.2.1"], "proto": "tcp", "port": 22]
        #expect(a == built)
        #expect(try render("{{#r}}{{proto}}/{{port}};{{/r}}", ["r": [.object(a), .object(b)]], options: .fwctl) == "tcp/22;udp/80;")
        // Objects share the layout's keys: a key set on one changes neither the layout nor the others.
        a.set("comment", "ssh")
        a.set("port", 2222)
        #expect(a.keys == ["port", "proto", "sources", "comment"])
        #expect(b.keys == ["port", "proto", "sources"])
        #expect(b["comment"] == nil && b["port"] == 80)
        #expect(TemplateObject(layout, [1, 2, 3]).keys == ["port", "proto", "sources"])
    }

    @Test func layoutsWithManyKeysLookUpEveryKey() throws {
        // Past the index threshold a layout also carries a dictionary index, shared by its objects.
        let keys = (0..<200).map { "k\($0)" }
        let object = TemplateObject(TemplateObject.Layout(keys), keys.indices.map { .int($0) })
        for i in stride(from: 0, to: 200, by: 7) { #expect(object["k\(i)"] == .int(i)) }
        #expect(object["k200"] == nil)
        #expect(try render("{{k199}} {{k0}}", .object(object), options: .fwctl) == "199 0")
    }

    @Test func decodesJSONWithIntegersBooleansAndNulls() throws {
        let json = #"{"port": 22, "ratio": 1.5, "on": true, "none": null, "name": "web", "list": [1, "2"], "o": {"k": false}}"#
        let value = try JSONDecoder().decode(TemplateValue.self, from: Data(json.utf8))
        #expect(value == ["port": 22, "ratio": 1.5, "on": true, "none": nil, "name": "web", "list": [1, "2"], "o": ["k": false]])
    }
}
