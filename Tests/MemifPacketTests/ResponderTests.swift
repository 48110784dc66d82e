import MemifPacket
import Testing

/// The ARP and neighbor-discovery answers written over the question, and the questions they refuse.
@Suite struct ResponderTests {
    static let us = MACAddress(2, 0, 0, 0, 0, 0x99), peer = MACAddress(2, 0, 0, 0, 0, 0x11)
    static let target = try! IPv6Address(parsing: "fd00::99"), asker = try! IPv6Address(parsing: "fd00::11")

    /// A solicitation built by hand-written bytes (hop limit, code and target adjustable).
    static func solicitation(hopLimit: UInt8 = 255, code: UInt8 = 0, target: IPv6Address = target, option: Bool = true,
                             spoilChecksum: Bool = false, tags: Int = 0) -> [UInt8] {
        var icmp: [UInt8] = [135, code, 0, 0, 0, 0, 0, 0]
        withUnsafeBytes(of: target.high.bigEndian) { icmp += $0 }
        withUnsafeBytes(of: target.low.bigEndian) { icmp += $0 }
        if option { icmp += [1, 1, 2, 0, 0, 0, 0, 0x11] }
        var ip = Raw.ipv6(nextHeader: 58, payloadLength: icmp.count, hopLimit: hopLimit)
        // Source fd00::11, destination the solicited-node group.
        ip[23] = 0x11
        let group = target.solicitedNodeMulticast
        withUnsafeBytes(of: group.high.bigEndian) { ip.replaceSubrange(24..<32, with: $0) }
        withUnsafeBytes(of: group.low.bigEndian) { ip.replaceSubrange(32..<40, with: $0) }
        let pseudo = InternetChecksum.pseudoHeaderSum(source: asker, destination: group, protocolNumber: 58, length: icmp.count)
        var c = icmp.withUnsafeBytes { InternetChecksum.checksum($0.baseAddress!, count: icmp.count, adding: pseudo) }
        if spoilChecksum { c ^= 0x0101 }
        icmp[2] = UInt8(c >> 8)
        icmp[3] = UInt8(c & 0xFF)
        return Raw.ethernet(type: 0x86DD, tags: (0..<tags).map { (tpid: 0x8100, vid: 10 + $0) }) + ip + icmp
    }

    @Test(arguments: [0, 1, 2])
    func solicitationBecomesAdvertisement(tags: Int) throws {
        let question = Self.solicitation(tags: tags)
        let p = PacketBytes(question)
        let n = try InPlaceReply.neighborAdvertisement(frame: p.pointer, length: p.count, capacity: p.capacity,
                                                       hardwareAddress: Self.us, router: true).get()
        #expect(n == question.count)
        let l3 = 14 + 4 * tags
        let eth = try EthernetHeader.parse(p.pointer, length: n).get()
        #expect(eth.destination == Self.peer && eth.source == Self.us)
        #expect(try PacketWalk.ethernet(p.pointer, length: n).get().innerVLANID == (tags == 0 ? 0 : UInt16(9 + tags)))
        let ip = try IPv6Header.parse(p.pointer + l3, length: n - l3).get()
        #expect(ip.source == Self.target && ip.destination == Self.asker && ip.hopLimit == 255 && ip.payloadLength == 32)
        let na = try ICMPv6Header.parseNeighborMessage(p.pointer + l3 + 40, length: 32).get()
        #expect(na.type == 136 && na.neighborFlags == 0xE0 && na.targetAddress == Self.target)
        #expect(na.linkLayerAddress(option: 2) == Self.us && na.isChecksumValid(ip.pseudoHeader))
    }

    @Test func solicitationWithoutOptionNeedsRoomAndAnswersTheEthernetSource() throws {
        let question = Self.solicitation(option: false)
        let tight = PacketBytes(question)
        #expect(InPlaceReply.neighborAdvertisement(frame: tight.pointer, length: tight.count, capacity: tight.capacity,
                                                   hardwareAddress: Self.us).error == .truncated)
        #expect(tight.bytes() == question)
        let roomy = PacketBytes(question, capacity: question.count + 8)
        let n = try InPlaceReply.neighborAdvertisement(frame: roomy.pointer, length: roomy.count, capacity: roomy.capacity,
                                                       hardwareAddress: Self.us).get()
        #expect(n == question.count + 8)
        // Raw.ethernet's source is 02:00:00:00:00:01.
        #expect(try EthernetHeader.parse(roomy.pointer, length: n).get().destination == MACAddress(2, 0, 0, 0, 0, 1))
    }

    @Test(arguments: [
        ("hop limit 64", ResponderTests.solicitation(hopLimit: 64), PacketError.malformed),
        ("code 1", ResponderTests.solicitation(code: 1), .malformed),
        ("bad checksum", ResponderTests.solicitation(spoilChecksum: true), .malformed),
        ("multicast target", ResponderTests.solicitation(target: .allNodes), .malformed),
        ("an ARP frame", Raw.ethernet(type: 0x0806) + [UInt8](repeating: 0, count: 28), .unsupported),
        ("a UDP packet", Raw.ethernet(type: 0x86DD) + Raw.ipv6(nextHeader: 17, payloadLength: 12) + Raw.udp(), .unsupported),
        ("an echo request", Raw.ethernet(type: 0x86DD) + Raw.ipv6(nextHeader: 58, payloadLength: 24)
            + [128, 0, 0, 0] + [UInt8](repeating: 0, count: 20), .unsupported),
        ("cut short", Array(ResponderTests.solicitation().dropLast(9)), .truncated),
    ])
    func refusedQuestionsAreLeftAlone(name: String, question: [UInt8], error: PacketError) {
        let p = PacketBytes(question, capacity: question.count + 64)
        #expect(InPlaceReply.neighborAdvertisement(frame: p.pointer, length: p.count, capacity: p.capacity,
                                                   hardwareAddress: Self.us).error == error, "\(name)")
        #expect(p.bytes() == question, "\(name)")
    }

    @Test func arpRequestBecomesReplyKeepingTags() throws {
        let question = Raw.ethernet(type: 0x0806, tags: [(0x88A8, 5), (0x8100, 6)])
            + Hex.bytes("0001 0800 06 04 0001 020000000011 0a00000b 000000000000 0a000063") + [UInt8](repeating: 0, count: 10)
        let p = PacketBytes(question)
        try InPlaceReply.arp(frame: p.pointer, length: p.count, hardwareAddress: Self.us).get()
        let expected = Hex.bytes("020000000011 020000000099 88a8 0005 8100 0006 0806")
            + Hex.bytes("0001 0800 06 04 0002 020000000099 0a000063 020000000011 0a00000b") + [UInt8](repeating: 0, count: 10)
        #expect(p.bytes() == expected)
        // A reply is not answered again; a non-ARP frame is not touched.
        #expect(InPlaceReply.arp(frame: p.pointer, length: p.count, hardwareAddress: Self.us).error == .malformed)
        let ip = PacketBytes(Raw.ethernet(type: 0x0800) + Raw.ipv4(payloadLength: 0))
        #expect(InPlaceReply.arp(frame: ip.pointer, length: ip.count, hardwareAddress: Self.us).error == .unsupported)
        for n in 0..<(22 + 28) {
            let cut = PacketBytes(Array(question.prefix(n)))
            #expect(InPlaceReply.arp(frame: cut.pointer, length: n, hardwareAddress: Self.us).error == .truncated)
        }
    }
}
