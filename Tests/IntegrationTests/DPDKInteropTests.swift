import Foundation
import Memif
import Testing

/// Interop with dpdk-testpmd 22.11 (`net_memif`) in both roles, on filesystem and abstract
/// sockets (reference section 7 part A). testpmd runs `--forward-mode=macswap`, so every
/// frame we send must come back with its MAC addresses swapped and every other byte intact;
/// each case checks the returned frames byte for byte against ``TestTraffic/swapped(_:)``.
@Suite(
    "DPDK testpmd interop", .serialized, .timeLimit(.minutes(1)),
    .enabled(if: TestPMD.isAvailable, "dpdk-testpmd is not installed (set MEMIFKIT_REQUIRE_DPDK=1 to fail instead)"))
struct DPDKInteropTests {
    // MARK: 1-2. Both roles, both socket kinds, echo at 64/1500/9000 B with 512-byte buffers

    @Test("our server <-> testpmd client: handshake facts and macswap echo, 512-byte client buffers",
          arguments: TestSocket.Kind.allCases)
    func ourServerWithTestpmdClient(kind: TestSocket.Kind) throws {
        let socket = TestSocket.unique(kind)
        defer { socket.removeFile() }
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let memif = try MemifInterface(try configuration(.server, socket), eventLoop: loop)
        // A DPDK client connects only at port start and never retries (G3): listen first.
        try memif.start()
        defer { memif.stop() }
        #expect(socket.isListening, "our server is not listening on \(socket)")

        let pmd = try TestPMD(role: .client, socket: socket, bufferSize: 512)
        defer { pmd.stop() }
        let connection = try #require(
            memif.waitForConnection(timeout: .seconds(15)),
            "testpmd client did not connect; last reason \(memif.lastDisconnectReason ?? "none")\n\(pmd.outputTail)")

        // INIT name is rte_version() ("DPDK 22.11.x"); CONNECT carries the port name.
        #expect(connection.peerApplicationName.hasPrefix("DPDK"), "INIT name \(connection.peerApplicationName)")
        #expect(connection.peerInterfaceName == "net_memif0")
        #expect(connection.receiveQueueCount == 1 && connection.transmitQueueCount == 1)
        #expect(connection.receiveRingSizes == [10] && connection.transmitRingSizes == [10])
        // One region (DPDK copy-mode layout, section 2.1): 2 rings + 2 x 1024 x 512 B buffers.
        let ringBytes: UInt64 = 128 + 16 * 1024
        let bufferBytes: UInt64 = 1024 * 512
        #expect(connection.regionSizes == [2 * ringBytes + 2 * bufferBytes])

        try echoAtAllSizes(connection, pmd: pmd, peerBufferSize: 512)
    }

    @Test("testpmd server <-> our client: handshake facts and macswap echo, 512-byte client buffers",
          arguments: TestSocket.Kind.allCases)
    func testpmdServerWithOurClient(kind: TestSocket.Kind) throws {
        let socket = TestSocket.unique(kind)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let pmd = try TestPMD(role: .server, socket: socket)
        defer { pmd.stop() }
        try #require(pmd.waitUntilListening(), "testpmd server never listened on \(socket)\n\(pmd.outputTail)")

        let memif = try MemifInterface(try configuration(.client, socket, bufferSize: 512), eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        let connection = try #require(
            memif.waitForConnection(timeout: .seconds(10)),
            "no connection to testpmd; last reason \(memif.lastDisconnectReason ?? "none")\n\(pmd.outputTail)")

        // Section 7 item 9: HELLO name "DPDK 22.11.x", CONNECTED "net_memif0".
        #expect(connection.peerApplicationName.hasPrefix("DPDK"), "HELLO name \(connection.peerApplicationName)")
        #expect(connection.peerInterfaceName == "net_memif0")
        #expect(connection.receiveQueueCount == 1 && connection.transmitQueueCount == 1)
        #expect(memif.connectionCount == 1)

        try echoAtAllSizes(connection, pmd: pmd, peerBufferSize: 512)
    }

    @Test("testpmd server <-> our client with libmemif's layout: buffers in region 1")
    func testpmdServerWithSeparateBufferRegion() throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let pmd = try TestPMD(role: .server, socket: socket)
        defer { pmd.stop() }
        try #require(pmd.waitUntilListening(), "\(pmd.outputTail)")
        var config = try configuration(.client, socket, bufferSize: 512)
        config.regionLayout = .separateBufferRegion
        let memif = try MemifInterface(config, eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        let connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(pmd.outputTail)")
        let rings: UInt64 = 2 * (128 + 16 * 1024)
        let buffers: UInt64 = 2 * 2 * 1024 * 512  // two rings of two buffers per slot
        #expect(connection.regionSizes == [rings, buffers])
        try echoBatch(connection, pmd: pmd, sizes: [64, 1500], label: "region 1 buffers")
    }

    // MARK: 3. Four queues

    @Test("4 queues each way: traffic on every queue comes back on that queue, payload intact",
          arguments: [MemifConfiguration.Role.server, .client])
    func fourQueues(ourRole: MemifConfiguration.Role) throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        var pmd: TestPMD?
        defer { pmd?.stop() }
        let memif = try MemifInterface(try configuration(ourRole, socket, queues: 4, bufferSize: 512), eventLoop: loop)
        defer { memif.stop() }
        if ourRole == .server {
            try memif.start()
            pmd = try TestPMD(role: .client, socket: socket, bufferSize: 512, queues: 4)
        } else {
            pmd = try TestPMD(role: .server, socket: socket, queues: 4)
            try #require(pmd!.waitUntilListening(), "\(pmd!.outputTail)")
            try memif.start()
        }
        let connection = try #require(
            memif.waitForConnection(timeout: .seconds(15)),
            "no connection; last reason \(memif.lastDisconnectReason ?? "none")\n\(pmd!.outputTail)")
        try #require(connection.receiveQueueCount == 4 && connection.transmitQueueCount == 4)

        let lanes = (0..<4).map { Lane(queue: $0, tx: connection.transmitQueue($0), rx: connection.receiveQueue($0)) }
        let ledger = EchoLedger()
        let burst = MemifBurst(capacity: 256)
        let warm = warmUp(lanes, ledger: ledger, burst: burst)
        try #require(warm, "no echo on some queue\n\(pmd!.outputTail)")

        // Mixed sizes, a different mix per queue, all queues busy at once.
        let sizes = [64, 1500, 9000, 600]
        let work = lanes.map { lane in
            (lane, (0..<80).map { i in
                TestTraffic.frame(sequence: UInt32(1_000_000 * (lane.queue + 1) + i), size: sizes[(i + lane.queue) % sizes.count])
            })
        }
        echo(work, ledger: ledger, burst: burst, segmentBytes: 512)
        expectPeerCounted(pmd!, ledger: ledger, lanes: lanes, burst: burst)

        #expect(ledger.problemCount == 0, "\(ledger.problemSummary)")
        for (lane, frames) in work {
            let back = ledger.returnedCount(frames)
            #expect(back * 10 >= frames.count * 9, "queue \(lane.queue): \(back) of \(frames.count) came back")
            #expect(lane.tx.statistics.packets > 0 && lane.rx.statistics.packets > 0, "queue \(lane.queue) idle")
        }
    }

    @Test("our 2-queue server refuses a 4-queue testpmd client (\"Invalid ring index\") and keeps listening")
    func ourServerRefusesTooManyQueues() throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let memif = try MemifInterface(try configuration(.server, socket, queues: 2), eventLoop: loop)
        try memif.start()
        defer { memif.stop() }

        let tooMany = try TestPMD(role: .client, socket: socket, queues: 4)
        defer { tooMany.stop() }
        #expect(
            Resources.eventually(timeout: 10) { memif.lastDisconnectReason == "Invalid ring index" },
            "reason \(memif.lastDisconnectReason ?? "none")\n\(tooMany.outputTail)")
        #expect(memif.connectionCount == 0)
        tooMany.stop()

        // Still listening: a testpmd client with matching queue counts gets through.
        #expect(socket.isListening)
        let matching = try TestPMD(role: .client, socket: socket, queues: 2)
        defer { matching.stop() }
        let connection = memif.waitForConnection(timeout: .seconds(10))
        #expect(connection?.receiveQueueCount == 2 && connection?.transmitQueueCount == 2, "\(matching.outputTail)")
        #expect(memif.connectionCount == 1)
    }

    // MARK: 4. testpmd server refusals (section 7 item 10, G6)

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var serverSecret: String?
        var id: UInt32 = 0
        var secret = ""
        var mode = MemifMode.ethernet
        var queues = 1
        var expected: String
        var testDescription: String { "\(name) -> \"\(expected)\"" }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "wrong id", id: 7, expected: "ID not found"),
        Refusal(name: "no secret", serverSecret: "s3cret", expected: "Secret required"),
        Refusal(name: "wrong secret", serverSecret: "s3cret", secret: "guess", expected: "Incorrect secret"),
        Refusal(name: "IP mode", mode: .ip, expected: "Only ethernet mode supported"),
        Refusal(name: "more queues than testpmd has", queues: 2, expected: "Invalid ring index"),
    ]

    @Test("testpmd server refuses a bad client with its documented DISCONNECT text", arguments: DPDKInteropTests.refusals)
    func testpmdServerRefuses(_ refusal: Refusal) throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let pmd = try TestPMD(role: .server, socket: socket, secret: refusal.serverSecret)
        defer { pmd.stop() }
        try #require(pmd.waitUntilListening(), "\(pmd.outputTail)")

        var config = try configuration(.client, socket, id: refusal.id, queues: refusal.queues)
        config.secret = refusal.secret
        config.mode = refusal.mode
        let memif = try MemifInterface(config, eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        var seen: Set<String> = []
        let refused = Resources.eventually(timeout: 8) {
            if let reason = memif.lastDisconnectReason { seen.insert(reason) }
            return memif.lastDisconnectReason == refusal.expected
        }
        #expect(refused, "expected \"\(refusal.expected)\", saw \(seen.sorted())\n\(pmd.outputTail)")
        // A refused client retries with backoff, and keeps being refused: never connected.
        usleep(300_000)
        #expect(memif.connectionCount == 0)
        #expect(memif.connection == nil)
        memif.stop()

        // Control: the same testpmd accepts a client that differs only in what was wrong, so
        // the refusal above came from that difference (and testpmd kept listening).
        var good = try configuration(.client, socket)
        good.secret = refusal.serverSecret ?? ""
        let control = try MemifInterface(good, eventLoop: loop)
        try control.start()
        defer { control.stop() }
        #expect(
            control.waitForConnection(timeout: .seconds(10)) != nil,
            "a correct client could not connect afterwards: \(control.lastDisconnectReason ?? "none")\n\(pmd.outputTail)")
    }

    // MARK: 5. Server restart

    @Test("testpmd server killed and restarted: our client reconnects and traffic resumes")
    func testpmdServerRestart() throws {
        let socket = TestSocket.unique(.abstract)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        var pmd = try TestPMD(role: .server, socket: socket)
        defer { pmd.stop() }
        try #require(pmd.waitUntilListening(), "\(pmd.outputTail)")

        let memif = try MemifInterface(try configuration(.client, socket, bufferSize: 512), eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        let first = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(pmd.outputTail)")
        #expect(memif.connectionCount == 1)
        try echoBatch(first, pmd: pmd, sizes: [64, 1500], label: "before restart")

        // SIGKILL: EOF on the control socket, no DISCONNECT.
        pmd.kill()
        #expect(Resources.eventually(timeout: 5) { !first.isConnected }, "our client never noticed testpmd died")
        #expect(!first.transmitQueue(0).isActive && !first.receiveQueue(0).isActive)
        #expect(memif.lastDisconnectReason != nil)

        pmd = try TestPMD(role: .server, socket: socket)
        try #require(pmd.waitUntilListening(), "\(pmd.outputTail)")
        try #require(
            Resources.eventually(timeout: 10) { memif.connectionCount >= 2 },
            "no reconnect; last reason \(memif.lastDisconnectReason ?? "none")\n\(pmd.outputTail)")
        #expect(memif.connectionCount == 2)
        let second = try #require(memif.waitForConnection(timeout: .seconds(5)))
        #expect(second !== first)
        #expect(second.peerInterfaceName == "net_memif0")
        try echoBatch(second, pmd: pmd, sizes: [64, 1500, 9000], label: "after restart")
    }

    // MARK: - Echo machinery

    /// A queue pair: frames sent on `tx` come back (testpmd maps RX queue q to TX queue q)
    /// on `rx`.
    struct Lane: Sendable {
        var queue: Int
        var tx: MemifTxQueue
        var rx: MemifRxQueue
    }

    /// 64, 1500 and 9000 B batches, then many single-descriptor 64 B frames over slots
    /// chains used before (gotcha G9: stale NEXT flags from DPDK 22.11 TX). Chains must
    /// have flowed both ways, and testpmd's counters must match ours.
    private func echoAtAllSizes(_ connection: MemifConnection, pmd: TestPMD, peerBufferSize: Int) throws {
        let lane = Lane(queue: 0, tx: connection.transmitQueue(0), rx: connection.receiveQueue(0))
        let ledger = EchoLedger()
        let burst = MemifBurst(capacity: 256)
        let warm = warmUp([lane], ledger: ledger, burst: burst)
        try #require(warm, "testpmd never echoed\n\(pmd.outputTail)")

        // Every free buffer has the client's size, whichever side owns it (G7).
        let reserved = lane.tx.reserve(into: burst.buffers)
        #expect(reserved > 0)
        #expect((0..<reserved).allSatisfy { burst[$0].capacity == UInt32(peerBufferSize) })

        let batches: [(size: Int, count: Int)] = [(64, 200), (1500, 200), (9000, 100), (64, 1100)]
        var sent: [[[UInt8]]] = []
        for (b, batch) in batches.enumerated() {
            let frames = (0..<batch.count).map { TestTraffic.frame(sequence: UInt32(1_000_000 * (b + 1) + $0), size: batch.size) }
            echo([(lane, frames)], ledger: ledger, burst: burst, segmentBytes: peerBufferSize)
            sent.append(frames)
        }
        expectPeerCounted(pmd, ledger: ledger, lanes: [lane], burst: burst)

        #expect(ledger.problemCount == 0, "\(ledger.problemSummary)")
        for (b, frames) in sent.enumerated() {
            let back = ledger.returnedCount(frames)
            #expect(
                back * 10 >= frames.count * 9,
                "\(batches[b].count) x \(batches[b].size) B: only \(back) came back\n\(pmd.outputTail)")
        }
        // 1500 and 9000 B do not fit a 512-byte buffer: chains both ways.
        #expect(lane.tx.statistics.chains >= 300, "tx \(lane.tx.statistics)")
        #expect(lane.rx.statistics.chains >= 270, "rx \(lane.rx.statistics)")
        #expect(lane.rx.statistics.badDescriptors == 0 && lane.rx.statistics.drops == 0, "rx \(lane.rx.statistics)")
        #expect(lane.tx.statistics.badDescriptors == 0, "tx \(lane.tx.statistics)")
    }

    /// One batch per size on queue 0 (used around a restart).
    private func echoBatch(_ connection: MemifConnection, pmd: TestPMD, sizes: [Int], label: String) throws {
        let lane = Lane(queue: 0, tx: connection.transmitQueue(0), rx: connection.receiveQueue(0))
        let ledger = EchoLedger()
        let burst = MemifBurst(capacity: 256)
        let warm = warmUp([lane], ledger: ledger, burst: burst)
        try #require(warm, "\(label): testpmd never echoed\n\(pmd.outputTail)")
        let frames = sizes.enumerated().flatMap { s, size in
            (0..<100).map { TestTraffic.frame(sequence: UInt32(1_000_000 * (s + 1) + $0), size: size) }
        }
        echo([(lane, frames)], ledger: ledger, burst: burst, segmentBytes: 512)
        expectPeerCounted(pmd, ledger: ledger, lanes: [lane], burst: burst)
        #expect(ledger.problemCount == 0, "\(label): \(ledger.problemSummary)")
        let back = ledger.returnedCount(frames)
        #expect(back * 10 >= frames.count * 9, "\(label): \(back) of \(frames.count) came back")
    }

    /// testpmd drops what arrives in its first second or so of forwarding (G14): send one
    /// 64 B probe at a time on each lane until one comes back. Returned probes are checked
    /// like everything else.
    private func warmUp(_ lanes: [Lane], ledger: EchoLedger, burst: borrowing MemifBurst, timeout: Double = 8) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var probe: UInt32 = 0xF000_0000
        for lane in lanes {
            var echoed = false
            while !echoed && Date() < deadline {
                let frame = TestTraffic.frame(sequence: probe, size: 64)
                probe += 1
                if TestTraffic.send([frame], over: lane.tx, burst: burst, deadline: deadline) == 1 {
                    ledger.recordSent([frame], queue: lane.queue)
                }
                let back = TestTraffic.receive(1, from: lane.rx, burst: burst, deadline: Date().addingTimeInterval(0.05))
                ledger.check(back, queue: lane.queue)
                echoed = !back.isEmpty
            }
            if !echoed { return false }
        }
        return true
    }

    /// Sends each lane's frames a window at a time (at most `windowSlots` descriptors of
    /// `segmentBytes` per lane in flight, so neither ring overflows and testpmd never has to
    /// drop), collecting and checking whatever comes back in between.
    private func echo(
        _ work: [(Lane, [[UInt8]])], ledger: EchoLedger, burst: borrowing MemifBurst, segmentBytes: Int,
        windowSlots: Int = 256
    ) {
        var next = [Int](repeating: 0, count: work.count)
        func slots(_ frame: [UInt8]) -> Int { (frame.count + segmentBytes - 1) / segmentBytes }
        while zip(next, work).contains(where: { $0 < $1.1.count }) {
            var inFlight = [Int](repeating: 0, count: work.count)
            for (k, (lane, frames)) in work.enumerated() where next[k] < frames.count {
                var end = next[k] + 1
                var used = slots(frames[next[k]])
                while end < frames.count && used + slots(frames[end]) <= windowSlots {
                    used += slots(frames[end])
                    end += 1
                }
                let window = Array(frames[next[k]..<end])
                let n = TestTraffic.send(window, over: lane.tx, burst: burst, deadline: Date().addingTimeInterval(2))
                ledger.recordSent(window[..<n], queue: lane.queue)
                if n < window.count {
                    ledger.problem("queue \(lane.queue): could only send \(n) of \(window.count) frames (ring stuck?)")
                    next[k] = frames.count
                } else {
                    next[k] = end
                }
                inFlight[k] = n
            }
            for (k, (lane, _)) in work.enumerated() where inFlight[k] > 0 {
                let back = TestTraffic.receive(inFlight[k], from: lane.rx, burst: burst, deadline: Date().addingTimeInterval(0.5))
                ledger.check(back, queue: lane.queue)
            }
        }
    }

    /// Collects stragglers until each lane has been quiet for a while.
    private func drain(_ lanes: [Lane], ledger: EchoLedger, burst: borrowing MemifBurst) {
        for lane in lanes {
            while true {
                let back = TestTraffic.receive(Int.max, from: lane.rx, burst: burst, deadline: Date().addingTimeInterval(0.2))
                ledger.check(back, queue: lane.queue)
                if back.isEmpty { break }
            }
        }
    }

    /// testpmd's own port counters (the memif PMD's), printed once a second: it received
    /// exactly what we published and transmitted exactly what we received.
    private func expectPeerCounted(_ pmd: TestPMD, ledger: EchoLedger, lanes: [Lane], burst: borrowing MemifBurst) {
        // Collect (and check) whatever is still on its way until testpmd's printed counters
        // agree with ours or stop changing.
        let deadline = Date().addingTimeInterval(8)
        var stats: (rx: UInt64, tx: UInt64)?
        repeat {
            drain(lanes, ledger: ledger, burst: burst)
            stats = pmd.portStatistics
            if let stats, stats.rx == UInt64(ledger.sentCount), stats.tx == UInt64(ledger.receivedCount) { break }
            usleep(100_000)
        } while Date() < deadline
        print("testpmd \(pmd.role) on \(pmd.socket): we sent \(ledger.sentCount) and received \(ledger.receivedCount) (\(ledger.problemCount) problems); testpmd counted RX \(stats.map { "\($0.rx)" } ?? "?") TX \(stats.map { "\($0.tx)" } ?? "?")")
        #expect(stats?.rx == UInt64(ledger.sentCount), "testpmd RX \(stats.map { "\($0.rx)" } ?? "none"), we sent \(ledger.sentCount)")
        #expect(stats?.tx == UInt64(ledger.receivedCount), "testpmd TX \(stats.map { "\($0.tx)" } ?? "none"), we received \(ledger.receivedCount)")
    }

    private func configuration(
        _ role: MemifConfiguration.Role, _ socket: TestSocket, id: UInt32 = 0, queues: Int = 1, bufferSize: Int = 2048
    ) throws -> MemifConfiguration {
        MemifConfiguration(
            role: role, socket: try socket.ours, id: id, applicationName: "MemifKit-interop", interfaceName: "memif-dpdk",
            queues: queues, log2RingSize: 10, bufferSize: bufferSize)
    }
}

/// Everything sent, by sequence number, and what came back: each returned frame must be the
/// MAC-swapped copy of a frame sent on the same queue, returned once.
final class EchoLedger {
    private var sent: [UInt32: (queue: Int, frame: [UInt8])] = [:]
    private var returned: Set<UInt32> = []
    private var problems: [String] = []
    private(set) var sentCount = 0
    private(set) var receivedCount = 0

    func recordSent(_ frames: some Collection<[UInt8]>, queue: Int) {
        for frame in frames {
            sent[TestTraffic.sequence(of: frame)!] = (queue, frame)
            sentCount += 1
        }
    }

    func check(_ frames: [[UInt8]], queue: Int) {
        for frame in frames {
            receivedCount += 1
            guard let sequence = TestTraffic.sequence(of: frame), let original = sent[sequence] else {
                problem("queue \(queue): unknown frame of \(frame.count) B: \(frame.prefix(24).map { String(format: "%02x", $0) }.joined())")
                continue
            }
            if original.queue != queue {
                problem("sequence \(sequence) sent on queue \(original.queue) came back on queue \(queue)")
            }
            if !returned.insert(sequence).inserted {
                problem("sequence \(sequence) came back twice")
            }
            let expected = TestTraffic.swapped(original.frame)
            if frame != expected {
                let common = min(frame.count, expected.count)
                let at = (0..<common).first { frame[$0] != expected[$0] } ?? common
                problem("sequence \(sequence): sent \(expected.count) B, got \(frame.count) B, first difference at byte \(at)")
            }
        }
    }

    func returnedCount(_ frames: [[UInt8]]) -> Int {
        frames.count(where: { returned.contains(TestTraffic.sequence(of: $0)!) })
    }

    func problem(_ text: String) { problems.append(text) }

    var problemCount: Int { problems.count }

    var problemSummary: String {
        "\(problems.count) problems:\n" + problems.prefix(12).joined(separator: "\n")
    }
}
