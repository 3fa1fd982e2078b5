import Synchronization

/// A value behind a `Mutex`, as a reference that closures and threads can share: `Mutex` itself cannot be
/// copied into a closure. Sendable as checked by the compiler: the value is reached only through `withLock`.
public final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: sending Value) {
        mutex = Mutex(value)
    }

    public func withLock<Result, Failure: Error>(
        _ body: (inout sending Value) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try mutex.withLock(body)
    }
}
