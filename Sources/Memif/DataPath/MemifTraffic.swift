import CMemifLinux

/// Whole-burst building blocks for traffic tools, benchmarks and simple network functions:
/// a sink, a source and a MAC-swapping reflector. Each call moves at most one burst and
/// does no allocation, locking or reference counting per packet.
public enum MemifTraffic {
    /// How much of each received segment a sink reads before releasing it.
    public enum SinkRead: Sendable {
        /// One word of the first cache line: the work testpmd's `rxonly` does on an mbuf.
        case firstCacheLine
        /// One word of every cache line: what a receiver that copies or parses the whole
        /// frame pulls across (DPDK's net_memif copies every frame into an mbuf). Reading the
        /// whole frame moves its lines out of the sender's cache, which on some machines lets
        /// the sender write faster (docs/performance.md).
        case everyCacheLine
    }

    /// Receives one burst, reads each segment as `read` says, then releases it. Returns the
    /// segments received.
    @inlinable
    public static func sink(
        _ rx: MemifRxQueue, burst: UnsafeMutableBufferPointer<MemifBuffer>, read: SinkRead = .firstCacheLine
    ) -> Int {
        let n = rx.receive(into: burst)
        guard n > 0 else { return 0 }
        var touch: UInt64 = 0
        switch read {
        case .firstCacheLine:
            for i in 0..<n { touch &+= firstWord(burst[i]) }
        case .everyCacheLine:
            for i in 0..<n {
                let b = burst[i]
                let length = Int(b.length)
                guard length >= 8 else {
                    touch &+= firstWord(b)
                    continue
                }
                // One word per line; the last word of a short tail line is read where it fits.
                var offset = 0
                while offset < length {
                    touch &+= b.data.loadUnaligned(fromByteOffset: min(offset, length &- 8), as: UInt64.self)
                    offset &+= 64
                }
            }
        }
        cmemif_keep_u64(touch)
        rx.release()
        return n
    }

    /// The first word of a segment, or its first byte when shorter (never reads past it).
    @inlinable @inline(__always)
    static func firstWord(_ b: MemifBuffer) -> UInt64 {
        b.length >= 8 ? b.data.loadUnaligned(as: UInt64.self) : UInt64(b.data.load(as: UInt8.self))
    }

    /// Writes whole copies of `frame` into as many free buffers as there are (chaining when
    /// the frame is larger than a buffer), at most `limit` packets, and publishes them.
    /// Returns the packets sent.
    @inlinable
    public static func source(
        _ tx: MemifTxQueue, frame: UnsafeRawBufferPointer, burst: UnsafeMutableBufferPointer<MemifBuffer>,
        limit: UInt64 = .max
    ) -> Int {
        let free = tx.reserve(into: burst)
        var used = 0
        var packets = 0
        while used < free && UInt64(truncatingIfNeeded: packets) < limit {
            let k = MemifTxQueue.copy(frame, into: burst, from: used, to: free)
            if k == 0 { break }
            used &+= k
            packets &+= 1
        }
        guard used > 0 else { return 0 }
        tx.publish(burst, count: used)
        return packets
    }

    /// Like `source(_:frame:burst:limit:)`, but each packet copies the next frame of `frames`,
    /// starting at `next` and wrapping at the pool's end; `next` is left at the frame the
    /// following call starts with. Returns the packets sent.
    @inlinable
    public static func source(
        _ tx: MemifTxQueue, frames: MemifFramePool, next: inout Int,
        burst: UnsafeMutableBufferPointer<MemifBuffer>, limit: UInt64 = .max
    ) -> Int {
        let free = tx.reserve(into: burst)
        var used = 0
        var packets = 0
        var i = next < frames.count && next >= 0 ? next : 0
        while used < free && UInt64(truncatingIfNeeded: packets) < limit {
            let k = MemifTxQueue.copy(frames[i], into: burst, from: used, to: free)
            if k == 0 { break }
            used &+= k
            packets &+= 1
            i &+= 1
            if i == frames.count { i = 0 }
        }
        next = i
        guard used > 0 else { return 0 }
        tx.publish(burst, count: used)
        return packets
    }

    /// Receives one burst and sends every packet back through `tx`, MAC addresses swapped
    /// (testpmd's `macswap`). Packets that find no free buffer are counted as drops.
    /// Returns the segments received.
    @inlinable
    public static func reflect(
        from rx: MemifRxQueue, to tx: MemifTxQueue, rxBurst: UnsafeMutableBufferPointer<MemifBuffer>,
        txBurst: UnsafeMutableBufferPointer<MemifBuffer>
    ) -> Int {
        let n = rx.receive(into: rxBurst)
        guard n > 0 else { return 0 }
        let free = tx.reserve(into: txBurst)
        var used = 0
        var dropped = 0
        var first = 0
        while first < n {
            var last = first
            while rxBurst[last].hasNext { last &+= 1 }
            let segments = UnsafeMutableBufferPointer(rebasing: rxBurst[first...last])
            let k = MemifTxQueue.copy(segments: segments, into: txBurst, from: used, to: free)
            if k == 0 {
                dropped &+= 1
            } else {
                swapMACs(txBurst[used])
                used &+= k
            }
            first = last &+ 1
        }
        tx.publish(txBurst, count: used)
        if dropped > 0 { tx.recordDrops(dropped) }
        rx.release()
        return n
    }

    /// Swaps destination and source MAC of the Ethernet frame starting in `b`.
    @inlinable
    public static func swapMACs(_ b: MemifBuffer) {
        guard b.length >= 12 else { return }
        let p = b.data
        let d0 = p.loadUnaligned(as: UInt32.self)
        let d1 = p.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        let s0 = p.loadUnaligned(fromByteOffset: 6, as: UInt32.self)
        let s1 = p.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        p.storeBytes(of: s0, as: UInt32.self)
        p.storeBytes(of: s1, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: d0, toByteOffset: 6, as: UInt32.self)
        p.storeBytes(of: d1, toByteOffset: 10, as: UInt16.self)
    }
}
