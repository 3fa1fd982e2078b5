/// Address lists in their one canonical form: the same addresses, as the fewest networks, sorted, none overlapping
/// or adjacent to another. netfilter refuses anything else in an interval set (nftables: "conflicting intervals"
/// for `10.0.0.0/8` beside `10.0.0.5`), and a list is easier to read this way.
extension IPNetwork {
    /// `networks` (all of one family) normalised: overlaps merged (`10.0.0.0/8` swallows `10.0.0.5`), adjacent
    /// ranges collapsed (`10.0.0.0/25` + `10.0.0.128/25` is `10.0.0.0/24`), each merged range written as the
    /// fewest networks that cover exactly it. The whole space stays one network (`0.0.0.0/0`); callers turn that
    /// into `any`.
    static func normalised(_ networks: [IPNetwork]) -> [IPNetwork] {
        guard let first = networks.first else { return [] }
        let family = first.family
        let width: UInt8 = family == .v4 ? 32 : 128
        let top: UInt128 = family == .v4 ? UInt128(UInt32.max) : .max
        let ranges = networks.map(\.range).sorted { $0.low < $1.low }
        // Merge in place: a range that starts inside or right after the current one extends it.
        var merged: [(low: UInt128, high: UInt128)] = []
        merged.reserveCapacity(ranges.count)
        for range in ranges {
            if let last = merged.last, last.high == top || range.low <= last.high + 1 {
                merged[merged.count - 1].high = max(last.high, range.high)
            } else {
                merged.append(range)
            }
        }
        var result: [IPNetwork] = []
        for range in merged {
            var low = range.low
            while true {
                // The largest block aligned at `low` that does not pass the end of the range.
                var prefix: UInt8 = 0
                while prefix < width {
                    let mask = hostMask(prefix: prefix, width: width)
                    if low & mask == 0 && mask <= range.high - low { break }
                    prefix += 1
                }
                let mask = hostMask(prefix: prefix, width: width)
                result.append(family == .v4 ? .v4(address: UInt32(low), prefix: prefix) : .v6(address: low, prefix: prefix))
                let end = low + mask
                if end >= range.high { break }
                low = end + 1
            }
        }
        return result
    }

    /// The first and last address of the network, as one integer type for both families.
    var range: (low: UInt128, high: UInt128) {
        switch self {
        case .v4(let address, let prefix):
            return (UInt128(address), UInt128(address) | Self.hostMask(prefix: prefix, width: 32))
        case .v6(let address, let prefix):
            return (address, address | Self.hostMask(prefix: prefix, width: 128))
        }
    }

    /// The host bits of a prefix: all ones below it.
    static func hostMask(prefix: UInt8, width: UInt8) -> UInt128 {
        let bits = width - prefix
        return bits == 128 ? .max : (UInt128(1) << UInt128(bits)) - 1
    }

    /// True for the whole address space of the family (`0.0.0.0/0`, `::/0`).
    var isWholeSpace: Bool { prefix == 0 }
}
