/// A destination port or an inclusive range of ports, 1 to 65535.
public struct PortRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let low: UInt16
    public let high: UInt16

    public init?(low: Int, high: Int) {
        guard (1...65535).contains(low), (1...65535).contains(high), low <= high else { return nil }
        self.low = UInt16(low)
        self.high = UInt16(high)
    }

    public var isSinglePort: Bool { low == high }

    /// How many slots the range takes in an iptables multiport match (a range counts twice; the limit is 15).
    public var multiportSlots: Int { isSinglePort ? 1 : 2 }

    /// `5432` or `8000:8100` (the notation the policy uses).
    public var description: String { isSinglePort ? "\(low)" : "\(low):\(high)" }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.low, lhs.high) < (rhs.low, rhs.high)
    }

    /// Parses `5432` or `"8000:8100"`; nil when it is neither.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let low = Int(parts[0]), let high = Int(parts.last!) else { return nil }
        self.init(low: low, high: high)
    }

    /// Sorts, merges overlapping or adjacent ranges, and splits the result into groups that fit one iptables
    /// multiport match (at most 15 slots each).
    public static func normalisedGroups(_ ranges: [PortRange], slotsPerGroup: Int = 15) -> [[PortRange]] {
        var merged: [PortRange] = []
        for range in ranges.sorted() {
            if let last = merged.last, Int(range.low) <= Int(last.high) + 1 {
                merged[merged.count - 1] = PortRange(low: Int(last.low), high: max(Int(last.high), Int(range.high)))!
            } else {
                merged.append(range)
            }
        }
        var groups: [[PortRange]] = []
        var current: [PortRange] = []
        var slots = 0
        for range in merged {
            if slots + range.multiportSlots > slotsPerGroup {
                groups.append(current)
                current = []
                slots = 0
            }
            current.append(range)
            slots += range.multiportSlots
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
