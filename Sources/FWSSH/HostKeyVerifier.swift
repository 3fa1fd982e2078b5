import CLibSSH2

/// Checks the key a server offered against known_hosts, using libssh2's matcher (which handles hashed `|1|` names)
/// fed line by line from a `KnownHostsSnapshot`, so each entry keeps its real line number.
final class HostKeyVerifier {
    enum Verdict {
        case match(line: Int?)
        case mismatch(expected: PublicKey?, line: Int?)
        case notFound
    }

    /// Host key algorithms in the order FWSSH prefers them when known_hosts says nothing (OpenSSH's order, without
    /// ssh-dss). libssh2 1.10 can verify ssh-rsa host keys only with SHA-1 signatures, which OpenSSH >= 8.8 no
    /// longer makes, so RSA comes last.
    static let preferredAlgorithms = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]

    static func knownHostBits(forKeyType type: String) -> Int32? {
        switch type {
        case "ssh-rsa": return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case "ssh-dss": return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case "ecdsa-sha2-nistp256": return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case "ecdsa-sha2-nistp384": return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case "ecdsa-sha2-nistp521": return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case "ssh-ed25519": return LIBSSH2_KNOWNHOST_KEY_ED25519
        default: return nil
        }
    }

    private let hosts: OpaquePointer
    private var lineOfEntry: [UnsafeMutableRawPointer: Int] = [:]
    let name: String

    /// `session` only lends its allocator; `name` is the known_hosts form of the host (`host` or `[host]:port`).
    init?(session: OpaquePointer, snapshot: KnownHostsSnapshot, name: String, unreadable: (Int) -> Void) {
        guard let hosts = libssh2_knownhost_init(session) else { return nil }
        self.hosts = hosts
        self.name = name
        var last: UnsafeMutablePointer<libssh2_knownhost>?
        for line in snapshot.entries {
            let rc = line.text.withCString { libssh2_knownhost_readline(hosts, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
            if rc != 0 { unreadable(line.number); continue }
            // One line can add several entries (comma-separated names): map each new entry to its line.
            var next: UnsafeMutablePointer<libssh2_knownhost>?
            while libssh2_knownhost_get(hosts, &next, last) == 0, let entry = next {
                lineOfEntry[UnsafeMutableRawPointer(entry)] = line.number
                last = entry
            }
        }
    }

    deinit { libssh2_knownhost_free(hosts) }

    func check(_ key: PublicKey) -> Verdict {
        guard let bits = Self.knownHostBits(forKeyType: key.type) else { return .notFound }
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        let rc = key.blob.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                // port -1: match only the exact name, as OpenSSH does (libssh2 would otherwise fall back from
                // [host]:port to the plain host, trusting a key recorded for another port).
                libssh2_knownhost_checkp(hosts, name, -1, $0.baseAddress, $0.count,
                                         LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bits, &entry)
            }
        }
        let line = entry.flatMap { lineOfEntry[UnsafeMutableRawPointer($0)] }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return .match(line: line)
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            let expected = entry.flatMap { $0.pointee.key }.flatMap { PublicKey(base64: String(cString: $0)) }
            return .mismatch(expected: expected, line: line)
        default:
            return .notFound
        }
    }

    /// The key types known_hosts holds for this host, each with its first line. Found by checking a dummy key of
    /// each type: libssh2 reports a mismatch exactly when an entry of that type exists for the name.
    func knownTypes() -> [(type: String, line: Int?)] {
        var found: [(String, Int?)] = []
        for type in Self.preferredAlgorithms + ["ssh-dss"] {
            var blob: [UInt8] = []
            let typeBytes = Array(type.utf8)
            blob += [0, 0, 0, UInt8(typeBytes.count)] + typeBytes + [0, 0, 0, 1, 0]
            if case .mismatch(_, let line) = check(PublicKey(blob: blob)) { found.append((type, line)) }
        }
        return found
    }
}
