import MemifPacket
import Testing

/// Each header view on its own: the shortest input it accepts, an error value for every shorter
/// one, malformed length fields, and builders against hand-written golden bytes.
@Suite struct HeaderTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case ethernet, arp, ipv4, ipv6, udp, tcp, icmp, icmpv6, neighbor, esp

        var testDescription: String { rawValue }

        /// A well-formed sample; every byte of it is needed (its length fields say so).
        var sample: [UInt8] {
            switch self {
            case .ethernet: Raw.ethernet(type: 0x0800)
            case .arp: [0, 1, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 7, count: 20)
            case .ipv4: Raw.ipv4(payloadLength: 8, options: [1, 1, 1, 0]) + [UInt8](repeating: 0, count: 8)
            case .ipv6: Raw.ipv6(nextHeader: 59, payloadLength: 4) + [1, 2, 3, 4]
            case .udp: Raw.udp(payload: [1, 2, 3])
            case .tcp: Raw.tcp(dataOffset: 6, options: [2, 4, 5, 0xB4])
            case .icmp: [8, 0, 0, 0, 0, 1, 0, 2]
            case .icmpv6: [128, 0, 0, 0, 0, 1, 0, 2]
            case .neighbor: [135, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFD, count: 16) + [1, 1, 2, 0, 0, 0, 0, 9]
            case .esp: Raw.be32(0x100) + Raw.be32(5)
            }
        }

        /// Shorter lengths that are complete messages too (a solicitation without its option).
        var shorterValidLengths: Set<Int> { self == .neighbor ? [24] : [] }

        func parse(_ p: UnsafeMutableRawPointer, _ n: Int) -> PacketError? {
            switch self {
            case .ethernet: EthernetHeader.parse(p, length: n).error
            case .arp: ARPHeader.parse(p, length: n).error
            case .ipv4: IPv4Header.parse(p, length: n).error
            case .ipv6: IPv6Header.parse(p, length: n).error
            case .udp: UDPHeader.parse(p, length: n).error
            case .tcp: TCPHeader.parse(p, length: n).error
            case .icmp: ICMPHeader.parse(p, length: n).error
            case .icmpv6: ICMPv6Header.parse(p, length: n).error
            case .neighbor: ICMPv6Header.parseNeighborMessage(p, length: n).error
            case .esp: ESPHeader.parse(p, length: n).error
            }
        }
    }

    /// Every prefix shorter than the sample is `.truncated`, read from a block of exactly that size.
    @Test(arguments: Kind.allCases)
    func everyTruncationIsAnError(kind: Kind) {
        let sample = kind.sample
        let whole = PacketBytes(sample)
        #expect(kind.parse(whole.pointer, whole.count) == nil)
        for n in 0..<sample.count {
            let cut = PacketBytes(Array(sample.prefix(n)))
            #expect(kind.parse(cut.pointer, n) == (kind.shorterValidLengths.contains(n) ? nil : .truncated), "cut at \(n)")
        }
    }

    @Test(arguments: [
        (Kind.tcp, Raw.tcp(dataOffset: 4), PacketError.badHeaderLength),
        (.tcp, Raw.tcp(dataOffset: 0), .badHeaderLength),
        (.tcp, Raw.tcp(dataOffset: 15), .truncated),
        (.udp, Raw.be16(1) + Raw.be16(2) + Raw.be16(7) + Raw.be16(0), .badTotalLength),
        (.udp, Raw.be16(1) + Raw.be16(2) + Raw.be16(0) + Raw.be16(0), .badTotalLength),
        (.udp, Raw.be16(1) + Raw.be16(2) + Raw.be16(9) + Raw.be16(0), .truncated),
        (.arp, [0, 6, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20), .unsupported),
        (.arp, [0, 1, 0x86, 0xDD, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20), .unsupported),
        (.arp, [0, 1, 8, 0, 8, 4, 0, 1] + [UInt8](repeating: 0, count: 20), .malformed),
        (.neighbor, [135, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [1, 0, 0, 0, 0, 0, 0, 0], .malformed),
        (.neighbor, [135, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [1, 2, 0, 0, 0, 0, 0, 0], .truncated),
        (.neighbor, [135, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [1], .truncated),
        (.neighbor, [135, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16), .malformed),
        (.neighbor, [128, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16), .unsupported),
        (.ipv6, Raw.ipv6(nextHeader: 59, payloadLength: 0, version: 4), .badVersion),
        (.ipv4, Raw.ipv4(payloadLength: 0, version: 6), .badVersion),
        (.ipv4, Raw.ipv4(payloadLength: 0, ihl: 3), .badHeaderLength),
    ])
    func malformedFieldsAreErrors(kind: Kind, bytes: [UInt8], error: PacketError) {
        let p = PacketBytes(bytes)
        #expect(kind.parse(p.pointer, p.count) == error)
    }

    @Test func ethernetBuilderWritesTagsInOrder() throws {
        let p = PacketBytes([UInt8](repeating: 0xEE, count: 22))
        let n = try EthernetHeader.build(
            at: p.pointer, capacity: 22, destination: MACAddress(1, 2, 3, 4, 5, 6), source: MACAddress(0x0A, 0, 0, 0, 0, 0x0B),
            etherType: EtherType.ipv6,
            tags: [VLANTag(tagProtocol: EtherType.qinq, vlanID: 0x123, priority: 5, dropEligible: true), VLANTag(vlanID: 4094)]).get()
        #expect(n == 22)
        #expect(p.bytes() == Hex.bytes("010203040506 0a000000000b 88a8 b123 8100 0ffe 86dd"))
        #expect(EthernetHeader.build(at: p.pointer, capacity: 21, destination: .zero, source: .zero, etherType: 0,
                                     tags: [VLANTag(vlanID: 1), VLANTag(vlanID: 2)]).error == .truncated)
        let tag = try #require(EthernetHeader.parse(p.pointer, length: 22).get().vlanTag(0))
        #expect(tag.vlanID == 0x123 && tag.priority == 5 && tag.dropEligible)
    }

    @Test func ipv4BuilderGoldenBytes() throws {
        let p = PacketBytes([UInt8](repeating: 0, count: 24))
        let options: [UInt8] = [0x94, 0x04, 0x00, 0x00]  // router alert
        let h = try options.withUnsafeBytes {
            try IPv4Header.build(at: p.pointer, capacity: 24, source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 199),
                                 protocolNumber: 17, payloadLength: 100, timeToLive: 64, identification: 0x1C46,
                                 typeOfService: 0, flagsAndFragmentOffset: 0x4000, options: $0).get()
        }
        #expect(h.headerLength == 24 && h.totalLength == 124 && h.isChecksumValid)
        #expect(Array(p.bytes()[0..<10]) == Hex.bytes("4600 007c 1c46 4000 4011"))
        #expect(Array(p.bytes()[12...]) == Hex.bytes("c0a80001 c0a800c7 94040000"))
        #expect(IPv4Header.build(at: p.pointer, capacity: 19, source: .any, destination: .any, protocolNumber: 6, payloadLength: 0).error == .truncated)
        #expect(IPv4Header.build(at: p.pointer, capacity: 99, source: .any, destination: .any, protocolNumber: 6, payloadLength: 65516).error == .badTotalLength)
        let odd: [UInt8] = [1, 1, 1]
        #expect(odd.withUnsafeBytes { IPv4Header.build(at: p.pointer, capacity: 99, source: .any, destination: .any,
                                                       protocolNumber: 6, payloadLength: 0, options: $0).error } == .badHeaderLength)
    }

    @Test func ipv6BuilderGoldenBytes() throws {
        let p = PacketBytes([UInt8](repeating: 0, count: 40))
        let h = try IPv6Header.build(at: p.pointer, capacity: 40, source: try IPv6Address(parsing: "fd00::1"),
                                     destination: try IPv6Address(parsing: "ff02::1"), nextHeader: 58, payloadLength: 32,
                                     hopLimit: 255, trafficClass: 0xB8, flowLabel: 0xABCDE).get()
        #expect(Array(p.bytes()[0..<8]) == Hex.bytes("6b8abcde 0020 3aff"))
        #expect(h.trafficClass == 0xB8 && h.flowLabel == 0xABCDE)
        h.trafficClass = 0x01
        h.flowLabel = 0x12345
        #expect(Array(p.bytes()[0..<4]) == Hex.bytes("60112345") && h.version == 6)
        #expect(IPv6Header.build(at: p.pointer, capacity: 39, source: .unspecified, destination: .unspecified,
                                 nextHeader: 59, payloadLength: 0).error == .truncated)
    }

    @Test func arpBuilderAndReplyInPlace() throws {
        let p = PacketBytes([UInt8](repeating: 0, count: 28))
        let peer = MACAddress(2, 0, 0, 0, 0, 0x11), us = MACAddress(2, 0, 0, 0, 0, 0x99)
        let a = try ARPHeader.build(at: p.pointer, capacity: 28, operation: ARPHeader.request, senderHardwareAddress: peer,
                                    senderProtocolAddress: IPv4Address(10, 0, 0, 11), targetHardwareAddress: .zero,
                                    targetProtocolAddress: IPv4Address(10, 0, 0, 99)).get()
        #expect(p.bytes() == Hex.bytes("0001 0800 06 04 0001 020000000011 0a00000b 000000000000 0a000063"))
        try a.turnIntoReply(from: us).get()
        #expect(p.bytes() == Hex.bytes("0001 0800 06 04 0002 020000000099 0a000063 020000000011 0a00000b"))
        #expect(a.turnIntoReply(from: us).error == .malformed)
    }

    @Test func icmpEchoReplyInPlaceKeepsTheChecksumValid() throws {
        let p = PacketBytes([8, 0, 0, 0, 0x12, 0x34, 0, 1] + Array("abcdefg".utf8))
        let h = try ICMPHeader.buildEcho(at: p.pointer, capacity: p.count, identifier: 0x1234, sequenceNumber: 1, payloadLength: 7).get()
        #expect(h.isChecksumValid && h.length == 15)
        try h.turnIntoEchoReply().get()
        #expect(h.type == 0 && h.isChecksumValid)
        let saved = h.checksum
        h.updateChecksum()
        #expect(h.checksum == saved)
        #expect(h.turnIntoEchoReply().error == .unsupported)
    }

    @Test func icmpv6EchoReplyInPlaceWithSwappedAddresses() throws {
        let a = try IPv6Address(parsing: "fd00::1"), b = try IPv6Address(parsing: "fd00::2")
        let p = PacketBytes([0, 0, 0, 0, 0, 0, 0, 0] + Array("ping".utf8))
        let h = try ICMPv6Header.buildEcho(at: p.pointer, capacity: p.count, identifier: 3, sequenceNumber: 4, payloadLength: 4,
                                           pseudoHeader: .ipv6(source: a, destination: b)).get()
        try h.turnIntoEchoReply().get()
        #expect(h.type == 129 && h.isChecksumValid(.ipv6(source: b, destination: a)))
        #expect(h.turnIntoEchoReply().error == .unsupported)
    }

    @Test func shortICMPv6MessageHasNoTarget() throws {
        let p = PacketBytes([135, 0, 0, 0, 0, 0, 0, 0])
        let h = try ICMPv6Header.parse(p.pointer, length: 8).get()
        h.targetAddress = .loopback
        #expect(h.targetAddress == .unspecified && h.linkLayerAddress(option: 1) == nil && p.bytes() == [135, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func vlanTagIndexOutsideTheStackIsNil() throws {
        let p = PacketBytes(Raw.ethernet(type: 0x0800, tags: [(0x8100, 5)]))
        let eth = try EthernetHeader.parse(p.pointer, length: p.count).get()
        #expect(eth.vlanTag(-1) == nil && eth.vlanTag(1) == nil && eth.vlanTag(0)?.vlanID == 5)
    }

    @Test func espFields() throws {
        let p = PacketBytes([UInt8](repeating: 0xAA, count: 20))
        let h = try ESPHeader.build(at: p.pointer, capacity: 20, securityParameterIndex: 0xDEAD_BEEF, sequenceNumber: 42).get()
        #expect(Array(p.bytes()[0..<8]) == Hex.bytes("deadbeef 0000002a") && h.payload.count == 12)
        #expect(ESPHeader.build(at: p.pointer, capacity: 7, securityParameterIndex: 1, sequenceNumber: 1).error == .truncated)
    }

    @Test func neighborBuildersWriteTheLinkLayerOption() throws {
        let p = PacketBytes([UInt8](repeating: 0, count: 32))
        let target = try IPv6Address(parsing: "fd00::99"), mac = MACAddress(2, 0, 0, 0, 0, 0x99)
        let pseudo = PseudoHeader.ipv6(source: target, destination: .allNodes)
        let na = try ICMPv6Header.buildNeighborMessage(at: p.pointer, capacity: 32, type: 136, target: target,
                                                       flags: ICMPv6Header.solicitedFlag | ICMPv6Header.overrideFlag,
                                                       linkLayerAddress: mac, pseudoHeader: pseudo).get()
        #expect(na.length == 32 && na.neighborFlags == 0x60 && na.isChecksumValid(pseudo))
        #expect(Array(p.bytes()[24...]) == [2, 1, 2, 0, 0, 0, 0, 0x99])
        #expect(na.linkLayerAddress(option: 2) == mac && na.linkLayerAddress(option: 1) == nil)
        let ns = try ICMPv6Header.buildNeighborMessage(at: p.pointer, capacity: 24, type: 135, target: target,
                                                       linkLayerAddress: nil, pseudoHeader: pseudo).get()
        #expect(ns.length == 24 && ns.targetAddress == target && ns.isChecksumValid(pseudo))
        #expect(ICMPv6Header.buildNeighborMessage(at: p.pointer, capacity: 31, type: 136, target: target, linkLayerAddress: mac,
                                                  pseudoHeader: pseudo).error == .truncated)
        #expect(ICMPv6Header.buildNeighborMessage(at: p.pointer, capacity: 32, type: 128, target: target, linkLayerAddress: mac,
                                                  pseudoHeader: pseudo).error == .unsupported)
    }

    @Test func ttlAndHopLimitStopAtOne() throws {
        let v4 = PacketBytes(Raw.ipv4(payloadLength: 0, ttl: 2))
        let ip = try IPv4Header.parse(v4.pointer, length: v4.count).get()
        ip.updateChecksum()
        #expect(ip.decrementTimeToLive() && ip.timeToLive == 1 && ip.isChecksumValid)
        let before = v4.bytes()
        #expect(!ip.decrementTimeToLive() && v4.bytes() == before)
        let v6 = PacketBytes(Raw.ipv6(nextHeader: 59, payloadLength: 0, hopLimit: 2))
        let ip6 = try IPv6Header.parse(v6.pointer, length: v6.count).get()
        #expect(ip6.decrementHopLimit() && ip6.hopLimit == 1 && !ip6.decrementHopLimit() && ip6.hopLimit == 1)
    }

    /// A rewrite of an IPv6 address behind a bad extension chain changes nothing and says why.
    @Test func ipv6RewriteRefusesABadChain() throws {
        let packet = Raw.ipv6(nextHeader: 60, payloadLength: 8) + [17, 4, 0, 0, 0, 0, 0, 0]  // claims 40 bytes
        let p = PacketBytes(packet)
        let ip = try IPv6Header.parse(p.pointer, length: p.count).get()
        #expect(ip.rewriteSource(.loopback).error == .truncated && p.bytes() == packet)
    }
}
