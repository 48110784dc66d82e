import CMemifLinux
import Foundation
import Testing

@testable import Memif

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Fixture

/// One event loop, server interfaces 0 (2 queue pairs) and 1 on one abstract socket, and a
/// well-behaved client connected to id 1 with its connection on both sides.
final class HostileFixture {
    let loop: MemifEventLoop
    let socketName: MemifSocketName
    let server0: MemifInterface
    let server1: MemifInterface
    let goodClient: MemifInterface
    let goodServerSide: MemifConnection
    let goodClientSide: MemifConnection
    private var sequence: UInt32 = 0

    init(handshakeTimeout: Duration = .seconds(5)) throws {
        let name = try MemifSocketName("@" + TestPaths.uniqueName("memif-hostile"))
        let loop = try MemifEventLoop()
        var started: [MemifInterface] = []
        do {
            let server0 = try MemifInterface(
                MemifConfiguration(
                    role: .server, socket: name, id: 0, interfaceName: "server0", queues: 2,
                    handshakeTimeout: handshakeTimeout), eventLoop: loop)
            try server0.start()
            started.append(server0)
            let server1 = try MemifInterface(
                MemifConfiguration(
                    role: .server, socket: name, id: 1, interfaceName: "server1", handshakeTimeout: handshakeTimeout),
                eventLoop: loop)
            try server1.start()
            started.append(server1)
            let client = try MemifInterface(
                MemifConfiguration(role: .client, socket: name, id: 1, applicationName: "good-client", interfaceName: "good1"),
                eventLoop: loop)
            try client.start()
            started.append(client)
            guard let clientSide = client.waitForConnection(timeout: .seconds(5)),
                let serverSide = server1.waitForConnection(timeout: .seconds(5))
            else { throw HostileError("the well-behaved client did not connect to id 1") }
            self.server0 = server0
            self.server1 = server1
            self.goodClient = client
            self.goodClientSide = clientSide
            self.goodServerSide = serverSide
        } catch {
            for i in started.reversed() { i.stop() }
            loop.shutdown()
            throw error
        }
        self.loop = loop
        self.socketName = name
    }

    func shutdown() {
        goodClient.stop()
        server0.stop()
        server1.stop()
        loop.shutdown()
    }

    func frames(_ sizes: [Int]) -> [[UInt8]] {
        defer { sequence &+= UInt32(sizes.count) }
        return sizes.enumerated().map { TestTraffic.frame(sequence: sequence &+ UInt32($0.offset), size: $0.element) }
    }

    /// Frames both ways between `client` and `server`, chains included, payload verified.
    func exchange(
        client: MemifConnection, server: MemifConnection, _ context: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let burst = MemifBurst(capacity: 64)
        let deadline = Date().addingTimeInterval(5)
        let up = frames([60, 1500, 3000, 64, 9000, 1514])
        let sentUp = TestTraffic.send(up, over: client.transmitQueue(0), burst: burst, deadline: deadline)
        let gotUp = TestTraffic.receive(up.count, from: server.receiveQueue(0), burst: burst, deadline: deadline)
        #expect(sentUp == up.count, "\(context): client sent \(sentUp)/\(up.count)", sourceLocation: sourceLocation)
        #expect(gotUp == up, "\(context): server received \(gotUp.count) frames, payload intact: \(gotUp == up)",
            sourceLocation: sourceLocation)
        let down = frames([1514, 60, 4000, 128])
        let sentDown = TestTraffic.send(down, over: server.transmitQueue(0), burst: burst, deadline: deadline)
        let gotDown = TestTraffic.receive(down.count, from: client.receiveQueue(0), burst: burst, deadline: deadline)
        #expect(sentDown == down.count, "\(context): server sent \(sentDown)/\(down.count)", sourceLocation: sourceLocation)
        #expect(gotDown == down, "\(context): client received \(gotDown.count) frames, payload intact: \(gotDown == down)",
            sourceLocation: sourceLocation)
    }

    /// The id 1 connection is the one from the start and still carries traffic.
    func checkGoodTraffic(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(goodClientSide.isConnected && goodServerSide.isConnected,
            "\(context): the id 1 connection went down (\(goodClient.lastDisconnectReason ?? "-"))",
            sourceLocation: sourceLocation)
        #expect(goodClient.connectionCount == 1, "\(context): the id 1 client had to reconnect",
            sourceLocation: sourceLocation)
        exchange(client: goodClientSide, server: goodServerSide, "\(context) (id 1)", sourceLocation: sourceLocation)
    }

    /// Id 0 is free again: a legitimate client connects, exchanges traffic and leaves.
    func checkFreshClient(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let free = Resources.eventually(timeout: 3) { server0.connection == nil }
        #expect(free, "\(context): id 0 still holds a connection", sourceLocation: sourceLocation)
        do {
            let client = try MemifInterface(
                MemifConfiguration(role: .client, socket: socketName, id: 0, applicationName: "fresh-client", interfaceName: "fresh0"),
                eventLoop: loop)
            try client.start()
            defer {
                client.stop()
                let gone = Resources.eventually(timeout: 3) { server0.connection == nil }
                #expect(gone, "\(context): id 0 did not see the fresh client leave", sourceLocation: sourceLocation)
            }
            guard let clientSide = client.waitForConnection(timeout: .seconds(3)),
                let serverSide = server0.waitForConnection(timeout: .seconds(3))
            else {
                Issue.record(
                    "\(context): a fresh client could not connect to id 0 (\(client.lastDisconnectReason ?? "-"))",
                    sourceLocation: sourceLocation)
                return
            }
            #expect(serverSide.peerApplicationName == "fresh-client", sourceLocation: sourceLocation)
            exchange(client: clientSide, server: serverSide, "\(context) (fresh id 0)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(context): fresh client: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Each attack on its own fresh control connection.
    func run(_ attacks: [Attack], lenient: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        for attack in attacks {
            do {
                let h = try HostileClient(socketName)
                let hello = try h.expectHello()
                #expect(hello.minVersion <= MemifProtocol.version && MemifProtocol.version <= hello.maxVersion,
                    sourceLocation: sourceLocation)
                try attack.script(h)
                h.expectRefusal(attack.expectation, attack.name, lenient: lenient, sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(attack.name): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// A complete, correct hand-made handshake on id 0; returns once CONNECTED arrived.
    /// Runs `body` with a hand-made client connected to id 0 (sealed memory, valid rings)
    /// and the server's side of that connection; the client lives until `body` returns.
    func withHostileConnection(_ body: (HostileRegion, MemifConnection) throws -> Void) throws {
        let region = try HostileRegion()
        let client = try connectHostile(region)
        let connection = try #require(server0.waitForConnection(timeout: .seconds(3)))
        try withExtendedLifetime(client) { try body(region, connection) }
    }

    /// A hand-made client for id 0 that has registered `region` and its rings and sent
    /// CONNECT, without waiting for the answer.
    func sendHandshake(_ region: HostileRegion, interfaceName: String = "hostile0") throws -> HostileClient {
        let h = try HostileClient(socketName)
        _ = try h.expectHello()
        try h.initialize(id: 0)
        try h.addRegion(region)
        try h.addRings()
        try h.send(.connect(interfaceName: interfaceName))
        return h
    }

    func connectHostile(_ region: HostileRegion) throws -> HostileClient {
        let h = try sendHandshake(region)
        let r = h.next()
        guard r == .message(.connected(interfaceName: "server0")) else {
            throw HostileError("CONNECT was answered with \(r), not CONNECTED \"server0\"")
        }
        return h
    }
}
