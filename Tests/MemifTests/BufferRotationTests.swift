import CMemifLinux
import Testing

@testable import Memif

/// A client's ring slots rotating through several buffers each
/// (``MemifConfiguration/buffersPerSlot``), both ways: every buffer in flight is distinct,
/// a buffer comes back only after `perSlot` ring lengths, and every byte arrives, also
/// across the wrap of the 16-bit slot counters.
@Suite struct BufferRotationTests {
    /// The offsets the client wrote into the first `count` descriptors from `start` of its
    /// ring `global` (0: its transmit ring, 1: its receive ring, with one queue pair).
    static func offsets(_ pair: LoopbackPair, ring global: Int = 0, from start: UInt16, count: Int) -> [UInt32] {
        let setup = pair.memory.rings[global]
        let ring = Ring(header: setup.header, layout: RingLayout(), log2RingSize: setup.log2RingSize)
        return (0..<count).map { ring.descriptor(at: start &+ UInt16($0)).offset }
    }

    /// The fewest packets between two uses of one buffer in `used` (buffer offsets in order).
    static func shortestReuse(_ used: [UInt32]) -> Int {
        var last: [UInt32: Int] = [:]
        var shortest = Int.max
        for (i, offset) in used.enumerated() {
            if let previous = last[offset] { shortest = min(shortest, i - previous) }
            last[offset] = i
        }
        return shortest
    }

    @Test(arguments: [1, 2, 4, 8], [UInt16(0), 65530])
    func fullRingsReuseABufferOnlyAfterPerSlotLaps(perSlot: Int, start: UInt16) throws {
        var c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        c.buffersPerSlot = perSlot
        let pair = try LoopbackPair(configuration: c, startIndex: start)
        let layout = pair.memory.layout
        let first = layout.bufferOffset(global: 0)
        let burst = MemifBurst(capacity: 16)
        var used: [UInt32] = []  // every descriptor's offset, in sending order
        var position = start
        for lap in 0..<(3 * perSlot + 1) {
            let frames = (0..<8).map { Frames.make(lap * 8 + $0, size: 40 + lap + $0) }
            #expect(Frames.send(frames, pair.client.transmitQueue(0), burst) == 8)
            let lapOffsets = Self.offsets(pair, from: position, count: 8)
            #expect(Set(lapOffsets).count == 8, "lap \(lap): a buffer is in flight twice: \(lapOffsets)")
            used += lapOffsets
            #expect(Frames.receive(pair.server.receiveQueue(0), burst) == frames, "lap \(lap)")
            position &+= 8
        }
        // Exactly this ring's buffers, all of them, none of the receive ring's.
        let expected = Set((0..<(8 * perSlot)).map { UInt32(first) + UInt32($0 * 128) })
        #expect(Set(used) == expected)
        #expect(layout.bufferOffset(global: 1) == first + UInt64(8 * perSlot * 128))
        #expect(layout.regionSizes == [UInt64(2 * layout.ringBytes + 2 * 8 * perSlot * 128)])
        // A buffer is written again only after perSlot ring lengths.
        #expect(Self.shortestReuse(used) == 8 * perSlot)
        #expect(pair.server.receiveQueue(0).statistics.badDescriptors == 0)
    }

    @Test(arguments: [1, 2, 4], [UInt16(0), 65530])
    func receiveBuffersArePostedALapApart(perSlot: Int, start: UInt16) throws {
        var c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        c.buffersPerSlot = perSlot
        let pair = try LoopbackPair(configuration: c, startIndex: start)
        let first = pair.memory.layout.bufferOffset(global: 1)
        let burst = MemifBurst(capacity: 16)
        var used: [UInt32] = []  // the buffer the server wrote each packet into
        var position = start
        for lap in 0..<(3 * perSlot + 1) {
            let frames = (0..<8).map { Frames.make(lap * 8 + $0, size: 40 + lap + $0) }
            #expect(Frames.send(frames, pair.server.transmitQueue(0), burst) == 8)
            used += Self.offsets(pair, ring: 1, from: position, count: 8)
            #expect(Frames.receive(pair.client.receiveQueue(0), burst) == frames, "lap \(lap)")
            position &+= 8
        }
        #expect(Set(used) == Set((0..<(8 * perSlot)).map { UInt32(first) + UInt32($0 * 128) }))
        #expect(Self.shortestReuse(used) == 8 * perSlot)
        #expect(pair.client.receiveQueue(0).statistics.badDescriptors == 0)
    }

    @Test func reservedButUnpublishedBuffersNeverDoubleAnInFlightOne() throws {
        var c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        c.buffersPerSlot = 2
        let pair = try LoopbackPair(configuration: c)
        let tx = pair.client.transmitQueue(0)
        let burst = MemifBurst(capacity: 16)
        var sequence = 0
        var sent: [[UInt8]] = []
        var received: [[UInt8]] = []
        for round in 0..<20 {
            // Reserve everything, publish only a few; the rest are reserved again next time.
            let free = tx.reserve(into: burst.buffers)
            let publish = min(free, round % 3 + 1)
            var frames: [[UInt8]] = []
            for i in 0..<publish {
                let frame = Frames.make(sequence, size: 60 + i)
                sequence += 1
                frame.withUnsafeBytes { _ = MemifTxQueue.copy($0, into: burst.buffers, from: i, to: i + 1) }
                frames.append(frame)
            }
            #expect(tx.publish(burst.buffers, count: publish) == publish)
            sent += frames
            if round % 2 == 1 { received += Frames.receive(pair.server.receiveQueue(0), burst) }
            // Everything in flight plus what a new reservation hands out: all distinct.
            let setup = pair.memory.rings[0]
            let ring = Ring(header: setup.header, layout: RingLayout(), log2RingSize: setup.log2RingSize)
            let tail = ring.loadTailAcquire(), head = ring.loadHeadAcquire()
            let flying = Self.offsets(pair, from: tail, count: Int(head &- tail))
            let again = tx.reserve(into: burst.buffers)
            let base = pair.memory.regions[0].base
            let handedOut = (0..<again).map { UInt32(UnsafeRawPointer(burst[$0].data) - UnsafeRawPointer(base)) }
            #expect(Set(flying + handedOut).count == flying.count + handedOut.count, "round \(round)")
            #expect(flying.count + again == 8)
        }
        // Drain: everything published arrives intact, in order.
        received += Frames.receive(pair.server.receiveQueue(0), burst)
        #expect(received == sent)
        #expect(pair.server.receiveQueue(0).statistics.badDescriptors == 0)
    }

    @Test(arguments: [0, 3, 16])
    func otherCountsAreRefused(perSlot: Int) {
        var c = LoopbackPair.configuration()
        c.buffersPerSlot = perSlot
        #expect(throws: MemifError.self) { try c.validate() }
    }

    @Test func moreThan65536BuffersPerRingAreRefused() throws {
        var c = LoopbackPair.configuration(log2RingSize: 14)
        c.buffersPerSlot = 4
        try c.validate()
        c.buffersPerSlot = 8
        #expect(throws: MemifError.self) { try c.validate() }
    }

    @Test func aPoolIgnoresIt() throws {
        var c = LoopbackPair.configuration(log2RingSize: 3, bufferSize: 128)
        c.bufferPool = try MemifBufferPool(bufferCount: 64, bufferSize: 128)
        c.buffersPerSlot = 4
        try c.validate()
        #expect(ClientMemoryLayout(configuration: c, log2RingSize: 3).buffersPerSlot == 1)
    }
}
