import Foundation
import MemifKit
import Testing

/// A CNF in the middle: channel A and channel B are clients of two servers; what server A
/// sends, the CNF forwards from A to B, and server B receives.
@Suite(.serialized) struct ForwardingTests {
    struct Topology {
        let a: ChannelPair
        let b: ChannelPair

        init(poolA: MemifBufferPool?, poolB: MemifBufferPool?, bufferSize: Int = 2048) throws {
            a = try ChannelPair(client: { $0.pool = poolA; $0.bufferSize = bufferSize; $0.ringSize = 256 })
            b = try ChannelPair(client: { $0.pool = poolB; $0.bufferSize = bufferSize; $0.ringSize = 256 })
            #expect(a.client.waitUntilConnected(timeout: .seconds(5)) && b.client.waitUntilConnected(timeout: .seconds(5)))
            #expect(a.server.waitUntilConnected(timeout: .seconds(5)) && b.server.waitUntilConnected(timeout: .seconds(5)))
        }

        /// Sends `frames` from server A, forwards on one thread, returns what server B got.
        func run(_ frames: [[UInt8]], counters: ForwardingCounters) -> [[UInt8]] {
            var input = a.client.queue(0)
            var output = b.client.queue(0)
            var source = a.server.queue(0)
            var sink = b.server.queue(0)
            let views = MemifBurst(capacity: 32)
            let scratch = MemifBurst(capacity: 64)
            return shuttle(
                frames, send: { send($0, on: &source, deadline: Date().addingTimeInterval(0.001)) },
                move: {
                    let n = input.receive(into: views.buffers)
                    guard n > 0 else { return }
                    output.forward(views.buffers, count: n, from: input, scratch: scratch.buffers, counters: counters)
                    input.release()
                }, receive: { receive(64, from: &sink, deadline: Date().addingTimeInterval(0.001)) })
        }
    }

    @Test func channelsOnOnePoolForwardWithoutCopying() throws {
        let pool = try MemifBufferPool(channels: 2, ringSize: 256)
        let t = try Topology(poolA: pool, poolB: pool)
        let counters = ForwardingCounters()
        let frames = (0..<2000).map { frame($0, size: 64 + $0 % 1436) }
        #expect(t.run(frames, counters: counters) == frames)
        #expect(counters.snapshot == .init(zeroCopy: 2000, copied: 0, dropped: 0))
    }

    @Test(arguments: [false, true])
    func channelsOnDifferentMemoryCopyOnce(pooled: Bool) throws {
        let t = try Topology(
            poolA: pooled ? try MemifBufferPool(channels: 1, ringSize: 256, bufferSize: 512) : nil,
            poolB: pooled ? try MemifBufferPool(channels: 1, ringSize: 256, bufferSize: 512) : nil, bufferSize: 512)
        let counters = ForwardingCounters()
        let frames = (0..<500).map { frame($0, size: [64, 600, 1500][$0 % 3]) }
        #expect(t.run(frames, counters: counters) == frames)
        #expect(counters.snapshot == .init(zeroCopy: 0, copied: 500, dropped: 0))
    }

    @Test func forwardingToADisconnectedChannelDropsAndCounts() throws {
        let pool = try MemifBufferPool(channels: 2, ringSize: 256)
        let t = try Topology(poolA: pool, poolB: pool)
        t.b.server.stop()
        let down = Date().addingTimeInterval(5)
        while t.b.client.isConnected && Date() < down { usleep(1000) }
        let counters = ForwardingCounters()
        var input = t.a.client.queue(0)
        var output = t.b.client.queue(0)
        var source = t.a.server.queue(0)
        let frames = (0..<10).map { frame($0, size: 100) }
        let views = MemifBurst(capacity: 32)
        #expect(input.receive(into: views.buffers) == 0, "the first receive posts the pooled buffers")
        #expect(send(frames, on: &source, deadline: Date().addingTimeInterval(5)) == 10)
        var got = 0
        let deadline = Date().addingTimeInterval(5)
        while got < 10 && Date() < deadline {
            let n = input.receive(into: views.buffers)
            got += n
            #expect(output.forward(views.buffers, count: n, from: input, scratch: views.buffers, counters: counters) == 0)
            input.release()
        }
        #expect(counters.snapshot == .init(zeroCopy: 0, copied: 0, dropped: 10))
    }

    /// Sends `frames` from `peer`, has `reflector` send every burst back, returns what came back.
    func reflected(
        _ frames: [[UInt8]], by reflector: inout MemifChannelQueue, from peer: inout MemifChannelQueue,
        counters: ForwardingCounters
    ) -> [[UInt8]] {
        let views = MemifBurst(capacity: 32)
        let scratch = MemifBurst(capacity: 64)
        return shuttle(
            frames, send: { send($0, on: &peer, deadline: Date().addingTimeInterval(0.001)) },
            move: {
                let n = reflector.receive(into: views.buffers)
                guard n > 0 else { return }
                reflector.sendBack(views.buffers, count: n, scratch: scratch.buffers, counters: counters)
                reflector.release()
            }, receive: { receive(64, from: &peer, deadline: Date().addingTimeInterval(0.001)) })
    }

    /// Which side of a pair sends back what it receives, and on what memory.
    enum Reflecting: CaseIterable { case pooledClient, client, server }

    @Test(arguments: Reflecting.allCases)
    func sendBackReturnsEveryPacketToItsSender(_ side: Reflecting) throws {
        let pair = try ChannelPair(client: {
            $0.ringSize = 256
            if side == .pooledClient { $0.pool = try? MemifBufferPool(channels: 1, ringSize: 256) }
        })
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)) && pair.server.waitUntilConnected(timeout: .seconds(5)))
        var reflector = side == .server ? pair.server.queue(0) : pair.client.queue(0)
        var peer = side == .server ? pair.client.queue(0) : pair.server.queue(0)
        let counters = ForwardingCounters()
        let frames = (0..<1000).map { frame($0, size: [60, 700, 3000][$0 % 3]) }  // 3000 B: chained
        #expect(reflected(frames, by: &reflector, from: &peer, counters: counters) == frames)
        let moved = side == .pooledClient ? ForwardingCounters.Snapshot(zeroCopy: 1000, copied: 0, dropped: 0)
            : ForwardingCounters.Snapshot(zeroCopy: 0, copied: 1000, dropped: 0)
        #expect(counters.snapshot == moved)
    }

    /// The views of a burst live in the memory of the connection they arrived on. If the
    /// peer goes away and a new connection comes up before they are sent back, sendBack
    /// must drop them, not move to the new connection (whose buffers they are not in,
    /// while the old memory may be gone).
    @Test func sendBackAcrossAReconnectDropsTheBurst() throws {
        let pair = try ChannelPair(client: { $0.ringSize = 256 })
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)) && pair.server.waitUntilConnected(timeout: .seconds(5)))
        var reflector = pair.client.queue(0)
        var peer = pair.server.queue(0)
        let views = MemifBurst(capacity: 32)
        let scratch = MemifBurst(capacity: 32)
        #expect(send((0..<8).map { frame($0, size: 1000) }, on: &peer, deadline: Date().addingTimeInterval(5)) == 8)
        var n = 0
        let arrived = Date().addingTimeInterval(5)
        while n == 0 && Date() < arrived { n = reflector.receive(into: views.buffers) }
        #expect(n == 8)
        // Compared by identity only: holding the old connection would keep its memory mapped.
        let old = pair.client.connection.map(ObjectIdentifier.init)
        pair.server.stop()
        try pair.server.start()
        let reconnected = Date().addingTimeInterval(10)
        while Date() < reconnected {
            if let c = pair.client.connection, c.isConnected, ObjectIdentifier(c) != old { break }
            usleep(1000)
        }
        #expect(pair.client.isConnected, "the client reconnects to the restarted server")
        let counters = ForwardingCounters()
        #expect(reflector.sendBack(views.buffers, count: n, scratch: scratch.buffers, counters: counters) == 0)
        #expect(counters.snapshot == .init(zeroCopy: 0, copied: 0, dropped: 8))
        reflector.release()
        // The next receive moves to the new connection, and traffic flows again.
        #expect(reflected([frame(99, size: 200)], by: &reflector, from: &peer, counters: counters) == [frame(99, size: 200)])
    }
}
