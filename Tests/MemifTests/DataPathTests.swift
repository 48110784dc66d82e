import CMemifLinux
import Glibc
import Testing

@testable import Memif

/// The burst data path over real shared memory (a client and a server mapping of the
/// same memfds), including index wrap-around, chains and hostile descriptors.
@Suite struct DataPathTests {
    /// Start indices around the u16 wrap and the ring-size wrap.
    static let starts: [UInt16] = [0, 5, 15, 16, 65530, 65535]

    @Test(arguments: starts, [UInt8(1), 2, 4])
    func packetsCrossIndexWrapAroundBothWays(start: UInt16, log2: UInt8) throws {
        let c = LoopbackPair.configuration(log2RingSize: log2, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c, startIndex: start)
        let burst = MemifBurst(capacity: 64)
        var sequence = 0
        for round in 0..<40 {
            // Client -> server.
            let frames = (0..<(round % 5 + 1)).map { Frames.make(sequence + $0, size: 60 + $0) }
            let sent = Frames.send(frames, pair.client.transmitQueue(0), burst)
            #expect(sent == min(frames.count, 1 << Int(log2)))
            #expect(Frames.receive(pair.server.receiveQueue(0), burst) == Array(frames.prefix(sent)))
            // Server -> client, into the buffers the client posted.
            let back = Frames.send(frames, pair.server.transmitQueue(0), burst)
            #expect(back == sent)
            #expect(Frames.receive(pair.client.receiveQueue(0), burst) == Array(frames.prefix(back)))
            sequence += frames.count
        }
        #expect(pair.server.receiveQueue(0).statistics.badDescriptors == 0)
        #expect(pair.client.receiveQueue(0).statistics.badDescriptors == 0)
    }

    @Test func freeSlotsNeverExceedTheRing() throws {
        let c = LoopbackPair.configuration(log2RingSize: 3)
        let pair = try LoopbackPair(configuration: c, startIndex: 65533)
        let burst = MemifBurst(capacity: 64)
        #expect(pair.client.transmitQueue(0).reserve(into: burst.buffers) == 8)
        #expect(pair.server.transmitQueue(0).reserve(into: burst.buffers) == 8)
        #expect(Frames.send((0..<20).map { Frames.make($0, size: 64) }, pair.client.transmitQueue(0), burst) == 8)
        #expect(pair.client.transmitQueue(0).reserve(into: burst.buffers) == 0)
        #expect(Frames.receive(pair.server.receiveQueue(0), burst).count == 8)
        #expect(pair.client.transmitQueue(0).reserve(into: burst.buffers) == 8)
    }

    @Test(arguments: [64, 255, 256, 257, 1500, 9000])
    func chainsCarryWholePacketsBothWays(size: Int) throws {
        let c = LoopbackPair.configuration(log2RingSize: 6, bufferSize: 256)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 64)
        let frames = [Frames.make(1, size: size), Frames.make(2, size: size / 2 + 1)]
        #expect(Frames.send(frames, pair.client.transmitQueue(0), burst) == 2)
        #expect(Frames.receive(pair.server.receiveQueue(0), burst) == frames)
        #expect(Frames.send(frames, pair.server.transmitQueue(0), burst) == 2)
        #expect(Frames.receive(pair.client.receiveQueue(0), burst) == frames)
        let chained = UInt64(frames.filter { $0.count > 256 }.count)
        #expect(pair.server.receiveQueue(0).statistics.chains == chained)
        #expect(pair.client.transmitQueue(0).statistics.chains == chained)
    }

    @Test func publishHoldsBackATrailingPartialChain() throws {
        let c = LoopbackPair.configuration(log2RingSize: 4, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let tx = pair.client.transmitQueue(0)
        let burst = MemifBurst(capacity: 16)
        #expect(tx.reserve(into: burst.buffers) == 16)
        for i in 0..<3 {
            burst[i].length = 100
            burst[i].hasNext = i == 2  // the third starts a chain that never ends
        }
        #expect(tx.publish(burst.buffers, count: 3) == 2)
        #expect(pair.clientToServerRing(0, c).loadHeadAcquire() == 2)
    }

    @Test func receiveWaitsForTheRestOfAChain() throws {
        let c = LoopbackPair.configuration(log2RingSize: 4, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let ring = pair.clientToServerRing(0, c)
        // A peer that publishes the first two segments of a three-segment chain (G10).
        for k in 0..<3 {
            var d = ring.descriptor(at: UInt16(k))
            d.region = 0
            d.offset = 1024
            d.length = 64
            d.flags = k < 2 ? 1 : 0
            ring.setDescriptor(d, at: UInt16(k))
        }
        ring.storeHeadRelease(2)
        let rx = pair.server.receiveQueue(0)
        let burst = MemifBurst(capacity: 16)
        #expect(rx.receive(into: burst.buffers) == 0)
        ring.storeHeadRelease(3)
        #expect(rx.receive(into: burst.buffers) == 3)
        #expect(rx.statistics.packets == 1)
        #expect(rx.statistics.chains == 1)
    }

    @Test func serverSkipsAndCountsDescriptorsOutsideItsRegions() throws {
        let c = LoopbackPair.configuration(log2RingSize: 4, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let ring = pair.clientToServerRing(0, c)
        let regionSize = UInt32(pair.memory.regions[0].size)
        let bad: [cmemif_desc_t] = [
            cmemif_desc_t(flags: 0, region: 1, length: 64, offset: 0, metadata: 0),  // no region 1
            cmemif_desc_t(flags: 0, region: 0, length: 0x200, offset: 0xFFFF_FF00, metadata: 0),  // wraps in 32 bits
            cmemif_desc_t(flags: 0, region: 0, length: 64, offset: regionSize - 63, metadata: 0),  // one byte past
            cmemif_desc_t(flags: 0, region: 0, length: 0, offset: 0, metadata: 0),  // zero length
            cmemif_desc_t(flags: 1, region: 0, length: 64, offset: 0, metadata: 0),  // good head of a chain...
            cmemif_desc_t(flags: 0, region: 9, length: 64, offset: 0, metadata: 0),  // ...with a bad tail
            cmemif_desc_t(flags: 0, region: 0, length: 64, offset: regionSize - 64, metadata: 0),  // good, at the end
        ]
        for (k, d) in bad.enumerated() { ring.setDescriptor(d, at: UInt16(k)) }
        ring.storeHeadRelease(UInt16(bad.count))
        let rx = pair.server.receiveQueue(0)
        let burst = MemifBurst(capacity: 16)
        #expect(rx.receive(into: burst.buffers) == 1)
        #expect(burst[0].length == 64)
        #expect(burst[0].data == pair.serverRegions[0].base + Int(regionSize - 64))
        let stats = rx.statistics
        #expect(stats.badDescriptors == 5)
        #expect(stats.drops == 5)
        #expect(stats.packets == 1)
        rx.release()
        #expect(ring.loadTailAcquire() == UInt16(bad.count))  // bad slots are given back too
    }

    @Test func aHeadBeyondTheRingIsClamped() throws {
        let c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let tx = pair.client.transmitQueue(0)
        let burst = MemifBurst(capacity: 64)
        #expect(Frames.send((0..<8).map { Frames.make($0, size: 64) }, tx, burst) == 8)
        pair.clientToServerRing(0, c).storeHeadRelease(40)  // a peer claiming 40 packets in 8 slots
        let rx = pair.server.receiveQueue(0)
        #expect(rx.receive(into: burst.buffers) == 8)
        #expect(rx.statistics.badDescriptors == 1)
    }

    @Test func aHeadMovedBackwardsHandsOutNothingStale() throws {
        let c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 16)
        #expect(Frames.send((0..<4).map { Frames.make($0, size: 64) }, pair.client.transmitQueue(0), burst) == 4)
        let rx = pair.server.receiveQueue(0)
        #expect(rx.receive(into: burst.buffers) == 4)
        pair.clientToServerRing(0, c).storeHeadRelease(1)  // a peer taking back what it published
        #expect(rx.receive(into: burst.buffers) == 0)
        pair.clientToServerRing(0, c).storeHeadRelease(65000)  // or jumping far behind
        #expect(rx.receive(into: burst.buffers) == 0)
    }

    @Test func anEndlessChainIsDroppedInsteadOfStallingTheRing() throws {
        let c = LoopbackPair.configuration(log2RingSize: 2, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let ring = pair.clientToServerRing(0, c)
        for k in 0..<4 {
            ring.setDescriptor(cmemif_desc_t(flags: 1, region: 0, length: 8, offset: 4096, metadata: 0), at: UInt16(k))
        }
        ring.storeHeadRelease(4)
        let rx = pair.server.receiveQueue(0)
        let burst = MemifBurst(capacity: 16)
        #expect(rx.receive(into: burst.buffers) == 0)
        #expect(rx.statistics.drops == 1)
        rx.release()
        #expect(ring.loadTailAcquire() == 4)
    }

    @Test func clientChecksLengthsAgainstItsOwnBuffers() throws {
        let c = LoopbackPair.configuration(log2RingSize: 2, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let ring = pair.serverToClientRing(0, c)
        // A server that claims more than the posted capacity, and zero.
        var d = ring.descriptor(at: 0)
        d.length = 129
        ring.setDescriptor(d, at: 0)
        d = ring.descriptor(at: 1)
        d.length = 0
        ring.setDescriptor(d, at: 1)
        d = ring.descriptor(at: 2)
        d.length = 128
        d.offset = 0  // rewritten offset: the client must still use its own buffer
        ring.setDescriptor(d, at: 2)
        ring.storeTailRelease(3)
        let rx = pair.client.receiveQueue(0)
        let burst = MemifBurst(capacity: 8)
        #expect(rx.receive(into: burst.buffers) == 1)
        #expect(burst[0].data == pair.memory.rings[1].ownBase! + Int(pair.memory.rings[1].slots![2]))
        #expect(rx.statistics.badDescriptors == 2)
    }

    @Test func releaseClearsStaleNextFlags() throws {
        // G9: DPDK <= 25.11 never clears NEXT on the first descriptor of a packet, so the
        // server clears flags of every S2M slot it returns and the client of every slot it
        // re-posts.
        let c = LoopbackPair.configuration(log2RingSize: 2, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        #expect(Frames.send([Frames.make(0, size: 300)], pair.client.transmitQueue(0), burst) == 1)
        _ = Frames.receive(pair.server.receiveQueue(0), burst)
        let up = pair.clientToServerRing(0, c)
        #expect((0..<3).allSatisfy { up.descriptor(at: UInt16($0)).flags == 0 })

        #expect(Frames.send([Frames.make(0, size: 300)], pair.server.transmitQueue(0), burst) == 1)
        _ = Frames.receive(pair.client.receiveQueue(0), burst)
        let down = pair.serverToClientRing(0, c)
        #expect((0..<4).allSatisfy { down.descriptor(at: UInt16($0)).flags == 0 })
        #expect((0..<4).allSatisfy { down.descriptor(at: UInt16($0)).length == 128 })
    }

    @Test func serverHandsBackUnusablePostedBuffersEmptyAndCountsThemOnce() throws {
        let c = LoopbackPair.configuration(log2RingSize: 2, bufferSize: 128)
        let pair = try LoopbackPair(configuration: c)
        let ring = pair.serverToClientRing(0, c)
        var d = ring.descriptor(at: 0)
        d.offset = UInt32(pair.memory.regions[0].size)  // a posted buffer outside the region
        ring.setDescriptor(d, at: 0)
        let tx = pair.server.transmitQueue(0)
        let burst = MemifBurst(capacity: 8)
        #expect(tx.reserve(into: burst.buffers) == 3)
        #expect(ring.descriptor(at: 0).length == 0)
        #expect(ring.loadTailAcquire() == 1, "the bad buffer goes straight back")
        #expect(tx.reserve(into: burst.buffers) == 3)
        #expect(tx.statistics.badDescriptors == 1)
        // The client skips the empty slot it gets back and re-posts it.
        let rx = pair.client.receiveQueue(0)
        #expect(rx.receive(into: burst.buffers) == 0)
        rx.release()
        #expect(ring.descriptor(at: 4).length == 128)
    }

    @Test func maskIntDecidesWhetherTheProducerSignals() throws {
        let c = LoopbackPair.configuration(log2RingSize: 3)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        let rx = pair.server.receiveQueue(0)
        // Polling (the default): MASK_INT set, no signal.
        #expect(pair.clientToServerRing(0, c).loadFlags() == 1)
        _ = Frames.send([Frames.make(0, size: 64)], pair.client.transmitQueue(0), burst)
        #expect(!rx.waitForSignal(timeoutMilliseconds: 0))
        // Interrupt mode: MASK_INT clear, one signal per burst.
        rx.setInterruptMode(true)
        #expect(pair.clientToServerRing(0, c).loadFlags() == 0)
        _ = Frames.send([Frames.make(1, size: 64), Frames.make(2, size: 64)], pair.client.transmitQueue(0), burst)
        #expect(rx.waitForSignal(timeoutMilliseconds: 1000))
        #expect(!rx.waitForSignal(timeoutMilliseconds: 0))
        #expect(Frames.receive(rx, burst).count == 3)
        // Same in the other direction, where the client is the consumer.
        let crx = pair.client.receiveQueue(0)
        crx.setInterruptMode(true)
        _ = Frames.send([Frames.make(3, size: 64)], pair.server.transmitQueue(0), burst)
        #expect(crx.waitForSignal(timeoutMilliseconds: 1000))
    }

    @Test(arguments: [1, 4, 255])
    func everyQueueIsIndependent(queues: Int) throws {
        let c = LoopbackPair.configuration(log2RingSize: 2, bufferSize: 128, queues: queues)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        for q in 0..<queues {
            #expect(Frames.send([Frames.make(q, size: 70)], pair.client.transmitQueue(q), burst) == 1)
        }
        for q in 0..<queues {
            #expect(Frames.receive(pair.server.receiveQueue(q), burst) == [Frames.make(q, size: 70)])
        }
    }

    @Test func inactiveQueuesMoveNothing() throws {
        let c = LoopbackPair.configuration()
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        pair.client.deactivate()
        #expect(!pair.client.isConnected)
        #expect(pair.client.transmitQueue(0).reserve(into: burst.buffers) == 0)
        #expect(pair.client.receiveQueue(0).receive(into: burst.buffers) == 0)
    }
}

@Suite struct ProtocolLimitTests {
    @Test func largestRingAndBufferCarryA65535ByteSegment() throws {
        let c = LoopbackPair.configuration(log2RingSize: 14, bufferSize: 65535)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        let frames = [Frames.make(1, size: 65535), Frames.make(2, size: 70000)]
        #expect(pair.client.transmitQueue(0).reserve(into: burst.buffers) == 8)
        #expect(Frames.send(frames, pair.client.transmitQueue(0), burst) == 2)
        #expect(Frames.receive(pair.server.receiveQueue(0), burst) == frames)
        #expect(pair.server.receiveQueue(0).statistics.chains == 1)
    }

    @Test func aRingOfTwoSlotsWorks() throws {
        let c = LoopbackPair.configuration(log2RingSize: 1, bufferSize: 64)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 8)
        for i in 0..<100 {
            let f = [Frames.make(i, size: 100)]  // two segments: the whole ring
            #expect(Frames.send(f, pair.server.transmitQueue(0), burst) == 1)
            #expect(Frames.receive(pair.client.receiveQueue(0), burst) == f)
        }
    }
}

/// The traffic building blocks memifctl and the benchmark use.
@Suite struct TrafficTests {
    @Test(arguments: [1, 7, 8, 63, 65, 256, 1500], [MemifTraffic.SinkRead.firstCacheLine, .everyCacheLine])
    func sinkDrainsWholeFramesAndFreesTheirSlots(size: Int, read: MemifTraffic.SinkRead) throws {
        let c = LoopbackPair.configuration(log2RingSize: 4, bufferSize: 256)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 64)
        let frame = Frames.make(9, size: size)
        let segments = (size + 255) / 256
        var sent = 0, received = 0
        for _ in 0..<10 {
            let n = frame.withUnsafeBytes { MemifTraffic.source(pair.client.transmitQueue(0), frame: $0, burst: burst.buffers) }
            #expect(n == 16 / segments)  // the ring was empty again: every slot was given back
            sent += n
            received += MemifTraffic.sink(pair.server.receiveQueue(0), burst: burst.buffers, read: read)
        }
        #expect(received == sent * segments)
        let stats = pair.server.receiveQueue(0).statistics
        #expect(stats.packets == UInt64(sent) && stats.bytes == UInt64(sent * size) && stats.badDescriptors == 0)
    }

    @Test func pooledSourceSendsItsFramesInTurnAcrossBursts() throws {
        let c = LoopbackPair.configuration(log2RingSize: 4, bufferSize: 256)
        let pair = try LoopbackPair(configuration: c)
        let burst = MemifBurst(capacity: 64)
        // Five 300 B frames (two segments each) laid 320 B apart; the tail holds no whole frame.
        let frames = (0..<5).map { Frames.make($0, size: 300) }
        var memory = [UInt8](repeating: 0xee, count: 5 * 320 + 100)
        for (i, f) in frames.enumerated() { memory.replaceSubrange(i * 320..<i * 320 + 300, with: f) }
        var next = 0
        var received: [[UInt8]] = []
        try memory.withUnsafeBytes { bytes in
            let pool = MemifFramePool(bytes, length: 300, stride: 320)
            #expect(pool.count == 5)
            for _ in 0..<3 {
                let n = MemifTraffic.source(pair.client.transmitQueue(0), frames: pool, next: &next, burst: burst.buffers)
                #expect(n == 8)  // 16 slots, two per frame
                received += Frames.receive(pair.server.receiveQueue(0), burst)
            }
            let one = MemifTraffic.source(pair.client.transmitQueue(0), frames: pool, next: &next, burst: burst.buffers, limit: 1)
            #expect(one == 1)
            received += Frames.receive(pair.server.receiveQueue(0), burst)
            try #require(received.count == 25)
        }
        #expect(received == (0..<25).map { frames[$0 % 5] })
        #expect(next == 0)
    }
}
