import Foundation

/// Runs work on a thread with a large stack. YAML parsing recurses once per nesting level (inside Yams), so a
/// hostile or broken file nested many thousand levels deep would overflow a normal thread's stack; the stack is
/// only reserved address space until used.
enum LargeStack {
    static let size = 1 << 30

    private final class Box<T>: @unchecked Sendable {
        var body: (() throws -> T)?
        var result: Result<T, Error>?
    }

    static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = Box<T>()
        box.body = body
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try box.body!() }
            done.signal()
        }
        thread.stackSize = size
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}
