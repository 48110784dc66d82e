import MemifPacket
import Testing

/// The classifier walks: Ethernet tags, IPv4 options, IPv6 extension chains, fragments, and errors.
@Suite struct WalkTests {
    func walkFrame(_ bytes: [UInt8]) -> Result<TransportLocation, PacketError> {
        let p = PacketBytes(bytes)
        return PacketWalk.frame(p.pointer, length: p.count)
    }

    @Test(arguments: 0...4)
    func vlanStacksAreSkipped(tags: Int) throws {
        let tagList = (0..<tags).map { (tpid: $0 == 0 && tags > 1 ? 0x88A8 : 0x8100, vid: 100 + $0) }
        let frame = Raw.ethernet(type: 0x0800, tags: tagList) + Raw.ipv4(payloadLength: 12) + Raw.udp()
        let p = PacketBytes(frame)
        let l3 = try PacketWalk.ethernet(p.pointer, length: p.count).get()
        #expect(l3 == L3Location(etherType: 0x0800, offset: 14 + 4 * tags, tagCount: tags,
                                 innerVLANID: tags == 0 ? 0 : UInt16(100 + tags - 1)))
        let t = try walkFrame(frame).get()
        #expect(t.protocolNumber == 17 && t.offset == 34 + 4 * tags && t.end == frame.count && t.fragment == .unfragmented)
        #expect(EthernetHeader.parse(p.pointer, length: p.count).value?.vlanTag(tags)?.vlanID == nil)
        if tags > 0 { #expect(EthernetHeader.parse(p.pointer, length: p.count).value?.vlanTag(tags - 1)?.vlanID == UInt16(99 + tags)) }
    }

    @Test func tooManyTagsIsAnError() {
        let frame = Raw.ethernet(type: 0x0800, tags: (0..<5).map { (tpid: 0x8100, vid: $0) }) + Raw.ipv4(payloadLength: 0)
        #expect(walkFrame(frame).error == .tooManyTags)
    }

    @Test func everyTruncationOfATaggedFrameIsAnError() {
        let frame = Raw.ethernet(type: 0x86DD, tags: [(0x88A8, 1), (0x8100, 2)])
            + Raw.ipv6(nextHeader: 0, payloadLength: 8 + 8 + 8) + Raw.extensionHeader(next: 44)
            + Raw.fragmentHeader(next: 17, offset: 0, more: true) + Raw.udp(payload: [])
        #expect(walkFrame(frame).value?.offset == frame.count - 8)
        for n in 0..<frame.count {
            #expect(walkFrame(Array(frame.prefix(n))).error == .truncated, "cut at \(n)")
        }
    }

    @Test(arguments: [0, 4, 8, 40])
    func ipv4OptionsAreSkipped(optionBytes: Int) throws {
        let options = [UInt8](repeating: 1, count: optionBytes)  // NOPs
        let packet = Raw.ipv4(protocolNumber: 6, payloadLength: 20, options: options) + Raw.tcp()
        let p = PacketBytes(packet + [0, 0, 0, 0])  // link padding after the packet
        let t = try PacketWalk.transport(p.pointer, length: p.count).get()
        #expect(t == TransportLocation(protocolNumber: 6, offset: 20 + optionBytes, end: packet.count, fragment: .unfragmented))
        #expect(PacketWalk.ports(p.pointer, at: t.offset, end: t.end)! == (40000, 443))
    }

    @Test(arguments: [
        (0x0000, FragmentStatus.unfragmented), (0x4000, .unfragmented), (0x2000, .firstFragment),
        (0x2001, .nonFirstFragment), (0x0010, .nonFirstFragment), (0x1FFF, .nonFirstFragment),
    ])
    func ipv4FragmentStatus(field: Int, status: FragmentStatus) throws {
        let p = PacketBytes(Raw.ipv4(payloadLength: 12, fragment: field) + Raw.udp())
        #expect(try PacketWalk.transport(p.pointer, length: p.count).get().fragment == status)
        #expect(try IPv4Header.parse(p.pointer, length: p.count).get().fragmentStatus == status)
    }

    @Test(arguments: [
        (Raw.ipv4(payloadLength: 0, ihl: 4), PacketError.badHeaderLength),
        (Raw.ipv4(payloadLength: 0, ihl: 0), .badHeaderLength),
        (Raw.ipv4(payloadLength: 0, ihl: 6), .truncated),
        (Raw.ipv4(payloadLength: 0, totalLength: 19), .badTotalLength),
        (Raw.ipv4(payloadLength: 0, options: [1, 1, 1, 1], totalLength: 20), .badTotalLength),
        (Raw.ipv4(payloadLength: 0, totalLength: 21), .truncated),
        (Raw.ipv4(payloadLength: 0, version: 5), .badVersion),
        (Raw.ipv4(payloadLength: 0, version: 6), .truncated),
        (Raw.ipv6(nextHeader: 59, payloadLength: 0, version: 4), .badHeaderLength),
        (Raw.ipv6(nextHeader: 59, payloadLength: 1), .truncated),
        ([0x00], .badVersion),
        ([], .truncated),
    ])
    func malformedIPHeadersAreErrors(bytes: [UInt8], error: PacketError) {
        let p = PacketBytes(bytes)
        #expect(PacketWalk.transport(p.pointer, length: p.count).error == error)
    }

    @Test func ipv4ParserAgreesWithTheWalkOnEveryTruncation() {
        let packet = Raw.ipv4(protocolNumber: 6, payloadLength: 20, options: [1, 1, 1, 0]) + Raw.tcp()
        for n in 0..<packet.count {
            let p = PacketBytes(Array(packet.prefix(n)))
            #expect(IPv4Header.parse(p.pointer, length: n).error == .truncated)
            #expect(PacketWalk.ipv4Transport(p.pointer, length: n).error == .truncated)
        }
    }

    /// Chains of hop-by-hop (0), routing (43), destination options (60) and fragment (44) headers.
    @Test(arguments: [
        ([UInt8](), FragmentStatus.unfragmented),
        ([0], .unfragmented),
        ([0, 60, 43, 60], .unfragmented),
        ([0, 44], .firstFragment),
        ([0, 43, 44, 60], .firstFragment),
        ([60, 60, 60, 60, 60, 60, 60, 60], .unfragmented),
    ])
    func ipv6ExtensionChainsAreWalked(chain: [UInt8], status: FragmentStatus) throws {
        var headers: [UInt8] = []
        for (i, h) in chain.enumerated() {
            let next = i + 1 < chain.count ? chain[i + 1] : 6
            headers += h == 44 ? Raw.fragmentHeader(next: next, offset: 0, more: true) : Raw.extensionHeader(next: next, units: i % 3 + 1)
        }
        let tcp = Raw.tcp(payload: [9, 9])
        let packet = Raw.ipv6(nextHeader: chain.first ?? 6, payloadLength: headers.count + tcp.count) + headers + tcp
        let p = PacketBytes(packet)
        let t = try PacketWalk.transport(p.pointer, length: p.count).get()
        #expect(t == TransportLocation(protocolNumber: 6, offset: 40 + headers.count, end: packet.count, fragment: status))
        for n in 0..<packet.count {
            #expect(PacketWalk.transport(p.pointer, length: n).error == .truncated, "cut at \(n)")
        }
        // A payload length that ends inside the chain is truncation too, whatever the buffer holds.
        if !headers.isEmpty {
            p.pointer.storeBytes(of: UInt16(headers.count - 1).bigEndian, toByteOffset: 4, as: UInt16.self)
            #expect(PacketWalk.transport(p.pointer, length: p.count).error == .truncated)
        }
    }

    @Test func ipv6ChainsBeyondTheBoundAreRefused() {
        let n = PacketWalk.maximumExtensionHeaders + 1
        let headers = (0..<n).flatMap { _ in Raw.extensionHeader(next: 60) }
        let packet = Raw.ipv6(nextHeader: 60, payloadLength: headers.count) + headers
        let p = PacketBytes(packet)
        #expect(PacketWalk.transport(p.pointer, length: p.count).error == .tooManyExtensionHeaders)
    }

    @Test func ipv6NonFirstFragmentStopsAtTheFragmentHeader() throws {
        // What follows the fragment header is data, even if it looks like another header.
        let packet = Raw.ipv6(nextHeader: 0, payloadLength: 8 + 8 + 16) + Raw.extensionHeader(next: 44)
            + Raw.fragmentHeader(next: 60, offset: 185, more: true) + [UInt8](repeating: 0xFF, count: 16)
        let p = PacketBytes(packet)
        #expect(try PacketWalk.transport(p.pointer, length: p.count).get()
            == TransportLocation(protocolNumber: 60, offset: 56, end: 72, fragment: .nonFirstFragment))
    }

    @Test func ipv6AtomicFragmentCountsAsWhole() throws {
        let packet = Raw.ipv6(nextHeader: 44, payloadLength: 8 + 12) + Raw.fragmentHeader(next: 17, offset: 0, more: false) + Raw.udp()
        let p = PacketBytes(packet)
        #expect(try PacketWalk.transport(p.pointer, length: p.count).get().fragment == .unfragmented)
    }

    @Test func portsNeedFourBytes() {
        let p = PacketBytes([0, 80, 1, 187])
        #expect(PacketWalk.ports(p.pointer, at: 0, end: 4)! == (80, 443))
        #expect(PacketWalk.ports(p.pointer, at: 1, end: 4) == nil)
        #expect(PacketWalk.ports(p.pointer, at: -1, end: 4) == nil)
    }

    @Test func nonIPFramesAreUnsupported() {
        #expect(walkFrame(Raw.ethernet(type: 0x0806) + [UInt8](repeating: 0, count: 28)).error == .unsupported)
    }
}
