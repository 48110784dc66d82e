import CMemifLinux

/// The receive side of one queue: hands out views of received packets in shared memory,
/// then gives the slots back on ``release()``.
///
/// One thread at a time may drive a queue. Nothing here allocates, locks, logs, throws or
/// retains per packet: one acquire load of the peer's index per burst, one release store
/// of ours per release.
///
/// Every descriptor is untrusted: read once into a local value, validated (region, bounds
/// in 64 bits, non-zero length) and, when bad, counted and skipped together with the rest
/// of its chain. Only whole chains are handed out (gotcha G10).
public struct MemifRxQueue: @unchecked Sendable {
    @usableFromInline let state: UnsafeMutablePointer<QueueState>
    /// Keeps the mapped memory behind `state` alive while this handle exists.
    @usableFromInline let owner: AnyObject

    init(state: UnsafeMutablePointer<QueueState>, owner: AnyObject) {
        self.state = state
        self.owner = owner
    }

    /// False once the connection this queue belongs to has gone down; bursts then return 0.
    @inlinable
    public var isActive: Bool { state.pointee.isActive }

    public var statistics: MemifQueueStatistics { state.pointee.counters.snapshot() }

    /// Receives up to `buffers.count` segments of whole packets. Returns how many views were
    /// written; a packet of several segments fills consecutive views, all but the last with
    /// ``MemifBuffer/hasNext``. The views stay valid until ``release()``.
    @inlinable
    public func receive(into buffers: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        let s = state
        guard s.pointee.isActive, buffers.count > 0 else { return 0 }
        if s.pointee.refillPending { postPooledBuffers(s) }
        // Two copies of the loop, one per role, so the role is a constant inside each.
        return s.pointee.isClient ? receiveBurst(s, buffers, client: true) : receiveBurst(s, buffers, client: false)
    }

    @inlinable @inline(__always)
    func receiveBurst(_ s: UnsafeMutablePointer<QueueState>, _ buffers: UnsafeMutableBufferPointer<MemifBuffer>, client: Bool)
        -> Int
    {
        let ring = s.pointee.ring
        // The producer of a client's receive ring is the server (tail), and vice versa.
        let produced = client ? ring.loadTailAcquire() : ring.loadHeadAcquire()
        let position = s.pointee.position
        let taken = s.pointee.taken
        var outstanding = produced &- position
        var bad = 0
        if outstanding > ring.size {  // a broken peer: never trust more than a ring's worth
            outstanding = ring.size
            bad = 1
        }
        guard outstanding > taken else {  // nothing new (or a peer moving its index back)
            if bad != 0 { s.pointee.counters.add(packets: 0, bytes: 0, bad: bad) }
            return 0
        }
        let end = position &+ outstanding
        var cursor = position &+ taken
        let out = buffers.baseAddress.unsafelyUnwrapped
        let capacity = buffers.count
        let locate = s.pointee.locator
        var filled = 0, bytes = 0, drops = 0, chains = 0, chainSegments = 0
        outer: while cursor != end && filled < capacity {
            // The common case, kept free of calls so its state stays in registers: packets
            // of one descriptor each.
            while cursor != end && filled < capacity {
                let d = ring.descriptor(at: cursor)
                guard d.flags & MemifProtocol.descriptorFlagNext == 0 else { break }
                if let data = locate.received(d, at: cursor, client: client) {
                    out[filled] = MemifBuffer(data: data, length: d.length, capacity: d.length, flags: 0, slot: cursor)
                    filled &+= 1
                    bytes &+= Int(d.length)
                } else {
                    bad &+= 1
                    drops &+= 1
                }
                cursor &+= 1
            }
            guard cursor != end && filled < capacity else { break }
            let chain = Self.parseChain(
                ring, locate, from: cursor, available: Int(end &- cursor), into: out + filled, room: capacity &- filled,
                capacity: capacity)
            guard chain.segments > 0 else { break outer }  // incomplete, or for the next call
            cursor &+= UInt16(truncatingIfNeeded: chain.segments)
            bad &+= chain.bad
            if chain.delivered {
                filled &+= chain.segments
                chains &+= 1
                chainSegments &+= chain.segments
                bytes &+= chain.bytes
            } else {
                drops &+= 1
            }
        }
        let packets = filled &- chainSegments &+ chains
        s.pointee.taken = cursor &- position
        if packets | bad | drops != 0 {
            s.pointee.counters.add(packets: packets, bytes: bytes, drops: drops, bad: bad, chains: chains)
        }
        return filled
    }

    /// What ``parseChain(_:_:from:available:into:room:capacity:)`` found.
    @usableFromInline
    struct Chain {
        /// Slots the chain takes; 0 when it must wait (incomplete, or no room this call).
        @usableFromInline var segments = 0
        @usableFromInline var bytes = 0
        @usableFromInline var bad = 0
        /// False when the chain is consumed but dropped (a bad segment, or it can never fit).
        @usableFromInline var delivered = false

        @inlinable init() {}
    }

    /// Parses the chain starting at `first` into views at `out` (`room` of them free, in an
    /// array of `capacity`). Bad descriptors count only once the chain is consumed, never
    /// while it is still being written. Kept out of line: chains are the rare case.
    @usableFromInline @inline(never)
    static func parseChain(
        _ ring: Ring, _ locate: BufferLocator, from first: UInt16, available: Int,
        into out: UnsafeMutablePointer<MemifBuffer>, room: Int, capacity: Int
    ) -> Chain {
        var chain = Chain()
        var segments = 0
        var complete = false
        while segments < available {
            let counter = first &+ UInt16(truncatingIfNeeded: segments)
            let d = ring.descriptor(at: counter)
            if let data = locate.received(d, at: counter, client: locate.isClient) {
                if segments < room {
                    out[segments] = MemifBuffer(
                        data: data, length: d.length, capacity: d.length,
                        flags: d.flags & MemifProtocol.descriptorFlagNext, slot: counter)
                }
                chain.bytes &+= Int(d.length)
            } else {
                chain.bad &+= 1
            }
            segments &+= 1
            if d.flags & MemifProtocol.descriptorFlagNext == 0 {
                complete = true
                break
            }
        }
        if !complete {
            // Still being written: wait. One already covering the whole ring never completes:
            // drop it so the ring does not stall.
            guard segments == Int(ring.size) else { return Chain() }
        } else if chain.bad == 0 && segments > room && segments <= capacity {
            return Chain()  // fits an empty array: wait for the next call
        }
        chain.segments = segments
        chain.delivered = complete && chain.bad == 0 && segments <= room
        return chain
    }

    /// Gives every slot handed out by ``receive(into:)`` back to the peer; their views become
    /// invalid. A server advances `tail`, clearing each descriptor's flags first (gotcha G9);
    /// a client re-posts empty buffers with cleared flags and advances `head`.
    @inlinable
    public func release() {
        let s = state
        let taken = s.pointee.taken
        guard taken != 0 else { return }
        let ring = s.pointee.ring
        let position = s.pointee.position &+ taken
        s.pointee.position = position
        s.pointee.taken = 0
        if s.pointee.isClient {
            refill(s, upTo: position &+ ring.size)
        } else {
            // Only descriptors that still carry a flag are written: an unconditional store
            // would pull every descriptor line back and forth between the two cores.
            var counter = position &- taken
            while counter != position {
                let index = Int(counter & ring.mask)
                if ring.descriptors[index].flags != 0 { ring.descriptors[index].flags = 0 }
                counter &+= 1
            }
            ring.storeTailRelease(position)
        }
    }

    /// Client on a pool: the first receive of a connection posts the empty buffers.
    @usableFromInline @inline(never)
    func postPooledBuffers(_ s: UnsafeMutablePointer<QueueState>) {
        s.pointee.refillPending = false
        refill(s, upTo: s.pointee.position &+ s.pointee.ring.size)
    }

    /// Client: posts empty buffers for every slot up to `end` and publishes `head`.
    @inlinable @inline(__always)
    func refill(_ s: UnsafeMutablePointer<QueueState>, upTo end: UInt16) {
        let ring = s.pointee.ring
        let locate = s.pointee.locator
        var head = s.pointee.refillHead
        while head != end {
            ring.setDescriptor(locate.ownDescriptor(head, length: locate.bufferSize, flags: 0), at: head)
            head &+= 1
        }
        s.pointee.refillHead = head
        ring.storeHeadRelease(head)
    }

    /// Interrupt mode (true) asks the peer to signal this queue's eventfd after each burst;
    /// polling mode (false, the default, as DPDK) sets `MASK_INT` so the peer does not.
    public func setInterruptMode(_ enabled: Bool) {
        state.pointee.ring.storeFlags(enabled ? 0 : MemifProtocol.ringFlagMaskInterrupt)
    }

    /// In interrupt mode: blocks up to `timeoutMilliseconds` (-1: forever) until the peer
    /// signals, and resets the signal. Returns false on timeout. A client on a
    /// ``MemifBufferPool`` must call ``receive(into:)`` once per connection first: that call
    /// posts its buffers, without which the peer has nothing to send into.
    public func waitForSignal(timeoutMilliseconds: Int32) -> Bool {
        cmemif_eventfd_wait(state.pointee.eventFD, timeoutMilliseconds) > 0
    }

    /// The eventfd the peer signals, for applications that wait in their own epoll set.
    public var eventFileDescriptor: Int32 { state.pointee.eventFD }
}
