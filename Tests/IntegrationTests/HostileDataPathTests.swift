import CMemifLinux
import Foundation
import Testing

@testable import Memif

#if canImport(Glibc)
import Glibc
#endif

/// Hostile descriptors after a hand-made, successful handshake: the server counts and skips
/// them, never hands them out, and keeps serving.
@Suite(.serialized)
struct HostileDataPathTests {
    @Test func descriptorsOutsideRegionsAreCountedAndSkipped() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        fx.checkGoodTraffic("before")
        try fx.withHostileConnection { region, connection in
            let rx = connection.receiveQueue(0)
            let burst = MemifBurst(capacity: 64)
            let s2m = HostileRegion.s2m
            let size = UInt32(HostileRegion.size)

            // 1. Bad single descriptors: all counted, none handed out, all passed by tail.
            var before = rx.statistics
            region.push([
                region.desc(region: 7, offset: region.bufferOffset(0), length: 100),
                region.desc(offset: 0xFFFF_FF00, length: 0x200),  // wraps to 0x100 in 32 bits
                region.desc(offset: 0xFFFF_FFFF, length: 0xFFFF_FFFF),
                region.desc(offset: size - 16, length: 32),
                region.desc(offset: size, length: 1),
                region.desc(offset: region.bufferOffset(5), length: 0),
            ])
            var got = drain(rx, burst)
            var d = delta(before, rx.statistics)
            #expect(got.isEmpty, "bad descriptors were handed out: \(got.map(\.bytes.count))")
            #expect(d.badDescriptors == 6 && d.drops == 6 && d.packets == 0, "\(d)")
            #expect(region.tail(s2m) == region.s2mHead, "tail must move past bad descriptors")

            // 2. A valid descriptor after them, and one ending exactly at the region end.
            before = rx.statistics
            let p1 = payload(1, 200)
            let p2 = payload(2, 64)
            region.write(p2, at: size - 64)
            region.push([region.packet(p1, at: region.s2mHead), region.desc(offset: size - 64, length: 64)])
            got = drain(rx, burst)
            d = delta(before, rx.statistics)
            #expect(got.map(\.bytes) == [p1, p2])
            #expect(d.packets == 2 && d.badDescriptors == 0 && d.drops == 0, "\(d)")

            // 3. Chains with one bad segment are dropped whole; the next packet still arrives.
            before = rx.statistics
            let p3 = payload(3, 300)
            let h0 = region.s2mHead
            region.push([
                region.packet(payload(30, 100), at: h0, next: true),
                region.desc(region: 7, offset: 0, length: 10),
                region.desc(offset: 0xFFFF_FF00, length: 0x200, next: true),
                region.packet(payload(31, 100), at: h0 &+ 3),
                region.packet(p3, at: h0 &+ 4),
            ])
            got = drain(rx, burst)
            d = delta(before, rx.statistics)
            #expect(got.map(\.bytes) == [p3], "only the valid single packet may come out")
            #expect(d.drops == 2 && d.badDescriptors == 2 && d.packets == 1 && d.chains == 0, "\(d)")
            #expect(region.tail(s2m) == region.s2mHead)

            // 4. A partial chain waits (G10); completed, it arrives whole.
            before = rx.statistics
            let segs = (0..<4).map { payload(40 + $0, 150) }
            let h1 = region.s2mHead
            region.push((0..<3).map { region.packet(segs[$0], at: h1 &+ UInt16($0), next: true) })
            got = drain(rx, burst)
            #expect(got.isEmpty, "a partial chain was handed out")
            #expect(region.tail(s2m) == h1, "tail moved over a partial chain")
            region.push([region.packet(segs[3], at: h1 &+ 3)])
            got = drain(rx, burst)
            d = delta(before, rx.statistics)
            #expect(got.map(\.bytes) == segs && got.map(\.next) == [true, true, true, false])
            #expect(d.packets == 1 && d.chains == 1 && d.drops == 0 && d.badDescriptors == 0, "\(d)")

            // 5. Head advanced by more than the ring size: counted, clamped to one ring's worth.
            before = rx.statistics
            let t5 = region.tail(s2m)
            let ringFull = (0..<HostileRegion.slots).map { payload(50 + $0, 80) }
            for (i, p) in ringFull.enumerated() {
                region.setDescriptor(s2m, counter: t5 &+ UInt16(i), region.packet(p, at: t5 &+ UInt16(i)))
            }
            region.setHead(s2m, t5 &+ 40)
            got = drain(rx, burst)
            d = delta(before, rx.statistics)
            #expect(d.badDescriptors >= 1, "an index beyond the ring size must be counted: \(d)")
            #expect(got.count <= HostileRegion.slots, "\(got.count) views handed out from a \(HostileRegion.slots)-slot ring")
            #expect(got.allSatisfy { ringFull.contains($0.bytes) }, "something other than a written packet came out")
            let advanced = region.tail(s2m) &- t5
            #expect(advanced <= UInt16(HostileRegion.slots), "tail advanced by \(advanced) on a 16-slot ring")
            // Resynchronise on the server's tail and send one valid packet.
            region.s2mHead = region.tail(s2m)
            let p5 = payload(5, 500)
            region.push([region.packet(p5, at: region.s2mHead)])
            got = drain(rx, burst)
            #expect(got.map(\.bytes) == [p5])

            // 6. A chain that never ends within a full ring is dropped, not left to stall it.
            before = rx.statistics
            let t6 = region.s2mHead
            region.push((0..<HostileRegion.slots).map { region.packet(payload(60 + $0, 70), at: t6 &+ UInt16($0), next: true) })
            got = drain(rx, burst)
            d = delta(before, rx.statistics)
            #expect(got.isEmpty, "an endless chain was handed out")
            #expect(d.drops == 1 && d.packets == 0, "\(d)")
            #expect(region.tail(s2m) == t6 &+ UInt16(HostileRegion.slots), "the ring stalled on an endless chain")

            // 7. Normal service afterwards: a full burst of valid packets, in order.
            let finals = (0..<10).map { payload(70 + $0, 60 + 100 * $0) }
            let h7 = region.s2mHead
            region.push(finals.enumerated().map { region.packet($0.element, at: h7 &+ UInt16($0.offset)) })
            got = drain(rx, burst)
            #expect(got.map(\.bytes) == finals)
            #expect(connection.isConnected, "the server dropped the connection")
        }
        #expect(Resources.eventually(timeout: 3) { fx.server0.connection == nil })
        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }

    @Test func badDescriptorInPendingChainIsCountedOnce() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        try fx.withHostileConnection { region, connection in
            let rx = connection.receiveQueue(0)
            let burst = MemifBurst(capacity: 64)
            let before = rx.statistics
            let h0 = region.s2mHead
            // A chain still being written whose first segment is bad; polled three times.
            region.push([
                region.desc(offset: 0xFFFF_FF00, length: 0x200, next: true),
                region.packet(payload(1, 100), at: h0 &+ 1, next: true),
            ])
            for _ in 0..<3 { #expect(drain(rx, burst).isEmpty) }
            let whilePending = delta(before, rx.statistics)
            region.push([region.packet(payload(2, 100), at: h0 &+ 2)])
            #expect(drain(rx, burst).isEmpty, "a chain with a bad segment was handed out")
            let d = delta(before, rx.statistics)
            #expect(d.drops == 1, "\(d)")
            #expect(
                d.badDescriptors == 1,
                "one bad descriptor was counted \(d.badDescriptors) times (\(whilePending.badDescriptors) while its chain was pending)"
            )
            let p = payload(3, 64)
            region.push([region.packet(p, at: region.s2mHead)])
            #expect(drain(rx, burst).map(\.bytes) == [p])
        }
        fx.checkGoodTraffic("after")
    }

    @Test func badPostedBuffersAreSkippedOnTransmit() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        try fx.withHostileConnection { region, connection in
            let tx = connection.transmitQueue(0)
            let burst = MemifBurst(capacity: 64)
            let m2s = HostileRegion.m2s
            let good = region.bufferOffset(19)
            region.setDescriptor(m2s, counter: 0, region.desc(region: 7, offset: region.bufferOffset(16), length: 2048))
            region.setDescriptor(m2s, counter: 1, region.desc(offset: 0xFFFF_FF00, length: 0x200))
            region.setDescriptor(m2s, counter: 2, region.desc(offset: region.bufferOffset(18), length: 0))
            region.setDescriptor(m2s, counter: 3, region.desc(offset: good, length: 2048))
            region.setHead(m2s, 4)
            let n = tx.reserve(into: burst.buffers)
            #expect(n == 1, "reserve handed out \(n) buffers; only one posted buffer is valid")
            guard n == 1 else { return }
            #expect(burst[0].capacity == 2048)
            let p = payload(9, 1000)
            let used = p.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: 0, to: n) }
            #expect(used == 1)
            #expect(tx.publish(burst.buffers, count: used) == 1)
            #expect(region.tail(m2s) == 4)
            #expect(region.descriptor(m2s, counter: 3).length == UInt32(p.count))
            #expect(region.descriptor(m2s, counter: 3).offset == good, "the server must never move a posted offset")
            #expect(region.read(at: good, count: p.count) == p)
            #expect((0..<3).allSatisfy { region.descriptor(m2s, counter: UInt16($0)).length == 0 })
            #expect(tx.statistics.badDescriptors == 3, "\(tx.statistics)")
            #expect(tx.reserve(into: burst.buffers) == 0)
        }
        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }

    @Test func unusablePostedBuffersAreHandedBackOnTransmit() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        try fx.withHostileConnection { region, connection in
            let tx = connection.transmitQueue(0)
            let burst = MemifBurst(capacity: 64)
            let m2s = HostileRegion.m2s
            // The whole M2S ring posted with unusable buffers (region 7).
            for k in 0..<HostileRegion.slots {
                region.setDescriptor(
                    m2s, counter: UInt16(k), region.desc(region: 7, offset: region.bufferOffset(16 + k), length: 2048))
            }
            region.setHead(m2s, UInt16(HostileRegion.slots))
            for _ in 0..<3 { #expect(tx.reserve(into: burst.buffers) == 0) }
            let bad = tx.statistics.badDescriptors
            #expect(bad == UInt64(HostileRegion.slots), "16 unusable posted buffers were counted \(bad) times over 3 polls")
            // Reference 2.10: drop bad descriptors but still advance past them. Until tail
            // passes them the client's ring stays full and it can never post again.
            let handedBack = Resources.eventually(timeout: 1) {
                _ = tx.reserve(into: burst.buffers)
                return region.tail(m2s) == UInt16(HostileRegion.slots)
            }
            #expect(handedBack, "unusable posted buffers are never handed back: tail stays at \(region.tail(m2s)), transmit is stalled for good")
            if handedBack {
                let p = payload(11, 700)
                region.setDescriptor(m2s, counter: 16, region.desc(offset: region.bufferOffset(16), length: 2048))
                region.setHead(m2s, 17)
                let n = tx.reserve(into: burst.buffers)
                #expect(n == 1)
                if n == 1 {
                    let used = p.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: 0, to: n) }
                    #expect(tx.publish(burst.buffers, count: used) == 1)
                    #expect(region.tail(m2s) == 17)
                    #expect(region.read(at: region.bufferOffset(16), count: p.count) == p)
                }
            }
        }
        fx.checkGoodTraffic("after")
    }
}
