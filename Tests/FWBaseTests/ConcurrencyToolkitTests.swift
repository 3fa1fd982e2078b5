import FWBase
import Foundation
import Testing

@Suite struct ParallelRunnerTests {
    @Test func resultsComeInInputOrderWhateverOrderTheyFinishIn() {
        let items = Array(0..<200)
        let results = ParallelRunner(parallelism: 8).map(items) { index, item in
            // Early items take longest, so they finish last.
            usleep(UInt32((200 - item) * 20))
            return "\(index):\(item * 2)"
        }
        #expect(results == items.map { "\($0):\($0 * 2)" })
    }

    @Test func neverRunsMoreThanItsParallelismAtOnce() {
        let running = Locked((now: 0, most: 0))
        _ = ParallelRunner(parallelism: 3).map(Array(0..<30)) { _, _ in
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            usleep(2000)
            running.withLock { $0.now -= 1 }
        }
        let most = running.withLock { $0.most }
        #expect(most == 3, "at most 3 at once, and 3 were used")
    }

    @Test func progressArrivesOneAtATimeWithCountsInOrder() {
        let seen = Locked<[Int]>([])
        let inside = Locked(false)
        let results = ParallelRunner(parallelism: 4).map(Array(0..<50), progress: { progress in
            let overlapping = inside.withLock { inside in defer { inside = true }; return inside }
            #expect(!overlapping, "progress calls overlap")
            #expect(progress.total == 50)
            #expect(progress.result == progress.index * 10)
            seen.withLock { $0.append(progress.finishedCount) }
            inside.withLock { $0 = false }
        }) { _, item in item * 10 }
        #expect(results.count == 50)
        #expect(seen.withLock { $0 } == Array(1...50))
    }

    @Test func anEmptyListRunsNothing() {
        let results = ParallelRunner(parallelism: 4).map([Int]()) { _, _ -> Int in
            Issue.record("called for no item")
            return 0
        }
        #expect(results.isEmpty)
    }
}

@Suite struct WorkerThreadTests {
    /// Recursion far deeper than an 8 MiB stack allows (each level keeps a 1 KiB buffer on the stack).
    static func depth(_ remaining: Int) -> Int {
        var frame = (UInt64(remaining), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let below = remaining == 0 ? 0 : withUnsafeMutableBytes(of: &frame) { bytes in
            bytes[1] = 1
            return depth(remaining - 1)
        }
        return below + Int(frame.0 & 1)
    }

    @Test func runGivesTheThreadTheStackItAsksFor() throws {
        let levels = try WorkerThread.run(stackSize: WorkerThread.deepRecursionStackSize) { Self.depth(200_000) }
        #expect(levels == 100_000)
    }

    @Test func runPassesErrorsBack() {
        struct Expected: Error {}
        #expect(throws: Expected.self) { try WorkerThread.run(stackSize: 1 << 20) { throw Expected() } }
    }

    /// The blocking body runs on a thread of its own, not on the awaiting task's thread, and is done when the
    /// await returns.
    @Test func offPoolRunsTheBodyOnAThreadOfItsOwn() async {
        let caller = pthread_self()
        let ran = Locked<(done: Bool, elsewhere: Bool)>((false, false))
        await WorkerThread.offPool {
            usleep(20_000)
            ran.withLock { $0 = (true, pthread_equal(pthread_self(), caller) == 0) }
        }
        #expect(ran.withLock { $0.done }, "the body finished before the await returned")
        #expect(ran.withLock { $0.elsewhere }, "the body ran on another thread")
    }

    @Test func joinWithATimeoutWaitsOnlyThatLong() throws {
        let release = DispatchSemaphore(value: 0)
        let thread = try WorkerThread { release.wait() }
        let started = ContinuousClock.now
        #expect(!thread.join(timeout: .milliseconds(50)))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        release.signal()
        #expect(thread.join(timeout: .seconds(10)))
        thread.join()
    }
}

@Suite struct FileBytesTests {
    @Test func nameIsTheLastPartOfThePath() {
        #expect(FileBytes(path: "/etc/iptables/rules.v4", bytes: []).name == "rules.v4")
        #expect(FileBytes(path: "rules.v6", bytes: [1], mode: 0o600).name == "rules.v6")
        #expect(FileBytes(path: "x", bytes: []).mode == 0o644)
    }
}
