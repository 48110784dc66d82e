import MemifKit
import Testing

@Suite struct NeighborTableTests {
    @Test func learnsLooksUpRefreshesAndForgets() {
        var t = NeighborTable(capacity: 16)
        let a = IPv4Address(10, 0, 0, 1)
        let b = IPv6Address("fd00::2")!
        #expect(t.lookup(a) == nil)
        t.learn(a, MACAddress(2, 0, 0, 0, 0, 1))
        t.learn(b, MACAddress(2, 0, 0, 0, 0, 2))
        #expect(t.lookup(a) == MACAddress(2, 0, 0, 0, 0, 1))
        #expect(t.lookup(b) == MACAddress(2, 0, 0, 0, 0, 2))
        t.learn(a, MACAddress(2, 0, 0, 0, 0, 3))
        #expect(t.lookup(a) == MACAddress(2, 0, 0, 0, 0, 3) && t.count == 2)
        t.forget(IPv6Address(mapping: a))
        #expect(t.lookup(a) == nil && t.count == 1)
    }

    @Test func aFullTableKeepsWorkingAndNeverGrows() {
        var t = NeighborTable(capacity: 8)
        for i in 0..<1000 { t.learn(IPv4Address(rawValue: UInt32(i)), MACAddress(rawValue: UInt64(i))) }
        #expect(t.count <= t.capacity)
        // The last one learned is always found.
        #expect(t.lookup(IPv4Address(rawValue: 999)) == MACAddress(rawValue: 999))
        #expect(t.capacity == 8)
    }
}

@Suite struct NeighborResponderTests {
    static let us4 = IPv4Address(10, 1, 0, 2)
    static let us6 = IPv6Address("fd00:1::2")!
    static let asker = MACAddress(0x52, 0x54, 0, 0xAA, 0xBB, 0xCC)

    func responder() -> NeighborResponder { NeighborResponder(ipv4: [Self.us4], ipv6: [Self.us6]) }

    func arpRequest(for target: IPv4Address, into frame: UnsafeMutableRawPointer) -> Int {
        _ = EthernetHeader.build(at: frame, capacity: 128, destination: .broadcast, source: Self.asker, etherType: EtherType.arp)
        _ = ARPHeader.build(
            at: frame + 14, capacity: 114, operation: ARPHeader.request, senderHardwareAddress: Self.asker,
            senderProtocolAddress: IPv4Address(10, 1, 0, 1), targetHardwareAddress: .zero, targetProtocolAddress: target)
        return 42
    }

    func solicitation(for target: IPv6Address, from source: IPv6Address, hopLimit: UInt8 = 255, into frame: UnsafeMutableRawPointer) -> Int {
        let destination = target.solicitedNodeMulticast
        _ = EthernetHeader.build(
            at: frame, capacity: 128, destination: MACAddress(ipv6Multicast: destination), source: Self.asker,
            etherType: EtherType.ipv6)
        _ = IPv6Header.build(
            at: frame + 14, capacity: 114, source: source, destination: destination, nextHeader: IPProtocol.icmpv6,
            payloadLength: 32, hopLimit: hopLimit)
        _ = ICMPv6Header.buildNeighborMessage(
            at: frame + 54, capacity: 74, type: ICMPv6Header.neighborSolicitation, target: target,
            linkLayerAddress: source.isUnspecified ? nil : Self.asker, pseudoHeader: .ipv6(source: source, destination: destination))
        return source.isUnspecified ? 78 : 86
    }

    @Test func answersAnARPRequestForOurAddressInPlace() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        let n = arpRequest(for: Self.us4, into: frame)
        #expect(r.handle(frame: frame, length: n, capacity: 128) == .answered(length: 42))
        let arp = try! ARPHeader.parse(frame + 14, length: 28).get()
        #expect(arp.operation == ARPHeader.reply)
        #expect(arp.senderHardwareAddress == CalicoConvention.podMAC && arp.senderProtocolAddress == Self.us4)
        #expect(arp.targetHardwareAddress == Self.asker && arp.targetProtocolAddress == IPv4Address(10, 1, 0, 1))
        #expect(MACAddress(loadingFrom: frame) == Self.asker && MACAddress(loadingFrom: frame, at: 6) == CalicoConvention.podMAC)
        #expect(r.neighbors.lookup(IPv4Address(10, 1, 0, 1)) == Self.asker, "the asker is learned")
    }

    @Test func learnsButDoesNotAnswerForSomeoneElse() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        let n = arpRequest(for: IPv4Address(10, 1, 0, 99), into: frame)
        #expect(r.handle(frame: frame, length: n, capacity: 128) == .learned)
        #expect(r.neighbors.lookup(IPv4Address(10, 1, 0, 1)) == Self.asker)
    }

    @Test func answersANeighborSolicitationWithAValidAdvertisement() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        let asker6 = IPv6Address("fd00:1::1")!
        let n = solicitation(for: Self.us6, from: asker6, into: frame)
        guard case .answered(let length) = r.handle(frame: frame, length: n, capacity: 128) else {
            Issue.record("no answer")
            return
        }
        let ip = try! IPv6Header.parse(frame + 14, length: length - 14).get()
        #expect(ip.source == Self.us6 && ip.destination == asker6 && ip.hopLimit == 255)
        let na = try! ICMPv6Header.parseNeighborMessage(frame + 54, length: length - 54).get()
        #expect(na.type == ICMPv6Header.neighborAdvertisement && na.targetAddress == Self.us6)
        #expect(na.isChecksumValid(ip.pseudoHeader))
        #expect(na.linkLayerAddress(option: ICMPv6Header.targetLinkLayerOption) == CalicoConvention.podMAC)
        #expect(r.neighbors.lookup(asker6) == Self.asker)
        // The advertisement, fed to another responder, teaches it our MAC.
        var other = NeighborResponder(ipv6: [asker6])
        #expect(other.handle(frame: frame, length: length, capacity: 128) == .learned)
        #expect(other.neighbors.lookup(Self.us6) == CalicoConvention.podMAC)
    }

    @Test func refusesASolicitationThatCrossedARouter() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        let n = solicitation(for: Self.us6, from: IPv6Address("fd00:1::1")!, hopLimit: 64, into: frame)
        #expect(r.handle(frame: frame, length: n, capacity: 128) == .malformed)
    }

    @Test func leavesOtherTrafficAlone() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        _ = EthernetHeader.build(at: frame, capacity: 128, destination: CalicoConvention.podMAC, source: Self.asker, etherType: EtherType.ipv4)
        _ = IPv4Header.build(at: frame + 14, capacity: 114, source: IPv4Address(10, 1, 0, 1), destination: Self.us4, protocolNumber: IPProtocol.udp, payloadLength: 8)
        _ = UDPHeader.build(at: frame + 34, capacity: 94, sourcePort: 1, destinationPort: 2, payloadLength: 0, pseudoHeader: nil)
        #expect(r.handle(frame: frame, length: 42, capacity: 128) == .notNeighborTraffic)
    }

    @Test func truncatedNeighborFramesNeverTrap() {
        var r = responder()
        let frame = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
        defer { frame.deallocate() }
        let full6 = solicitation(for: Self.us6, from: IPv6Address("fd00:1::1")!, into: frame)
        for n in 0..<full6 {
            _ = solicitation(for: Self.us6, from: IPv6Address("fd00:1::1")!, into: frame)
            #expect(r.handle(frame: frame, length: n, capacity: n) != .answered(length: n))
        }
        for n in 0..<42 {
            _ = arpRequest(for: Self.us4, into: frame)
            #expect(r.handle(frame: frame, length: n, capacity: n) != .answered(length: n))
        }
    }
}
