extension TemplateObject {
    /// Objects whose keys are the cases of an enum, for builders that make many objects of one shape (a renderer's
    /// rule objects). Each value is set under its key's name (`rule[.tcp] = true`), so two values cannot be
    /// swapped by position. A builder costs about what positional building does (one array of values, written in
    /// place; the keys and their hashes shared through a `Layout`; 2% more instructions for a whole fleet render).
    /// A key left unset is null; debug builds stop there, and where a key is set twice.
    ///
    /// The key is a `String` enum (`enum RuleKey: String, CaseIterable { case proto, tcp }`): the template names
    /// are its raw values, with no reflection at run time. A value's slot is its case's position, read from the
    /// case's one-byte tag (checked once, here, to be 0, 1, 2, ... in case order).
    public struct Keyed<Key: CaseIterable & RawRepresentable>: Sendable where Key.RawValue == String {
        public let layout: Layout

        public init() {
            let cases = Array(Key.allCases)
            precondition(MemoryLayout<Key>.size == 1 && cases.count <= 64,
                         "TemplateObject.Keyed needs a plain enum of at most 64 cases")
            precondition(cases.enumerated().allSatisfy { Values<Key>.slot(of: $0.element) == $0.offset },
                         "TemplateObject.Keyed: the cases' tags are not their positions")
            layout = Layout(cases.map(\.rawValue))
        }

        /// An object with the values `build` sets.
        @inlinable @inline(__always)
        public func object(_ build: (inout Values<Key>) -> Void) -> TemplateObject {
            TemplateObject(layout, initializingValuesWith: { buffer in
                var builder = Values<Key>(buffer)
                build(&builder)
                builder.finish(keys: layout.keys)
            })
        }
    }

    /// An object whose value array `initialize` fills in place (every slot). Not generic, so callers share one
    /// copy of it. (`Array(unsafeUninitializedCapacity:)` still looks up generic metadata at run time, about 1% of
    /// a fleet render; an array literal, which does not, cannot have a count known only at run time.)
    @usableFromInline
    init(_ layout: Layout, initializingValuesWith initialize: (UnsafeMutableBufferPointer<TemplateValue>) -> Void) {
        let values = [TemplateValue](unsafeUninitializedCapacity: layout.keys.count) { buffer, initialized in
            initialize(buffer)
            initialized = buffer.count
        }
        self.init(layout, values)
    }

    /// The values of a keyed object being built, written straight into the object's value array. Not copyable:
    /// it must not outlive `Keyed.object`.
    public struct Values<Key: RawRepresentable>: ~Copyable where Key.RawValue == String {
        @usableFromInline let buffer: UnsafeMutableBufferPointer<TemplateValue>
        /// Bit n: slot n holds a value.
        @usableFromInline var assigned: UInt64 = 0

        @inlinable @inline(__always)
        init(_ buffer: UnsafeMutableBufferPointer<TemplateValue>) {
            self.buffer = buffer
        }

        /// The case's position: a plain enum's one-byte tag (`Keyed.init` checks that it is).
        @inlinable @inline(__always)
        static func slot(of key: Key) -> Int {
            Int(unsafeBitCast(key, to: UInt8.self))
        }

        @inlinable
        public subscript(key: Key) -> TemplateValue {
            @inline(__always) get {
                let slot = Self.slot(of: key)
                return assigned & (1 << slot) != 0 ? buffer[slot] : .null
            }
            @inline(__always) set {
                let slot = Self.slot(of: key)
                if assigned & (1 << slot) != 0 {
                    assertionFailure("\(key.rawValue) is set twice")
                    buffer[slot] = newValue
                } else {
                    (buffer.baseAddress! + slot).initialize(to: newValue)
                    assigned |= 1 << slot
                }
            }
        }

        /// Every slot holds a value afterwards: an unset key gets null (and stops a debug build).
        @inlinable
        mutating func finish(keys: [String]) {
            let all: UInt64 = keys.count == 64 ? ~0 : (1 << keys.count) - 1
            guard assigned != all else { return }
            for slot in 0..<keys.count where assigned & (1 << slot) == 0 {
                assertionFailure("\(keys[slot]) is not set")
                (buffer.baseAddress! + slot).initialize(to: .null)
            }
            assigned = all
        }
    }
}
