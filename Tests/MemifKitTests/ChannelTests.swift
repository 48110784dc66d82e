import Foundation
import MemifKit
import Testing

@Suite struct SocketDiscoveryTests {
    @Test func explicitSocketWinsOverTheEnvironment() throws {
        var o = MemifChannelOptions()
        o.socket = "/run/cnf/memif.sock"
        #expect(try o.resolvedSocket(environment: ["MEMIF_SOCKET": "@other"]).description == "/run/cnf/memif.sock")
    }

    @Test func environmentWinsOverTheCalicoDefault() throws {
        #expect(try MemifChannelOptions().resolvedSocket(environment: ["MEMIF_SOCKET": "@vpp/memif-net1"]).description == "@vpp/memif-net1")
        #expect(try MemifChannelOptions().resolvedSocket(environment: ["MEMIF_SOCKET": ""]).description == "@vpp/memif-eth0")
    }

    @Test func calicoDefaultIsTheAbstractEth0Socket() throws {
        let name = try MemifChannelOptions().resolvedSocket(environment: [:])
        #expect(name.kind == .abstract && name.name == "vpp/memif-eth0")
    }

    @Test(arguments: [0, 3, 1000, 32768])
    func ringSizesThatAreNotPowersOfTwoInRangeAreRefused(size: Int) {
        var o = MemifChannelOptions()
        o.ringSize = size
        o.socket = uniqueSocket("bad")
        #expect(throws: MemifError.self) { try MemifChannel(o) }
    }

    @Test func aBadSocketFromTheEnvironmentIsAClearError() {
        let error = #expect(throws: MemifError.self) {
            try MemifChannel(MemifChannelOptions(), environment: ["MEMIF_SOCKET": "@" + String(repeating: "x", count: 200)])
        }
        #expect(error != nil)
    }
}

@Suite(.serialized) struct ChannelTests {
    @Test(arguments: MemifFraming.allCases)
    func carriesFramesBothWays(framing: MemifFraming) throws {
        let pair = try ChannelPair(server: { $0.framing = framing }, client: { $0.framing = framing })
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)))
        #expect(pair.server.waitUntilConnected(timeout: .seconds(5)))
        #expect(pair.server.connection?.mode == (framing == .ethernet ? .ethernet : .ip))
        var c = pair.client.queue(0)
        var s = pair.server.queue(0)
        let frames = (0..<300).map { frame($0, size: 60 + $0 * 5) }
        let deadline = Date().addingTimeInterval(10)
        #expect(send(frames, on: &c, deadline: deadline) == frames.count)
        #expect(receive(frames.count, from: &s, deadline: deadline) == frames)
        #expect(send(frames, on: &s, deadline: deadline) == frames.count)
        #expect(receive(frames.count, from: &c, deadline: deadline) == frames)
    }

    @Test func eventsReportConnectAndDisconnectWithTheReason() async throws {
        let pair = try ChannelPair()
        var events = pair.client.events.makeAsyncIterator()
        #expect(await events.next() == .connected(peerApplication: "MemifKit", peerInterface: "server0"))
        pair.server.stop()
        #expect(await events.next() == .disconnected(reason: "Device closed"))
        try pair.server.start()
        #expect(await events.next() == .connected(peerApplication: "MemifKit", peerInterface: "server0"))
        // A late subscriber starts from the current state.
        var late = pair.client.events.makeAsyncIterator()
        #expect(await late.next() == .connected(peerApplication: "MemifKit", peerInterface: "server0"))
    }

    @Test func queueHandlesFollowAReconnect() throws {
        let pair = try ChannelPair()
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)))
        var c = pair.client.queue(0)
        var s = pair.server.queue(0)
        let frames = (0..<50).map { frame($0, size: 100) }
        let deadline = Date().addingTimeInterval(10)
        #expect(send(frames, on: &c, deadline: deadline) == 50)
        #expect(receive(50, from: &s, deadline: deadline) == frames)
        pair.server.stop()
        let down = Date().addingTimeInterval(5)
        while pair.client.isConnected && Date() < down { usleep(1000) }
        let burst = MemifBurst(capacity: 8)
        #expect(c.receive(into: burst.buffers) == 0 && !c.isConnected)
        try pair.server.start()
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)))
        #expect(pair.server.waitUntilConnected(timeout: .seconds(5)))
        // The same handles, now on the new connection.
        #expect(send(frames, on: &c, deadline: deadline) == 50)
        #expect(receive(50, from: &s, deadline: deadline) == frames)
        #expect(c.isConnected && s.isConnected)
    }
}
