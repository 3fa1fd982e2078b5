/// One item of a parallel run has finished. Reported one at a time (never concurrently), in the order items
/// finish, from the worker threads.
public struct ParallelProgress<Result: Sendable>: Sendable {
    /// The item's position in the input.
    public let index: Int
    public let result: Result
    /// How many items have finished, this one included.
    public let finishedCount: Int
    public let total: Int
}

/// Runs a function on every item of a list on at most `parallelism` worker threads of our own and returns the
/// results in input order. Threads take the next item as they become free, so one slow item (a host that times
/// out) holds up only its own thread. Used for every per-host run: rendering a fleet, SSH to many hosts.
public struct ParallelRunner: Sendable {
    public let parallelism: Int
    public let stackSize: Int

    public init(parallelism: Int, stackSize: Int = WorkerThread.defaultStackSize) {
        self.parallelism = max(1, parallelism)
        self.stackSize = stackSize
    }

    /// `transform` gets each item with its index. With fewer threads than asked for (the system refused more),
    /// the run goes on with those; with none, on the calling thread.
    public func map<Item: Sendable, Result: Sendable>(
        _ items: [Item],
        progress: (@Sendable (ParallelProgress<Result>) -> Void)? = nil,
        _ transform: @escaping @Sendable (_ index: Int, _ item: Item) -> Result
    ) -> [Result] {
        let run = RunState<Result>(count: items.count)
        let work: @Sendable () -> Void = {
            while let index = run.claim() {
                let result = transform(index, items[index])
                run.store(result, at: index, progress: progress)
            }
        }
        var threads: [WorkerThread] = []
        for _ in 0..<min(parallelism, items.count) {
            guard let thread = try? WorkerThread(stackSize: stackSize, work) else { break }
            threads.append(thread)
        }
        if threads.isEmpty { work() }
        threads.forEach { $0.join() }
        return run.results()
    }
}

/// What the worker threads of one run share; every mutable part behind a Mutex.
private final class RunState<Result: Sendable>: Sendable {
    private struct Slots {
        var results: [Result?]
        var finished = 0
    }

    private let next = Locked(0)
    private let slots: Locked<Slots>
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = Locked(Slots(results: Array(repeating: nil, count: count)))
    }

    /// The next input index to work on, or nil when all are taken.
    func claim() -> Int? {
        next.withLock { next in
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// Stores a result and reports it under the same lock, so progress calls never overlap and finished counts
    /// arrive in order.
    func store(_ result: Result, at index: Int, progress: (@Sendable (ParallelProgress<Result>) -> Void)?) {
        slots.withLock { slots in
            slots.results[index] = result
            slots.finished += 1
            progress?(ParallelProgress(index: index, result: result, finishedCount: slots.finished, total: count))
        }
    }

    func results() -> [Result] {
        slots.withLock { slots in slots.results.map { $0! } }
    }
}
