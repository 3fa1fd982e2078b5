#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A POSIX thread of our own, with a stack size we choose, running one closure. Blocking C calls (sockets,
/// libssh2, pipes) run on these, never on the Swift concurrency pool, whose few threads must not wait; so does
/// deep recursion (a parser on hostile input nested thousands of levels deep), which needs more stack than a
/// pool thread has. A stack is reserved address space: only the pages a thread touches cost memory.
public final class WorkerThread: Sendable {
    /// The stack of a thread for ordinary work (the size glibc gives the main thread by default).
    public static let defaultStackSize = 8 << 20
    /// The stack of a thread that may recurse once per nesting level of its input (YAML, JSON, Python literals).
    public static let deepRecursionStackSize = 1 << 30

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        let finished: FinishedSignal
        init(_ run: @escaping @Sendable () -> Void, finished: FinishedSignal) {
            self.run = run
            self.finished = finished
        }
    }

    private let thread: pthread_t
    private let joined = Mutex(false)
    private let finished = FinishedSignal()

    /// Starts `body` on a new thread; throws when the system refuses another thread (the caller then uses fewer,
    /// or does the work itself).
    public init(stackSize: Int = defaultStackSize, _ body: @escaping @Sendable () -> Void) throws(WorkerThreadError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, max(stackSize, Int(PTHREAD_STACK_MIN)))
        let context = Unmanaged.passRetained(Body(body, finished: finished)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            body.finished.signal()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            throw WorkerThreadError(code: rc)
        }
        self.thread = thread
    }

    /// Waits for the thread to finish. Safe to call more than once and from several threads.
    public func join() {
        joined.withLock { joined in
            guard !joined else { return }
            pthread_join(thread, nil)
            joined = true
        }
    }

    /// Waits at most `timeout` for the thread to finish; false if it is still running (it is then left to end
    /// by itself: a thread blocked on a pipe that a grandchild process keeps open must not hang the caller).
    public func join(timeout: Duration) -> Bool {
        guard finished.wait(timeout: timeout) else { return false }
        join()
        return true
    }

    deinit {
        // A thread nobody joined (a timed-out join) still has to release its resources when it ends.
        if !joined.withLock({ $0 }) { pthread_detach(thread) }
    }

    /// Runs blocking `body` (a join, a blocking system call) on a thread of its own and suspends until it is done,
    /// so that it never blocks a thread of Swift's concurrency pool. Without a thread to be had, runs it here.
    public static func offPool(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            do {
                _ = try WorkerThread(stackSize: 1 << 20) {
                    body()
                    done.resume()
                }
            } catch {
                body()
                done.resume()
            }
        }
    }

    /// Runs `body` on a new thread with this stack and waits for its result: for work that may recurse deeply.
    /// Without a thread to be had, runs it here.
    public static func run<Value: Sendable>(
        stackSize: Int, _ body: @escaping @Sendable () throws -> Value
    ) throws -> Value {
        let outcome = Locked<Result<Value, any Error>?>(nil)
        do {
            let thread = try WorkerThread(stackSize: stackSize) {
                let result = Result { try body() }
                outcome.withLock { $0 = result }
            }
            thread.join()
        } catch {
            outcome.withLock { $0 = Result { try body() } }
        }
        return try outcome.withLock { $0 }!.get()
    }
}

/// Set once when a thread's body has returned; waited on with a timeout (glibc's pthread_timedjoin_np is not
/// visible to Swift). Unchecked Sendable because a pthread mutex and condition are C objects that must stay at
/// one address: they live in memory this object allocates, and are used only through pthread calls.
private final class FinishedSignal: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var done = false

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func signal() {
        pthread_mutex_lock(mutex)
        done = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// True once signalled, false when `timeout` passes first.
    func wait(timeout: Duration) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = max(timeout, .zero).components
        let nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var deadline = timespec(tv_sec: now.tv_sec + Int(seconds) + nanoseconds / 1_000_000_000,
                                tv_nsec: nanoseconds % 1_000_000_000)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !done {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { return done }
        }
        return true
    }
}

/// pthread_create refused a thread (EAGAIN: a process or system limit).
public struct WorkerThreadError: Error, CustomStringConvertible {
    public var code: Int32
    public var description: String { "cannot start a thread: \(String(cString: strerror(code)))" }
}
