import NIOCore

/// One message of the home-work protocol (PROTOCOL.md beside this file): a type byte, a 16-bit big-endian payload
/// length, then the payload. Frames are only exchanged until a data connection starts relaying; from then on the
/// connection carries the client's bytes unframed.
public enum Frame: Equatable, Sendable {
    /// home -> work, first thing on every connection: the protocol version and a fresh 32-byte nonce.
    case challenge(version: UInt8, nonce: [UInt8])
    /// work -> home: who it is, what the connection is for, and the MAC proving the shared secret.
    case hello(Hello)
    /// home -> work: authenticated. Carries the session id on a command connection (zeros on a data connection).
    case welcome(session: [UInt8])
    /// Either side, then close: why the connection is refused. Never sent to an unauthenticated peer in detail.
    case refuse(reason: String)
    /// Either side, on command connections and idle data connections.
    case heartbeat
    /// home -> work on the command connection: open `count` more data connections now (clients are waiting).
    case openData(count: UInt16)
    /// home -> work on a data connection: relay this connection to `service`; raw bytes follow the frame.
    case connect(Connect)

    public static let maximumPayload = 4096
    public static let magic: [UInt8] = Array("FWTUNNEL".utf8)
    public static let version: UInt8 = 1
    public static let nonceSize = 32
    public static let sessionSize = 16

    enum Kind: UInt8 {
        case challenge = 1, hello = 2, welcome = 3, refuse = 4, heartbeat = 5, openData = 6, connect = 7
    }
}

public enum ConnectionRole: UInt8, Sendable {
    case command = 1
    case data = 2
}

/// work's side of the handshake. `mac` is HMAC-SHA256(secret, "fwtunnel-hello" || nonce || body), where body is the
/// encoded hello payload without the MAC (see `Handshake`).
public struct Hello: Equatable, Sendable {
    public var version: UInt8
    public var role: ConnectionRole
    public var agent: String
    /// The session id from the command connection's welcome; zeros on the command connection itself.
    public var session: [UInt8]
    /// Services this agent serves (command connection only).
    public var services: [String]
    public var mac: [UInt8]

    public init(version: UInt8 = Frame.version, role: ConnectionRole, agent: String, session: [UInt8], services: [String], mac: [UInt8] = []) {
        self.version = version
        self.role = role
        self.agent = agent
        self.session = session
        self.services = services
        self.mac = mac
    }
}

/// The client behind a data connection, for the PROXY protocol header work may send to the service.
public struct Connect: Equatable, Sendable {
    public var service: String
    public var client: Endpoint
    /// The address on home the client connected to.
    public var listener: Endpoint

    public init(service: String, client: Endpoint, listener: Endpoint) {
        self.service = service
        self.client = client
        self.listener = listener
    }
}

/// An IP address (4 or 16 bytes) and port, as carried in frames.
public struct Endpoint: Equatable, Sendable {
    public var address: [UInt8]
    public var port: UInt16

    public init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    public init?(_ socketAddress: SocketAddress?) {
        switch socketAddress {
        case .v4(let a)?:
            var raw = a.address.sin_addr.s_addr
            self.init(address: withUnsafeBytes(of: &raw) { Array($0) }, port: UInt16(socketAddress!.port ?? 0))
        case .v6(let a)?:
            var raw = a.address.sin6_addr
            self.init(address: withUnsafeBytes(of: &raw) { Array($0) }, port: UInt16(socketAddress!.port ?? 0))
        default:
            return nil
        }
    }
}

public struct FrameError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Frame {
    /// Appends the encoded frame to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        var payload = ByteBufferAllocator().buffer(capacity: 64)
        let kind: Kind
        switch self {
        case .challenge(let version, let nonce):
            kind = .challenge
            payload.writeBytes(Frame.magic)
            payload.writeInteger(version)
            payload.writeBytes(nonce)
        case .hello(let hello):
            kind = .hello
            hello.encodeBody(into: &payload)
            payload.writeBytes(hello.mac)
        case .welcome(let session):
            kind = .welcome
            payload.writeBytes(session)
        case .refuse(let reason):
            kind = .refuse
            payload.writeBytes(reason.utf8.prefix(512))
        case .heartbeat:
            kind = .heartbeat
        case .openData(let count):
            kind = .openData
            payload.writeInteger(count)
        case .connect(let connect):
            kind = .connect
            payload.writeShortString(connect.service)
            payload.writeEndpoint(connect.client)
            payload.writeEndpoint(connect.listener)
        }
        precondition(payload.readableBytes <= Frame.maximumPayload, "frame payload over the protocol's maximum")
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(UInt16(payload.readableBytes))
        buffer.writeImmutableBuffer(payload)
    }

    /// Decodes one frame from the front of `buffer`; nil when more bytes are needed. Throws on anything malformed.
    public static func decode(from buffer: inout ByteBuffer) throws -> Frame? {
        guard buffer.readableBytes >= 3,
              let type: UInt8 = buffer.getInteger(at: buffer.readerIndex),
              let length: UInt16 = buffer.getInteger(at: buffer.readerIndex + 1) else { return nil }
        guard let kind = Kind(rawValue: type) else { throw FrameError("unknown frame type \(type)") }
        guard Int(length) <= maximumPayload else { throw FrameError("frame of \(length) bytes is over the maximum of \(maximumPayload)") }
        guard buffer.readableBytes >= 3 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 3)
        var payload = buffer.readSlice(length: Int(length))!
        let frame = try decodePayload(kind, &payload)
        guard payload.readableBytes == 0 else { throw FrameError("\(payload.readableBytes) unexpected bytes at the end of a frame") }
        return frame
    }

    private static func decodePayload(_ kind: Kind, _ payload: inout ByteBuffer) throws -> Frame {
        switch kind {
        case .challenge:
            guard payload.readBytes(length: magic.count) == magic else { throw FrameError("not a fwtunnel peer") }
            let version: UInt8 = try payload.readOrThrow()
            guard let nonce = payload.readBytes(length: nonceSize) else { throw FrameError("short nonce") }
            return .challenge(version: version, nonce: nonce)
        case .hello:
            let hello = try Hello.decodeBody(from: &payload)
            return .hello(hello)
        case .welcome:
            guard let session = payload.readBytes(length: sessionSize) else { throw FrameError("short session id") }
            return .welcome(session: session)
        case .refuse:
            return .refuse(reason: payload.readString(length: payload.readableBytes) ?? "")
        case .heartbeat:
            return .heartbeat
        case .openData:
            return .openData(count: try payload.readOrThrow())
        case .connect:
            let service = try payload.readShortString()
            let client = try payload.readEndpoint()
            let listener = try payload.readEndpoint()
            return .connect(Connect(service: service, client: client, listener: listener))
        }
    }
}

extension Hello {
    public static let macSize = 32

    /// The hello payload without the MAC: what the MAC covers (with the nonce in front).
    func encodeBody(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Frame.magic)
        buffer.writeInteger(version)
        buffer.writeInteger(role.rawValue)
        buffer.writeShortString(agent)
        buffer.writeBytes(session)
        buffer.writeInteger(UInt8(services.count))
        for service in services { buffer.writeShortString(service) }
    }

    static func decodeBody(from payload: inout ByteBuffer) throws -> Hello {
        guard payload.readBytes(length: Frame.magic.count) == Frame.magic else { throw FrameError("not a fwtunnel peer") }
        let version: UInt8 = try payload.readOrThrow()
        guard let role = ConnectionRole(rawValue: try payload.readOrThrow()) else { throw FrameError("unknown connection role") }
        let agent = try payload.readShortString()
        guard let session = payload.readBytes(length: Frame.sessionSize) else { throw FrameError("short session id") }
        let count: UInt8 = try payload.readOrThrow()
        var services: [String] = []
        for _ in 0..<count { services.append(try payload.readShortString()) }
        guard let mac = payload.readBytes(length: macSize) else { throw FrameError("short MAC") }
        return Hello(version: version, role: role, agent: agent, session: session, services: services, mac: mac)
    }
}

extension ByteBuffer {
    mutating func readOrThrow<T: FixedWidthInteger>() throws -> T {
        guard let value: T = readInteger() else { throw FrameError("frame too short") }
        return value
    }

    mutating func writeShortString(_ string: String) {
        let bytes = Array(string.utf8.prefix(255))
        writeInteger(UInt8(bytes.count))
        writeBytes(bytes)
    }

    mutating func readShortString() throws -> String {
        let length: UInt8 = try readOrThrow()
        guard let bytes = readBytes(length: Int(length)) else { throw FrameError("frame too short") }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw FrameError("name is not UTF-8") }
        return string
    }

    mutating func writeEndpoint(_ endpoint: Endpoint) {
        writeInteger(UInt8(endpoint.address.count))
        writeBytes(endpoint.address)
        writeInteger(endpoint.port)
    }

    mutating func readEndpoint() throws -> Endpoint {
        let length: UInt8 = try readOrThrow()
        guard length == 4 || length == 16, let address = readBytes(length: Int(length)) else { throw FrameError("bad address") }
        return Endpoint(address: address, port: try readOrThrow())
    }
}
