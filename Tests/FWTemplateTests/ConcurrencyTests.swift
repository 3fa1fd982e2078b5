import FWTemplate
import Foundation
import Testing

/// One compiled template, rendered from many threads at once, gives each caller its own correct output.
@Suite struct ConcurrencyTests {
    @Test func manyThreadsRenderOneTemplate() throws {
        let set = try TemplateSet(templates: [
            "rules": "*filter\n{{#rules}}\n{{> rule}}\n{{/rules}}\nCOMMIT\n",
            "rule": "{{#sources}}\n-A {{chain}} -s {{.}} --dport {{port}} -j ACCEPT\n{{/sources}}\n",
        ])
        let template = try set.template(named: "rules")
        @Sendable func data(_ host: Int) -> TemplateValue {
            ["chain": .string("IN\(host)"), "rules": .list((0..<20).map { rule in
                ["port": .int(host * 100 + rule), "sources": .list((0..<5).map { .string("192.0.2.\($0 + host % 50)") })]
            })]
        }
        func expected(_ host: Int) -> String {
            var text = "*filter\n"
            for rule in 0..<20 {
                for source in 0..<5 {
                    text += "-A IN\(host) -s 192.0.2.\(source + host % 50) --dport \(host * 100 + rule) -j ACCEPT\n"
                }
            }
            return text + "COMMIT\n"
        }
        let hosts = 400
        let results = Results(count: hosts)
        DispatchQueue.concurrentPerform(iterations: hosts) { host in
            results.set(host, Result { try template.renderString(data(host)) })
        }
        for host in 0..<hosts {
            #expect(try results.get(host).get() == expected(host), "host \(host)")
        }
        // The failing path is thread-safe too.
        let failures = Results(count: 64)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            failures.set(i, Result { try template.renderString(["chain": "x", "rules": [["sources": ["a"]]]]) })
        }
        for i in 0..<64 {
            #expect(throws: TemplateError.self) { try failures.get(i).get() }
        }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Result<String, any Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: Result<String, any Error>) {
            lock.lock(); defer { lock.unlock() }
            values[i] = value
        }
        func get(_ i: Int) throws -> Result<String, any Error> {
            lock.lock(); defer { lock.unlock() }
            return try #require(values[i])
        }
    }
}
