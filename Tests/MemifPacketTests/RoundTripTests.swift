import MemifPacket
import Testing

/// Property tests: random packets built with the builders parse back to the same fields, with valid
/// checksums; every truncation of them is an error, never a trap; rewrites keep checksums equal to
/// a full recomputation.
@Suite struct RoundTripTests {
    /// Parses `frame` and checks every field the spec set. Returns the transport location for IP packets.
    @discardableResult
    static func expectFields(_ spec: PacketSpec, _ frame: PacketBytes) throws -> TransportLocation? {
        let p = frame.pointer
        let eth = try EthernetHeader.parse(p, length: frame.count).get()
        #expect(eth.destination == spec.destinationMAC && eth.source == spec.sourceMAC)
        let l3 = try eth.locatePayload().get()
        #expect(l3.tagCount == spec.tags.count && l3.offset == 14 + 4 * spec.tags.count)
        for (i, tag) in spec.tags.enumerated() { #expect(eth.vlanTag(i) == tag) }
        switch spec.network {
        case .arp(let op, let sm, let si, let tm, let ti):
            let arp = try ARPHeader.parse(p + l3.offset, length: frame.count - l3.offset).get()
            #expect(l3.etherType == EtherType.arp)
            #expect(arp.operation == op && arp.senderHardwareAddress == sm && arp.senderProtocolAddress == si)
            #expect(arp.targetHardwareAddress == tm && arp.targetProtocolAddress == ti)
            return nil
        case .ipv4(let s, let d, let ttl, let id, let options, let frag):
            let ip = try IPv4Header.parse(p + l3.offset, length: frame.count - l3.offset).get()
            #expect(ip.source == s && ip.destination == d && ip.timeToLive == ttl && ip.identification == id)
            #expect(ip.headerLength == 20 + options.count && Array(UnsafeRawBufferPointer(ip.options)) == options)
            #expect(ip.flagsAndFragmentOffset == frag && ip.isChecksumValid)
            #expect(Int(ip.totalLength) == frame.count - l3.offset)
        case .ipv6(let s, let d, let hop, let flow, _, _):
            let ip = try IPv6Header.parse(p + l3.offset, length: frame.count - l3.offset).get()
            #expect(ip.source == s && ip.destination == d && ip.hopLimit == hop && ip.flowLabel == flow)
            #expect(Int(ip.payloadLength) + 40 == frame.count - l3.offset)
        }
        let t = try PacketWalk.frame(p, length: frame.count).get()
        #expect(t.end == frame.count)
        if spec.isFragmentContinuation {
            #expect(t.fragment == .nonFirstFragment)
            return t
        }
        let pseudo: PseudoHeader
        switch spec.network {
        case .ipv4(let s, let d, _, _, _, _): pseudo = .ipv4(source: s, destination: d)
        case .ipv6(let s, let d, _, _, _, _): pseudo = .ipv6(source: s, destination: d)
        case .arp: return nil
        }
        let l4 = p + t.offset
        switch spec.transport {
        case nil: #expect(t.protocolNumber == IPProtocol.noNextHeader && t.transportLength == spec.payload.count)
        case .udp(let s, let d)?:
            let u = try UDPHeader.parse(l4, length: t.transportLength).get()
            #expect(t.protocolNumber == IPProtocol.udp && u.sourcePort == s && u.destinationPort == d)
            #expect(Array(UnsafeRawBufferPointer(u.payload)) == spec.payload && u.isChecksumValid(pseudo) && u.checksum != 0)
        case .tcp(let s, let d, let seq, let ack, let flags, let window, let options)?:
            let h = try TCPHeader.parse(l4, length: t.transportLength).get()
            #expect(t.protocolNumber == IPProtocol.tcp && h.sourcePort == s && h.destinationPort == d)
            #expect(h.sequenceNumber == seq && h.acknowledgmentNumber == ack && h.flags == flags && h.window == window)
            #expect(Array(UnsafeRawBufferPointer(h.options)) == options)
            #expect(Array(UnsafeRawBufferPointer(h.payload)) == spec.payload && h.isChecksumValid(pseudo))
        case .icmpEcho(let reply, let id, let seq)?:
            if case .ipv6 = pseudo {
                let h = try ICMPv6Header.parse(l4, length: t.transportLength).get()
                #expect(h.type == (reply ? 129 : 128) && h.identifier == id && h.sequenceNumber == seq && h.isChecksumValid(pseudo))
            } else {
                let h = try ICMPHeader.parse(l4, length: t.transportLength).get()
                #expect(h.type == (reply ? 0 : 8) && h.identifier == id && h.sequenceNumber == seq && h.isChecksumValid)
            }
        case .esp(let spi, let seq)?:
            let h = try ESPHeader.parse(l4, length: t.transportLength).get()
            #expect(t.protocolNumber == IPProtocol.esp && h.securityParameterIndex == spi && h.sequenceNumber == seq)
            #expect(Array(UnsafeRawBufferPointer(h.payload)) == spec.payload)
        case .neighbor(let type, let target, let flags, let mac)?:
            let h = try ICMPv6Header.parseNeighborMessage(l4, length: t.transportLength).get()
            #expect(h.type == type && h.targetAddress == target && h.isChecksumValid(pseudo))
            if type == 136 { #expect(h.neighborFlags == flags) }
            let option = type == 135 ? ICMPv6Header.sourceLinkLayerOption : ICMPv6Header.targetLinkLayerOption
            #expect(h.linkLayerAddress(option: option) == mac)
        }
        return t
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomPacketsParseBackToTheirFields(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<500 {
            let spec = PacketSpec.random(using: &rng)
            let frame = spec.build()
            try Self.expectFields(spec, frame)
        }
    }

    /// Cutting a random packet anywhere gives an error value from the walk (or a shorter valid ARP
    /// never: ARP needs all 28 bytes), and never a read past the cut.
    @Test func everyTruncationOfRandomPacketsIsAnError() {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<150 {
            let spec = PacketSpec.random(using: &rng)
            let full = spec.build().bytes()
            for n in 0..<full.count {
                let cut = PacketBytes(Array(full.prefix(n)))
                let l3 = PacketWalk.ethernet(cut.pointer, length: n)
                if case .arp = spec.network {
                    if case .success(let l) = l3 {
                        #expect(ARPHeader.parse(cut.pointer + l.offset, length: n - l.offset).error == .truncated)
                    }
                    continue
                }
                #expect(PacketWalk.frame(cut.pointer, length: n).error == .truncated, "\(spec) cut at \(n)")
            }
        }
    }

    /// Address, port and TTL rewrites: the incremental checksums equal a full recomputation.
    @Test(arguments: [7, 8])
    func rewritesKeepChecksumsEqualToARecompute(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var checked = 0
        while checked < 400 {
            let spec = PacketSpec.random(using: &rng)
            if case .arp = spec.network { continue }
            let frame = spec.build()
            let t = try PacketWalk.frame(frame.pointer, length: frame.count).get()
            let l3 = try PacketWalk.ethernet(frame.pointer, length: frame.count).get()
            let ipBase = frame.pointer + l3.offset
            let l4 = frame.pointer + t.offset
            let hasL4Checksum = !spec.isFragmentContinuation && [IPProtocol.tcp, IPProtocol.udp, IPProtocol.icmpv6].contains(t.protocolNumber)
            let before = hasL4Checksum ? transportChecksum(t, l4) : nil
            let pseudo: PseudoHeader
            switch spec.network {
            case .ipv4:
                let ip = try IPv4Header.parse(ipBase, length: frame.count - l3.offset).get()
                let ttl = ip.timeToLive
                #expect(ip.decrementTimeToLive() == (ttl > 1))
                #expect(ip.timeToLive == (ttl > 1 ? ttl - 1 : ttl) && ip.isChecksumValid)
                ip.rewriteSource(IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng)))
                ip.rewriteDestination(IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng)))
                let saved = ip.checksum
                ip.updateChecksum()
                #expect(ip.checksum == saved)
                pseudo = ip.pseudoHeader
            case .ipv6:
                let ip = try IPv6Header.parse(ipBase, length: frame.count - l3.offset).get()
                let hop = ip.hopLimit
                #expect(ip.decrementHopLimit() == (hop > 1))
                let s = IPv6Address(high: .random(in: 0...UInt64.max, using: &rng), low: .random(in: 0...UInt64.max, using: &rng))
                #expect(ip.rewriteSource(s).value != nil)
                #expect(ip.rewriteDestination(.loopback).value != nil)
                #expect(ip.source == s && ip.destination == .loopback)
                pseudo = ip.pseudoHeader
            case .arp: continue
            }
            if t.protocolNumber == IPProtocol.udp && !spec.isFragmentContinuation {
                let u = try UDPHeader.parse(l4, length: t.transportLength).get()
                u.rewriteSourcePort(.random(in: 0...UInt16.max, using: &rng))
                u.rewriteDestinationPort(.random(in: 0...UInt16.max, using: &rng))
            }
            if t.protocolNumber == IPProtocol.tcp && !spec.isFragmentContinuation {
                let h = try TCPHeader.parse(l4, length: t.transportLength).get()
                h.rewriteSourcePort(.random(in: 0...UInt16.max, using: &rng))
                h.rewriteDestinationPort(.random(in: 0...UInt16.max, using: &rng))
            }
            if hasL4Checksum, let before {
                let after = transportChecksum(t, l4)
                let recomputed = recompute(t, l4, pseudo)
                #expect(after == recomputed, "\(spec)")
                _ = before
            }
            checked += 1
        }
    }

    func transportChecksum(_ t: TransportLocation, _ l4: UnsafeMutableRawPointer) -> UInt16 {
        switch t.protocolNumber {
        case IPProtocol.tcp: try! TCPHeader.parse(l4, length: t.transportLength).get().checksum
        case IPProtocol.udp: try! UDPHeader.parse(l4, length: t.transportLength).get().checksum
        default: try! ICMPv6Header.parse(l4, length: t.transportLength).get().checksum
        }
    }

    func recompute(_ t: TransportLocation, _ l4: UnsafeMutableRawPointer, _ pseudo: PseudoHeader) -> UInt16 {
        switch t.protocolNumber {
        case IPProtocol.tcp: try! TCPHeader.parse(l4, length: t.transportLength).get().computeChecksum(pseudo)
        case IPProtocol.udp: try! UDPHeader.parse(l4, length: t.transportLength).get().computeChecksum(pseudo)
        default: try! ICMPv6Header.parse(l4, length: t.transportLength).get().computeChecksum(pseudo)
        }
    }

    @Test func udpZeroChecksumStaysZeroOverIPv4() throws {
        let frame = PacketBytes(Raw.ethernet(type: 0x0800) + Raw.ipv4(payloadLength: 12) + Raw.udp())
        let ip = try IPv4Header.parse(frame.pointer + 14, length: frame.count - 14).get()
        ip.updateChecksum()
        ip.rewriteDestination(IPv4Address(192, 0, 2, 1))
        let u = try UDPHeader.parse(frame.pointer + 34, length: 12).get()
        u.rewriteDestinationPort(5353)
        #expect(u.checksum == 0 && ip.isChecksumValid && u.isChecksumValid(ip.pseudoHeader))
    }

    /// A UDP checksum whose update comes out as zero is sent as 0xFFFF (zero would mean "none").
    @Test func udpComputedZeroIsSentAsAllOnes() throws {
        // Find a source port that makes the checksum compute to zero, then check both paths agree.
        let frame = PacketBytes(Raw.ethernet(type: 0x0800) + Raw.ipv4(payloadLength: 12) + Raw.udp())
        let ip = try IPv4Header.parse(frame.pointer + 14, length: frame.count - 14).get()
        let u = try UDPHeader.parse(frame.pointer + 34, length: 12).get()
        u.updateChecksum(ip.pseudoHeader)
        var found = false
        for port in UInt16(0)...UInt16.max {
            u.sourcePort = port
            u.checksum = 0
            let sum = InternetChecksum.add(InternetChecksum.sum(u.base, count: 12), ip.pseudoHeader.sum(protocolNumber: 17, length: 12))
            if sum == 0xFFFF {
                #expect(u.computeChecksum(ip.pseudoHeader) == 0xFFFF)
                u.sourcePort = port &+ 1
                u.updateChecksum(ip.pseudoHeader)
                u.rewriteSourcePort(port)
                #expect(u.checksum == 0xFFFF && u.isChecksumValid(ip.pseudoHeader))
                found = true
                break
            }
        }
        #expect(found)
    }
}
