import CMemifLinux

/// A region as the data path sees it: where it is mapped and how many bytes it has.
@usableFromInline
struct RegionSpan {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let size: UInt64
}

/// Everything one queue's data path touches, in one heap block owned by its
/// ``MemifConnection``. The queue handles only carry a pointer to it, so bursts touch no
/// class, no array and no reference count, and need no exclusivity checks.
///
/// Thread rule: one thread at a time drives a queue; ``counters`` and ``active`` are the
/// only fields other threads read, through relaxed atomics.
@usableFromInline
struct QueueState {
    @usableFromInline var ring: Ring
    /// How this queue's descriptors map to buffers; copied into a local value once per
    /// burst so the per-descriptor loops keep it in registers.
    @usableFromInline let locator: BufferLocator
    /// Receive: first slot not yet given back. Transmit: our producer index.
    @usableFromInline var position: UInt16
    /// Receive: slots handed out by receive() and not yet released.
    @usableFromInline var taken: UInt16
    /// Client receive: our `head`, the end of the buffers posted to the server.
    @usableFromInline var refillHead: UInt16
    /// Client receive on pooled buffers: the first receive posts the buffers, on the
    /// thread that drives the queue, the only one that swaps its slot table's entries.
    @usableFromInline var refillPending: Bool
    @usableFromInline let eventFD: Int32
    @usableFromInline let counters: UnsafeMutablePointer<QueueCounters>
    /// 1 while connected; the event loop clears it on disconnect.
    @usableFromInline let active: UnsafeMutablePointer<UInt32>

    init(
        ring: Ring, locator: BufferLocator, eventFD: Int32, counters: UnsafeMutablePointer<QueueCounters>,
        active: UnsafeMutablePointer<UInt32>
    ) {
        self.ring = ring
        self.locator = locator
        self.position = 0
        self.taken = 0
        self.refillHead = 0
        self.refillPending = false
        self.eventFD = eventFD
        self.counters = counters
        self.active = active
    }

    /// True on the client, which owns the buffers; false on the server.
    @inlinable @inline(__always)
    var isClient: Bool { locator.isClient }

    @inlinable @inline(__always)
    var isActive: Bool { cmemif_load_relaxed_u32(active) != 0 }

    /// Wakes the peer after a publish, unless it polls (MASK_INT set on the ring).
    @inlinable @inline(__always)
    func signalPeerIfWanted() {
        if ring.loadFlags() & MemifProtocol.ringFlagMaskInterrupt == 0 {
            cmemif_eventfd_signal(eventFD)
        }
    }
}

/// Maps descriptors to buffer addresses and builds the client's own descriptors.
@usableFromInline
struct BufferLocator {
    /// True on the client, which owns the buffers; false on the server.
    @usableFromInline let isClient: Bool
    /// Server: every region the client registered, indexed by descriptor `region`.
    @usableFromInline let regions: UnsafePointer<RegionSpan>
    @usableFromInline let regionCount: UInt16
    /// Client: the buffer region's base and index, and which buffer each position holds
    /// (``SlotTable``, indexed by the free-running slot counter masked with `mask`). The
    /// client uses these, never the descriptor contents a peer could have rewritten.
    @usableFromInline let ownBase: UnsafeMutableRawPointer
    @usableFromInline let ownRegion: UInt16
    @usableFromInline let slots: UnsafeMutablePointer<UInt32>
    @usableFromInline let bufferSize: UInt32
    /// Entries of `slots` minus 1: the ring's mask, or with several buffers per slot a
    /// multiple of the ring, so that each lap of the ring lands on the next set of buffers
    /// (``MemifConfiguration/buffersPerSlot``).
    @usableFromInline let mask: UInt16
    /// Client: the buffers come from a ``MemifBufferPool`` shared with other interfaces.
    @usableFromInline let pooled: Bool

    @inlinable @inline(__always)
    init(
        isClient: Bool, regions: UnsafePointer<RegionSpan>, regionCount: UInt16, ownBase: UnsafeMutableRawPointer,
        ownRegion: UInt16, slots: UnsafeMutablePointer<UInt32>, bufferSize: UInt32, mask: UInt16, pooled: Bool
    ) {
        self.isClient = isClient
        self.regions = regions
        self.regionCount = regionCount
        self.ownBase = ownBase
        self.ownRegion = ownRegion
        self.slots = slots
        self.bufferSize = bufferSize
        self.mask = mask
        self.pooled = pooled
    }

    /// Where a received descriptor's data is, or nil when the descriptor is bad. A client
    /// trusts only the length (within its own buffer size) and uses its own buffer address;
    /// a server checks region and bounds in 64 bits. `client` is passed as a constant by
    /// role-specialised loops, so the branch folds away.
    @inlinable @inline(__always)
    func received(_ d: cmemif_desc_t, at counter: UInt16, client: Bool) -> UnsafeMutableRawPointer? {
        if client {
            return d.length != 0 && d.length <= bufferSize ? ownBuffer(counter) : nil
        }
        guard d.region < regionCount, d.length != 0 else { return nil }
        let span = regions[Int(d.region)]
        guard UInt64(d.offset) &+ UInt64(d.length) <= span.size else { return nil }
        return span.base + Int(d.offset)
    }

    /// Client only: the buffer slot `counter` holds.
    @inlinable @inline(__always)
    func ownBuffer(_ counter: UInt16) -> UnsafeMutableRawPointer {
        ownBase + Int(slots[Int(counter & mask)])
    }

    /// Client only: the descriptor for the buffer slot `counter` holds.
    @inlinable @inline(__always)
    func ownDescriptor(_ counter: UInt16, length: UInt32, flags: UInt16) -> cmemif_desc_t {
        cmemif_desc_t(flags: flags, region: ownRegion, length: length, offset: slots[Int(counter & mask)], metadata: 0)
    }

    /// True when buffers of `other`'s slots can move into this queue's slots by descriptor:
    /// both are clients drawing on the same pool, registered under the same region index.
    @inlinable @inline(__always)
    func sharesBuffers(with other: BufferLocator) -> Bool {
        pooled && other.pooled && isClient && other.isClient && ownBase == other.ownBase && ownRegion == other.ownRegion
            && bufferSize == other.bufferSize
    }
}
