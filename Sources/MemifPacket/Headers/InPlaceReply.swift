/// Whole-frame answers written over the question, for the ARP/ND responder: no second buffer,
/// VLAN tags kept. The caller decides first whether the asked-for address is its own.
public enum InPlaceReply {
    /// Turns an Ethernet (optionally tagged) ARP request into the reply from `hardwareAddress`.
    /// The frame length does not change.
    @inlinable
    public static func arp(frame: UnsafeMutableRawPointer, length: Int, hardwareAddress: MACAddress) -> Result<Void, PacketError> {
        let l3: L3Location
        switch PacketWalk.ethernet(frame, length: length) {
        case .success(let l): l3 = l
        case .failure(let e): return .failure(e)
        }
        guard l3.etherType == EtherType.arp else { return .failure(.unsupported) }
        let arp: ARPHeader
        switch ARPHeader.parse(frame + l3.offset, length: length - l3.offset) {
        case .success(let a): arp = a
        case .failure(let e): return .failure(e)
        }
        if case .failure(let e) = arp.turnIntoReply(from: hardwareAddress) { return .failure(e) }
        let ethernet = EthernetHeader(unchecked: frame, length: length)
        ethernet.destination = arp.targetHardwareAddress
        ethernet.source = hardwareAddress
        return .success(())
    }

    /// Turns an Ethernet (optionally tagged) IPv6 neighbor solicitation into the advertisement from
    /// `hardwareAddress` for its target (RFC 4861 7.2.4): solicited and override set (router if
    /// asked), a target link-layer address option, hop limit 255, extension headers dropped.
    /// A solicitation from the unspecified address (duplicate address detection) is answered to
    /// all nodes, unsolicited. Checks hop limit 255, code 0, the checksum and a unicast target.
    /// Returns the new frame length (at most `capacity`).
    @inlinable
    public static func neighborAdvertisement(
        frame: UnsafeMutableRawPointer, length: Int, capacity: Int, hardwareAddress: MACAddress, router: Bool = false
    ) -> Result<Int, PacketError> {
        let l3: L3Location
        switch PacketWalk.ethernet(frame, length: length) {
        case .success(let l): l3 = l
        case .failure(let e): return .failure(e)
        }
        guard l3.etherType == EtherType.ipv6 else { return .failure(.unsupported) }
        let ip: IPv6Header
        switch IPv6Header.parse(frame + l3.offset, length: length - l3.offset) {
        case .success(let h): ip = h
        case .failure(let e): return .failure(e)
        }
        let t: TransportLocation
        switch ip.locateTransport() {
        case .success(let l): t = l
        case .failure(let e): return .failure(e)
        }
        guard t.protocolNumber == IPProtocol.icmpv6, t.fragment == .unfragmented else { return .failure(.unsupported) }
        let ns: ICMPv6Header
        switch ICMPv6Header.parseNeighborMessage(ip.base + t.offset, length: t.transportLength) {
        case .success(let m): ns = m
        case .failure(let e): return .failure(e)
        }
        guard ns.type == ICMPv6Header.neighborSolicitation else { return .failure(.unsupported) }
        guard ip.hopLimit == 255, ns.isChecksumValid(ip.pseudoHeader), !ns.targetAddress.isMulticast else {
            return .failure(.malformed)
        }
        let answerLength = l3.offset + IPv6Header.size + ICMPv6Header.neighborMessageSize + 8
        guard capacity >= answerLength else { return .failure(.truncated) }

        let target = ns.targetAddress
        let asker = ip.source
        let dad = asker.isUnspecified
        let askerMAC = ns.linkLayerAddress(option: ICMPv6Header.sourceLinkLayerOption)
            ?? MACAddress(loadingFrom: frame, at: 6)
        let destination = dad ? IPv6Address.allNodes : asker
        let ethernet = EthernetHeader(unchecked: frame, length: capacity)
        ethernet.destination = dad ? MACAddress(ipv6Multicast: IPv6Address.allNodes) : askerMAC
        ethernet.source = hardwareAddress
        let flags = (router ? ICMPv6Header.routerFlag : 0) | (dad ? 0 : ICMPv6Header.solicitedFlag) | ICMPv6Header.overrideFlag
        let ipBase = frame + l3.offset
        _ = IPv6Header.build(
            at: ipBase, capacity: capacity - l3.offset, source: target, destination: destination,
            nextHeader: IPProtocol.icmpv6, payloadLength: ICMPv6Header.neighborMessageSize + 8, hopLimit: 255,
            trafficClass: ip.trafficClass, flowLabel: 0)
        _ = ICMPv6Header.buildNeighborMessage(
            at: ipBase + IPv6Header.size, capacity: capacity - l3.offset - IPv6Header.size,
            type: ICMPv6Header.neighborAdvertisement, target: target, flags: flags, linkLayerAddress: hardwareAddress,
            pseudoHeader: .ipv6(source: target, destination: destination))
        return .success(answerLength)
    }
}
