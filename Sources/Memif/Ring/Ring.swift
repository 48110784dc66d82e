import CMemifLinux

/// A view of one ring in shared memory. It only reads and writes through the peer-safe
/// primitives: acquire/release on the indices, whole-descriptor loads and stores.
///
/// Unsafe by nature: `header` must point at a mapped ring that outlives this view; the
/// owning ``MemifConnection`` guarantees that for every queue it hands out.
@usableFromInline
struct Ring {
    @usableFromInline let header: UnsafeMutableRawPointer
    @usableFromInline let descriptors: UnsafeMutablePointer<cmemif_desc_t>
    @usableFromInline let tailOffset: Int
    /// Slots minus one; the ring size is a power of two.
    @usableFromInline let mask: UInt16
    @usableFromInline let size: UInt16

    init(header: UnsafeMutableRawPointer, layout: RingLayout, log2RingSize: UInt8) {
        self.header = header
        self.descriptors = (header + layout.descriptorsOffset).bindMemory(
            to: cmemif_desc_t.self, capacity: 1 << Int(log2RingSize))
        self.tailOffset = layout.tailOffset
        self.size = UInt16(truncatingIfNeeded: 1 << Int(log2RingSize))
        self.mask = size &- 1
    }

    var cookie: UInt32 {
        get { header.load(fromByteOffset: RingLayout.cookieOffset, as: UInt32.self) }
        nonmutating set { header.storeBytes(of: newValue, toByteOffset: RingLayout.cookieOffset, as: UInt32.self) }
    }

    @inlinable @inline(__always)
    func loadHeadAcquire() -> UInt16 { cmemif_load_acquire_u16(header + RingLayout.headOffset) }
    @inlinable @inline(__always)
    func storeHeadRelease(_ v: UInt16) { cmemif_store_release_u16(header + RingLayout.headOffset, v) }
    @inlinable @inline(__always)
    func loadTailAcquire() -> UInt16 { cmemif_load_acquire_u16(header + tailOffset) }
    @inlinable @inline(__always)
    func storeTailRelease(_ v: UInt16) { cmemif_store_release_u16(header + tailOffset, v) }
    @inlinable @inline(__always)
    func loadFlags() -> UInt16 { cmemif_load_relaxed_u16(header + RingLayout.flagsOffset) }
    @inlinable @inline(__always)
    func storeFlags(_ v: UInt16) { cmemif_store_relaxed_u16(header + RingLayout.flagsOffset, v) }

    /// The descriptor of free-running index `counter`, read once (see `cmemif_desc_load`).
    @inlinable @inline(__always)
    func descriptor(at counter: UInt16) -> cmemif_desc_t { cmemif_desc_load(descriptors + Int(counter & mask)) }

    @inlinable @inline(__always)
    func setDescriptor(_ d: cmemif_desc_t, at counter: UInt16) { descriptors[Int(counter & mask)] = d }

    /// Writes the fresh state a client gives each ring before sending ADD_RING.
    func initialize() {
        cookie = MemifProtocol.cookie
        storeFlags(0)
        storeHeadRelease(0)
        storeTailRelease(0)
    }
}
