#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a renderer's output lives in, and how it grows.
///
/// Small outputs (a host's rule file) come from malloc. A large output moves once into an anonymous mapping that
/// reserves room for growth and asks for transparent huge pages. Most of the cost of writing megabytes of fresh
/// output is in the kernel, one page fault and one cleared page per 4 KiB: measured for a 5.5 MB output, this
/// memory takes about 1,350 fewer faults. The mapping is also never copied while it grows inside its reservation.
/// Untouched reserved pages cost nothing but address space.
struct OutputMemory: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// The mapping's length when the bytes live in a mapping; 0 when they come from malloc.
    private(set) var mappedLength = 0
    private let minimumReservation: Int

    /// From this size on the output lives in a mapping (below it a mapping's setup costs more than it saves).
    static let mappingThreshold = 1 << 20
    /// A mapping reserves at least this much by default, so that outputs of tens of megabytes never move.
    static let defaultReservation = 64 << 20
    static let hugePageSize = 2 << 20

    init(capacity: Int, minimumReservation: Int = Self.defaultReservation) {
        self.minimumReservation = minimumReservation
        self.capacity = Swift.max(capacity, 1)
        base = Self.reallocate(nil, self.capacity)
    }

    deinit {
        if mappedLength > 0 {
            munmap(base, mappedLength)
        } else {
            free(base)
        }
    }

    /// Makes room for at least `needed` bytes, keeping the first `count`; never more than `limit` unless
    /// `needed` is.
    mutating func grow(to needed: Int, keeping count: Int, limit: Int) {
        let wanted = Swift.min(Swift.max(needed, capacity * 2), Swift.max(needed, limit))
        if mappedLength == 0 && wanted < Self.mappingThreshold {
            base = Self.reallocate(base, wanted)
            capacity = wanted
            return
        }
        // Into a (new) mapping: reserve generously, then copy what there is once.
        let reservation = Self.roundUp(
            Swift.min(Swift.max(wanted * 2, minimumReservation), Swift.max(wanted, limit)), to: Self.hugePageSize)
        guard let mapped = Self.map(reservation) else {
            // No address space for a reservation (a strict overcommit policy): plain malloc still works.
            if mappedLength == 0 {
                base = Self.reallocate(base, wanted)
                capacity = wanted
                return
            }
            let bytes = Self.reallocate(nil, wanted)
            bytes.update(from: base, count: count)
            munmap(base, mappedLength)
            base = bytes
            mappedLength = 0
            capacity = wanted
            return
        }
        mapped.update(from: base, count: count)
        if mappedLength > 0 { munmap(base, mappedLength) } else { free(base) }
        base = mapped
        mappedLength = reservation
        capacity = reservation
    }

    private static func reallocate(_ old: UnsafeMutablePointer<UInt8>?, _ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        guard let raw = realloc(old, capacity) else { fatalError("out of memory for \(capacity) bytes of template output") }
        return raw.bindMemory(to: UInt8.self, capacity: capacity)
    }

    private static func map(_ length: Int) -> UnsafeMutablePointer<UInt8>? {
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        guard let raw = mmap(nil, length, PROT_READ | PROT_WRITE, flags, -1, 0), raw != MAP_FAILED else { return nil }
        #if os(Linux)
        // Advice only: where huge pages are off or unavailable the mapping works with small pages.
        _ = madvise(raw, length, MADV_HUGEPAGE)
        #endif
        return raw.bindMemory(to: UInt8.self, capacity: length)
    }

    private static func roundUp(_ value: Int, to multiple: Int) -> Int {
        (value + multiple - 1) / multiple * multiple
    }
}
