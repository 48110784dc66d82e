import Foundation
import Memif
import MemifCopy
import Testing

/// Our memif server transmitting and receiving through the DSA engine, with the
/// work-queue model as the device: against our own client, and against dpdk-testpmd.
/// Every payload byte is checked; the client must never see a slot before its copy landed.
@Suite("Memif copy mode through the DSA engine", .serialized, .timeLimit(.minutes(1)))
struct CopyEngineEndToEndTests {
    static func model(seed: UInt64, threads: Int, timing: DSAModelTiming = .instant) -> DSAWorkQueueModel {
        var c = DSAModelConfiguration()
        c.seed = seed
        c.size = 32
        c.timing = timing
        let m = DSAWorkQueueModel(configuration: c)
        if threads > 0 { m.start(threads: threads) }
        return m
    }

    static func engine(_ model: DSAWorkQueueModel) -> DSACopyEngine<ModelPortal> {
        var c = DSAEngineConfiguration()
        c.workQueueSize = model.configuration.size
        c.minimumOffloadBytes = 0  // every copy through the device, to exercise it
        c.maxCopiesPerBurst = 64
        c.ringSlots = 1024
        c.maxBurstsInFlight = 32
        c.deadlineNanoseconds = 20_000_000_000  // generous: the model's threads share 2 busy cores
        return DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
    }

    static func frames(_ base: UInt32, sizes: [Int], count: Int) -> [[UInt8]] {
        (0..<count).map { TestTraffic.frame(sequence: base + UInt32($0), size: sizes[$0 % sizes.count]) }
    }

    /// Step mode, seeded shuffle: several bursts in flight, the model finishing descriptors
    /// one at a time out of order; after every step the client may see only whole, copied
    /// frames, a prefix of what was sent.
    @Test func serverTransmitPublishesOnlyCompletedPrefix() throws {
        let (s, c) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("copy-step"), bufferSize: 2048)
        let endpoints = try Endpoints(server: s, client: c)
        let (server, client) = try #require(endpoints.connected())
        let model = Self.model(seed: 0xDECAF, threads: 0)
        for r in server.mappedRegions { model.register(r) }
        let lane = CopyLane(
            tx: server.transmitQueue(0), rx: server.receiveQueue(0), txEngine: Self.engine(model),
            rxEngine: Self.engine(model), register: model.register)
        let rx = client.receiveQueue(0)
        let burst = MemifBurst(capacity: 256)
        let sent = Self.frames(1, sizes: [64, 1500, 3000, 9000, 200], count: 40)
        var offset = 0
        while offset < sent.count {
            let n = lane.send(sent[offset..<min(offset + 5, sent.count)])  // bursts of up to 5 frames
            try #require(n > 0)
            offset += n
        }
        #expect(lane.transmitter.engine.burstsInFlight >= 8)
        #expect(TestTraffic.receive(1, from: rx, burst: burst, deadline: Date().addingTimeInterval(0.05)).isEmpty)
        var received: [[UInt8]] = []
        var steps = 0
        while model.step() {
            steps += 1
            lane.pump()
            received += TestTraffic.receive(Int.max, from: rx, burst: burst, deadline: Date().addingTimeInterval(0.001))
            #expect(Array(sent.prefix(received.count)) == received, "after step \(steps)")
        }
        #expect(steps >= 8)
        #expect(received == sent)
        #expect(model.counters.overflows == 0)
        let stats = lane.transmitter.engine.statistics
        #expect(stats.totalFallbacks == 0)
        #expect(stats.completed == stats.submitted)
        #expect(server.transmitQueue(0).statistics.packets == UInt64(sent.count))
    }

    /// Threaded model with shuffled completion: our client sends, our server receives
    /// through the engine and echoes back through it; every frame returns intact, in order.
    @Test(arguments: [DSAModelTiming.instant, DSAModelTiming.sprLike])
    func echoWithOurClient(timing: DSAModelTiming) throws {
        let (s, c) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("copy-echo"), bufferSize: 1024)
        let endpoints = try Endpoints(server: s, client: c)
        let (server, client) = try #require(endpoints.connected())
        let model = Self.model(seed: 77, threads: 2, timing: timing)
        defer { model.stop() }
        for r in server.mappedRegions { model.register(r) }
        let lane = CopyLane(
            tx: server.transmitQueue(0), rx: server.receiveQueue(0), txEngine: Self.engine(model),
            rxEngine: Self.engine(model), register: model.register)
        let frames = Self.frames(1000, sizes: [64, 1500, 9000, 512, 1024], count: 600)
        let deadline = Date().addingTimeInterval(30)
        var echoed: [[UInt8]] = []
        var next = 0
        let clientTx = client.transmitQueue(0)
        let clientRx = client.receiveQueue(0)
        let burst = MemifBurst(capacity: 256)
        while echoed.count < frames.count && Date() < deadline {
            if next < frames.count {
                next += TestTraffic.send(
                    Array(frames[next..<min(next + 32, frames.count)]), over: clientTx, burst: burst,
                    deadline: Date().addingTimeInterval(0.005))
            }
            var arrived = lane.receive(Int.max, deadline: Date().addingTimeInterval(0.002))
            while !arrived.isEmpty && Date() < deadline {
                let n = lane.send(arrived[...])
                echoed += TestTraffic.receive(Int.max, from: clientRx, burst: burst, deadline: Date().addingTimeInterval(0.001))
                arrived.removeFirst(n)
                lane.pump()
            }
            lane.pump()
            echoed += TestTraffic.receive(Int.max, from: clientRx, burst: burst, deadline: Date().addingTimeInterval(0.001))
        }
        while echoed.count < frames.count && Date() < deadline {
            lane.pump()
            echoed += TestTraffic.receive(frames.count - echoed.count, from: clientRx, burst: burst, deadline: Date().addingTimeInterval(0.01))
        }
        #expect(echoed.count == frames.count)
        #expect(echoed == frames)
        #expect(model.counters.overflows == 0)
        #expect(model.counters.completed > 0)
        #expect(lane.transmitter.engine.statistics.descriptors > 0)
        #expect(lane.receiver.engine.statistics.descriptors > 0)
        #expect(lane.receiver.truncatedSegments == 0)
    }

    /// Our server in copy mode against testpmd's client (macswap): out through the engine,
    /// back through the engine, every frame MAC-swapped and otherwise intact.
    @Test(.enabled(if: TestPMD.isAvailable, "dpdk-testpmd is not installed (set MEMIFKIT_REQUIRE_DPDK=1 to fail instead)"))
    func echoWithTestpmdClient() throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        var config = MemifConfiguration(
            role: .server, socket: try socket.ours, applicationName: "MemifKit-copy", interfaceName: "memif-dsa",
            queues: 1, log2RingSize: 10, bufferSize: 2048)
        config.interfaceName = "memif-dsa"
        let memif = try MemifInterface(config, eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        let pmd = try TestPMD(role: .client, socket: socket, bufferSize: 512)
        defer { pmd.stop() }
        let connection = try #require(memif.waitForConnection(timeout: .seconds(15)), "testpmd did not connect\n\(pmd.outputTail)")
        let model = Self.model(seed: 4242, threads: 1)
        defer { model.stop() }
        for r in connection.mappedRegions { model.register(r) }
        let lane = CopyLane(
            tx: connection.transmitQueue(0), rx: connection.receiveQueue(0), txEngine: Self.engine(model),
            rxEngine: Self.engine(model), register: model.register)

        // testpmd drops what arrives in its first second of forwarding (G14): probe first.
        let warmDeadline = Date().addingTimeInterval(8)
        var probe: UInt32 = 0xF000_0000
        var warm = false
        while !warm && Date() < warmDeadline {
            _ = lane.send([TestTraffic.frame(sequence: probe, size: 64)][...])
            probe += 1
            warm = !lane.receive(1, deadline: Date().addingTimeInterval(0.05)).isEmpty
        }
        try #require(warm, "testpmd never echoed\n\(pmd.outputTail)")
        _ = lane.receive(Int.max, deadline: Date().addingTimeInterval(0.2))

        let frames = Self.frames(5000, sizes: [64, 1500, 9000], count: 300)
        var back: [[UInt8]] = []
        var next = 0
        let deadline = Date().addingTimeInterval(20)
        while back.count < frames.count && Date() < deadline {
            if next < frames.count && next - back.count < 96 {
                next += lane.send(frames[next..<min(next + 16, frames.count)])
            }
            // Late echoes of warm-up probes are not part of the run.
            back += lane.receive(Int.max, deadline: Date().addingTimeInterval(0.002)).filter {
                TestTraffic.sequence(of: $0).map { $0 < 0xF000_0000 } ?? true
            }
        }
        let expected = frames.map(TestTraffic.swapped)
        let wrong = zip(back, expected).filter { $0 != $1 }.count
        let firstWrong = zip(back, expected).enumerated().first { $1.0 != $1.1 }.map {
            "frame \($0.offset): \($0.element.0.count) B seq \(TestTraffic.sequence(of: $0.element.0) ?? 0), expected \($0.element.1.count) B seq \(TestTraffic.sequence(of: $0.element.1) ?? 0)"
        }
        #expect(back.count == frames.count, "\(back.count) of \(frames.count) came back\n\(pmd.outputTail)")
        #expect(wrong == 0, "\(firstWrong ?? "")")
        #expect(model.counters.overflows == 0)
        #expect(lane.transmitter.engine.statistics.descriptors > 0)
        #expect(lane.receiver.engine.statistics.descriptors > 0)
    }
}

extension CopyEngineEndToEndTests {
    /// Step mode: the client's slots come back only after the copies out of them landed,
    /// and what is handed up is exactly what the client sent.
    @Test func serverReceiveHandsUpOnlyCopied() throws {
        let (s, c) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("copy-rx"), bufferSize: 2048, log2RingSize: 6)
        let endpoints = try Endpoints(server: s, client: c)
        let (server, client) = try #require(endpoints.connected())
        let model = Self.model(seed: 99, threads: 0)
        for r in server.mappedRegions { model.register(r) }
        let lane = CopyLane(
            tx: server.transmitQueue(0), rx: server.receiveQueue(0), txEngine: Self.engine(model),
            rxEngine: Self.engine(model), register: model.register)
        let tx = client.transmitQueue(0)
        let burst = MemifBurst(capacity: 64)
        let frames = Self.frames(300, sizes: [64, 1500, 3000], count: 20)
        #expect(TestTraffic.send(frames, over: tx, burst: burst, deadline: Date().addingTimeInterval(2)) == 20)
        let freeBefore = tx.reserve(into: burst.buffers)
        let n = lane.receiver.receive(into: lane.destinations.buffers)
        #expect(n > 0)
        #expect(lane.receiver.complete() == 0)  // nothing copied yet
        #expect(tx.reserve(into: burst.buffers) == freeBefore)  // so no slot came back
        model.runUntilIdle()
        #expect(lane.receiver.complete() == n)
        #expect(tx.reserve(into: burst.buffers) > freeBefore)
        var got: [[UInt8]] = []
        var partial: [UInt8] = []
        for i in 0..<n {
            let b = lane.destinations[i]
            partial += Array(UnsafeRawBufferPointer(start: b.data, count: Int(b.length)))
            if !b.hasNext {
                got.append(partial)
                partial = []
            }
        }
        #expect(got == Array(frames.prefix(got.count)))
        #expect(got.count > 0)
    }
}
