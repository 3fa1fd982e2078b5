/// A lab operation that failed: what, and what to do about it.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message + (hint.map { " (\($0))" } ?? "") }
}

/// The inventory or the options cannot make a lab (exit status 2 in fwctl): a host without a usable address, two
/// hosts on one address, a bad lab name. A type of its own so the front end can tell it from a failure.
public struct LabInputError: Error, CustomStringConvertible, Sendable {
    public var problem: LabError

    public init(_ message: String, hint: String? = nil) { problem = LabError(message, hint: hint) }

    public var description: String { problem.description }
}
