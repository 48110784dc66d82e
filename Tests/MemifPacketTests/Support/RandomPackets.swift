import MemifPacket

/// A packet described by its fields, built with the library's builders. Property tests draw these
/// at random, build them, parse them back and compare; the scapy test hands them to scapy.
struct PacketSpec: CustomStringConvertible {
    enum Network {
        case ipv4(source: IPv4Address, destination: IPv4Address, ttl: UInt8, identification: UInt16, options: [UInt8],
                  fragmentField: UInt16)
        case ipv6(source: IPv6Address, destination: IPv6Address, hopLimit: UInt8, flowLabel: UInt32,
                  extensions: [UInt8], fragment: (offset: UInt16, more: Bool)?)
        case arp(operation: UInt16, senderMAC: MACAddress, senderIP: IPv4Address, targetMAC: MACAddress, targetIP: IPv4Address)
    }

    enum Transport {
        case udp(source: UInt16, destination: UInt16)
        case tcp(source: UInt16, destination: UInt16, sequence: UInt32, acknowledgment: UInt32, flags: UInt16, window: UInt16,
                 options: [UInt8])
        case icmpEcho(reply: Bool, identifier: UInt16, sequence: UInt16)
        case esp(spi: UInt32, sequence: UInt32)
        case neighbor(type: UInt8, target: IPv6Address, flags: UInt8, mac: MACAddress?)
    }

    var destinationMAC: MACAddress
    var sourceMAC: MACAddress
    var tags: [VLANTag]
    var network: Network
    var transport: Transport?
    var payload: [UInt8]

    var description: String { "\(tags.count) tags, \(network), \(String(describing: transport)), \(payload.count) bytes" }

    var isFragmentContinuation: Bool {
        switch network {
        case .ipv4(_, _, _, _, _, let f): f & 0x1FFF != 0
        case .ipv6(_, _, _, _, _, let f): (f?.offset ?? 0) != 0
        case .arp: false
        }
    }

    /// The frame bytes, built with the library's builders, in a buffer of exactly their length.
    func build() -> PacketBytes {
        let buffer = PacketBytes([UInt8](repeating: 0, count: 4096))
        let p = buffer.pointer
        let etherType: UInt16
        switch network {
        case .ipv4: etherType = EtherType.ipv4
        case .ipv6: etherType = EtherType.ipv6
        case .arp: etherType = EtherType.arp
        }
        let l2 = try! EthernetHeader.build(
            at: p, capacity: 4096, destination: destinationMAC, source: sourceMAC, etherType: etherType, tags: tags).get()
        var l3Length = 0
        switch network {
        case .arp(let op, let sm, let si, let tm, let ti):
            _ = try! ARPHeader.build(at: p + l2, capacity: 4096 - l2, operation: op, senderHardwareAddress: sm,
                                     senderProtocolAddress: si, targetHardwareAddress: tm, targetProtocolAddress: ti).get()
            return PacketBytes(buffer.bytes(l2 + ARPHeader.size))
        case .ipv4(_, _, _, _, let options, _): l3Length = 20 + options.count
        case .ipv6(_, _, _, _, let ext, let fragment): l3Length = 40 + ext.count * 8 + (fragment == nil ? 0 : 8)
        }
        let l4 = p + l2 + l3Length
        let pseudo: PseudoHeader
        let protocolNumber: UInt8
        switch network {
        case .ipv4(let s, let d, _, _, _, _): pseudo = .ipv4(source: s, destination: d)
        case .ipv6(let s, let d, _, _, _, _): pseudo = .ipv6(source: s, destination: d)
        case .arp: fatalError("handled above")
        }
        // Transport header and payload first: the IP header needs their length.
        var l4Length = 0
        let checksummed = isFragmentContinuation ? nil : pseudo
        func put(_ bytes: [UInt8], at offset: Int) {
            bytes.withUnsafeBytes { if let b = $0.baseAddress { (l4 + offset).copyMemory(from: b, byteCount: bytes.count) } }
        }
        switch transport {
        case nil:
            put(payload, at: 0)
            l4Length = payload.count
            protocolNumber = IPProtocol.noNextHeader
        case .udp(let s, let d)?:
            put(payload, at: 8)
            l4Length = try! UDPHeader.build(at: l4, capacity: 2048, sourcePort: s, destinationPort: d,
                                            payloadLength: payload.count, pseudoHeader: checksummed).get().length
            protocolNumber = IPProtocol.udp
        case .tcp(let s, let d, let seq, let ack, let flags, let window, let options)?:
            put(payload, at: 20 + options.count)
            let h = options.withUnsafeBytes { o in
                try! TCPHeader.build(at: l4, capacity: 2048, sourcePort: s, destinationPort: d, sequenceNumber: seq,
                                     acknowledgmentNumber: ack, flags: flags, window: window, options: o,
                                     payloadLength: payload.count, pseudoHeader: checksummed).get()
            }
            l4Length = h.length
            protocolNumber = IPProtocol.tcp
        case .icmpEcho(let reply, let id, let seq)?:
            put(payload, at: 8)
            if case .ipv6 = network {
                l4Length = try! ICMPv6Header.buildEcho(at: l4, capacity: 2048, reply: reply, identifier: id, sequenceNumber: seq,
                                                       payloadLength: payload.count, pseudoHeader: pseudo).get().length
                protocolNumber = IPProtocol.icmpv6
            } else {
                l4Length = try! ICMPHeader.buildEcho(at: l4, capacity: 2048, reply: reply, identifier: id, sequenceNumber: seq,
                                                     payloadLength: payload.count).get().length
                protocolNumber = IPProtocol.icmp
            }
        case .esp(let spi, let seq)?:
            put(payload, at: 8)
            _ = try! ESPHeader.build(at: l4, capacity: 2048, securityParameterIndex: spi, sequenceNumber: seq).get()
            l4Length = 8 + payload.count
            protocolNumber = IPProtocol.esp
        case .neighbor(let type, let target, let flags, let mac)?:
            l4Length = try! ICMPv6Header.buildNeighborMessage(at: l4, capacity: 2048, type: type, target: target, flags: flags,
                                                              linkLayerAddress: mac, pseudoHeader: pseudo).get().length
            protocolNumber = IPProtocol.icmpv6
        }
        let l3 = p + l2
        switch network {
        case .ipv4(let s, let d, let ttl, let id, let options, let frag):
            _ = options.withUnsafeBytes { o in
                try! IPv4Header.build(at: l3, capacity: 4096 - l2, source: s, destination: d, protocolNumber: protocolNumber,
                                      payloadLength: l4Length, timeToLive: ttl, identification: id,
                                      flagsAndFragmentOffset: frag, options: o).get()
            }
        case .ipv6(let s, let d, let hop, let flow, let ext, let fragment):
            let chain = ext + (fragment == nil ? [] : [IPProtocol.fragment])
            _ = try! IPv6Header.build(at: l3, capacity: 4096 - l2, source: s, destination: d,
                                      nextHeader: chain.first ?? protocolNumber,
                                      payloadLength: l3Length - 40 + l4Length, hopLimit: hop, flowLabel: flow).get()
            var at = l3 + 40
            for (i, h) in chain.enumerated() {
                let next = i + 1 < chain.count ? chain[i + 1] : protocolNumber
                at.storeBytes(of: next, as: UInt8.self)
                if h == IPProtocol.fragment, let f = fragment {
                    at.storeBytes(of: UInt8(0), toByteOffset: 1, as: UInt8.self)
                    at.storeBytes(of: (f.offset << 3 | (f.more ? 1 : 0)).bigEndian, toByteOffset: 2, as: UInt16.self)
                    at.storeBytes(of: UInt32(0x1234_5678).bigEndian, toByteOffset: 4, as: UInt32.self)
                } else {
                    at.storeBytes(of: UInt8(0), toByteOffset: 1, as: UInt8.self)
                    // PadN option filling the remaining six bytes.
                    at.storeBytes(of: UInt8(1), toByteOffset: 2, as: UInt8.self)
                    at.storeBytes(of: UInt8(4), toByteOffset: 3, as: UInt8.self)
                    for k in 4..<8 { at.storeBytes(of: UInt8(0), toByteOffset: k, as: UInt8.self) }
                }
                at += 8
            }
        case .arp: break
        }
        return PacketBytes(buffer.bytes(l2 + l3Length + l4Length))
    }

    static func random(using rng: inout SeededGenerator) -> PacketSpec {
        func mac() -> MACAddress { MACAddress(rawValue: UInt64.random(in: 0...0xFFFF_FFFF_FFFF, using: &rng) & ~(1 << 40)) }
        func v4() -> IPv4Address { IPv4Address(rawValue: UInt32.random(in: 1...UInt32.max, using: &rng)) }
        func v6() -> IPv6Address { IPv6Address(high: UInt64.random(in: 0...UInt64.max, using: &rng) & 0x7FFF_FFFF_FFFF_FFFF,
                                               low: UInt64.random(in: 0...UInt64.max, using: &rng)) }
        func u16() -> UInt16 { UInt16.random(in: 0...UInt16.max, using: &rng) }
        func u32() -> UInt32 { UInt32.random(in: 0...UInt32.max, using: &rng) }
        let tagCount = [0, 0, 0, 1, 2].randomElement(using: &rng)!
        let tags = (0..<tagCount).map { i in
            VLANTag(tagProtocol: tagCount == 2 && i == 0 ? EtherType.qinq : EtherType.vlan,
                    vlanID: UInt16.random(in: 1...4094, using: &rng), priority: UInt8.random(in: 0...7, using: &rng))
        }
        let payload = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var spec = PacketSpec(destinationMAC: mac(), sourceMAC: mac(), tags: tags, network: .arp(
            operation: 1, senderMAC: mac(), senderIP: v4(), targetMAC: .zero, targetIP: v4()), transport: nil, payload: payload)
        let kind = Int.random(in: 0..<10, using: &rng)
        if kind == 0 {
            spec.network = .arp(operation: UInt16.random(in: 1...2, using: &rng), senderMAC: mac(), senderIP: v4(),
                                targetMAC: mac(), targetIP: v4())
            spec.payload = []
            return spec
        }
        let ipv6 = kind >= 5
        let fragmentRoll = Int.random(in: 0..<6, using: &rng)
        if ipv6 {
            let ext = (0..<Int.random(in: 0...3, using: &rng)).map { _ in [IPProtocol.hopByHop, IPProtocol.destinationOptions,
                                                                           IPProtocol.routing].randomElement(using: &rng)! }
            // Hop-by-hop only first, as RFC 8200 requires (and scapy expects).
            let ordered = ext.filter { $0 == IPProtocol.hopByHop }.prefix(1) + ext.filter { $0 != IPProtocol.hopByHop }
            let fragment: (UInt16, Bool)? = fragmentRoll == 0 ? (0, true) : fragmentRoll == 1 ? (UInt16.random(in: 1...100, using: &rng), Bool.random(using: &rng)) : nil
            spec.network = .ipv6(source: v6(), destination: v6(), hopLimit: UInt8.random(in: 0...255, using: &rng),
                                 flowLabel: UInt32.random(in: 0...0xFFFFF, using: &rng), extensions: Array(ordered),
                                 fragment: fragment.map { (offset: $0.0, more: $0.1) })
        } else {
            let options = [UInt8](repeating: 1, count: 4 * Int.random(in: 0...2, using: &rng))
            let frag: UInt16 = fragmentRoll == 0 ? 0x2000 : fragmentRoll == 1 ? UInt16.random(in: 1...0x1FFF, using: &rng) : 0x4000
            spec.network = .ipv4(source: v4(), destination: v4(), ttl: UInt8.random(in: 0...255, using: &rng), identification: u16(),
                                 options: options, fragmentField: frag)
        }
        switch Int.random(in: 0..<(ipv6 ? 6 : 5), using: &rng) {
        case 0: spec.transport = .udp(source: u16(), destination: u16())
        case 1:
            let opts: [UInt8] = Bool.random(using: &rng) ? [] : [2, 4, 5, 0xB4]  // MSS 1460
            spec.transport = .tcp(source: u16(), destination: u16(), sequence: u32(), acknowledgment: u32(),
                                  flags: UInt16.random(in: 0...0xFF, using: &rng), window: u16(), options: opts)
        case 2: spec.transport = .icmpEcho(reply: Bool.random(using: &rng), identifier: u16(), sequence: u16())
        case 3: spec.transport = .esp(spi: u32(), sequence: u32())
        case 4: spec.transport = nil
        default:
            let na = Bool.random(using: &rng)
            spec.transport = .neighbor(type: na ? 136 : 135, target: v6(), flags: na ? UInt8.random(in: 0...7, using: &rng) << 5 : 0,
                                       mac: Bool.random(using: &rng) ? mac() : nil)
            spec.payload = []
        }
        if spec.isFragmentContinuation, case .neighbor = spec.transport { spec.transport = .udp(source: u16(), destination: u16()) }
        return spec
    }
}
