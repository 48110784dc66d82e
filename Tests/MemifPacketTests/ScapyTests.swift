import MemifPacket
import Testing

/// Cross-check against scapy: (a) packets scapy builds, well-formed, malformed and truncated, parse
/// here to scapy's fields or to the expected error; (b) packets built and rewritten here carry
/// checksums scapy recomputes identically, and scapy reads the fields we wrote.
@Suite(.enabled(if: Scapy.enabled, "scapy missing: install Debian's python3-scapy for /usr/bin/python3 (CI=true makes this a failure)"))
struct ScapyTests {
    static func fragmentStatus(_ s: String) -> FragmentStatus? {
        ["unfragmented": .unfragmented, "first": .firstFragment, "nonFirst": .nonFirstFragment][s]
    }

    /// Our parsers' reading of `frame` must equal scapy's `view`; `l4Error` is the error the
    /// transport (or ARP) view must return instead.
    static func expectAgreement(_ view: ScapyView, _ frame: PacketBytes, l4Error: PacketError?, _ name: String) throws {
        let p = frame.pointer, n = frame.count
        let c = Comment(rawValue: name)
        let l2view = try #require(view.l2, c)
        let eth = try EthernetHeader.parse(p, length: n).get()
        #expect(eth.destination == MACAddress(l2view.dst) && eth.source == MACAddress(l2view.src), c)
        let l3 = try PacketWalk.ethernet(p, length: n).get()
        #expect(Int(l3.etherType) == l2view.etherType && l3.offset == l2view.l3Offset && l3.tagCount == l2view.tags.count, c)
        for (i, t) in l2view.tags.enumerated() {
            let tag = eth.vlanTag(i)
            #expect(tag.map { [Int($0.tagProtocol), Int($0.vlanID), Int($0.priority)] } == t, c)
        }
        if l3.etherType == EtherType.arp {
            let arp = ARPHeader.parse(p + l3.offset, length: n - l3.offset)
            if let l4Error {
                #expect(arp.error == l4Error, c)
                return
            }
            let a = try arp.get(), v = try #require(view.arp, c)
            #expect(Int(a.operation) == v.op && a.senderHardwareAddress == MACAddress(v.hwsrc), c)
            #expect(a.senderProtocolAddress == IPv4Address(v.psrc) && a.targetProtocolAddress == IPv4Address(v.pdst), c)
            #expect(a.targetHardwareAddress == MACAddress(v.hwdst), c)
            return
        }
        let walk = try PacketWalk.frame(p, length: n).get()
        let w = try #require(view.walk, c)
        #expect(Int(walk.protocolNumber) == w.proto && walk.offset == w.l4Offset && walk.end == w.end, c)
        #expect(walk.fragment == fragmentStatus(w.fragment), c)
        let pseudo: PseudoHeader
        if let v = view.ipv4 {
            let ip = try IPv4Header.parse(p + l3.offset, length: n - l3.offset).get()
            #expect(ip.source == IPv4Address(v.src) && ip.destination == IPv4Address(v.dst), c)
            #expect(Int(ip.timeToLive) == v.ttl && Int(ip.protocolNumber) == v.proto && ip.headerLength == v.ihl * 4, c)
            #expect(Int(ip.totalLength) == v.totalLength && Int(ip.identification) == v.id, c)
            #expect(Int(ip.flagsAndFragmentOffset >> 13) == v.flags && Int(ip.fragmentOffset) == v.frag, c)
            #expect(Int(ip.typeOfService) == v.tos && Int(ip.checksum) == v.checksum && ip.isChecksumValid == v.checksumOK, c)
            pseudo = ip.pseudoHeader
        } else {
            let v = try #require(view.ipv6, c)
            let ip = try IPv6Header.parse(p + l3.offset, length: n - l3.offset).get()
            #expect(ip.source == IPv6Address(v.src) && ip.destination == IPv6Address(v.dst), c)
            #expect(Int(ip.hopLimit) == v.hlim && Int(ip.nextHeader) == v.nh && Int(ip.payloadLength) == v.plen, c)
            #expect(Int(ip.trafficClass) == v.tc && Int(ip.flowLabel) == v.fl, c)
            pseudo = ip.pseudoHeader
        }
        let l4 = p + walk.offset, l4Length = walk.transportLength
        switch walk.fragment {
        case .nonFirstFragment:
            #expect(view.udp == nil && view.tcp == nil && view.icmp == nil && view.icmpv6 == nil, c)
            return
        case .firstFragment:
            // The transport header is here but its length and checksum cover the whole datagram.
            if let u = view.udp { #expect(PacketWalk.ports(p, at: walk.offset, end: walk.end)! == (UInt16(u.sport), UInt16(u.dport)), c) }
            if let t = view.tcp { #expect(PacketWalk.ports(p, at: walk.offset, end: walk.end)! == (UInt16(t.sport), UInt16(t.dport)), c) }
            return
        case .unfragmented: break
        }
        switch walk.protocolNumber {
        case IPProtocol.udp:
            let parsed = UDPHeader.parse(l4, length: l4Length)
            if let l4Error { #expect(parsed.error == l4Error, c); return }
            let u = try parsed.get(), v = try #require(view.udp, c)
            #expect(Int(u.sourcePort) == v.sport && Int(u.destinationPort) == v.dport && Int(u.udpLength) == v.len, c)
            #expect(Int(u.checksum) == v.checksum && u.isChecksumValid(pseudo) == v.checksumOK, c)
        case IPProtocol.tcp:
            let parsed = TCPHeader.parse(l4, length: l4Length)
            if let l4Error { #expect(parsed.error == l4Error, c); return }
            let t = try parsed.get(), v = try #require(view.tcp, c)
            #expect(Int(t.sourcePort) == v.sport && Int(t.destinationPort) == v.dport, c)
            #expect(Int(t.sequenceNumber) == v.seq && Int(t.acknowledgmentNumber) == v.ack && t.headerLength == v.dataofs * 4, c)
            #expect(Int(t.flags) == v.flags && Int(t.window) == v.window && Int(t.urgentPointer) == v.urgptr, c)
            #expect(Int(t.checksum) == v.checksum && t.isChecksumValid(pseudo) == v.checksumOK, c)
        case IPProtocol.icmp:
            let h = try ICMPHeader.parse(l4, length: l4Length).get(), v = try #require(view.icmp, c)
            #expect(Int(h.type) == v.type && Int(h.code) == v.code && Int(h.identifier) == v.id && Int(h.sequenceNumber) == v.seq, c)
            #expect(Int(h.checksum) == v.checksum && h.isChecksumValid == v.checksumOK, c)
        case IPProtocol.icmpv6:
            let v = try #require(view.icmpv6, c)
            if v.type == 135 || v.type == 136 {
                let parsed = ICMPv6Header.parseNeighborMessage(l4, length: l4Length)
                if let l4Error { #expect(parsed.error == l4Error, c); return }
                let h = try parsed.get()
                #expect(h.targetAddress == IPv6Address(v.target ?? ""), c)
                #expect(h.linkLayerAddress(option: 1) == v.sourceLinkLayer.flatMap(MACAddress.init), c)
                #expect(h.linkLayerAddress(option: 2) == v.targetLinkLayer.flatMap(MACAddress.init), c)
                if let f = v.flags { #expect(Int(h.neighborFlags) == f, c) }
            }
            let h = try ICMPv6Header.parse(l4, length: l4Length).get()
            #expect(Int(h.type) == v.type && Int(h.code) == v.code, c)
            #expect(Int(h.checksum) == v.checksum && h.isChecksumValid(pseudo) == v.checksumOK, c)
            if let id = v.id, let seq = v.seq { #expect(Int(h.identifier) == id && Int(h.sequenceNumber) == seq, c) }
        case IPProtocol.esp:
            let h = try ESPHeader.parse(l4, length: l4Length).get(), v = try #require(view.esp, c)
            #expect(Int(h.securityParameterIndex) == v.spi && Int(h.sequenceNumber) == v.seq, c)
        default:
            #expect(view.udp == nil && view.tcp == nil && view.icmp == nil && view.icmpv6 == nil && view.esp == nil, c)
        }
    }

    @Test func scapyCorpusParsesToScapysFields() throws {
        let corpus = try Scapy.corpus()
        #expect(corpus.count > 80)
        var errorsChecked = 0
        for e in corpus {
            let frame = PacketBytes(hex: e.hex)
            let c = Comment(rawValue: e.name)
            if let name = e.l2Error {
                #expect(PacketWalk.ethernet(frame.pointer, length: frame.count).error == PacketError(named: name), c)
                errorsChecked += 1
            }
            if let name = e.walkError {
                #expect(PacketWalk.frame(frame.pointer, length: frame.count).error == PacketError(named: name), c)
                errorsChecked += 1
            }
            let l4Error = try e.l4Error.map { try #require(PacketError(named: $0), c) }
            if let view = e.view {
                try Self.expectAgreement(view, frame, l4Error: l4Error, e.name)
            } else if let l4Error, e.walkError == "unsupported", let l3 = PacketWalk.ethernet(frame.pointer, length: frame.count).value {
                #expect(ARPHeader.parse(frame.pointer + l3.offset, length: frame.count - l3.offset).error == l4Error, c)
            }
        }
        #expect(errorsChecked > 40)
    }

    /// Random packets from our builders: scapy recomputes the same checksums and reads the fields we
    /// wrote (our parsers read the spec's fields, checked in ``RoundTripTests``, and scapy's).
    @Test func scapyAcceptsOurBuiltPackets() throws {
        var rng = SeededGenerator(seed: 2026)
        let specs = (0..<300).map { _ in PacketSpec.random(using: &rng) }
        let frames = specs.map { $0.build() }
        let views = try Scapy.check(frames.map { $0.bytes() })
        try #require(views.count == frames.count)
        for (i, view) in views.enumerated() {
            let c = Comment(rawValue: "\(specs[i]) \(Hex.string(frames[i].bytes()))")
            #expect(view.allChecksumsOK, c)
            try RoundTripTests.expectFields(specs[i], frames[i])
            try Self.expectAgreement(view, frames[i], l4Error: nil, c.rawValue)
        }
    }

    /// TTL/hop-limit decrements, address and port rewrites: scapy agrees with every updated checksum.
    @Test func scapyAcceptsOurRewrites() throws {
        var rng = SeededGenerator(seed: 77)
        var frames: [PacketBytes] = []
        while frames.count < 200 {
            let spec = PacketSpec.random(using: &rng)
            if case .arp = spec.network { continue }
            let frame = spec.build()
            let l3 = try PacketWalk.ethernet(frame.pointer, length: frame.count).get()
            let t = try PacketWalk.frame(frame.pointer, length: frame.count).get()
            let ip = frame.pointer + l3.offset
            if l3.etherType == EtherType.ipv4 {
                let h = try IPv4Header.parse(ip, length: frame.count - l3.offset).get()
                _ = h.decrementTimeToLive()
                h.rewriteSource(IPv4Address(rawValue: .random(in: 0...UInt32.max, using: &rng)))
                h.rewriteDestination(IPv4Address(rawValue: .random(in: 0...UInt32.max, using: &rng)))
            } else {
                let h = try IPv6Header.parse(ip, length: frame.count - l3.offset).get()
                _ = h.decrementHopLimit()
                _ = try h.rewriteSource(IPv6Address(high: .random(in: 0...UInt64.max, using: &rng), low: 7)).get()
                _ = try h.rewriteDestination(IPv6Address(high: 0x2001_0db8 << 32, low: .random(in: 0...UInt64.max, using: &rng))).get()
            }
            if t.fragment != .nonFirstFragment {
                if t.protocolNumber == IPProtocol.udp {
                    let u = try UDPHeader.parse(frame.pointer + t.offset, length: t.transportLength).get()
                    u.rewriteSourcePort(.random(in: 0...UInt16.max, using: &rng))
                    u.rewriteDestinationPort(.random(in: 0...UInt16.max, using: &rng))
                } else if t.protocolNumber == IPProtocol.tcp {
                    let h = try TCPHeader.parse(frame.pointer + t.offset, length: t.transportLength).get()
                    h.rewriteSourcePort(.random(in: 0...UInt16.max, using: &rng))
                    h.rewriteDestinationPort(.random(in: 0...UInt16.max, using: &rng))
                }
            }
            frames.append(frame)
        }
        let views = try Scapy.check(frames.map { $0.bytes() })
        try #require(views.count == frames.count)
        for (view, frame) in zip(views, frames) {
            let c = Comment(rawValue: Hex.string(frame.bytes()))
            #expect(view.allChecksumsOK, c)
            try Self.expectAgreement(view, frame, l4Error: nil, c.rawValue)
        }
    }

    /// In-place answers (ARP reply, neighbor advertisement, ICMP echo reply) as scapy reads them.
    @Test func scapyAcceptsOurInPlaceAnswers() throws {
        let us = MACAddress(0x02, 0, 0, 0, 0, 0x99), peer = MACAddress(0x02, 0, 0, 0, 0, 0x11)
        let ourIP = IPv4Address(10, 0, 0, 99), peerIP = IPv4Address(10, 0, 0, 11)
        let ourIP6 = try IPv6Address(parsing: "fd00::99"), peerIP6 = try IPv6Address(parsing: "fd00::11")
        // ARP request, tagged.
        let arp = PacketSpec(destinationMAC: .broadcast, sourceMAC: peer, tags: [VLANTag(vlanID: 42)],
                             network: .arp(operation: 1, senderMAC: peer, senderIP: peerIP, targetMAC: .zero, targetIP: ourIP),
                             transport: nil, payload: []).build()
        try InPlaceReply.arp(frame: arp.pointer, length: arp.count, hardwareAddress: us).get()
        // Neighbor solicitation with a source link-layer option, and one for duplicate address detection.
        func solicitation(from source: IPv6Address, option: Bool) throws -> PacketBytes {
            let spec = PacketSpec(destinationMAC: MACAddress(ipv6Multicast: ourIP6.solicitedNodeMulticast), sourceMAC: peer, tags: [],
                                  network: .ipv6(source: source, destination: ourIP6.solicitedNodeMulticast, hopLimit: 255, flowLabel: 0,
                                                 extensions: [], fragment: nil),
                                  transport: .neighbor(type: 135, target: ourIP6, flags: 0, mac: option ? peer : nil), payload: [])
            let built = spec.build()
            let frame = PacketBytes(built.bytes(), capacity: built.count + 8)
            let n = try InPlaceReply.neighborAdvertisement(frame: frame.pointer, length: frame.count, capacity: frame.capacity,
                                                           hardwareAddress: us).get()
            return PacketBytes(frame.bytes(n))
        }
        let na = try solicitation(from: peerIP6, option: true)
        let naNoOption = try solicitation(from: peerIP6, option: false)
        let naDAD = try solicitation(from: .unspecified, option: false)
        // ICMP echo request turned into a reply.
        let echo = PacketSpec(destinationMAC: us, sourceMAC: peer, tags: [],
                              network: .ipv4(source: peerIP, destination: ourIP, ttl: 64, identification: 1, options: [], fragmentField: 0),
                              transport: .icmpEcho(reply: false, identifier: 9, sequence: 10), payload: Array("ping".utf8)).build()
        let icmp = try ICMPHeader.parse(echo.pointer + 34, length: echo.count - 34).get()
        try icmp.turnIntoEchoReply().get()

        let views = try Scapy.check([arp, na, naNoOption, naDAD, echo].map { $0.bytes() })
        try #require(views.count == 5)
        let a = try #require(views[0].arp)
        #expect(views[0].l2?.dst == peer.description && views[0].l2?.src == us.description && views[0].l2?.tags == [[0x8100, 42, 0]])
        #expect(a.op == 2 && a.hwsrc == us.description && a.psrc == "10.0.0.99" && a.hwdst == peer.description && a.pdst == "10.0.0.11")
        for (i, asker) in [(1, peerIP6), (2, peerIP6), (3, IPv6Address.allNodes)] {
            let v = views[i]
            let n = try #require(v.icmpv6), ip = try #require(v.ipv6)
            #expect(v.allChecksumsOK && n.type == 136 && n.code == 0 && IPv6Address(n.target ?? "") == ourIP6)
            #expect(n.flags == (i == 3 ? 0x20 : 0x60) && n.targetLinkLayer == us.description && n.sourceLinkLayer == nil)
            #expect(IPv6Address(ip.src) == ourIP6 && IPv6Address(ip.dst) == asker && ip.hlim == 255 && ip.plen == 32)
            #expect(v.l2?.src == us.description)
            #expect(v.l2?.dst == (i == 3 ? "33:33:00:00:00:01" : peer.description))
        }
        #expect(views[4].allChecksumsOK && views[4].icmp?.type == 0 && views[4].icmp?.id == 9 && views[4].icmp?.seq == 10)
        for (view, frame) in zip(views, [arp, na, naNoOption, naDAD, echo]) {
            try Self.expectAgreement(view, frame, l4Error: nil, Hex.string(frame.bytes()))
        }
    }
}
