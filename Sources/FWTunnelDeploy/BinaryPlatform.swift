import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a locally built fwtunnel binary needs from the host it runs on: the CPU (ELF machine, named as `uname -m`
/// names it), the dynamic loader (its path says glibc or musl; none for a static binary) and, for glibc, at least
/// the version it was built against. `fwctl tunnel install` compares these with the host before uploading anything.
public struct BinaryPlatform: Sendable, Equatable {
    public var machine: String
    /// PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; nil for a static binary.
    public var interpreter: String?
    /// `glibc` or `musl` (from the loader's name), or nil for a static binary.
    public var libc: String?
    /// For glibc: the build machine's version, the least the host must have.
    public var glibcVersion: String?

    /// Reads the ELF header and program headers of `path` (64-bit little-endian only: what Swift builds on Linux).
    public static func read(path: String, buildGlibc: String? = BinaryPlatform.localGlibcVersion) throws -> BinaryPlatform {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TunnelDeployError("cannot read \(path)") }
        defer { try? handle.close() }
        let header = [UInt8](handle.readData(ofLength: 64))
        guard header.count == 64, header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
            throw TunnelDeployError("\(path) is not an ELF executable")
        }
        guard header[4] == 2, header[5] == 1 else { throw TunnelDeployError("\(path) is not a 64-bit little-endian ELF executable") }
        func u16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u64(_ bytes: [UInt8], _ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let machine: String
        switch u16(header, 18) {
        case 62: machine = "x86_64"
        case 183: machine = "aarch64"
        case 243: machine = "riscv64"
        case 21: machine = "ppc64le"
        default: machine = "ELF machine \(u16(header, 18))"
        }
        let programHeaders = u64(header, 32), entrySize = u16(header, 54), count = u16(header, 56)
        var interpreter: String?
        if count > 0 && count < 1024 && entrySize >= 56 {
            try handle.seek(toOffset: UInt64(programHeaders))
            let table = [UInt8](handle.readData(ofLength: entrySize * count))
            for index in 0..<count where table.count >= (index + 1) * entrySize {
                let base = index * entrySize
                guard table[base] == 3, table[base + 1] == 0, table[base + 2] == 0, table[base + 3] == 0 else { continue }  // PT_INTERP
                let offset = u64(table, base + 8), size = u64(table, base + 32)
                guard size > 1, size < 4096 else { break }
                try handle.seek(toOffset: UInt64(offset))
                let bytes = [UInt8](handle.readData(ofLength: size)).prefix { $0 != 0 }
                interpreter = String(decoding: bytes, as: UTF8.self)
            }
        }
        let libc = interpreter.map { $0.contains("musl") ? "musl" : "glibc" }
        return BinaryPlatform(machine: machine, interpreter: interpreter, libc: libc, glibcVersion: libc == "glibc" ? buildGlibc : nil)
    }

    /// This machine's glibc version (`confstr(_CS_GNU_LIBC_VERSION)`: "glibc 2.36").
    public static let localGlibcVersion: String? = {
        var buffer = [CChar](repeating: 0, count: 64)
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: " ").last.map(String.init)
    }()

    /// Why the binary cannot run on a host that reported `arch` (`uname -m`), `libc` (`glibc-2.36`, `musl`) and
    /// whether the loader path exists there; nil when it can.
    public func mismatch(hostArch: String, hostLibc: String, interpreterPresent: Bool?) -> String? {
        if hostArch != machine {
            return "the host is \(hostArch) and this binary is built for \(machine)"
        }
        guard let libc else { return nil }  // static: no loader, no C library needed
        let hostKind = hostLibc.hasPrefix("glibc") ? "glibc" : hostLibc
        if hostKind != libc {
            return "the host's C library is \(hostLibc) and this binary needs \(libc) (loader \(interpreter ?? "?"))"
        }
        if interpreterPresent == false {
            return "the host has no \(interpreter ?? "dynamic loader"), which this binary is linked to"
        }
        if libc == "glibc", let needed = glibcVersion {
            let have = String(hostLibc.dropFirst("glibc-".count))
            if Self.compareVersions(have, needed) == .orderedAscending {
                return "the host has glibc \(have) and this binary was built against glibc \(needed), which it may need"
            }
        }
        return nil
    }

    static func compareVersions(_ a: String, _ b: String) -> ComparisonResult {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }, right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? left[index] : 0, r = index < right.count ? right[index] : 0
            if l != r { return l < r ? .orderedAscending : .orderedDescending }
        }
        return .orderedSame
    }
}

/// A tunnel install step failed for a reason of its own (not an SSH failure).
public struct TunnelDeployError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
