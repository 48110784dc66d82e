import CMemifLinux

extension MemifTxQueue {
    /// True when packets received on `rx` can be sent here by descriptor: both queues are
    /// clients on the same ``MemifBufferPool``. Check once per queue pair, not per packet.
    @inlinable
    public func canForward(from rx: MemifRxQueue) -> Bool {
        state.pointee.locator.sharesBuffers(with: rx.state.pointee.locator)
    }

    /// Transmits packets received on `rx` (views from its last ``MemifRxQueue/receive(into:)``,
    /// not yet released) without copying: each packet's buffer moves into a free transmit
    /// slot, and that slot's old, already sent buffer takes its place in the receive slot,
    /// to be posted again on `rx.release()`. Every buffer thus stays owned by exactly one
    /// slot, whatever the caller passes.
    ///
    /// Sends whole chains from the front of `packets` while transmit slots last, and stops
    /// at a view that is not one of `rx`'s outstanding slots or has a bad length. Forwarded
    /// views get length 0: their bytes now belong to the peer. Returns the views forwarded;
    /// 0 when ``canForward(from:)`` is false.
    @inlinable
    @discardableResult
    public func forward(_ packets: UnsafeMutableBufferPointer<MemifBuffer>, count: Int, from rx: MemifRxQueue) -> Int {
        let t = state
        let r = rx.state
        let out = t.pointee.locator
        let source = r.pointee.locator
        guard t.pointee.isActive, out.sharesBuffers(with: source) else { return 0 }
        let ring = t.pointee.ring
        let start = t.pointee.position
        var used = start &- ring.loadTailAcquire()
        if used > ring.size { used = ring.size }  // a broken peer's tail: send nothing
        let room = Int(ring.size &- used)
        let n = min(count, packets.count)
        let views = packets.baseAddress.unsafelyUnwrapped
        let rxStart = r.pointee.position
        let rxTaken = r.pointee.taken
        var i = 0, bytes = 0, sent = 0, chains = 0, packetCount = 0
        while i < n {
            // Find the chain starting at i and check every segment before moving any.
            var end = i
            var chainBytes = 0
            var valid = true
            while end < n {
                let b = views[end]
                if b.slot &- rxStart >= rxTaken || b.length == 0 || b.length > out.bufferSize { valid = false }
                chainBytes &+= Int(b.length)
                end &+= 1
                if b.flags & MemifProtocol.descriptorFlagNext == 0 { break }
            }
            let segments = end &- i
            guard valid, segments <= room &- sent, views[end &- 1].flags & MemifProtocol.descriptorFlagNext == 0 else { break }
            for k in i..<end {
                let b = views[k]
                let slot = start &+ UInt16(truncatingIfNeeded: sent)
                let txIndex = Int(slot & out.mask)
                let rxIndex = Int(b.slot & source.mask)
                let offset = source.slots[rxIndex]
                source.slots[rxIndex] = out.slots[txIndex]
                out.slots[txIndex] = offset
                let flags = k &+ 1 < end ? MemifProtocol.descriptorFlagNext : 0
                ring.setDescriptor(
                    cmemif_desc_t(flags: flags, region: out.ownRegion, length: b.length, offset: offset, metadata: 0),
                    at: slot)
                views[k].length = 0
                sent &+= 1
            }
            bytes &+= chainBytes
            if segments > 1 { chains &+= 1 }
            packetCount &+= 1
            i = end
        }
        guard sent != 0 else { return 0 }
        let head = start &+ UInt16(truncatingIfNeeded: sent)
        t.pointee.position = head
        ring.storeHeadRelease(head)
        t.pointee.signalPeerIfWanted()
        t.pointee.counters.add(packets: packetCount, bytes: bytes, chains: chains)
        return sent
    }
}
