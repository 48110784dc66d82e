import Synchronization

/// One shared-memory buffer region that several client interfaces register on their
/// connections, so a packet received on one can be transmitted on another by descriptor,
/// with no copy (``MemifTxQueue/forward(_:count:from:)``).
///
/// Each interface opened with the pool claims one buffer per ring slot at creation and keeps
/// those buffers for the pool's lifetime. Zero-copy forwarding swaps buffers between the
/// receive slot and the transmit slot, so every buffer always belongs to exactly one slot,
/// and the number of buffers per interface never changes.
public final class MemifBufferPool: @unchecked Sendable {
    /// Bytes per buffer; every interface on the pool uses this buffer size.
    public let bufferSize: Int
    public let bufferCount: Int
    /// Immutable after init; `@unchecked Sendable` rests on that and on `claimed`'s lock.
    let region: SharedRegion
    private let claimed = Mutex(0)
    /// Slot tables handed out by ``claim(_:)``; freed with the pool.
    private let tables = Mutex<[SlotTable]>([])

    /// - Parameters:
    ///   - bufferCount: at least the ring slots of every interface that will use the pool
    ///     (queues in both directions times ring size).
    ///   - bufferSize: bytes per buffer, 1...65535.
    public init(bufferCount: Int, bufferSize: Int = 2048) throws(MemifError) {
        guard (1...65535).contains(bufferSize) else {
            throw MemifError(.invalidConfiguration, "pool buffer size must be 1...65535, got \(bufferSize)")
        }
        let bytes = UInt64(max(bufferCount, 0)) * UInt64(bufferSize)
        guard bufferCount > 0, bytes <= UInt64(UInt32.max) + 1 else {
            throw MemifError(.invalidConfiguration, "pool of \(bufferCount) buffers does not fit descriptor offsets (4 GiB)")
        }
        self.bufferSize = bufferSize
        self.bufferCount = bufferCount
        region = try SharedRegion.create(size: bytes, name: "memif buffer pool")
    }

    deinit {
        tables.withLock { $0.forEach { $0.free() } }
    }

    /// Buffers not yet claimed by an interface.
    public var available: Int { bufferCount - claimed.withLock { $0 } }

    /// Claims `slots` consecutive buffers and returns a table naming them.
    func claim(_ slots: Int) throws(MemifError) -> SlotTable {
        let first: Int? = claimed.withLock { used in
            guard slots <= bufferCount - used else { return nil }
            defer { used += slots }
            return used
        }
        guard let first else {
            throw MemifError(
                .invalidConfiguration, "buffer pool exhausted: \(slots) buffers needed, \(available) left of \(bufferCount)")
        }
        let table = SlotTable(count: slots) { UInt32((first + $0) * bufferSize) }
        tables.withLock { $0.append(table) }
        return table
    }
}

/// Which buffer each slot of a client ring holds, as a byte offset in the buffer region.
/// The client reads its buffer addresses only from here, never from descriptors a peer
/// could rewrite. Zero-copy forwarding swaps entries between two tables.
@usableFromInline
struct SlotTable: @unchecked Sendable {
    @usableFromInline let offsets: UnsafeMutablePointer<UInt32>
    let count: Int

    init(count: Int, offset: (Int) -> UInt32) {
        offsets = .allocate(capacity: count)
        for i in 0..<count { (offsets + i).initialize(to: offset(i)) }
        self.count = count
    }

    func free() { offsets.deallocate() }
}

/// Owns slot tables that belong to one connection (a client without a pool).
final class SlotTableOwner: @unchecked Sendable {
    let tables: [SlotTable]
    init(_ tables: [SlotTable]) { self.tables = tables }
    deinit { tables.forEach { $0.free() } }
}
