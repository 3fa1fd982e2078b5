import NIOCore

/// The socket descriptor under a NIO channel, so a linked connection can be handed to the splice relay.
///
/// NIO has no public way to take a socket out of a channel, so this reads it through reflection: the channel's
/// `socket` and that socket's `descriptor` (NIOPosix's BaseSocketChannel and BaseSocket, swift-nio 2.x). When
/// that shape is not there (another NIO layout), the answer is nil and the tunnel keeps relaying in user space;
/// `SpliceSelfTest` checks the answer against the kernel once at start-up, and the tunnel tests assert that
/// relays really are spliced, so a change in NIO shows up as a failing test, never as a wrong descriptor.
/// Call on the channel's event loop (the descriptor is the loop's to change).
enum ChannelDescriptor {
    static func of(_ channel: Channel) -> CInt? {
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
