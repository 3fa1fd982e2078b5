import FWBase
import Foundation
import Testing

/// Reading a file whole: every kind of file the readers meet, and every way it can fail, with the reason.
@Suite struct LocalFileTests {
    private func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fwctl-localfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func readsRegularFilesOfEverySizeExactly() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for size in [0, 1, 4095, 65_536, 1_000_003] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let path = "\(folder)/f\(size)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try LocalFile.readBytes(path) == bytes, "size \(size)")
        }
    }

    /// /proc files say they are empty and are not: read until the end, not to the size.
    @Test func readsFilesWhoseSizeIsWrong() throws {
        let status = try LocalFile.readBytes("/proc/self/status")
        #expect(String(decoding: status, as: UTF8.self).contains("Pid:"))
    }

    @Test func failuresSayWhy() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = #expect(throws: LocalFile.ReadError.self) { try LocalFile.readBytes("\(folder)/absent") }
        #expect(missing?.code == ENOENT)
        #expect(missing?.reason == "No such file or directory")

        let directory = #expect(throws: LocalFile.ReadError.self) { try LocalFile.readBytes(folder) }
        #expect(directory?.code == EISDIR)

        try Data(repeating: 0x41, count: 2_000).write(to: URL(fileURLWithPath: "\(folder)/big"))
        let big = #expect(throws: LocalFile.ReadError.self) { try LocalFile.readBytes("\(folder)/big", maxBytes: 1_999) }
        #expect(big?.reason == "larger than 1999 bytes")
        #expect(try LocalFile.readBytes("\(folder)/big", maxBytes: 2_000).count == 2_000)
    }

    /// A stream without an end (here /dev/zero) stops at the limit instead of filling memory.
    @Test func anEndlessStreamStopsAtTheLimit() throws {
        let endless = #expect(throws: LocalFile.ReadError.self) { _ = try LocalFile.readBytes("/dev/zero", maxBytes: 1 << 20) }
        #expect(endless?.code == 0)
    }

    @Test func aPathInTheMessageIsEscaped() {
        let error = #expect(throws: LocalFile.ReadError.self) { try LocalFile.readBytes("/nonexistent/a\u{1b}[31mb") }
        #expect(error?.description.contains("\u{1b}") == false)
        #expect(error?.description.contains("a\\u{1B}[31mb") == true || error?.description.contains("\\u{1b}") == true)
    }
}
