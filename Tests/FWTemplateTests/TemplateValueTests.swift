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

    @Test func decodesJSONWithIntegersBooleansAndNulls() throws {
        let json = #"{"port": 22, "ratio": 1.5, "on": true, "none": null, "name": "web", "list": [1, "2"], "o": {"k": false}}"#
        let value = try JSONDecoder().decode(TemplateValue.self, from: Data(json.utf8))
        #expect(value == ["port": 22, "ratio": 1.5, "on": true, "none": nil, "name": "web", "list": [1, "2"], "o": ["k": false]])
    }
}
