/// Keeps `value` alive until the process exits, on purpose.
///
/// For the large data a one-shot command reads and drops just before it exits (`fwctl template render --data`):
/// releasing a tree of a hundred thousand values costs milliseconds at the end of the run, object by object,
/// while the kernel takes the whole heap back at exit at once. Only for values read once per process.
public func keepUntilExit<Value>(_ value: Value) {
    _ = Unmanaged.passRetained(KeptValue(value))
}

private final class KeptValue<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}
