@testable import FWTemplate
import Testing

/// The renderer's two copy loops, at every length around their word size and with a refused byte at every
/// position: they must copy exactly `length` bytes, write nothing past them, and see every byte.
@Suite struct ByteCopyTests {
    private static let safe = Array("abcdefghijklmnopqrstuvwxyz0123456789-./:".utf8)

    private func ruleTable() -> [UInt8] {
        (0..<256).map { RuleSafety.isAllowed(UInt8($0)) ? 1 : 0 }
    }

    @Test func theRulesCopySeesEveryByteAtEveryLength() {
        let table = ruleTable()
        for length in 0...40 {
            let source = (0..<length).map { Self.safe[$0 % Self.safe.count] }
            var destination = [UInt8](repeating: 0xEE, count: length + 8)
            let allowed = table.withUnsafeBufferPointer { table in
                destination.withUnsafeMutableBufferPointer { out in
                    source.withUnsafeBufferPointer { Renderer.copyIfRuleSafe($0.baseAddress ?? UnsafePointer(out.baseAddress!), to: out.baseAddress!, length, table: table.baseAddress!) }
                }
            }
            #expect(allowed, "length \(length)")
            #expect(Array(destination[0..<length]) == source, "length \(length)")
            #expect(destination[length...].allSatisfy { $0 == 0xEE }, "nothing written past \(length)")
            for bad in 0..<length {
                for refused in [UInt8(ascii: "\n"), UInt8(ascii: "\""), UInt8(ascii: ";"), 0x00, 0xC3] {
                    var tainted = source
                    tainted[bad] = refused
                    let passed = table.withUnsafeBufferPointer { table in
                        destination.withUnsafeMutableBufferPointer { out in
                            tainted.withUnsafeBufferPointer { Renderer.copyIfRuleSafe($0.baseAddress!, to: out.baseAddress!, length, table: table.baseAddress!) }
                        }
                    }
                    #expect(!passed, "byte \(refused) at \(bad) of \(length) must be refused")
                }
            }
        }
    }

    @Test func thePlainCopyIsExactAtEveryLength() {
        for length in 0...40 {
            let source = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
            var destination = [UInt8](repeating: 0xEE, count: length + 8)
            destination.withUnsafeMutableBufferPointer { out in
                source.withUnsafeBufferPointer { Renderer.copy($0.baseAddress ?? UnsafePointer(out.baseAddress!), to: out.baseAddress!, length) }
            }
            #expect(Array(destination[0..<length]) == source, "length \(length)")
            #expect(destination[length...].allSatisfy { $0 == 0xEE }, "nothing written past \(length)")
        }
    }
}

/// Integers written straight into the output (up to five digits) and through the general path (more).
@Suite struct IntegerTextTests {
    @Test func everyLengthAndSignAroundTheFastPath() throws {
        var numbers: [Int] = [0, 1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 99_999, 100_000, 123_456_789, .max, .min]
        numbers += numbers.filter { $0 != .min && $0 != 0 }.map { -$0 }
        for number in numbers {
            #expect(try render("[{{n}}]", ["n": .int(number)], options: .fwctl) == "[\(number)]", "\(number)")
        }
    }
}
