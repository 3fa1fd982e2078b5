import Synchronization

/// Numbers unique within this test process, for names of temporary folders, namespaces and the like (combined with
/// the process id, unique across parallel runs too).
public enum UniqueNumber {
    private static let counter = Atomic<Int>(0)

    public static func next() -> Int {
        counter.add(1, ordering: .relaxed).newValue
    }
}
