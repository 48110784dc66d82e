extension MemifChannelQueue {
    /// Sends packets received on `input` (its outstanding views, whole chains) out of this
    /// queue: by descriptor when both channels draw on the same ``MemifBufferPool``, else by
    /// one copy into this queue's buffers. What does not fit is dropped and counted. Call
    /// `input.release()` afterwards as usual. Returns the packets sent.
    ///
    /// - Parameter scratch: a burst array this thread owns for the copy path, at least as
    ///   large as the segments to copy; unused on the zero-copy path.
    @inlinable
    @discardableResult
    public mutating func forward(
        _ packets: UnsafeMutableBufferPointer<MemifBuffer>, count: Int, from input: MemifChannelQueue,
        scratch: UnsafeMutableBufferPointer<MemifBuffer>, counters: ForwardingCounters
    ) -> Int {
        let total = Self.packetCount(packets, count)
        guard total > 0 else { return 0 }
        // Queue handles are used in place (`tx!`), never bound to a local or unwrapped into
        // one (`if let`, `unsafelyUnwrapped`): such a copy retains the connection per burst.
        guard input.rx != nil, reserveIfNeeded() else {
            counters.add(zeroCopy: 0, copied: 0, dropped: total)
            return 0
        }
        return send(packets, count: count, total: total, from: input.rx!, scratch: scratch, counters: counters)
    }

    /// Sends packets received on this queue (its outstanding views) back out of it: what a
    /// reflector does, as ``forward(_:count:from:scratch:counters:)`` with `input` this same
    /// queue, without copying the handle (which would retain its connection per burst).
    /// Never moves to a new connection: the views live in the current one's memory, which
    /// only this queue's handles keep mapped. While it is down, the packets are dropped
    /// and counted; the next receive moves on.
    @inlinable
    @discardableResult
    public mutating func sendBack(
        _ packets: UnsafeMutableBufferPointer<MemifBuffer>, count: Int, scratch: UnsafeMutableBufferPointer<MemifBuffer>,
        counters: ForwardingCounters
    ) -> Int {
        let total = Self.packetCount(packets, count)
        guard total > 0 else { return 0 }
        // rx and tx come from the same connection (follow() sets both).
        guard rx != nil, tx?.isActive == true else {
            counters.add(zeroCopy: 0, copied: 0, dropped: total)
            return 0
        }
        return send(packets, count: count, total: total, from: rx!, scratch: scratch, counters: counters)
    }

    /// The sending half of both: `tx` is connected, `total` the whole packets among `count` views.
    @inlinable
    func send(
        _ packets: UnsafeMutableBufferPointer<MemifBuffer>, count: Int, total: Int, from source: MemifRxQueue,
        scratch: UnsafeMutableBufferPointer<MemifBuffer>, counters: ForwardingCounters
    ) -> Int {
        if tx!.canForward(from: source) {
            let segments = tx!.forward(packets, count: count, from: source)
            let sent = Self.packetCount(packets, segments)
            counters.add(zeroCopy: sent, copied: 0, dropped: total &- sent)
            return sent
        }
        let free = tx!.reserve(into: scratch)
        var used = 0, sent = 0, first = 0
        while first < count {
            var last = first
            while last < count &- 1 && packets[last].hasNext { last &+= 1 }
            let chain = UnsafeMutableBufferPointer(rebasing: packets[first...last])
            let k = MemifTxQueue.copy(segments: chain, into: scratch, from: used, to: free)
            if k == 0 { break }
            used &+= k
            sent &+= 1
            first = last &+ 1
        }
        if used > 0 { tx!.publish(scratch, count: used) }
        counters.add(zeroCopy: 0, copied: sent, dropped: total &- sent)
        return sent
    }

    /// Whole packets among the first `count` views: views that end a chain.
    @inlinable
    static func packetCount(_ views: UnsafeMutableBufferPointer<MemifBuffer>, _ count: Int) -> Int {
        var n = 0
        for i in 0..<count where !views[i].hasNext { n &+= 1 }
        return n
    }

    /// Makes sure `tx` is the current connection's; false while disconnected.
    @inlinable
    mutating func reserveIfNeeded() -> Bool {
        if tx?.isActive == true { return true }
        return follow()
    }
}
