@_spi(Reflection) import Swift
import NIOCore
import Synchronization

/// The socket descriptor under a NIO channel, so a linked connection can be handed to the splice relay.
///
/// NIO has no public way to take a socket out of a channel, so this reads it through the channel's stored
/// properties: the channel's `socket` and that socket's `descriptor` (NIOPosix's BaseSocketChannel and BaseSocket,
/// swift-nio 2.x). When that shape is not there (another NIO layout), the answer is nil: `SpliceEngine.make`
/// asks once at start-up for a listener and compares the answer with the kernel's (same local port), and without
/// a match the process relays in user space; a later nil for one connection ends that connection (its caller
/// closes it). The tunnel tests assert that relays really are spliced and that the descriptor of each channel
/// class is the kernel's, so a change in NIO shows up as a failing test, never as a wrong descriptor. Call on the
/// channel's event loop (the descriptor is the loop's to change).
///
/// Walking a `Mirror` costs tens of microseconds per channel (it boxes every stored property of the class
/// chain), and it sat on the path of every new client's first byte. So the walk happens once per channel class:
/// it finds where the two properties live (`_forEachField`), reads the descriptor both ways, and only when both
/// agree are the offsets kept; every later channel of that class costs a lookup under a lock and three loads
/// (the socket's class is checked before its descriptor is read).
enum ChannelDescriptor {
    static func of(_ channel: Channel) -> CInt? {
        let object = channel as AnyObject
        let key = ObjectIdentifier(type(of: object))
        switch layouts.withLock({ $0[key] }) {
        case .offsets(let layout)?:
            return layout.read(object)
        case .reflection?:
            return reflected(channel)
        case nil:
            let byReflection = reflected(channel)
            let layout = Layout(channel: object)
            let agreed = layout != nil && byReflection != nil && layout?.read(object) == byReflection
            layouts.withLock { $0[key] = agreed ? .offsets(layout!) : .reflection }
            return byReflection
        }
    }

    /// Whether lookups for `channel`'s class read offsets (for tests).
    static func usesOffsets(_ channel: Channel) -> Bool {
        if case .offsets? = layouts.withLock({ $0[ObjectIdentifier(type(of: channel as AnyObject))] }) { return true }
        return false
    }

    private enum Lookup { case offsets(Layout), reflection }
    private static let layouts = Mutex<[ObjectIdentifier: Lookup]>([:])

    /// Where the descriptor of one channel class lives: the offset of the channel's `socket` reference, the
    /// class that socket must have (its metadata, the first word of the object), and the descriptor's offset in it.
    private struct Layout: Sendable {
        let socketOffset: Int
        let socketClass: UInt
        let descriptorOffset: Int

        init?(channel: AnyObject) {
            guard let socketOffset = Self.offset(of: "socket", in: type(of: channel), as: nil) else { return nil }
            let base = UnsafeRawPointer(Unmanaged.passUnretained(channel).toOpaque())
            guard let socket = base.load(fromByteOffset: socketOffset, as: UnsafeRawPointer?.self) else { return nil }
            let socketObject = Unmanaged<AnyObject>.fromOpaque(socket).takeUnretainedValue()
            guard let descriptorOffset = Self.offset(of: "descriptor", in: type(of: socketObject), as: CInt.self) else { return nil }
            self.socketOffset = socketOffset
            socketClass = socket.load(as: UInt.self)
            self.descriptorOffset = descriptorOffset
        }

        /// Two loads, with the socket's class checked so that a socket of another class is never read at the
        /// wrong offset.
        func read(_ channel: AnyObject) -> CInt? {
            let base = UnsafeRawPointer(Unmanaged.passUnretained(channel).toOpaque())
            guard let socket = base.load(fromByteOffset: socketOffset, as: UnsafeRawPointer?.self),
                  socket.load(as: UInt.self) == socketClass else { return nil }
            let descriptor = socket.load(fromByteOffset: descriptorOffset, as: CInt.self)
            return descriptor >= 0 ? descriptor : nil
        }

        /// The offset of the stored property `name` of `type` (a class, its superclasses' properties included):
        /// a reference to a class when `expected` is nil, else a value of exactly that type.
        private static func offset(of name: String, in type: Any.Type, as expected: Any.Type?) -> Int? {
            var found: Int?
            _forEachField(of: type, options: classType) { field, offset, fieldType, kind in
                guard String(cString: field) == name else { return true }
                if let expected { if fieldType == expected { found = offset } } else if kind == .class { found = offset }
                return false
            }
            return found
        }
    }

    /// `_EachFieldOptions.classType` ("the type must be a class"): the standard library declares its options as
    /// `static var`s, which Swift 6 will not read, so this is its raw value (part of the library's ABI).
    private static let classType = _EachFieldOptions(rawValue: 1 << 0)

    /// The slow way, through `Mirror`: the reference the offsets are checked against.
    static func reflected(_ channel: Channel) -> CInt? {
        guard let socket = child(named: "socket", of: channel) else { return nil }
        guard let descriptor = child(named: "descriptor", of: socket) as? CInt, descriptor >= 0 else { return nil }
        return descriptor
    }

    /// A stored property of `object` or of one of its superclasses.
    private static func child(named name: String, of object: Any) -> Any? {
        var mirror: Mirror? = Mirror(reflecting: object)
        while let current = mirror {
            if let found = current.children.first(where: { $0.label == name }) { return found.value }
            mirror = current.superclassMirror
        }
        return nil
    }
}
