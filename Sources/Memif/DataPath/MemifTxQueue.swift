import CMemifLinux

/// The transmit side of one queue: hands out free buffers in shared memory to fill, then
/// publishes the filled ones. Same threading and per-packet rules as ``MemifRxQueue``.
///
/// A client owns its buffers and computes their addresses itself. A server fills buffers
/// the client posted: each posted descriptor is read once and validated, a bad one is
/// counted once and handed back empty (length 0); a server never changes a descriptor's
/// region or offset.
public struct MemifTxQueue: @unchecked Sendable {
    @usableFromInline let state: UnsafeMutablePointer<QueueState>
    /// Keeps the mapped memory behind `state` alive while this handle exists.
    @usableFromInline let owner: AnyObject

    init(state: UnsafeMutablePointer<QueueState>, owner: AnyObject) {
        self.state = state
        self.owner = owner
    }

    @inlinable
    public var isActive: Bool { state.pointee.isActive }

    public var statistics: MemifQueueStatistics { state.pointee.counters.snapshot() }

    /// True while the peer asks to be woken through the eventfd after each publish (its
    /// `MASK_INT` is clear); every publish then costs a `write` system call.
    public var peerWantsInterrupts: Bool {
        state.pointee.ring.loadFlags() & MemifProtocol.ringFlagMaskInterrupt == 0
    }

    /// Hands out up to `buffers.count` free buffers, each with its ``MemifBuffer/capacity``.
    /// Nothing is sent until ``publish(_:count:)``; buffers not published stay free.
    @inlinable
    public func reserve(into buffers: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        let s = state
        guard s.pointee.isActive, buffers.count > 0 else { return 0 }
        let ring = s.pointee.ring
        let out = buffers.baseAddress.unsafelyUnwrapped
        let start = s.pointee.position
        let locate = s.pointee.locator
        if locate.isClient {
            var used = start &- ring.loadTailAcquire()
            if used > ring.size { used = ring.size }  // a broken peer's tail: send nothing
            let n = min(Int(ring.size &- used), buffers.count)
            for i in 0..<n {
                let counter = start &+ UInt16(truncatingIfNeeded: i)
                out[i] = MemifBuffer(
                    data: locate.ownBuffer(counter), length: 0, capacity: locate.bufferSize, flags: 0, slot: counter)
            }
            return n
        }
        var posted = ring.loadHeadAcquire() &- start
        if posted > ring.size { posted = ring.size }
        // Hand out a contiguous run of usable posted buffers. An unusable one at the front
        // goes straight back to the client, empty (tail moves past it, as VPP does); one
        // after usable buffers ends the run and is handed back on the next call.
        var n = 0
        var bad = 0
        var position = start
        let end = start &+ posted
        while position &+ UInt16(truncatingIfNeeded: n) != end && n < buffers.count {
            let counter = position &+ UInt16(truncatingIfNeeded: n)
            let d = ring.descriptor(at: counter)
            if let pointer = locate.received(d, at: counter, client: false) {
                out[n] = MemifBuffer(data: pointer, length: 0, capacity: d.length, flags: 0, slot: counter)
                n &+= 1
            } else if n == 0 {
                let index = Int(counter & ring.mask)
                ring.descriptors[index].length = 0
                ring.descriptors[index].flags = 0
                position &+= 1
                bad &+= 1
            } else {
                break
            }
        }
        if bad != 0 {
            s.pointee.position = position
            ring.storeTailRelease(position)
            s.pointee.counters.add(packets: 0, bytes: 0, drops: bad, bad: bad)
        }
        return n
    }

    /// Publishes the first `count` reserved buffers, with the ``MemifBuffer/length`` and
    /// ``MemifBuffer/hasNext`` the caller set. Only whole chains go out: a trailing chain
    /// whose last segment still has `hasNext` is held back, as is everything from the first
    /// buffer with a length of 0 or above its capacity. Returns the buffers published.
    @inlinable
    @discardableResult
    public func publish(_ buffers: UnsafeMutableBufferPointer<MemifBuffer>, count: Int) -> Int {
        let s = state
        guard s.pointee.isActive else { return 0 }
        let n = min(count, buffers.count)
        return s.pointee.isClient ? publishBurst(s, buffers, n, client: true) : publishBurst(s, buffers, n, client: false)
    }

    @inlinable @inline(__always)
    func publishBurst(_ s: UnsafeMutablePointer<QueueState>, _ buffers: UnsafeMutableBufferPointer<MemifBuffer>, _ n: Int, client: Bool)
        -> Int
    {
        let ring = s.pointee.ring
        let locate = s.pointee.locator
        let bufs = buffers.baseAddress.unsafelyUnwrapped
        var i = 0, bytes = 0, chains = 0, chainSegments = 0
        while i < n {
            // The common case, free of calls: packets of one buffer each.
            while i < n {
                let b = bufs[i]
                guard b.length != 0 && b.length <= b.capacity && b.flags & MemifProtocol.descriptorFlagNext == 0 else {
                    break
                }
                Self.write(b, flags: 0, ring, locate, client: client)
                bytes &+= Int(b.length)
                i &+= 1
            }
            guard i < n else { break }
            let chain = Self.publishChain(bufs + i, count: n &- i, ring, locate)
            guard chain.segments > 0 else { break }  // an unusable buffer, or a partial chain
            i &+= chain.segments
            bytes &+= chain.bytes
            chains &+= 1
            chainSegments &+= chain.segments
        }
        guard i != 0 else { return 0 }
        let end = bufs[i &- 1].slot &+ 1
        s.pointee.position = end
        if client { ring.storeHeadRelease(end) } else { ring.storeTailRelease(end) }
        s.pointee.signalPeerIfWanted()
        s.pointee.counters.add(packets: i &- chainSegments &+ chains, bytes: bytes, chains: chains)
        return i
    }

    /// Writes one filled buffer's descriptor: a client writes the whole descriptor of its
    /// own buffer; a server only length and flags of what the client posted (G8).
    @inlinable @inline(__always)
    static func write(_ b: MemifBuffer, flags: UInt16, _ ring: Ring, _ locate: BufferLocator, client: Bool) {
        if client {
            ring.setDescriptor(locate.ownDescriptor(b.slot, length: b.length, flags: flags), at: b.slot)
        } else {
            let index = Int(b.slot & ring.mask)
            ring.descriptors[index].length = b.length
            ring.descriptors[index].flags = flags
        }
    }

    /// Writes the chain starting at `first` if all of it is there and usable; returns its
    /// segments and bytes, or zero segments (nothing to publish) otherwise. Out of line:
    /// chains are the rare case.
    @usableFromInline @inline(never)
    static func publishChain(_ first: UnsafeMutablePointer<MemifBuffer>, count: Int, _ ring: Ring, _ locate: BufferLocator)
        -> (segments: Int, bytes: Int)
    {
        var bytes = 0
        for k in 0..<count {
            let b = first[k]
            guard b.length != 0 && b.length <= b.capacity else { return (0, 0) }
            let flags = b.flags & MemifProtocol.descriptorFlagNext
            write(b, flags: flags, ring, locate, client: locate.isClient)
            bytes &+= Int(b.length)
            if flags == 0 { return (k &+ 1, bytes) }
        }
        return (0, 0)
    }

    /// Counts packets the application could not send (no free buffer), for the statistics.
    @inlinable
    public func recordDrops(_ n: Int) {
        state.pointee.counters.add(packets: 0, bytes: 0, drops: n)
    }

    /// Copies one packet into reserved buffers starting at `first`, chaining across as many
    /// as it needs and setting lengths and ``MemifBuffer/hasNext``. Returns the number of
    /// buffers used, or 0 (nothing changed) when `packet` does not fit in `first..<end`.
    @inlinable
    public static func copy(
        _ packet: UnsafeRawBufferPointer, into buffers: UnsafeMutableBufferPointer<MemifBuffer>,
        from first: Int, to end: Int
    ) -> Int {
        var remaining = packet.count
        guard remaining > 0 && first < end else { return 0 }
        if remaining <= Int(buffers[first].capacity) {  // the common case: one buffer
            buffers[first].data.copyMemory(from: packet.baseAddress.unsafelyUnwrapped, byteCount: remaining)
            buffers[first].length = UInt32(truncatingIfNeeded: remaining)
            buffers[first].flags = 0
            return 1
        }
        var room = 0
        var i = first
        while i < end && room < remaining {
            room &+= Int(buffers[i].capacity)
            i &+= 1
        }
        guard room >= remaining else { return 0 }
        var source = packet.baseAddress.unsafelyUnwrapped
        i = first
        while remaining > 0 {
            let chunk = min(remaining, Int(buffers[i].capacity))
            buffers[i].data.copyMemory(from: source, byteCount: chunk)
            buffers[i].length = UInt32(truncatingIfNeeded: chunk)
            remaining &-= chunk
            source += chunk
            buffers[i].hasNext = remaining > 0
            i &+= 1
        }
        return i &- first
    }
}

extension MemifTxQueue {
    /// Copies one received packet (the chain of views `segments`) into reserved buffers
    /// starting at `first`, re-chaining it to the transmit buffers' capacities. Returns the
    /// buffers used, or 0 (nothing changed) when it does not fit in `first..<end`.
    @inlinable
    public static func copy(
        segments: UnsafeMutableBufferPointer<MemifBuffer>, into buffers: UnsafeMutableBufferPointer<MemifBuffer>,
        from first: Int, to end: Int
    ) -> Int {
        var total = 0
        for s in segments { total &+= Int(s.length) }
        guard total > 0 else { return 0 }
        var room = 0
        var last = first
        while last < end && room < total {
            room &+= Int(buffers[last].capacity)
            last &+= 1
        }
        guard room >= total else { return 0 }
        var out = first
        var written = 0
        for s in segments {
            var source = UnsafeRawPointer(s.data)
            var left = Int(s.length)
            while left > 0 {
                let chunk = min(left, Int(buffers[out].capacity) &- written)
                (buffers[out].data + written).copyMemory(from: source, byteCount: chunk)
                written &+= chunk
                source += chunk
                left &-= chunk
                if written == Int(buffers[out].capacity) && (left > 0 || out &+ 1 < last) {
                    buffers[out].length = UInt32(truncatingIfNeeded: written)
                    buffers[out].hasNext = true
                    out &+= 1
                    written = 0
                }
            }
        }
        buffers[out].length = UInt32(truncatingIfNeeded: written)
        buffers[out].hasNext = false
        return out &- first &+ 1
    }
}
