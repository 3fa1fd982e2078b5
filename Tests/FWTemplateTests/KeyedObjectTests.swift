import FWTemplate
import Testing

/// `TemplateObject.Keyed`: objects built by key name, as the policy renderer builds its rule objects.
@Suite struct KeyedObjectTests {
    enum RuleKey: String, CaseIterable {
        case proto, tcp, udp, port
    }

    static let rule = TemplateObject.Keyed<RuleKey>()

    @Test func valuesLandUnderTheirKeysWhateverOrderTheyAreSetIn() throws {
        let object = Self.rule.object { rule in
            rule[.udp] = false
            rule[.port] = "53"
            rule[.tcp] = true
            rule[.proto] = "tcp"
        }
        #expect(object.keys == ["proto", "tcp", "udp", "port"], "the enum's case names, in case order")
        #expect(object["tcp"] == true)
        #expect(object["udp"] == false)
        #expect(object["port"] == "53")
        #expect(object == TemplateObject([("proto", "tcp"), ("tcp", true), ("udp", false), ("port", "53")]))
    }

    @Test func keyedObjectsRenderByName() throws {
        let set = try TemplateSet([TemplateSource(name: "r", text: "{{proto}}{{#tcp}} tcp{{/tcp}}{{#udp}} udp{{/udp}} {{port}}")],
                                  options: TemplateOptions(escaping: .none, strict: true))
        let object = Self.rule.object { rule in
            rule[.proto] = "udp"
            rule[.tcp] = false
            rule[.udp] = true
            rule[.port] = 53
        }
        #expect(try set.template(named: "r").renderString(.object(object)) == "udp udp 53")
    }

    #if DEBUG
    @Test func aKeyLeftUnsetStopsADebugBuild() async {
        await #expect(processExitsWith: .failure) {
            _ = KeyedObjectTests.rule.object { rule in
                rule[.proto] = "tcp"
                rule[.tcp] = true
                rule[.port] = 22
            }
        }
    }

    @Test func aKeySetTwiceStopsADebugBuild() async {
        await #expect(processExitsWith: .failure) {
            _ = KeyedObjectTests.rule.object { rule in
                rule[.proto] = "tcp"
                rule[.tcp] = true
                rule[.tcp] = false
                rule[.udp] = false
                rule[.port] = 22
            }
        }
    }
    #endif
}
