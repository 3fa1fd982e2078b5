/// A point in monotonic time by which something must be done. Every wait in FWSSH takes one, so a host can never
/// take longer than its deadline, whatever the server does.
public struct Deadline: Sendable, Comparable, Hashable {
    public let instant: ContinuousClock.Instant

    public init(_ instant: ContinuousClock.Instant) { self.instant = instant }

    public static func after(_ duration: Duration) -> Deadline { Deadline(.now + duration) }

    /// Time left; zero or negative once passed.
    public var remaining: Duration { instant - .now }

    public var hasPassed: Bool { ContinuousClock.now >= instant }

    /// The earlier of this deadline and one `duration` from now (for a per-command timeout inside a host deadline).
    public func capped(after duration: Duration?) -> Deadline {
        guard let duration else { return self }
        return min(self, .after(duration))
    }

    /// Milliseconds left for poll(2): rounded up so a wait never ends just before the deadline, at least 0.
    var pollMilliseconds: Int32 {
        let left = remaining
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.instant < rhs.instant }
}

extension Duration {
    /// "1.5 s", "250 ms": for messages.
    var humanReadable: String {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if ms < 1000 { return "\(ms) ms" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(Double(ms) / 1000) s"
    }

    /// Seconds as a Double, for tables and JSON.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
