import CFWSystem
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Work done inside a lab namespace from this process: a thread of its own enters the namespace (setns changes
/// only the calling thread), so sockets it opens and programs it starts live there, and the thread ends with the
/// work, so no thread of the process is ever left in a lab namespace.
enum NamespaceThread {
    /// Runs `body` for every item on threads of their own, each inside the namespace `namespace(item)` names,
    /// at most `width` at once; results in input order.
    static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], width: Int, namespace: @escaping @Sendable (Item) -> String?,
        _ body: @escaping @Sendable (Item) throws(LabError) -> Result
    ) -> [Swift.Result<Result, LabError>] {
        let slots = Slots<Swift.Result<Result, LabError>>(count: items.count)
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<max(1, min(width, items.count)) {
            group.enter()
            let thread = Thread {
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < items.count else { break }
                    let item = items[index]
                    // Each item gets a fresh thread when it needs a namespace: a thread that entered one stays there.
                    if let name = namespace(item) {
                        slots.set(index, runInNamespace(name) { () throws(LabError) in try body(item) })
                    } else {
                        slots.set(index, Swift.Result { () throws(LabError) in try body(item) })
                    }
                }
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return slots.values()
    }

    /// Runs `body` on a new thread inside the network namespace `name` and waits for it.
    static func runInNamespace<Result: Sendable>(_ name: String, _ body: @escaping @Sendable () throws(LabError) -> Result)
        -> Swift.Result<Result, LabError> {
        let slot = Slots<Swift.Result<Result, LabError>>(count: 1)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            if fw_enter_network_namespace("/run/netns/\(name)") != 0 {
                slot.set(0, .failure(LabError("cannot enter the network namespace \(name): \(String(cString: strerror(errno)))")))
            } else {
                slot.set(0, Swift.Result { () throws(LabError) in try body() })
            }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        return slot.values()[0]
    }
}

/// Result slots written once each from worker threads.
final class Slots<Value: Sendable>: Sendable {
    private let storage: Mutex<[Value?]>

    init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ value: Value) { storage.withLock { $0[index] = value } }

    func values() -> [Value] { storage.withLock { $0.map { $0! } } }
}
