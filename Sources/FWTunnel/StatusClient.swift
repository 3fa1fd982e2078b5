import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Reads the one JSON document a running fwtunnel process answers on its status socket: what `fwtunnel-home
/// --status` and `fwtunnel-work --status` print, so `fwctl tunnel status` needs nothing on the host but the
/// binaries (no socat). Blocking, bounded: at most `timeout` seconds and 16 MiB.
public enum StatusClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(socket path: String, timeout: Double = 5) throws -> [UInt8] {
        let fd: CInt
        do { fd = try UnixSocket.connect(path: path) } catch {
            throw Failure(description: "cannot connect to the status socket \(path) (\(error)): is the process running?")
        }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while data.count < 16 << 20 {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n > 0 { data += chunk[0..<n]; continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw Failure(description: "reading the status socket \(path) failed: \(String(cString: strerror(errno)))")
        }
        guard !data.isEmpty else { throw Failure(description: "the status socket \(path) answered nothing") }
        return data
    }
}

extension StatusClient {
    /// `--status`: the config's status socket read once. Exit status 0 with the JSON, 2 when the config is unusable or
    /// names no status socket, 1 when nothing answers (the process is not running).
    public static func answer(configPath: String, socketOf: (String) throws -> String?) -> (status: Int32, output: [UInt8], error: String?) {
        let path: String
        do {
            guard let configured = try socketOf(configPath) else {
                return (2, [], "\(configPath): the config has no statusSocket, so there is no status to read")
            }
            path = configured
        } catch {
            return (2, [], "\(error)")
        }
        do {
            return (0, try read(socket: path), nil)
        } catch {
            return (1, [], "\(error)")
        }
    }
}

