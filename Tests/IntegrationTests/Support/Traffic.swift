import Foundation
import Memif

/// Test frames whose every byte is checkable: Ethernet header with distinct MACs, a local
/// experimental EtherType (0x88B5), a sequence number, then bytes derived from it.
enum TestTraffic {
    static let destinationMAC: [UInt8] = [0x02, 0xfe, 0, 0, 0, 0x02]
    static let sourceMAC: [UInt8] = [0x02, 0xfe, 0, 0, 0, 0x01]

    static func frame(sequence: UInt32, size: Int) -> [UInt8] {
        precondition(size >= 18)
        var f = destinationMAC + sourceMAC + [0x88, 0xB5]
        f += withUnsafeBytes(of: sequence.littleEndian, Array.init)
        var i = 0
        while f.count < size {
            f.append(UInt8(truncatingIfNeeded: Int(sequence) &* 31 &+ i &* 7 &+ 1))
            i += 1
        }
        return f
    }

    /// What a MAC-swapping peer (testpmd macswap, memifctl reflect) sends back.
    static func swapped(_ frame: [UInt8]) -> [UInt8] {
        Array(frame[6..<12]) + Array(frame[0..<6]) + Array(frame[12...])
    }

    static func sequence(of frame: [UInt8]) -> UInt32? {
        guard frame.count >= 18 else { return nil }
        return frame[14..<18].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    /// Sends `frames` in order over `tx` (chaining as needed); returns how many went out
    /// before `deadline`.
    static func send(_ frames: [[UInt8]], over tx: MemifTxQueue, burst: borrowing MemifBurst, deadline: Date) -> Int {
        var sent = 0
        while sent < frames.count && Date() < deadline && tx.isActive {
            let free = tx.reserve(into: burst.buffers)
            var used = 0
            var packets = 0
            while sent + packets < frames.count {
                let k = frames[sent + packets].withUnsafeBytes {
                    MemifTxQueue.copy($0, into: burst.buffers, from: used, to: free)
                }
                if k == 0 { break }
                used += k
                packets += 1
            }
            if used > 0 { tx.publish(burst.buffers, count: used) }
            sent += packets
            if packets == 0 { usleep(100) }
        }
        return sent
    }

    /// Receives whole packets (chains gathered) until `count` arrived or `deadline`.
    static func receive(_ count: Int, from rx: MemifRxQueue, burst: borrowing MemifBurst, deadline: Date) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        var current: [UInt8] = []
        while packets.count < count && Date() < deadline {
            let n = rx.receive(into: burst.buffers)
            for i in 0..<n {
                let b = burst[i]
                current += Array(UnsafeRawBufferPointer(b.bytes))
                if !b.hasNext {
                    packets.append(current)
                    current = []
                }
            }
            rx.release()
            if n == 0 { usleep(50) }
        }
        return packets
    }
}
