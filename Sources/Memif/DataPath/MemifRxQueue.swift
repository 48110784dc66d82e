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
        let ring = s.pointee.ring
        let isClient = s.pointee.isClient
        // The producer of a client's receive ring is the server (tail), and vice versa.
        let produced = isClient ? ring.loadTailAcquire() : ring.loadHeadAcquire()
        let position = s.pointee.position
        var taken = s.pointee.taken
        var outstanding = produced &- position
        var bad = 0
        if outstanding > ring.size {  // a broken peer: never trust more than a ring's worth
            outstanding = ring.size
            bad &+= 1
        }
        guard outstanding > taken else {
            if bad != 0 { s.pointee.counters.add(packets: 0, bytes: 0, bad: bad) }
            return 0
        }
        var available = Int(outstanding &- taken)
        var cursor = position &+ taken
        let out = buffers.baseAddress.unsafelyUnwrapped
        let capacity = buffers.count
        let bufferSize = s.pointee.bufferSize
        var filled = 0, packets = 0, bytes = 0, drops = 0, chains = 0

        while available > 0 && filled < capacity {
            // Parse one chain starting at `cursor`. Its bad descriptors count only once
            // the chain is consumed, not on every poll while it is still incomplete.
            var segments = 0
            var chainBytes = 0
            var chainBad = 0
            var complete = false
            while segments < available {
                let counter = cursor &+ UInt16(truncatingIfNeeded: segments)
                let d = ring.descriptor(at: counter)
                segments &+= 1
                let pointer: UnsafeMutableRawPointer?
                if isClient {
                    pointer = d.length != 0 && d.length <= bufferSize ? s.pointee.ownBuffer(counter) : nil
                } else {
                    pointer = s.pointee.peerBuffer(d)
                }
                if let pointer {
                    let index = filled &+ segments &- 1
                    if index < capacity {
                        out[index] = MemifBuffer(
                            data: pointer, length: d.length, capacity: d.length,
                            flags: d.flags & MemifProtocol.descriptorFlagNext, slot: counter)
                    }
                    chainBytes &+= Int(d.length)
                } else {
                    chainBad &+= 1
                }
                if d.flags & MemifProtocol.descriptorFlagNext == 0 {
                    complete = true
                    break
                }
            }
            var valid = chainBad == 0
            if !complete {
                // A chain still being written: wait for the rest. One that already covers
                // the whole ring can never complete: drop it so the ring does not stall.
                guard segments == Int(ring.size) else { break }
                valid = false
            } else if valid && filled &+ segments > capacity {
                guard segments > capacity else { break }  // fits next time
                valid = false  // longer than the caller's array will ever be
            }
            cursor &+= UInt16(truncatingIfNeeded: segments)
            available &-= segments
            taken &+= UInt16(truncatingIfNeeded: segments)
            bad &+= chainBad
            if valid {
                filled &+= segments
                packets &+= 1
                bytes &+= chainBytes
                if segments > 1 { chains &+= 1 }
            } else {
                drops &+= 1
            }
        }
        s.pointee.taken = taken
        s.pointee.counters.add(packets: packets, bytes: bytes, drops: drops, bad: bad, chains: chains)
        return filled
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

    /// Client: posts empty buffers for every slot up to `end` and publishes `head`.
    @inlinable @inline(__always)
    func refill(_ s: UnsafeMutablePointer<QueueState>, upTo end: UInt16) {
        let ring = s.pointee.ring
        let bufferSize = s.pointee.bufferSize
        var head = s.pointee.refillHead
        while head != end {
            ring.setDescriptor(s.pointee.ownDescriptor(head, length: bufferSize, flags: 0), at: head)
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
    /// signals, and resets the signal. Returns false on timeout.
    public func waitForSignal(timeoutMilliseconds: Int32) -> Bool {
        cmemif_eventfd_wait(state.pointee.eventFD, timeoutMilliseconds) > 0
    }

    /// The eventfd the peer signals, for applications that wait in their own epoll set.
    public var eventFileDescriptor: Int32 { state.pointee.eventFD }
}
