import CMemifLinux

/// A snapshot of one queue's counters.
public struct MemifQueueStatistics: Equatable, Sendable {
    /// Whole packets received or published.
    public var packets: UInt64
    /// Payload bytes of those packets.
    public var bytes: UInt64
    /// Packets dropped: malformed chains on receive, unusable buffers on transmit.
    public var drops: UInt64
    /// Descriptors that failed validation (region, bounds, length) and were skipped.
    public var badDescriptors: UInt64
    /// Packets that spanned more than one descriptor.
    public var chains: UInt64

    public init(packets: UInt64 = 0, bytes: UInt64 = 0, drops: UInt64 = 0, badDescriptors: UInt64 = 0, chains: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
        self.drops = drops
        self.badDescriptors = badDescriptors
        self.chains = chains
    }
}

/// Counters of one queue: written by the one thread driving the queue, once per burst,
/// readable from any thread at any time. Relaxed atomic loads and stores, no locks.
@usableFromInline
struct QueueCounters {
    @usableFromInline var packets: UInt64 = 0
    @usableFromInline var bytes: UInt64 = 0
    @usableFromInline var drops: UInt64 = 0
    @usableFromInline var badDescriptors: UInt64 = 0
    @usableFromInline var chains: UInt64 = 0

    @inlinable init() {}
}

extension UnsafeMutablePointer where Pointee == QueueCounters {
    /// Adds one burst's totals; the only writer is the queue's thread.
    @inlinable @inline(__always)
    func add(packets: Int, bytes: Int, drops: Int = 0, bad: Int = 0, chains: Int = 0) {
        let raw = UnsafeMutableRawPointer(self)
        @inline(__always) func bump(_ offset: Int, _ n: Int) {
            if n != 0 { cmemif_store_relaxed_u64(raw + offset, cmemif_load_relaxed_u64(raw + offset) &+ UInt64(n)) }
        }
        bump(0, packets)
        bump(8, bytes)
        bump(16, drops)
        bump(24, bad)
        bump(32, chains)
    }

    func snapshot() -> MemifQueueStatistics {
        let raw = UnsafeMutableRawPointer(self)
        return MemifQueueStatistics(
            packets: cmemif_load_relaxed_u64(raw), bytes: cmemif_load_relaxed_u64(raw + 8),
            drops: cmemif_load_relaxed_u64(raw + 16), badDescriptors: cmemif_load_relaxed_u64(raw + 24),
            chains: cmemif_load_relaxed_u64(raw + 32))
    }
}
