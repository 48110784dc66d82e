import Foundation
import Memif
import Testing

/// Our library in this process against `memifctl` in another: shared memory, fds and
/// eventfds really cross a process boundary, and a peer can die with SIGKILL.
@Suite(.serialized) struct TwoProcessTests {
    static func memifctl(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(TestPaths.memifctl, arguments)
    }

    static func client(_ socket: String, mode: MemifMode = .ethernet, queues: Int = 1, bufferSize: Int = 2048)
        throws -> (MemifEventLoop, MemifInterface)
    {
        let loop = try MemifEventLoop()
        var c = MemifConfiguration(
            role: .client, socket: try MemifSocketName(socket), mode: mode, queues: queues, bufferSize: bufferSize)
        c.reconnectDelay = .milliseconds(20)
        c.maximumReconnectDelay = .milliseconds(200)
        let memif = try MemifInterface(c, eventLoop: loop)
        try memif.start()
        return (loop, memif)
    }

    /// Sends frames over every queue and expects each back MAC-swapped, byte for byte.
    static func expectReflected(_ connection: MemifConnection, sizes: [Int], count: Int) {
        for q in 0..<connection.transmitQueueCount {
            let frames = (0..<count).map {
                TestTraffic.frame(sequence: UInt32(q * 100_000 + $0), size: sizes[$0 % sizes.count])
            }
            let back = exchange(frames, from: connection.transmitQueue(q), to: connection.receiveQueue(q))
            let expected = frames.map(TestTraffic.swapped)
            let firstBad = zip(back, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(back.count == count && firstBad == nil, "queue \(q): \(back.count) of \(count) back, first mismatch at \(String(describing: firstBad))")
        }
    }

    @Test(arguments: [MemifMode.ethernet, .ip], [false, true])
    func memifctlServerReflectsEveryByte(mode: MemifMode, interrupt: Bool) throws {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        var args = ["reflect", "--role", "server", "--socket", socket, "--queues", "4", "--mode", mode == .ip ? "ip" : "ethernet"]
        if interrupt { args.append("--interrupt") }
        let server = try Self.memifctl(args)
        #expect(server.waitForOutput("waiting for a peer", timeout: 10))
        let (loop, memif) = try Self.client(socket, mode: mode, queues: 4, bufferSize: 512)
        defer {
            memif.stop()
            loop.shutdown()
        }
        let connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(server.output)")
        if interrupt { (0..<4).forEach { connection.receiveQueue($0).setInterruptMode(true) } }
        Self.expectReflected(connection, sizes: [64, 512, 513, 1500, 9000], count: 300)
        server.stop(signal: SIGINT)
        #expect(server.output.contains("total rx-packets=1200"), "\(server.output)")
    }

    @Test func secretIsCheckedAcrossProcesses() throws {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        let server = try Self.memifctl(["reflect", "--role", "server", "--socket", socket, "--secret", "pw"])
        #expect(server.waitForOutput("waiting for a peer", timeout: 10))
        for (secret, refusal) in [("wrong", "Incorrect secret"), ("", "Secret required")] {
            let loop = try MemifEventLoop()
            var c = MemifConfiguration(role: .client, socket: try MemifSocketName(socket), secret: secret)
            c.reconnectDelay = .milliseconds(20)
            let memif = try MemifInterface(c, eventLoop: loop)
            try memif.start()
            #expect(Resources.eventually { memif.lastDisconnectReason == refusal }, "\(memif.lastDisconnectReason ?? "none")")
            #expect(memif.connectionCount == 0)
            memif.stop()
            loop.shutdown()
        }
        let loop = try MemifEventLoop()
        let memif = try MemifInterface(
            MemifConfiguration(role: .client, socket: try MemifSocketName(socket), secret: "pw"), eventLoop: loop)
        try memif.start()
        defer {
            memif.stop()
            loop.shutdown()
        }
        let connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(server.output)")
        Self.expectReflected(connection, sizes: [64], count: 50)
    }

    @Test func ourServerAgainstAMemifctlClient() throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent(TestPaths.uniqueName("memifkit-2p")).path
        let loop = try MemifEventLoop()
        let memif = try MemifInterface(
            MemifConfiguration(role: .server, socket: try MemifSocketName(socket), queues: 2), eventLoop: loop)
        try memif.start()
        defer {
            memif.stop()
            loop.shutdown()
        }
        let client = try Self.memifctl(["reflect", "--role", "client", "--socket", socket, "--queues", "2", "--buffer-size", "1024"])
        let connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(client.output)")
        #expect(connection.peerApplicationName == "memifctl")
        Self.expectReflected(connection, sizes: [60, 1024, 1025, 4000], count: 300)
        client.stop(signal: SIGINT)
        #expect(Resources.eventually { !connection.isConnected })
        #expect(memif.lastDisconnectReason == "Device closed")
    }

    @Test func clientSurvivesAKilledServerAndReconnects() throws {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        var server = try Self.memifctl(["reflect", "--role", "server", "--socket", socket])
        let (loop, memif) = try Self.client(socket)
        defer {
            memif.stop()
            loop.shutdown()
        }
        var connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(server.output)")
        Self.expectReflected(connection, sizes: [100], count: 100)
        server.stop(signal: SIGKILL)  // no DISCONNECT: only EOF tells us
        #expect(Resources.eventually { !connection.isConnected })
        #expect(memif.lastDisconnectReason == "connection closed by peer")
        usleep(300_000)  // the client is retrying against nothing
        server = try Self.memifctl(["reflect", "--role", "server", "--socket", socket])
        connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(server.output)")
        #expect(memif.connectionCount == 2)
        Self.expectReflected(connection, sizes: [100, 2000], count: 100)
    }

    /// Runs `memifctl source` (client) with `arguments` against our memif server and
    /// returns the first `count` frames it receives.
    static func framesFromMemifctlSource(_ arguments: [String], count: Int) throws -> [[UInt8]] {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        let loop = try MemifEventLoop()
        let memif = try MemifInterface(
            MemifConfiguration(role: .server, socket: try MemifSocketName(socket)), eventLoop: loop)
        try memif.start()
        defer {
            memif.stop()
            loop.shutdown()
        }
        let source = try Self.memifctl(["source", "--role", "client", "--socket", socket] + arguments)
        let connection = try #require(memif.waitForConnection(timeout: .seconds(10)), "\(source.output)")
        let burst = MemifBurst(capacity: 256)
        return TestTraffic.receive(count, from: connection.receiveQueue(0), burst: burst, deadline: Date().addingTimeInterval(20))
    }

    @Test func memifctlSourceReachesOurSinkWithValidFrames() throws {
        let frames = try Self.framesFromMemifctlSource(["--size", "1500", "--count", "5000", "--buffer-size", "512"], count: 5000)
        #expect(frames.count == 5000)
        #expect(frames.allSatisfy { $0.count == 1500 && $0[12] == 0x08 && $0[13] == 0x00 && $0[14] == 0x45 })
        #expect(Set(frames.map { $0 }).count == 1, "every frame is the same template")
    }

    @Test func memifctlSourceSendsItsFlowsInTurn() throws {
        // 3000 B frames span two 2048 B buffers; 7 flows take 4096 B slots each.
        let frames = try Self.framesFromMemifctlSource(["--size", "3000", "--count", "1000", "--flows", "7"], count: 1000)
        #expect(frames.count == 1000)
        // UDP source port (bytes 34-35 after Ethernet and IPv4): 9 + flow, flows in turn.
        let ports = frames.map { Int($0[34]) << 8 | Int($0[35]) }
        #expect(ports == (0..<1000).map { 9 + $0 % 7 }, "\(ports.prefix(20))")
        #expect(frames.allSatisfy { $0.count == 3000 && $0[14] == 0x45 && $0[36...] == frames[0][36...] })
    }

    @Test func memifctlSinkReportsEachIntervalAndCountsEveryRotatedFrame() throws {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        // An idle pause: the sink lets batches build up and still counts every frame.
        let sink = try Self.memifctl([
            "sink", "--role", "server", "--socket", socket, "--interval", "0.1", "--read", "every-line", "--idle-pause", "5",
        ])
        #expect(sink.waitForOutput("waiting for a peer", timeout: 10), "\(sink.output)")
        // 4 buffers per slot of a 64-slot ring, so 20000 frames go round every buffer many times.
        let source = try Self.memifctl([
            "source", "--role", "client", "--socket", socket, "--size", "700", "--count", "20000", "--ring-size", "6",
            "--buffers-per-slot", "4", "--duration", "1.5",
        ])
        #expect(source.waitForExit(timeout: 20), "\(source.output)")
        sink.stop(signal: SIGINT)
        let lines = sink.output.split(separator: "\n").filter { $0.contains(" Mpps ") }
        #expect(lines.count >= 8, "a line every 0.1 s over about 1.5 s:\n\(sink.output)")
        #expect(sink.output.contains("rx-packets=20000 rx-bytes=14000000"), "\(sink.output)")
        #expect(sink.output.contains("bad-descriptors=0"), "\(sink.output)")
    }

    @Test(arguments: [
        ["--interval", "0"], ["--interval", "61"], ["--buffers-per-slot", "3"], ["--idle-pause", "1001"], ["--idle-pause=-1"],
    ])
    func memifctlRefusesOutOfRangeOptions(_ option: [String]) throws {
        let child = try Self.memifctl(["sink", "--socket", "@" + TestPaths.uniqueName("memifkit-2p")] + option)
        #expect(child.waitForExit(timeout: 10))
        #expect(child.output.contains("Error:"), "\(child.output)")
    }

    @Test(arguments: [["--flows", "0"], ["--flows", "65537"], ["--flows", "65536", "--size", "9000"]])
    func memifctlSourceRefusesOutOfRangeFlows(_ option: [String]) throws {
        let child = try Self.memifctl(["source", "--socket", "@" + TestPaths.uniqueName("memifkit-2p")] + option)
        #expect(child.waitForExit(timeout: 10))
        #expect(child.output.contains("Error: --flows"), "\(child.output)")
    }

    @Test func inspectPrintsWhatTheServerAdvertises() throws {
        let socket = "@" + TestPaths.uniqueName("memifkit-2p")
        let loop = try MemifEventLoop()
        var c = MemifConfiguration(role: .server, socket: try MemifSocketName(socket), id: 3, secret: "pw")
        c.applicationName = "inspect-me"
        let memif = try MemifInterface(c, eventLoop: loop)
        try memif.start()
        defer {
            memif.stop()
            loop.shutdown()
        }
        let ok = try Self.memifctl(["inspect", socket, "--id", "3", "--secret", "pw"])
        #expect(ok.waitForExit(timeout: 10))
        #expect(ok.output.contains("inspect-me"))
        #expect(ok.output.contains("max log2 ring:     14"))
        #expect(ok.output.contains("accepted"), "\(ok.output)")
        let refused = try Self.memifctl(["inspect", socket, "--id", "3"])
        #expect(refused.waitForExit(timeout: 10))
        #expect(refused.output.contains("refused: Secret required"), "\(refused.output)")
        #expect(memif.connection == nil)
    }
}
