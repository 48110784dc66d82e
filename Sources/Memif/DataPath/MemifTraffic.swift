import CMemifLinux

/// Whole-burst building blocks for traffic tools, benchmarks and simple network functions:
/// a sink, a source and a MAC-swapping reflector. Each call moves at most one burst and
/// does no allocation, locking or reference counting per packet.
public enum MemifTraffic {
    /// Receives one burst and reads each segment's first cache line (the work testpmd's
    /// `rxonly` does on an mbuf), then releases it. Returns the segments received.
    @inlinable
    public static func sink(_ rx: MemifRxQueue, burst: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        let n = rx.receive(into: burst)
        guard n > 0 else { return 0 }
        var touch: UInt64 = 0
        for i in 0..<n { touch &+= burst[i].data.loadUnaligned(as: UInt64.self) }
        cmemif_keep_u64(touch)
        rx.release()
        return n
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
