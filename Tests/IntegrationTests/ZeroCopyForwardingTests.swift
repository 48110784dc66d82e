import Foundation
import Testing

@testable import Memif

/// Two client interfaces on one buffer pool, each connected to its own Swift server over real
/// sockets: packets that server A sends reach server B through the clients by descriptor.
@Suite(.serialized) struct ZeroCopyForwardingTests {
    /// Server A -> client A (receive) -> forward -> client B (transmit) -> server B.
    final class Chain: @unchecked Sendable {
        let pool: MemifBufferPool
        let a: Endpoints
        let b: Endpoints

        init(bufferSize: Int = 2048, log2RingSize: UInt8 = 6) throws {
            pool = try MemifBufferPool(bufferCount: 4 << Int(log2RingSize), bufferSize: bufferSize)
            var (sa, ca) = try Endpoints.configurations(
                socket: "@" + TestPaths.uniqueName("zc-a"), bufferSize: bufferSize, log2RingSize: log2RingSize)
            var (sb, cb) = try Endpoints.configurations(
                socket: "@" + TestPaths.uniqueName("zc-b"), bufferSize: bufferSize, log2RingSize: log2RingSize)
            ca.bufferPool = pool
            cb.bufferPool = pool
            sa.interfaceName = "serverA"
            sb.interfaceName = "serverB"
            a = try Endpoints(server: sa, client: ca)
            b = try Endpoints(server: sb, client: cb)
        }

        /// Every buffer offset the pool handed out, in whatever slot it sits now.
        var ownedOffsets: [UInt32] {
            [a.client, b.client].flatMap { interface in
                interface.pooledSlots!.flatMap { t in (0..<t.count).map { t.offsets[$0] } }
            }.sorted()
        }

        /// Pumps `frames` through the chain; returns what server B received.
        func pump(_ frames: [[UInt8]], timeout: Double = 10) throws -> [[UInt8]] {
            let pa = try #require(a.connected())
            let pb = try #require(b.connected())
            let (sendA, rxA, txB, rxB) = (pa.server.transmitQueue(0), pa.client.receiveQueue(0), pb.client.transmitQueue(0), pb.server.receiveQueue(0))
            #expect(txB.canForward(from: rxA))
            let burst = MemifBurst(capacity: 64)
            let inFlight = MemifBurst(capacity: 64)
            let deadline = Date().addingTimeInterval(timeout)
            var sent = 0
            var received: [[UInt8]] = []
            while received.count < frames.count && Date() < deadline {
                if sent < frames.count {
                    sent += TestTraffic.send(
                        Array(frames[sent...].prefix(32)), over: sendA, burst: burst, deadline: Date().addingTimeInterval(0.001))
                }
                let n = rxA.receive(into: inFlight.buffers)
                if n > 0 {
                    #expect(txB.forward(inFlight.buffers, count: n, from: rxA) == n)
                    rxA.release()
                }
                received += TestTraffic.receive(64, from: rxB, burst: burst, deadline: Date().addingTimeInterval(0.001))
            }
            return received
        }
    }

    @Test func forwardsByDescriptorWithEveryByteIntact() throws {
        let chain = try Chain()
        let before = chain.ownedOffsets
        #expect(Set(before).count == before.count, "each slot starts with its own buffer")
        let frames = (0..<1000).map { TestTraffic.frame(sequence: UInt32($0), size: 60 + $0 % 1400) }
        #expect(try chain.pump(frames) == frames)
        // Buffers moved between slots (so no copy happened) but none was lost or doubled.
        #expect(chain.ownedOffsets == before)
        let slotsNow = chain.a.client.pooledSlots!.flatMap { t in (0..<t.count).map { t.offsets[$0] } }
        let slotsThen = (0..<slotsNow.count).map { UInt32($0 * 2048) }
        #expect(slotsNow != slotsThen, "buffers changed hands between the interfaces")
    }

    @Test func chainsForwardWholeOver512ByteBuffers() throws {
        let chain = try Chain(bufferSize: 512)
        let sizes = [64, 512, 513, 1500, 4000]
        let frames = (0..<300).map { TestTraffic.frame(sequence: UInt32($0), size: sizes[$0 % sizes.count]) }
        let before = chain.ownedOffsets
        #expect(try chain.pump(frames) == frames)
        #expect(chain.ownedOffsets == before)
        let pb = try #require(chain.b.connected())
        #expect(pb.server.receiveQueue(0).statistics.chains == 180)
    }

    @Test func survivesTheSendingServerRestarting() throws {
        let chain = try Chain()
        let frames = (0..<200).map { TestTraffic.frame(sequence: UInt32($0), size: 200) }
        #expect(try chain.pump(frames) == frames)
        chain.a.server.stop()
        usleep(50_000)
        try chain.a.server.start()
        #expect(chain.a.client.waitForConnection(timeout: .seconds(5)) != nil)
        #expect(try chain.pump(frames) == frames)
        #expect(Set(chain.ownedOffsets).count == chain.ownedOffsets.count)
    }

    @Test func refusesViewsThatAreNotOutstandingOnTheReceiveQueue() throws {
        let chain = try Chain()
        let frames = (0..<10).map { TestTraffic.frame(sequence: UInt32($0), size: 100) }
        #expect(try chain.pump(frames) == frames)
        let pa = try #require(chain.a.connected())
        let pb = try #require(chain.b.connected())
        let views = MemifBurst(capacity: 4)
        // Views the receive queue never handed out (nothing is outstanding after release).
        views[0] = MemifBuffer()
        #expect(pb.client.transmitQueue(0).forward(views.buffers, count: 1, from: pa.client.receiveQueue(0)) == 0)
        #expect(chain.ownedOffsets.count == Set(chain.ownedOffsets).count)
    }

    @Test func queuesWithoutACommonPoolCannotForward() throws {
        let (s1, c1) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("zc-own1"))
        var (s2, c2) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("zc-own2"))
        c2.bufferPool = try MemifBufferPool(bufferCount: 2048)
        let e1 = try Endpoints(server: s1, client: c1)
        let e2 = try Endpoints(server: s2, client: c2)
        let p1 = try #require(e1.connected())
        let p2 = try #require(e2.connected())
        #expect(!p2.client.transmitQueue(0).canForward(from: p1.client.receiveQueue(0)))
        #expect(!p1.client.transmitQueue(0).canForward(from: p1.client.receiveQueue(0)), "own buffers are not pooled")
        #expect(!p2.server.transmitQueue(0).canForward(from: p2.client.receiveQueue(0)), "a server owns no buffers")
        #expect(p2.server.regionSizes == [UInt64(2 * 16512), 2048 * 2048], "rings in region 0, the pool in region 1")
    }

    @Test func anExhaustedPoolIsAClearError() throws {
        let pool = try MemifBufferPool(bufferCount: 3000)
        var (_, c) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("zc-full"))
        c.bufferPool = pool
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        _ = try MemifInterface(c, eventLoop: loop)  // takes 2048
        #expect(pool.available == 952)
        #expect(throws: MemifError.self) { try MemifInterface(c, eventLoop: loop) }
        c.bufferSize = 1024
        let error = #expect(throws: MemifError.self) { try MemifInterface(c, eventLoop: loop) }
        #expect(error?.message.contains("differs from the pool's 2048") == true)
    }
}
