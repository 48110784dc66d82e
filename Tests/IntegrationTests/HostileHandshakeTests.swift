import CMemifLinux
import Foundation
import Testing

@testable import Memif

#if canImport(Glibc)
import Glibc
#endif

/// A hostile client against a live server: every malformed, out-of-order or dangerous
/// handshake ends in the exact DISCONNECT text, and the server keeps serving its others.
@Suite(.serialized)
struct HostileHandshakeTests {
    /// Each catalogue runs against a fresh server, with good traffic checked before and after.
    @Test(arguments: ["malformed datagrams", "out-of-order messages and bad INIT", "CONNECT right after INIT", "bad region and ring indices"])
    func attacksAreRefusedAndTheServerKeepsServing(catalogue: String) throws {
        let attacks: [Attack] =
            switch catalogue {
            case "malformed datagrams": Attacks.malformed()
            case "out-of-order messages and bad INIT": Attacks.outOfOrder()
            case "CONNECT right after INIT": [Attacks.connectRightAfterInit()]
            default: Attacks.badIndices()
            }
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        fx.checkGoodTraffic("before")
        fx.run(attacks)
        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }

    @Test func unsafeRegionsAreRefusedAndSealedOnesAccepted() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        fx.checkGoodTraffic("before")
        fx.run(Attacks.memory())
        fx.checkGoodTraffic("after refusals")

        // Positive control: a hand-made handshake with a sealed memfd reaches CONNECTED.
        do {
            let region = try HostileRegion()
            let h = try fx.connectHostile(region)
            let connection = try #require(fx.server0.waitForConnection(timeout: .seconds(3)))
            #expect(connection.peerApplicationName == "hostile")
            #expect(connection.peerInterfaceName == "hostile0")
            #expect(connection.receiveQueueCount == 1 && connection.transmitQueueCount == 1)
            #expect(connection.regionSizes == [UInt64(HostileRegion.size)])
            #expect(connection.receiveRingSizes == [HostileRegion.log2])
            // The server left our cookies alone and, as a polling consumer, masked its RX ring.
            #expect(region.base.load(as: UInt32.self) == MemifProtocol.cookie)
            #expect((region.base + HostileRegion.m2s).load(as: UInt32.self) == MemifProtocol.cookie)
            #expect((region.base + 4).load(as: UInt16.self) == MemifProtocol.ringFlagMaskInterrupt)
            // Id 0 is now taken.
            fx.run([Attack("id 0 while the hostile holds it", .disconnect("Already connected")) {
                try $0.send(HostileClient.initMessage(id: 0))
            }])
            withExtendedLifetime(h) {}
        }
        let down = Resources.eventually(timeout: 3) { fx.server0.connection == nil }
        #expect(down, "the server did not notice the hand-made client leave")
        #expect(fx.server0.lastDisconnectReason == "connection closed by peer")

        // Anything but DISCONNECT after CONNECTED is a violation: DISCONNECT, link down.
        let afterConnect: [(String, String, (HostileClient, HostileRegion) throws -> Void)] = [
            ("ADD_REGION after CONNECTED", "Unexpected message", { h, r in
                try h.send(.addRegion(.init(index: 1, size: UInt64(r.fileSize))), fd: r.fd)
            }),
            ("INIT after CONNECTED", "Unexpected message", { h, _ in try h.send(HostileClient.initMessage()) }),
            ("1-byte datagram after CONNECTED", "Invalid message size", { h, _ in try h.sendRaw([6]) }),
        ]
        for (name, reason, script) in afterConnect {
            do {
                let region = try HostileRegion()
                let h = try fx.connectHostile(region)
                let connection = try #require(fx.server0.waitForConnection(timeout: .seconds(3)))
                try script(h, region)
                h.expectRefusal(.disconnect(reason), name)
                #expect(Resources.eventually(timeout: 3) { fx.server0.connection == nil }, "\(name)")
                #expect(!connection.isConnected && !connection.receiveQueue(0).isActive, "\(name)")
                #expect(fx.server0.lastDisconnectReason == reason, "\(name)")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }

        // CONNECT, then gone before reading CONNECTED.
        do {
            _ = try fx.sendHandshake(HostileRegion(), interfaceName: "vanishing")
        }
        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }
    @Test func pipelinedRegionFloodIsBoundedAndReleased() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        let fdsBefore = Resources.openDescriptors()
        do {
            let region = try HostileRegion()
            let h = try HostileClient(fx.socketName)
            _ = try h.expectHello()
            // INIT, then ADD_REGION 0...256 (one past the limit) without waiting for ACKs, each
            // carrying the memfd: the server holds one fd per region until it refuses.
            var messages: [(MemifMessage, OwnedDescriptor?)] = [(HostileClient.initMessage(), nil)]
            for i in 0...256 {
                messages.append((.addRegion(.init(index: UInt16(i), size: UInt64(region.fileSize))), region.fd))
            }
            var replies: [HostileClient.Reply] = []
            func collect(timeout: Double) {
                while true {
                    let r = h.next(timeout: timeout)
                    if r == .timeout { return }
                    replies.append(r)
                    if r == .closed { return }
                }
            }
            let deadline = Date().addingTimeInterval(10)
            var sent = 0
            while sent < messages.count && Date() < deadline && replies.last != .closed {
                do {
                    try h.socket.send(messages[sent].0, attaching: messages[sent].1)
                    sent += 1
                } catch {
                    usleep(1000)  // the server's queue is full: let it catch up
                }
                collect(timeout: 0)
            }
            collect(timeout: 3)
            let acks = replies.filter { $0 == .message(.ack) }.count
            #expect(sent == messages.count, "sent \(sent)/\(messages.count)")
            #expect(acks == 257, "\(acks) ACKs for INIT and 256 regions")
            #expect(replies.suffix(2) == [.message(.disconnect(code: 0, reason: "Invalid region index")), .closed],
                "ended with \(replies.suffix(2))")
        }
        var fdsAfter = 0
        let released = Resources.eventually(timeout: 5) {
            fdsAfter = Resources.openDescriptors()
            return fdsAfter <= fdsBefore + 2
        }
        #expect(released, "open fds \(fdsBefore) before the region flood, \(fdsAfter) after")
        HostileResources.released()
        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }

    @Test func silentClientsAreDroppedAfterHandshakeTimeout() throws {
        let fx = try HostileFixture(handshakeTimeout: .milliseconds(300))
        defer { fx.shutdown() }
        fx.checkGoodTraffic("before")
        let start = Date()
        // Reads HELLO, then says nothing.
        let silent = try HostileClient(fx.socketName)
        _ = try silent.expectHello()
        // Claims id 0 with INIT, then stalls: id 0 must be freed by the timeout.
        let claimer = try HostileClient(fx.socketName)
        _ = try claimer.expectHello()
        try claimer.initialize(id: 0)
        // Never reads anything at all.
        let deaf = try HostileClient(fx.socketName)

        silent.expectRefusal(.disconnect("Handshake timeout"), "silent client")
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 3, "dropped after \(elapsed) s with a 300 ms timeout")
        claimer.expectRefusal(.disconnect("Handshake timeout"), "client stalled after INIT")
        let deafReply = deaf.next()
        #expect(deafReply == .message(.hello(.init(name: "MemifKit"))), "\(deafReply)")
        deaf.expectRefusal(.disconnect("Handshake timeout"), "client that never reads")

        // A registration that never sends CONNECT.
        let region = try HostileRegion()
        let lingering = try HostileClient(fx.socketName)
        _ = try lingering.expectHello()
        try lingering.initialize(id: 0)
        try lingering.addRegion(region)
        try lingering.addRings()
        lingering.expectRefusal(.disconnect("Handshake timeout"), "client that never sends CONNECT")

        fx.checkGoodTraffic("after")
        fx.checkFreshClient("after")
    }

    @Test func idleConnectionFloodDoesNotBlockLegitimateClients() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        var idle: [HostileClient] = []
        for _ in 0..<48 { idle.append(try HostileClient(fx.socketName)) }
        fx.checkGoodTraffic("during flood")
        fx.checkFreshClient("during flood")
        idle.removeAll()
        fx.checkGoodTraffic("after flood")
    }

    @Test func noDescriptorOrMappingLeaksAfterAttacks() throws {
        let fx = try HostileFixture()
        defer { fx.shutdown() }
        fx.checkGoodTraffic("before")
        let fdsBefore = Resources.openDescriptors()
        let mappingsBefore = Resources.regionMappings()
        let rounds = 5
        for _ in 0..<rounds {
            fx.run(Attacks.all(), lenient: true)
            // A complete hand-made connection with traffic, then an abrupt close.
            do {
                let region = try HostileRegion()
                let h = try fx.connectHostile(region)
                if let connection = fx.server0.waitForConnection(timeout: .seconds(3)) {
                    let burst = MemifBurst(capacity: 8)
                    let p = payload(1, 100)
                    region.push([region.packet(p, at: region.s2mHead), region.desc(region: 9, offset: 0, length: 1)])
                    #expect(drain(connection.receiveQueue(0), burst).map(\.bytes) == [p])
                } else {
                    Issue.record("hand-made connection did not come up")
                }
                withExtendedLifetime(h) {}
            } catch {
                Issue.record("hand-made connection: \(error)")
            }
            // CONNECT, then gone before CONNECTED.
            do {
                _ = try fx.sendHandshake(HostileRegion(), interfaceName: "vanishing")
            } catch {
                Issue.record("vanishing client: \(error)")
            }
            // Idle connections that the client closes first.
            for _ in 0..<4 { _ = try HostileClient(fx.socketName) }
            fx.checkFreshClient("leak round")
        }
        fx.checkGoodTraffic("after")
        var fdsAfter = 0
        let fdsBack = Resources.eventually(timeout: 5) {
            fdsAfter = Resources.openDescriptors()
            return fdsAfter <= fdsBefore + 4
        }
        #expect(fdsBack, "open fds: \(fdsBefore) before \(rounds) rounds of attacks, \(fdsAfter) after")
        var mappingsAfter = 0
        let mappingsBack = Resources.eventually(timeout: 5) {
            mappingsAfter = Resources.regionMappings()
            return mappingsAfter <= mappingsBefore
        }
        #expect(mappingsBack, "region mappings: \(mappingsBefore) before, \(mappingsAfter) after")
        HostileResources.released()
    }
}
