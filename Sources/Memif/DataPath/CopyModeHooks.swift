import CMemifLinux

// Package hooks for asynchronous copy engines (MemifCopy): a server in copy mode keeps
// reserving posted buffers while earlier copies are in flight, publishes `tail` only over
// the completed prefix, and gives received slots back burst by burst as their copies
// finish (VPP's memif DMA mode). Nothing here changes the existing burst calls.

extension MemifBuffer {
    /// Free-running ring index of the slot this view came from.
    @inlinable package var ringSlot: UInt16 { slot }
}

extension MemifTxQueue {
    /// True on the server, which fills buffers the client posted.
    package var isServerSide: Bool { !state.pointee.isClient }

    /// Server: the first slot not yet published (our `tail`).
    @inlinable package var publishedPosition: UInt16 { state.pointee.position }

    /// Server: the end of the buffers the client has posted (its `head`), never more than
    /// a ring ahead of what we published, whatever the peer wrote.
    @inlinable
    package func postedEnd() -> UInt16 {
        let s = state
        let start = s.pointee.position
        var posted = s.pointee.ring.loadHeadAcquire() &- start
        if posted > s.pointee.ring.size { posted = s.pointee.ring.size }
        return start &+ posted
    }

    /// Server: the posted buffer of slot `counter` (read once, validated), or nil when its
    /// descriptor is unusable.
    @inlinable
    package func postedBuffer(at counter: UInt16) -> MemifBuffer? {
        let s = state
        let d = s.pointee.ring.descriptor(at: counter)
        guard let pointer = s.pointee.locator.received(d, at: counter, client: false) else { return nil }
        return MemifBuffer(data: pointer, length: 0, capacity: d.length, flags: 0, slot: counter)
    }

    /// Server: length and flags of slot `counter`, before it is published (G8: region and
    /// offset stay the client's).
    @inlinable
    package func setPostedDescriptor(at counter: UInt16, length: UInt32, flags: UInt16) {
        let ring = state.pointee.ring
        let index = Int(counter & ring.mask)
        ring.descriptors[index].length = length
        ring.descriptors[index].flags = flags
    }

    /// Server: publishes every slot before `end` with one release store of `tail`, wakes
    /// the peer if it wants it, and counts the burst.
    @inlinable
    package func publishPosted(upTo end: UInt16, packets: Int, bytes: Int, chains: Int, bad: Int) {
        let s = state
        s.pointee.position = end
        s.pointee.ring.storeTailRelease(end)
        s.pointee.signalPeerIfWanted()
        s.pointee.counters.add(packets: packets, bytes: bytes, drops: bad, bad: bad, chains: chains)
    }
}

extension MemifRxQueue {
    /// True on the server, whose received buffers belong to the client.
    package var isServerSide: Bool { !state.pointee.isClient }

    /// Slots handed out by ``receive(into:)`` and not yet released (bad ones included).
    @inlinable package var takenSlots: UInt16 { state.pointee.taken }

    /// Gives back only the oldest `count` taken slots, keeping later ones handed out.
    @inlinable
    package func release(first count: UInt16) {
        let s = state
        let n = min(count, s.pointee.taken)
        guard n != 0 else { return }
        let ring = s.pointee.ring
        let start = s.pointee.position
        let position = start &+ n
        s.pointee.position = position
        s.pointee.taken &-= n
        if s.pointee.isClient {
            refill(s, upTo: position &+ ring.size)
        } else {
            var counter = start
            while counter != position {
                let index = Int(counter & ring.mask)
                if ring.descriptors[index].flags != 0 { ring.descriptors[index].flags = 0 }
                counter &+= 1
            }
            ring.storeTailRelease(position)
        }
    }
}
