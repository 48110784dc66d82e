import Foundation
import Glibc
import Memif
import Testing

/// A Swift server and a Swift client in one process, over real unix sockets and memfds.
@Suite(.serialized) struct InProcessConnectionTests {
    static func socketName(_ kind: String) -> String {
        kind == "abstract"
            ? "@" + TestPaths.uniqueName("memifkit")
            : FileManager.default.temporaryDirectory.appendingPathComponent(TestPaths.uniqueName("memifkit") + ".sock").path
    }

    static let shapes: [(MemifMode, Int)] = [(.ethernet, 1), (.ethernet, 4), (.ip, 1), (.ip, 4)]

    @Test(arguments: shapes, ["abstract", "filesystem"])
    func carriesEveryByteOnEveryQueue(shape: (MemifMode, Int), socketKind: String) throws {
        let (mode, queues) = shape
        let (s, c) = try Endpoints.configurations(socket: Self.socketName(socketKind), mode: mode, queues: queues)
        let e = try Endpoints(server: s, client: c)
        let pair = try #require(e.connected())
        #expect(pair.client.receiveQueueCount == queues && pair.client.transmitQueueCount == queues)
        #expect(pair.server.receiveQueueCount == queues && pair.server.transmitQueueCount == queues)
        #expect(pair.client.peerInterfaceName == "server0" && pair.server.peerInterfaceName == "client0")
        #expect(pair.server.mode == mode)
        for q in 0..<queues {
            let frames = (0..<200).map { TestTraffic.frame(sequence: UInt32(q * 1000 + $0), size: 60 + $0) }
            #expect(exchange(frames, from: pair.client.transmitQueue(q), to: pair.server.receiveQueue(q)) == frames)
            #expect(exchange(frames, from: pair.server.transmitQueue(q), to: pair.client.receiveQueue(q)) == frames)
        }
        if socketKind == "filesystem" {
            #expect(FileManager.default.fileExists(atPath: s.socket.name))
            e.server.stop()
            #expect(!FileManager.default.fileExists(atPath: s.socket.name), "the listener removes its file")
        }
    }

    @Test func libmemifLayoutPutsBuffersInRegionOne() throws {
        var (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"), queues: 2, bufferSize: 1024)
        c.regionLayout = .separateBufferRegion
        let e = try Endpoints(server: s, client: c)
        let pair = try #require(e.connected())
        let rings: UInt64 = 4 * 16512
        let buffers: UInt64 = 4 * 2 * 1024 * 1024  // four rings of two buffers per slot
        #expect(pair.server.regionSizes == [rings, buffers])
        for q in 0..<2 {
            let frames = (0..<100).map { TestTraffic.frame(sequence: UInt32($0), size: 64 + 20 * $0) }
            #expect(exchange(frames, from: pair.client.transmitQueue(q), to: pair.server.receiveQueue(q)) == frames)
            #expect(exchange(frames, from: pair.server.transmitQueue(q), to: pair.client.receiveQueue(q)) == frames)
        }
    }

    @Test func chainsWith512ByteBuffersCarryFramesUpTo9000Bytes() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"), bufferSize: 512)
        let e = try Endpoints(server: s, client: c)
        let pair = try #require(e.connected())
        let sizes = [64, 511, 512, 513, 1024, 1500, 4400, 9000]
        let frames = (0..<400).map { TestTraffic.frame(sequence: UInt32($0), size: sizes[$0 % sizes.count]) }
        #expect(exchange(frames, from: pair.client.transmitQueue(0), to: pair.server.receiveQueue(0)) == frames)
        #expect(exchange(frames, from: pair.server.transmitQueue(0), to: pair.client.receiveQueue(0)) == frames)
        #expect(pair.server.receiveQueue(0).statistics.chains == 250)
        #expect(pair.client.receiveQueue(0).statistics.chains == 250)
    }

    @Test func interruptModeWakesAWaitingReceiver() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"))
        let e = try Endpoints(server: s, client: c)
        let pair = try #require(e.connected())
        for (rx, tx) in [
            (pair.server.receiveQueue(0), pair.client.transmitQueue(0)),
            (pair.client.receiveQueue(0), pair.server.transmitQueue(0)),
        ] {
            rx.setInterruptMode(true)
            #expect(!rx.waitForSignal(timeoutMilliseconds: 0))
            let frames = (0..<10).map { TestTraffic.frame(sequence: UInt32($0), size: 100) }
            let burst = MemifBurst(capacity: 16)
            let woke = Thread.detachNewThreadAndWait { rx.waitForSignal(timeoutMilliseconds: 5000) } after: {
                usleep(50_000)
                _ = TestTraffic.send(frames, over: tx, burst: burst, deadline: Date().addingTimeInterval(5))
            }
            #expect(woke)
            #expect(TestTraffic.receive(10, from: rx, burst: burst, deadline: Date().addingTimeInterval(2)) == frames)
            // Back to polling: the producer stops signalling.
            rx.setInterruptMode(false)
            _ = TestTraffic.send(frames, over: tx, burst: burst, deadline: Date().addingTimeInterval(5))
            #expect(!rx.waitForSignal(timeoutMilliseconds: 50))
            #expect(TestTraffic.receive(10, from: rx, burst: burst, deadline: Date().addingTimeInterval(2)) == frames)
        }
    }

    @Test(arguments: [("s3cret", "s3cret", nil), ("s3cret", "wrong", "Incorrect secret"), ("s3cret", "", "Secret required"), ("", "ignored", nil)])
    func secretIsCheckedByTheServer(server: String, client: String, refusal: String?) throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"), secret: server, clientSecret: client)
        let e = try Endpoints(server: s, client: c)
        if let refusal {
            #expect(Resources.eventually { e.client.lastDisconnectReason == refusal })
            #expect(e.client.connection == nil && e.server.connection == nil)
        } else {
            #expect(e.connected() != nil)
        }
    }

    @Test func disconnectCarriesAReasonBothWays() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"))
        let e = try Endpoints(server: s, client: c)
        var pair = try #require(e.connected())
        e.client.stop()
        #expect(Resources.eventually { !pair.server.isConnected })
        #expect(e.server.lastDisconnectReason == "Device closed")
        #expect(!pair.client.isConnected)
        try e.client.start()
        pair = try #require(e.connected())
        e.server.stop()
        #expect(Resources.eventually { !pair.client.isConnected })
        #expect(e.client.lastDisconnectReason == "Device closed")
    }

    @Test func clientReconnectsWhenTheServerComesBack() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("filesystem"))
        // The client starts first: nothing listens yet, so it must keep retrying.
        let e = try Endpoints(server: s, client: c, startClient: false)
        e.server.stop()
        try e.client.start()
        usleep(300_000)
        #expect(e.client.connection == nil)
        try e.server.start()
        var pair = try #require(e.connected())
        #expect(e.client.connectionCount == 1)
        let frames = (0..<50).map { TestTraffic.frame(sequence: UInt32($0), size: 300) }
        #expect(exchange(frames, from: pair.client.transmitQueue(0), to: pair.server.receiveQueue(0)) == frames)
        // The server goes away and returns (a new interface on a new loop, as after a restart).
        e.server.stop()
        #expect(Resources.eventually { !pair.client.isConnected })
        e.server = try MemifInterface(s, eventLoop: e.serverLoop)
        try e.server.start()
        pair = try #require(e.connected())
        #expect(e.client.connectionCount == 2)
        #expect(exchange(frames, from: pair.server.transmitQueue(0), to: pair.client.receiveQueue(0)) == frames)
    }

    @Test func aSecondClientForTheSameIdIsRefusedUntilTheFirstLeaves() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"))
        let e = try Endpoints(server: s, client: c)
        #expect(e.connected() != nil)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let second = try MemifInterface(c, eventLoop: loop)
        try second.start()
        defer { second.stop() }
        #expect(Resources.eventually { second.lastDisconnectReason == "Already connected" })
        e.client.stop()
        #expect(second.waitForConnection(timeout: .seconds(5)) != nil)
    }

    @Test func manyInterfaceIdsShareOneSocket() throws {
        let name = Self.socketName("abstract")
        let serverLoop = try MemifEventLoop()
        let clientLoop = try MemifEventLoop()
        defer {
            clientLoop.shutdown()
            serverLoop.shutdown()
        }
        var servers: [MemifInterface] = []
        var clients: [MemifInterface] = []
        for id in UInt32(0)..<4 {
            var (s, c) = try Endpoints.configurations(socket: name)
            s.id = id
            c.id = id
            servers.append(try MemifInterface(s, eventLoop: serverLoop))
            clients.append(try MemifInterface(c, eventLoop: clientLoop))
            try servers.last!.start()
            try clients.last!.start()
        }
        defer {
            clients.forEach { $0.stop() }
            servers.forEach { $0.stop() }
        }
        for id in 0..<4 {
            let cc = try #require(clients[id].waitForConnection(timeout: .seconds(5)))
            let sc = try #require(servers[id].waitForConnection(timeout: .seconds(5)))
            let frames = [TestTraffic.frame(sequence: UInt32(id), size: 64 + id)]
            #expect(exchange(frames, from: cc.transmitQueue(0), to: sc.receiveQueue(0)) == frames)
        }
    }

    @Test func queueCountsAreNegotiatedDownNeverUp() throws {
        // More client rings than the server has queues: refused (G6), as DPDK does.
        var (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"), queues: 2)
        c.clientToServerQueues = 4
        c.serverToClientQueues = 4
        var e = try Endpoints(server: s, client: c)
        #expect(Resources.eventually { e.client.lastDisconnectReason == "Invalid ring index" })
        // Fewer is fine: the server serves the rings it was given.
        (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"), queues: 4)
        c.clientToServerQueues = 1
        c.serverToClientQueues = 2
        e = try Endpoints(server: s, client: c)
        let pair = try #require(e.connected())
        #expect(pair.server.receiveQueueCount == 1 && pair.server.transmitQueueCount == 2)
    }

    @Test func hundredConnectCyclesLeakNoDescriptorsOrMappings() throws {
        let (s, c) = try Endpoints.configurations(socket: Self.socketName("abstract"))
        let e = try Endpoints(server: s, client: c)
        #expect(e.connected() != nil)
        e.client.stop()
        #expect(Resources.eventually { e.server.connection == nil })
        let fds = Resources.openDescriptors()
        let maps = Resources.allMappings()
        for cycle in 0..<100 {
            try e.client.start()
            let pair = try #require(e.connected(), "cycle \(cycle)")
            let frames = [TestTraffic.frame(sequence: UInt32(cycle), size: 128)]
            #expect(exchange(frames, from: pair.client.transmitQueue(0), to: pair.server.receiveQueue(0)) == frames)
            e.client.stop()
            #expect(Resources.eventually { e.server.connection == nil && !pair.server.isConnected })
        }
        #expect(Resources.eventually { Resources.openDescriptors() <= fds })
        #expect(Resources.eventually { Resources.regionMappings() == 0 })
        #expect(Resources.allMappings() <= maps + 2)
    }

    @Test func staleSocketFileIsReplacedButNeverALiveListenerOrAFile() throws {
        let path = Self.socketName("filesystem")
        // A socket file nobody listens on (a crashed server's leftover).
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in path.utf8CString.withUnsafeBytes { p.copyMemory(from: $0) } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        let (s, c) = try Endpoints.configurations(socket: path)
        let e = try Endpoints(server: s, client: c)
        #expect(e.connected() != nil)
        // A second server on the same live path is refused; the first keeps serving.
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        var other = s
        other.id = 9
        #expect(throws: MemifError.self) { try MemifInterface(other, eventLoop: loop).start() }
        #expect(e.server.connection?.isConnected == true)
        // A regular file is never removed.
        let file = Self.socketName("filesystem")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep".utf8)))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var onFile = s
        onFile.socket = try MemifSocketName(file)
        #expect(throws: MemifError.self) { try MemifInterface(onFile, eventLoop: loop).start() }
        #expect(FileManager.default.contents(atPath: file) == Data("keep".utf8))
    }
}

extension Thread {
    /// Runs `body` on a new thread while `after` runs here; returns `body`'s result.
    static func detachNewThreadAndWait(_ body: @escaping @Sendable () -> Bool, after: () -> Void) -> Bool {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.value = body()
            done.signal()
        }
        after()
        done.wait()
        return result.value
    }
}

final class ResultBox: @unchecked Sendable {
    var value = false
}

@Suite(.serialized) struct ControlPlaneEdgeTests {
    @Test func clientGivesUpOnASilentServerAndRetries() throws {
        // Something listens but never sends HELLO.
        let name = "@" + TestPaths.uniqueName("memifkit-silent")
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8.dropFirst())
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            p[0] = 0
            for (i, b) in bytes.enumerated() { p[i + 1] = b }
        }
        let length = socklen_t(2 + 1 + bytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        #expect(rc == 0)
        #expect(listen(fd, 8) == 0)
        var (_, c) = try Endpoints.configurations(socket: name)
        c.handshakeTimeout = .milliseconds(200)
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let memif = try MemifInterface(c, eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        #expect(Resources.eventually { memif.lastDisconnectReason == "Handshake timeout" })
        // It keeps retrying: a second connection attempt reaches the listener's queue.
        var accepted = 0
        #expect(Resources.eventually {
            let a = accept(fd, nil, nil)
            if a >= 0 {
                accepted += 1
                close(a)
            }
            return accepted >= 2
        })
    }

    @Test func stopAfterShutdownReturns() throws {
        let (s, c) = try Endpoints.configurations(socket: "@" + TestPaths.uniqueName("memifkit"))
        let loop = try MemifEventLoop()
        let server = try MemifInterface(s, eventLoop: loop)
        let client = try MemifInterface(c, eventLoop: loop)
        try server.start()
        try client.start()
        #expect(client.waitForConnection(timeout: .seconds(5)) != nil)
        loop.shutdown()
        client.stop()
        server.stop()
        #expect(client.connection == nil || client.connection?.isConnected == false)
    }
}
