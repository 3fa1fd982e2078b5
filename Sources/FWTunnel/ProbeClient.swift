import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `fwtunnel-home --probe SERVICE`: one real client connection through the tunnel, made by root on home through
/// the service's probe socket (no allowlist there), to prove the whole path: home links it to an agent, work
/// reaches the service. Blocking and bounded by `wait` seconds.
public enum ProbeClient {
    public struct Outcome: Encodable, Sendable {
        public enum Result: String, Encodable, Sendable {
            /// The service sent its first bytes (an SSH banner, say) through the tunnel.
            case answered
            /// Still open after longer than home lets a client wait for an agent: linked, and work reached the
            /// service, which speaks only when spoken to.
            case connected
            /// Closed without a byte: no agent in time, or work could not reach the service.
            case closed
            /// The probe socket did not take the connection: home is not running, or has no probe socket.
            case unreachable
        }

        public var service: String
        public var result: Result
        public var bytes: Int
        public var milliseconds: Int
        public var ok: Bool { result == .answered || result == .connected }
    }

    public static func probe(service: String, socket path: String, wait: Double) -> Outcome {
        let started = ContinuousClock.now
        func outcome(_ result: Outcome.Result, _ bytes: Int) -> Outcome {
            let elapsed = ContinuousClock.now - started
            return Outcome(service: service, result: result, bytes: bytes,
                           milliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
        }
        guard let fd = try? UnixSocket.connect(path: path) else { return outcome(.unreachable, 0) }
        defer { close(fd) }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            let ms = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            let ready = poll(&descriptor, 1, ms)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { return outcome(.answered, n) }
            if n < 0 && errno == EINTR { continue }
            return outcome(.closed, 0)
        }
        return outcome(.connected, 0)
    }
}
