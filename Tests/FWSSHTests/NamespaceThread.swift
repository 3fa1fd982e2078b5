import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a closure on a new thread that has entered a network namespace, so FWSSH code under test (and the threads
/// it starts, which inherit the namespace) connects from inside a NetworkLab host; the test's own threads stay in
/// the machine's namespace. Glibc's module does not export setns(2), so it is looked up once.
enum NamespaceThread {
    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let setns: SetNS? = dlsym(nil, "setns").map { unsafeBitCast($0, to: SetNS.self) }
    private static let newNet: Int32 = 0x4000_0000  // CLONE_NEWNET

    static func run<T: Sendable>(in namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let outcome = NamespaceOutcome<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let fd = open("/var/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0, let setns, setns(fd, newNet) == 0 else {
                if fd >= 0 { close(fd) }
                outcome.result = .failure(FixtureError("cannot enter network namespace \(namespace): \(String(cString: strerror(errno)))"))
                return
            }
            close(fd)
            outcome.result = Result { try body() }
        }
        thread.stackSize = 4 << 20
        thread.start()
        done.wait()
        return try outcome.result!.get()
    }
}

/// Written by the namespace thread before it signals, read by the caller after: @unchecked for that hand-over.
private final class NamespaceOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
