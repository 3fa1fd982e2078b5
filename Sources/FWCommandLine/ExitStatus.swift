/// The exit statuses documented in `fwctl --help` and the README (64, a usage error, is ArgumentParser's).
public enum ExitStatus {
    public static let success: Int32 = 0
    /// A check found a problem, or a host failed.
    public static let failure: Int32 = 1
    /// The input (inventory, policy, template) is invalid.
    public static let invalidInput: Int32 = 2
}

/// Errors caused by what the user gave the program (exit 2), as opposed to a host or check failing (exit 1).
/// Each executable marks the library error types it sees in one file (fwctl: `Sources/fwctl/InputErrors.swift`).
public protocol InvalidInputError: Error {}
