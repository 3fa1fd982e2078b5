import FWTunnel
import Foundation
import NIOCore
import Testing
import TestSupport

@Suite struct FrameTests {
    func roundTrip(_ frame: Frame) throws -> Frame? {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        frame.encode(into: &buffer)
        return try Frame.decode(from: &buffer)
    }

    @Test func everyFrameRoundTrips() throws {
        let hello = Hello(role: .command, agent: "w1", session: [UInt8](repeating: 7, count: 16), services: ["ssh", "web"], mac: [UInt8](repeating: 9, count: 32))
        let frames: [Frame] = [
            .challenge(version: 1, nonce: [UInt8](repeating: 1, count: 32)), .hello(hello),
            .welcome(session: [UInt8](repeating: 3, count: 16)), .refuse(reason: "no"), .heartbeat, .openData(count: 5),
            .connect(Connect(service: "ssh", client: Endpoint(address: [127, 0, 0, 2], port: 5555),
                             listener: Endpoint(address: [UInt8](repeating: 0, count: 15) + [1], port: 22))),
        ]
        for frame in frames { #expect(try roundTrip(frame) == frame) }
    }

    @Test func partialFramesWaitForMoreBytes() throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        Frame.openData(count: 3).encode(into: &buffer)
        var partial = buffer.getSlice(at: 0, length: buffer.readableBytes - 1)!
        #expect(try Frame.decode(from: &partial) == nil)
    }

    @Test func oversizeUnknownAndGarbageFramesAreErrors() {
        var oversize = ByteBufferAllocator().buffer(bytes: [2, 0xFF, 0xFF])
        #expect(throws: FrameError.self) { try Frame.decode(from: &oversize) }
        var unknown = ByteBufferAllocator().buffer(bytes: [0x47, 0x45, 0x54])  // "GET"
        #expect(throws: FrameError.self) { try Frame.decode(from: &unknown) }
        var notMagic = ByteBufferAllocator().buffer(bytes: [1, 0, 41] + [UInt8](repeating: 0x41, count: 41))
        #expect(throws: FrameError.self) { try Frame.decode(from: &notMagic) }
        var trailing = ByteBufferAllocator().buffer(bytes: [5, 0, 1, 0])  // heartbeat with a payload byte
        #expect(throws: FrameError.self) { try Frame.decode(from: &trailing) }
    }
}

@Suite struct HandshakeTests {
    let secret = Secret(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

    @Test func aSignedHelloVerifiesOnlyForItsNonceAndSecret() {
        let nonce = Handshake.makeNonce()
        let hello = Handshake.sign(Hello(role: .data, agent: "w1", session: Handshake.makeSession(), services: []), nonce: nonce, secret: secret)
        #expect(Handshake.verify(hello, nonce: nonce, secret: secret))
        #expect(!Handshake.verify(hello, nonce: Handshake.makeNonce(), secret: secret), "replayed against a fresh nonce")
        #expect(!Handshake.verify(hello, nonce: nonce, secret: Secret(bytes: Array("another secret, also 32 bytes!!!".utf8))))
        var tampered = hello
        tampered.agent = "w2"
        #expect(!Handshake.verify(tampered, nonce: nonce, secret: secret), "the MAC covers the agent name")
        tampered = hello
        tampered.session[0] ^= 1
        #expect(!Handshake.verify(tampered, nonce: nonce, secret: secret), "the MAC covers the session")
    }

    @Test func noncesAreFresh() {
        #expect(Handshake.makeNonce() != Handshake.makeNonce())
        #expect(Handshake.makeNonce().count == 32)
    }

    @Test func secretDescriptionNeverShowsTheValue() {
        #expect("\(secret)" == "<secret>")
    }
}

@Suite struct AllowlistTests {
    @Test func addressesAndNetworksOfBothFamilies() throws {
        let list = try Allowlist.parse("""
            # office
            192.0.2.7
            198.51.100.0/24   # VPN
            2001:db8::/32

            10.0.0.0/8
            """, file: "allow")
        func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }
        #expect(list.allows(v4("192.0.2.7")))
        #expect(!list.allows(v4("192.0.2.8")))
        #expect(list.allows(v4("198.51.100.255")))
        #expect(!list.allows(v4("198.51.101.0")))
        #expect(list.allows(v4("10.200.3.4")))
        #expect(list.allows([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0xAB, count: 12)))
        #expect(!list.allows([0x20, 0x01, 0x0d, 0xb9] + [UInt8](repeating: 0, count: 12)))
        // An IPv4 client seen through a dual-stack socket.
        #expect(list.allows([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4("192.0.2.7")))
        #expect(!list.allows([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4("192.0.2.9")))
    }

    @Test func emptyAllowsNobodyAndZeroPrefixAllowsAll() throws {
        #expect(!(try Allowlist.parse("# nobody\n", file: "a")).allows([127, 0, 0, 1]))
        #expect(try Allowlist.parse("0.0.0.0/0", file: "a").allows([203, 0, 113, 9]))
    }

    @Test func badLinesNameFileAndLine() {
        for bad in ["192.0.2.1/33", "300.1.1.1", "example.com", "2001:db8::/129", "1.2.3.4/", "1.2.3.4 5.6.7.8"] {
            #expect {
                try Allowlist.parse("127.0.0.1\n\(bad)\n", file: "allow.txt")
            } throws: { error in
                "\(error)".hasPrefix("allow.txt:2: ")
            }
        }
    }
}

@Suite struct ProxyProtocolTests {
    @Test func ipv4HeaderMatchesTheSpecification() {
        let header = ProxyProtocolV2.header(source: Endpoint(address: [192, 0, 2, 1], port: 56324), destination: Endpoint(address: [198, 51, 100, 2], port: 443))
        #expect(header == ProxyProtocolV2.signature + [0x21, 0x11, 0, 12, 192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB])
    }

    @Test func mixedFamiliesAreSentAsIPv6() {
        let v6 = [UInt8](repeating: 0, count: 15) + [1]
        let header = ProxyProtocolV2.header(source: Endpoint(address: [192, 0, 2, 1], port: 1), destination: Endpoint(address: v6, port: 2))
        #expect(header[13] == 0x21)
        #expect(header.count == 16 + 36)
        #expect(Array(header[16..<32]) == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 1])
    }
}

@Suite struct ConfigTests {
    func write(_ files: [String: String]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder("ftun-config", files: files)
        chmod(folder.path("secret"), 0o600)
        return folder
    }

    func home(_ extra: String = "", tls: String = "false", secret: String = "secret") -> String {
        """
        {"version": 1, "agentListen": "127.0.0.1:7000", "tls": \(tls), "secretFile": "SECRET",
         "allowlistFile": "ALLOW", "services": [{"name": "ssh", "listen": "[::1]:9001"}]\(extra)}
        """
    }

    @Test func aGoodHomeConfigLoadsWithDefaults() throws {
        let folder = try write(["secret": String(repeating: "s", count: 32), "allow": "127.0.0.1\n"])
        defer { folder.remove() }
        let text = home().replacingOccurrences(of: "SECRET", with: folder.path("secret")).replacingOccurrences(of: "ALLOW", with: folder.path("allow"))
        try text.write(toFile: folder.path("home.json"), atomically: true, encoding: .utf8)
        let config = try HomeConfig.load(path: folder.path("home.json"))
        #expect(config.services[0].listen == HostPort(host: "::1", port: 9001))
        #expect(config.tls == nil)
        #expect(config.maxConnectionsPerClient == 64)
        #expect(config.heartbeatTimeout == 15)
    }

    @Test func mistakesNameTheFileAndTheKey() throws {
        let folder = try write(["secret": String(repeating: "s", count: 32), "allow": ""])
        defer { folder.remove() }
        let cases: [(String, String)] = [
            (home(", \"limitz\": {}"), "limitz"),
            (home(", \"limits\": {\"clientWait\": 0}"), "limits.clientWait"),
            (home().replacingOccurrences(of: "[::1]:9001", with: "::1:9001"), "services[0].listen"),
            (home().replacingOccurrences(of: "\"ssh\"", with: "\"s h\""), "service name"),
            (home(tls: "true"), "tls"),
            ("{\"version\": 1", "JSON"),
        ]
        for (text, expected) in cases {
            try text.write(toFile: folder.path("home.json"), atomically: true, encoding: .utf8)
            #expect {
                try HomeConfig.load(path: folder.path("home.json"))
            } throws: { error in
                let message = "\(error)"
                return message.hasPrefix(folder.path("home.json")) && message.contains(expected)
            }
        }
    }

    @Test func workConfigNeedsAValidFingerprint() throws {
        let folder = try write(["secret": String(repeating: "s", count: 32)])
        defer { folder.remove() }
        let text = """
            {"version": 1, "name": "w1", "home": "home.example:7000", "tls": {"fingerprint": "ab:cd"}, "secretFile": "x",
             "services": [{"name": "ssh", "target": "127.0.0.1:22"}]}
            """
        try text.write(toFile: folder.path("work.json"), atomically: true, encoding: .utf8)
        #expect { try WorkConfig.load(path: folder.path("work.json")) } throws: { "\($0)".contains("fingerprint") }
        let good = text.replacingOccurrences(of: "ab:cd", with: String(repeating: "ab", count: 32))
        try good.write(toFile: folder.path("work.json"), atomically: true, encoding: .utf8)
        let config = try WorkConfig.load(path: folder.path("work.json"))
        #expect(config.pinnedFingerprint == [UInt8](repeating: 0xAB, count: 32))
        #expect(config.poolMinimum == 2 && config.poolMaximum == 16)
    }

    @Test func secretFilesMustBeOwnerOnly() throws {
        let folder = try write(["secret": String(repeating: "s", count: 32), "short": "abc"])
        defer { folder.remove() }
        chmod(folder.path("secret"), 0o644)
        #expect { try Secret.load(path: folder.path("secret")) } throws: { "\($0)".contains("0600") && !"\($0)".contains("ssss") }
        chmod(folder.path("secret"), 0o600)
        _ = try Secret.load(path: folder.path("secret"))
        chmod(folder.path("short"), 0o600)
        #expect { try Secret.load(path: folder.path("short")) } throws: { "\($0)".contains("shorter") }
    }
}
