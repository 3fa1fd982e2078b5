/// How many idle data connections work keeps open: grows when clients found the pool empty (home asked for data
/// connections on demand), shrinks by one for each quiet period without such a request, always within
/// [minimum, maximum].
struct PoolSizer {
    let minimum: Int
    let maximum: Int
    let quietPeriod: Double
    private(set) var target: Int
    private var lastDemand: Double = 0

    init(minimum: Int, maximum: Int, quietPeriod: Double = 30) {
        self.minimum = minimum
        self.maximum = maximum
        self.quietPeriod = quietPeriod
        target = minimum
    }

    /// home asked for `count` connections at time `now` (seconds): the pool was too small by at least that much.
    mutating func demand(_ count: Int, now: Double) {
        target = min(maximum, target + max(1, count))
        lastDemand = now
    }

    /// Called periodically; returns true when the target dropped.
    mutating func decay(now: Double) -> Bool {
        guard target > minimum, now - lastDemand >= quietPeriod else { return false }
        target -= 1
        lastDemand = now
        return true
    }
}

/// Reconnect delays: exponential from `initial` to `maximum`, each with "equal jitter" (a random point in the
/// upper half of the step), so agents that lost home together do not all come back in the same instant.
struct Backoff {
    let initial: Double
    let maximum: Double
    private(set) var attempt = 0

    init(initial: Double, maximum: Double) {
        self.initial = initial
        self.maximum = maximum
    }

    mutating func next() -> Double {
        let step = min(maximum, initial * pow2(attempt))
        attempt += 1
        return step / 2 + Double.random(in: 0...(step / 2))
    }

    mutating func reset() { attempt = 0 }

    private func pow2(_ n: Int) -> Double { n >= 62 ? Double.greatestFiniteMagnitude : Double(1 << n) }
}
