import Memif

/// A server's transmit queue in copy mode: packets in the caller's (local) buffers are
/// copied by a ``CopyEngine`` into buffers the client posted, and the `tail` the client
/// sees moves only over the prefix of bursts whose copies completed, in order (as VPP's
/// memif DMA mode publishes from its completion callback).
///
/// One engine per queue, used by nothing else: its bursts are this queue's bursts. One
/// thread drives it. A packet's source must stay unchanged until ``complete()`` counts it.
public struct MemifCopyTransmitter<Engine: CopyEngine>: @unchecked Sendable {
    public let queue: MemifTxQueue
    public let engine: Engine
    @usableFromInline let state: UnsafeMutablePointer<TransmitState>
    @usableFromInline let owner: CopyPathStorage<TransmitState>

    @usableFromInline
    struct TransmitState {
        /// Next posted slot to fill; slots between the published tail and this are in flight.
        @usableFromInline var cursor: UInt16
        @usableFromInline let pending: UnsafeMutablePointer<PendingTransmit>
        @usableFromInline let mask: Int
        @usableFromInline var head = 0
        @usableFromInline var tail = 0
        /// The posted buffers of the burst being built, as validated when first read.
        @usableFromInline let scratch: UnsafeMutablePointer<MemifBuffer>
        @usableFromInline let scratchCount: Int
    }

    @usableFromInline
    struct PendingTransmit {
        @usableFromInline var end: UInt16
        @usableFromInline var consumed: Int
        @usableFromInline var packets: Int
        @usableFromInline var bytes: Int
        @usableFromInline var chains: Int
        @usableFromInline var bad: Int

        @inlinable init(end: UInt16, consumed: Int, packets: Int, bytes: Int, chains: Int, bad: Int) {
            self.end = end
            self.consumed = consumed
            self.packets = packets
            self.bytes = bytes
            self.chains = chains
            self.bad = bad
        }
    }

    /// `queue` must be a server's transmit queue.
    public init(queue: MemifTxQueue, engine: Engine, maxBurstsInFlight: Int = 64) {
        precondition(queue.isServerSide, "copy mode is the server side's: the client owns the buffers")
        var slots = 1
        while slots < maxBurstsInFlight { slots <<= 1 }
        let pending = UnsafeMutablePointer<PendingTransmit>.allocate(capacity: slots)
        let scratchCount = engine.maxCopiesPerBurst
        let scratch = UnsafeMutablePointer<MemifBuffer>.allocate(capacity: scratchCount)
        scratch.initialize(repeating: MemifBuffer(), count: scratchCount)
        let storage = CopyPathStorage(
            TransmitState(
                cursor: queue.publishedPosition, pending: pending, mask: slots - 1, scratch: scratch,
                scratchCount: scratchCount)
        ) { s in
            s.pointee.pending.deallocate()
            s.pointee.scratch.deallocate()
        }
        self.queue = queue
        self.engine = engine
        self.owner = storage
        self.state = storage.state
    }

    /// Slots filled or being filled and not yet published.
    public var slotsInFlight: Int { Int(state.pointee.cursor &- queue.publishedPosition) }

    /// Copies up to `count` packets (each view's `data` and `length`; one view per packet)
    /// into posted buffers, chaining a packet across buffers when it does not fit in one,
    /// and submits them as one burst. Returns the packets taken; ``complete()`` publishes
    /// them. Retires finished bursts first.
    @inlinable
    public func send(_ packets: UnsafeMutableBufferPointer<MemifBuffer>, count: Int) -> Int {
        _ = complete()
        let s = state
        guard queue.isActive, s.pointee.tail &- s.pointee.head <= s.pointee.mask else { return 0 }
        let capacity = min(engine.copyCapacity, s.pointee.scratchCount)
        guard capacity > 0 else { return 0 }
        let end = queue.postedEnd()
        let scratch = s.pointee.scratch
        var cursor = s.pointee.cursor
        var used = 0, taken = 0, packetsOut = 0, bytes = 0, chains = 0, bad = 0
        let n = min(count, packets.count)
        outer: while taken < n {
            let length = Int(packets[taken].length)
            if length == 0 {
                taken &+= 1
                continue
            }
            // Find posted buffers for the whole packet before copying any of it.
            var probe = cursor
            var segments = 0
            var room = 0
            while room < length {
                guard probe != end && used &+ segments < capacity else { break outer }
                guard let b = queue.postedBuffer(at: probe) else {
                    guard segments == 0 else { break outer }  // hand it back on the next call
                    queue.setPostedDescriptor(at: probe, length: 0, flags: 0)
                    probe &+= 1
                    cursor = probe
                    bad &+= 1
                    continue
                }
                scratch[used &+ segments] = b
                room &+= Int(b.capacity)
                segments &+= 1
                probe &+= 1
            }
            var source = UnsafeRawPointer(packets[taken].data)
            var left = length
            for k in 0..<segments {
                let b = scratch[used &+ k]
                let chunk = min(left, Int(b.capacity))
                _ = engine.enqueue(destination: b.data, source: source, length: chunk, fence: false)
                left &-= chunk
                source += chunk
                queue.setPostedDescriptor(
                    at: b.ringSlot, length: UInt32(truncatingIfNeeded: chunk), flags: left > 0 ? MemifProtocol.descriptorFlagNext : 0)
            }
            if segments > 1 { chains &+= 1 }
            used &+= segments
            cursor = probe
            taken &+= 1
            packetsOut &+= 1
            bytes &+= length
        }
        guard cursor != s.pointee.cursor || taken != 0 else { return 0 }
        guard engine.submit(cookie: UInt64(s.pointee.tail)) else { return 0 }  // canStartBurst held above
        s.pointee.pending[s.pointee.tail & s.pointee.mask] = PendingTransmit(
            end: cursor, consumed: taken, packets: packetsOut, bytes: bytes, chains: chains, bad: bad)
        s.pointee.tail &+= 1
        s.pointee.cursor = cursor
        return taken
    }

    /// Retires completed bursts in order and publishes `tail` once over all of them.
    /// Returns the caller's packets whose copies are done (their buffers may be reused).
    @inlinable
    @discardableResult
    public func complete() -> Int {
        let s = state
        var consumed = 0, packets = 0, bytes = 0, chains = 0, bad = 0
        var end: UInt16? = nil
        while s.pointee.head != s.pointee.tail, engine.poll() != nil {
            let b = s.pointee.pending[s.pointee.head & s.pointee.mask]
            s.pointee.head &+= 1
            consumed &+= b.consumed
            packets &+= b.packets
            bytes &+= b.bytes
            chains &+= b.chains
            bad &+= b.bad
            end = b.end
        }
        if let end { queue.publishPosted(upTo: end, packets: packets, bytes: bytes, chains: chains, bad: bad) }
        return consumed
    }
}

/// A server's receive queue in copy mode: received segments are copied out of the
/// client's buffers into the caller's, and handed up (and their slots given back) only
/// once copied, burst by burst in order.
public struct MemifCopyReceiver<Engine: CopyEngine>: @unchecked Sendable {
    public let queue: MemifRxQueue
    public let engine: Engine
    @usableFromInline let state: UnsafeMutablePointer<ReceiveState>
    @usableFromInline let owner: CopyPathStorage<ReceiveState>

    @usableFromInline
    struct ReceiveState {
        @usableFromInline let pending: UnsafeMutablePointer<(slots: UInt16, segments: Int)>
        @usableFromInline let mask: Int
        @usableFromInline var head = 0
        @usableFromInline var tail = 0
        @usableFromInline let views: UnsafeMutablePointer<MemifBuffer>
        @usableFromInline let viewCount: Int
        @usableFromInline var drops = 0
    }

    public init(queue: MemifRxQueue, engine: Engine, maxBurstsInFlight: Int = 64) {
        precondition(queue.isServerSide, "copy mode is the server side's: the client owns the buffers")
        var slots = 1
        while slots < maxBurstsInFlight { slots <<= 1 }
        let pending = UnsafeMutablePointer<(slots: UInt16, segments: Int)>.allocate(capacity: slots)
        let views = UnsafeMutablePointer<MemifBuffer>.allocate(capacity: engine.maxCopiesPerBurst)
        views.initialize(repeating: MemifBuffer(), count: engine.maxCopiesPerBurst)
        let storage = CopyPathStorage(
            ReceiveState(pending: pending, mask: slots - 1, views: views, viewCount: engine.maxCopiesPerBurst)
        ) { s in
            s.pointee.pending.deallocate()
            s.pointee.views.deallocate()
        }
        self.queue = queue
        self.engine = engine
        self.owner = storage
        self.state = storage.state
    }

    /// Segments too long for the caller's buffer: not copied, handed up with length 0.
    public var truncatedSegments: Int { state.pointee.drops }

    /// Receives whole packets, at most `destinations.count` segments, and submits copies of
    /// segment i into `destinations[i]` (its `data` and `capacity` set by the caller; its
    /// `length` and ``MemifBuffer/hasNext`` set here). Returns the segments submitted; they
    /// are ready once ``complete()`` counts them, and the destinations must stay reserved
    /// until then.
    @inlinable
    public func receive(into destinations: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        let s = state
        guard s.pointee.tail &- s.pointee.head <= s.pointee.mask else { return 0 }
        let room = min(destinations.count, engine.copyCapacity, s.pointee.viewCount)
        guard room > 0 else { return 0 }
        let before = queue.takenSlots
        let n = queue.receive(into: UnsafeMutableBufferPointer(start: s.pointee.views, count: room))
        let slots = queue.takenSlots &- before
        guard slots != 0 else { return 0 }
        for i in 0..<n {
            let v = s.pointee.views[i]
            var length = v.length
            if length > destinations[i].capacity {
                length = 0
                s.pointee.drops &+= 1
            } else {
                _ = engine.enqueue(destination: destinations[i].data, source: v.data, length: Int(length), fence: false)
            }
            destinations[i].length = length
            destinations[i].flags = v.flags
        }
        _ = engine.submit(cookie: UInt64(s.pointee.tail))
        s.pointee.pending[s.pointee.tail & s.pointee.mask] = (slots, n)
        s.pointee.tail &+= 1
        return n
    }

    /// Retires completed bursts in order, giving their slots back to the client. Returns
    /// the segments now copied, in the order ``receive(into:)`` submitted them.
    @inlinable
    @discardableResult
    public func complete() -> Int {
        let s = state
        var segments = 0
        var slots: UInt16 = 0
        while s.pointee.head != s.pointee.tail, engine.poll() != nil {
            let b = s.pointee.pending[s.pointee.head & s.pointee.mask]
            s.pointee.head &+= 1
            slots &+= b.slots
            segments &+= b.segments
        }
        if slots != 0 { queue.release(first: slots) }
        return segments
    }
}

/// Owns a copy path's state block.
@usableFromInline
final class CopyPathStorage<State> {
    let state: UnsafeMutablePointer<State>
    let cleanup: (UnsafeMutablePointer<State>) -> Void

    init(_ value: State, cleanup: @escaping (UnsafeMutablePointer<State>) -> Void) {
        state = .allocate(capacity: 1)
        state.initialize(to: value)
        self.cleanup = cleanup
    }

    deinit {
        cleanup(state)
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
