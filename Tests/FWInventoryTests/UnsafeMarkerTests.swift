import Testing
import TestSupport
@testable import FWInventory

/// `!unsafe` and `{"__ansible_unsafe": ...}` keep their mark to `--list`, as in ansible-inventory; `--host` and
/// every reader of the value see a plain string.
@Suite struct UnsafeMarkerTests {
    @Test func yamlTagsMarkStringsInListsAndMappingsToo() throws {
        let inventory = try Inventory.parse(yaml: """
            all:
              hosts:
                h1:
                  a: !unsafe "{{ x }}"
                  n: !unsafe 42
                  c: !unsafe [one, 2]
                  d: {k: !unsafe v}
            """)
        let list = inventory.listJSON()
        #expect(list.contains(#""a": {\#n                    "__ansible_unsafe": "{{ x }}"\#n                }"#), "\(list)")
        #expect(list.contains(#""n": 42"#))
        #expect(list.contains(#""__ansible_unsafe": "one""#) && list.contains(#""__ansible_unsafe": "v""#))
        let host = try inventory.hostJSON("h1")
        #expect(!host.contains("__ansible_unsafe") && host.contains(#""a": "{{ x }}""#), "\(host)")
        #expect(inventory.merged("h1")["a"]?.stringValue == "{{ x }}")
    }

    @Test func dynamicJSONKeepsTheMark() throws {
        let folder = try TemporaryFolder("fwctl-unsafe-json", files: [
            "inv.json": #"{"_meta": {"hostvars": {"h1": {"a": {"__ansible_unsafe": "{{ y }}"}, "l": [{"__ansible_unsafe": "z"}]}}}, "all": {"hosts": ["h1"]}}"#,
        ])
        defer { folder.remove() }
        let inventory = try Inventory.load(folder.path("inv.json"))
        let list = inventory.listJSON()
        #expect(list.contains(#""__ansible_unsafe": "{{ y }}""#) && list.contains(#""__ansible_unsafe": "z""#), "\(list)")
        #expect(!(try inventory.hostJSON("h1")).contains("__ansible_unsafe"))
    }
}
