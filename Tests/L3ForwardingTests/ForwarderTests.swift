import Foundation
import L3Forwarding
import MemifKit
import Testing

/// l3fwd's router between two Swift memif servers in this process: what the west server
/// sends comes out of the east server routed, or back out of the west server answered.
@Suite(.serialized) struct ForwarderTests {
    static let westMAC = MACAddress("02:00:00:00:00:01")!
    static let eastMAC = MACAddress("02:00:00:00:00:02")!
    static let nextHop4 = MACAddress("02:00:00:00:00:10")!
    static let nextHop6 = MACAddress("02:00:00:00:00:11")!
    static let peer = MACAddress("52:54:00:00:00:99")!

    final class Lab {
        let west: MemifChannel
        let east: MemifChannel
        let router: L3Router

        init() throws {
            let tag = "\(getpid())-\(UUID().uuidString.prefix(8))"
            let config = try L3Configuration(
                parsing: """
                    channel west socket=@l3w-\(tag) mac=\(ForwarderTests.westMAC) ipv4=198.18.0.254
                    channel east socket=@l3e-\(tag) mac=\(ForwarderTests.eastMAC)
                    route 198.18.1.0/24 east \(ForwarderTests.nextHop4)
                    route 2001:db8:2::/48 east \(ForwarderTests.nextHop6)
                    """)
            func server(_ socket: String) throws -> MemifChannel {
                var o = MemifChannelOptions()
                o.socket = socket
                o.role = .server
                let c = try MemifChannel(o)
                try c.start()
                return c
            }
            west = try server("@l3w-\(tag)")
            east = try server("@l3e-\(tag)")
            router = try L3Router(config)
            #expect(west.waitUntilConnected(timeout: .seconds(5)) && east.waitUntilConnected(timeout: .seconds(5)))
        }

        deinit { router.stop() }

        /// Sends frames from the west server, then collects `count` frames from `side`.
        func exchange(_ frames: [[UInt8]], expect count: Int, from side: MemifChannel) -> [[UInt8]] {
            var tx = west.queue(0)
            var rx = side.queue(0)
            let burst = MemifBurst(capacity: 64)
            let deadline = Date().addingTimeInterval(5)
            var sent = 0
            var got: [[UInt8]] = []
            while (sent < frames.count || got.count < count) && Date() < deadline {
                if sent < frames.count {
                    let free = tx.reserve(into: burst.buffers)
                    var used = 0
                    while sent < frames.count && used < free {
                        let k = frames[sent].withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: used, to: free) }
                        if k == 0 { break }
                        used += k
                        sent += 1
                    }
                    tx.publish(burst.buffers, count: used)
                }
                let n = rx.receive(into: burst.buffers)
                for i in 0..<n { got.append(Array(UnsafeRawBufferPointer(burst[i].bytes))) }
                rx.release()
                if n == 0 { usleep(100) }
            }
            return got
        }
    }

    static func udp4(to destination: IPv4Address, ttl: UInt8 = 64, payload: Int = 100) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 14 + 20 + 8 + payload)
        f.withUnsafeMutableBytes { b in
            let p = b.baseAddress!
            _ = EthernetHeader.build(at: p, capacity: b.count, destination: westMAC, source: peer, etherType: EtherType.ipv4)
            let src = IPv4Address(198, 18, 0, 1)
            _ = IPv4Header.build(
                at: p + 14, capacity: b.count - 14, source: src, destination: destination, protocolNumber: IPProtocol.udp,
                payloadLength: 8 + payload, timeToLive: ttl)
            for i in 0..<payload { p.storeBytes(of: UInt8(truncatingIfNeeded: i), toByteOffset: 42 + i, as: UInt8.self) }
            _ = UDPHeader.build(
                at: p + 34, capacity: b.count - 34, sourcePort: 1234, destinationPort: 5678, payloadLength: payload,
                pseudoHeader: .ipv4(source: src, destination: destination))
        }
        return f
    }

    static func udp6(to destination: IPv6Address, hopLimit: UInt8 = 64) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 14 + 40 + 8 + 32)
        f.withUnsafeMutableBytes { b in
            let p = b.baseAddress!
            _ = EthernetHeader.build(at: p, capacity: b.count, destination: westMAC, source: peer, etherType: EtherType.ipv6)
            let src = IPv6Address("2001:db8:1::1")!
            _ = IPv6Header.build(
                at: p + 14, capacity: b.count - 14, source: src, destination: destination, nextHeader: IPProtocol.udp,
                payloadLength: 40, hopLimit: hopLimit)
            _ = UDPHeader.build(
                at: p + 54, capacity: b.count - 54, sourcePort: 1, destinationPort: 2, payloadLength: 32,
                pseudoHeader: .ipv6(source: src, destination: destination))
        }
        return f
    }

    @Test func routesIPv4WithTTLDecrementedAndChecksumsValid() throws {
        let lab = try Lab()
        let frames = (0..<50).map { Self.udp4(to: IPv4Address(198, 18, 1, UInt8($0 + 1)), payload: 20 + $0) }
        let out = lab.exchange(frames, expect: 50, from: lab.east)
        #expect(out.count == 50)
        for (sent, got) in zip(frames, out) {
            #expect(got.count == sent.count)
            got.withUnsafeBytes { b in
                let p = UnsafeMutableRawPointer(mutating: b.baseAddress!)
                #expect(MACAddress(loadingFrom: p) == Self.nextHop4 && MACAddress(loadingFrom: p, at: 6) == Self.eastMAC)
                let ip = try! IPv4Header.parse(p + 14, length: b.count - 14).get()
                #expect(ip.timeToLive == 63)
                #expect(InternetChecksum.checksum(p + 14, count: 20) == 0, "IPv4 header checksum still valid")
                let udp = try! UDPHeader.parse(p + 34, length: b.count - 34).get()
                #expect(udp.isChecksumValid(ip.pseudoHeader))
            }
            #expect(Array(got[34...]) == Array(sent[34...]), "transport header and payload untouched")
        }
        let s = lab.router.statistics.snapshot
        #expect(s.received == 50 && s.forwarding.zeroCopy == 50 && s.forwarding.copied == 0)
    }

    @Test func routesIPv6WithHopLimitDecremented() throws {
        let lab = try Lab()
        let out = lab.exchange([Self.udp6(to: IPv6Address("2001:db8:2::5")!)], expect: 1, from: lab.east)
        #expect(out.count == 1)
        out.first?.withUnsafeBytes { b in
            let p = UnsafeMutableRawPointer(mutating: b.baseAddress!)
            #expect(MACAddress(loadingFrom: p) == Self.nextHop6)
            let ip = try! IPv6Header.parse(p + 14, length: b.count - 14).get()
            #expect(ip.hopLimit == 63)
            #expect(try! UDPHeader.parse(p + 54, length: b.count - 54).get().isChecksumValid(ip.pseudoHeader))
        }
    }

    @Test func dropsAndCountsExpiredUnroutableAndMalformedPackets() throws {
        let lab = try Lab()
        var truncated = Self.udp4(to: IPv4Address(198, 18, 1, 1))
        truncated.removeLast(truncated.count - 30)  // IPv4 header cut short
        let frames = [
            Self.udp4(to: IPv4Address(198, 18, 1, 1), ttl: 1), Self.udp6(to: IPv6Address("2001:db8:2::5")!, hopLimit: 1),
            Self.udp4(to: IPv4Address(10, 9, 9, 9)), Self.udp6(to: IPv6Address("2001:db8:3::1")!), truncated,
            Self.udp4(to: IPv4Address(198, 18, 1, 1)),
        ]
        let out = lab.exchange(frames, expect: 1, from: lab.east)
        #expect(out.count == 1)
        let deadline = Date().addingTimeInterval(2)
        while lab.router.statistics.snapshot.received < 6 && Date() < deadline { usleep(1000) }
        let s = lab.router.statistics.snapshot
        #expect(s.received == 6 && s.expired == 2 && s.unroutable == 2 && s.malformed == 1 && s.forwarding.zeroCopy == 1)
    }

    @Test func answersARPForItsOwnAddressOnTheSameChannel() throws {
        let lab = try Lab()
        var request = [UInt8](repeating: 0, count: 42)
        request.withUnsafeMutableBytes { b in
            _ = EthernetHeader.build(at: b.baseAddress!, capacity: 42, destination: .broadcast, source: Self.peer, etherType: EtherType.arp)
            _ = ARPHeader.build(
                at: b.baseAddress! + 14, capacity: 28, operation: ARPHeader.request, senderHardwareAddress: Self.peer,
                senderProtocolAddress: IPv4Address(198, 18, 0, 1), targetHardwareAddress: .zero,
                targetProtocolAddress: IPv4Address(198, 18, 0, 254))
        }
        let out = lab.exchange([request], expect: 1, from: lab.west)
        #expect(out.count == 1)
        out.first?.withUnsafeBytes { b in
            let p = UnsafeMutableRawPointer(mutating: b.baseAddress!)
            let arp = try! ARPHeader.parse(p + 14, length: 28).get()
            #expect(arp.operation == ARPHeader.reply && arp.senderHardwareAddress == Self.westMAC)
            #expect(arp.senderProtocolAddress == IPv4Address(198, 18, 0, 254) && arp.targetHardwareAddress == Self.peer)
        }
        #expect(lab.router.statistics.snapshot.neighborAnswers == 1)
    }
}
