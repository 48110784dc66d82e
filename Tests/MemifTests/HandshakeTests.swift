import Testing

@testable import Memif

/// The handshake state machines without sockets: message order, negotiation, refusals.
@Suite struct HandshakeTests {
    static func clientConfiguration(queues: Int = 2, log2: UInt8 = 12) -> MemifConfiguration {
        var c = MemifConfiguration(role: .client, socket: try! MemifSocketName("@hs"), id: 7, secret: "pw", queues: queues)
        c.log2RingSize = log2
        c.bufferSize = 256
        c.applicationName = "app"
        return c
    }

    /// Runs a client handshake against the replies a server would send; returns every
    /// message the client sent, in order.
    static func drive(_ c: MemifConfiguration, hello: MemifMessage.Hello) -> (sent: [MemifMessage], last: HandshakeStep) {
        var h = ClientHandshake(configuration: c)
        var sent: [MemifMessage] = []
        var step = h.handle(.hello(hello), fd: nil)
        while case .send(let m, _) = step {
            sent.append(m)
            step = h.handle(m.type == .connect ? .connected(interfaceName: "srv") : .ack, fd: nil)
        }
        return (sent, step)
    }

    @Test func clientSendsEverythingInProtocolOrderOneAtATime() {
        let (sent, last) = Self.drive(Self.clientConfiguration(), hello: .init(name: "srv"))
        #expect(sent.map(\.type) == [.initialize, .addRegion, .addRing, .addRing, .addRing, .addRing, .connect])
        guard case .initialize(let i) = sent[0] else { return }
        #expect(i.id == 7 && i.secret == Array("pw".utf8) && i.name == "app" && i.version == 0x0200)
        let rings = sent.compactMap { m -> MemifMessage.AddRing? in
            if case .addRing(let r) = m { return r }
            return nil
        }
        #expect(rings.map(\.isClientToServer) == [true, true, false, false])
        #expect(rings.map(\.index) == [0, 1, 0, 1])
        #expect(rings.map(\.offset) == [0, 65664, 131_328, 196_992])
        guard case .established(let connection) = last else {
            Issue.record("not established: \(last)")
            return
        }
        #expect(connection.transmitQueueCount == 2 && connection.receiveQueueCount == 2)
        #expect(connection.peerApplicationName == "srv" && connection.peerInterfaceName == "srv")
    }

    @Test func clientClampsQueuesAndRingSizeToHello() {
        let hello = MemifMessage.Hello(name: "small", maxServerToClientRing: 0, maxClientToServerRing: 2, maxLog2RingSize: 9)
        let (sent, last) = Self.drive(Self.clientConfiguration(queues: 8, log2: 12), hello: hello)
        let rings = sent.compactMap { m -> MemifMessage.AddRing? in
            if case .addRing(let r) = m { return r }
            return nil
        }
        #expect(rings.filter(\.isClientToServer).count == 3)
        #expect(rings.filter { !$0.isClientToServer }.count == 1)
        #expect(rings.allSatisfy { $0.log2RingSize == 9 })
        guard case .established(let connection) = last else { return }
        #expect(connection.receiveRingSizes == [9])
    }

    @Test(arguments: [(UInt16(0x0100), UInt16(0x0100)), (0x0201, 0x0300)])
    func clientRefusesAServerWithoutVersion2(min: UInt16, max: UInt16) {
        var h = ClientHandshake(configuration: Self.clientConfiguration())
        guard case .refuse(let reason) = h.handle(.hello(.init(name: "old", minVersion: min, maxVersion: max)), fd: nil) else {
            Issue.record("accepted an incompatible HELLO")
            return
        }
        #expect(reason == "Incompatible memif version")
    }

    @Test func clientRefusesMessagesOutOfOrder() {
        var h = ClientHandshake(configuration: Self.clientConfiguration())
        guard case .refuse(let reason) = h.handle(.ack, fd: nil) else {
            Issue.record("ACK before HELLO accepted")
            return
        }
        #expect(reason == "Unexpected message")
        var h2 = ClientHandshake(configuration: Self.clientConfiguration())
        _ = h2.handle(.hello(.init(name: "srv")), fd: nil)
        guard case .refuse = h2.handle(.connected(interfaceName: "early"), fd: nil) else {
            Issue.record("CONNECTED before CONNECT accepted")
            return
        }
    }

    @Test func serverRunsTheChecksInDPDKsOrder() {
        var c = MemifConfiguration(role: .server, socket: try! MemifSocketName("@hs"), id: 1, secret: "pw")
        c.clientToServerQueues = 1
        let lookup = { (id: UInt32) -> ServerHandshake.Candidate? in id == 1 ? .init(configuration: c, isConnected: false) : nil }
        func refusal(_ m: MemifMessage) -> String? {
            var h = ServerHandshake()
            if case .refuse(let r) = h.handle(m, fd: nil, lookup: lookup) { return r }
            return nil
        }
        #expect(refusal(.initialize(.init(version: 0x0100, id: 1, mode: 0, secret: [], name: ""))) == "Incompatible memif version")
        #expect(refusal(.initialize(.init(id: 2, mode: 0, secret: [], name: ""))) == "ID not found")
        #expect(refusal(.initialize(.init(id: 1, mode: 1, secret: [], name: ""))) == "Only ethernet mode supported")
        #expect(refusal(.initialize(.init(id: 1, mode: 0, secret: [], name: ""))) == "Secret required")
        #expect(refusal(.initialize(.init(id: 1, mode: 0, secret: Array("pW".utf8), name: ""))) == "Incorrect secret")
        #expect(refusal(.initialize(.init(id: 1, mode: 0, secret: Array("pw".utf8), name: ""))) == nil)
        #expect(refusal(.addRegion(.init(index: 0, size: 4096))) == "Unexpected message")
        #expect(refusal(.connect(interfaceName: "x")) == "Unexpected message")
        #expect(refusal(.hello(.init(name: "x"))) == "Unexpected message")
    }
}
