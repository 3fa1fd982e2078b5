@testable import FWTemplate
import Testing

/// The renderer's output memory: malloc while small, then a mapping with room to grow, then a larger mapping
/// when the room runs out; the bytes written so far survive every move.
@Suite struct OutputMemoryTests {
    /// Fills `range` of the buffer with a pattern that differs at every offset (mod 251).
    private func fill(_ memory: borrowing OutputMemory, _ range: Range<Int>) {
        for k in range { memory.base[k] = UInt8(k % 251) }
    }

    private func firstDifference(_ memory: borrowing OutputMemory, _ count: Int) -> Int? {
        (0..<count).first { memory.base[$0] != UInt8($0 % 251) }
    }

    @Test func bytesSurviveEachMoveFromMallocToAMappingToALargerOne() {
        let reservation = 4 << 20
        var memory = OutputMemory(capacity: 100, minimumReservation: reservation)
        #expect(memory.mappedLength == 0)
        fill(memory, 0..<100)

        memory.grow(to: 1_000, keeping: 100, limit: 1 << 30)
        #expect(memory.mappedLength == 0, "below the threshold it stays in malloc")
        #expect(memory.capacity >= 1_000)
        fill(memory, 100..<1_000)

        memory.grow(to: OutputMemory.mappingThreshold + 1, keeping: 1_000, limit: 1 << 30)
        #expect(memory.mappedLength >= reservation, "from the threshold on it is a mapping with room to grow")
        #expect(memory.capacity == memory.mappedLength)
        #expect(firstDifference(memory, 1_000) == nil)
        let firstMapping = memory.capacity
        fill(memory, 1_000..<firstMapping)

        memory.grow(to: firstMapping + 1, keeping: firstMapping, limit: 1 << 30)
        #expect(memory.capacity > firstMapping)
        #expect(firstDifference(memory, firstMapping) == nil)
    }

    @Test func theLimitCapsTheReservation() {
        var memory = OutputMemory(capacity: 16, minimumReservation: 64 << 20)
        memory.grow(to: 3 << 20, keeping: 0, limit: 5 << 20)
        #expect(memory.capacity >= 3 << 20)
        #expect(memory.capacity <= 6 << 20, "rounded to whole huge pages, not the 64 MiB reservation")
    }

    /// A render of several megabytes goes through the mapping, twice (the second starts from the size hint), and
    /// the output limit still holds there.
    @Test func aLargeRenderIsExactAndStillLimited() throws {
        let items = (0..<300_000).map { TemplateValue.string("item-\($0)") }
        let set = try TemplateSet(
            [TemplateSource(name: "main", text: "{{#items}}{{.}}\n{{/items}}")], options: .fwctl)
        let template = try set.template(named: "main")
        let expected = (0..<300_000).map { "item-\($0)\n" }.joined()
        #expect(expected.utf8.count > OutputMemory.mappingThreshold * 2)
        for _ in 0..<2 {
            #expect(try template.renderString(["items": .list(items)]) == expected)
        }

        var options = TemplateOptions.fwctl
        options.limits.outputBytes = 3 << 20
        let limited = try TemplateSet([TemplateSource(name: "main", text: "{{#items}}{{.}}\n{{/items}}")], options: options)
        let error = #expect(throws: TemplateError.self) {
            _ = try limited.template(named: "main").render(["items": .list(items + items)])
        }
        #expect(error?.kind == .limitExceeded)
    }
}
