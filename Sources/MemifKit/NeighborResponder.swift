/// Answers ARP requests and IPv6 neighbor solicitations for this CNF's own addresses, in
/// place in the received buffer (send the frame back out the same channel), and learns the
/// askers' and answerers' MACs into a ``NeighborTable``. Ethernet channels only.
public struct NeighborResponder: ~Copyable {
    /// What ``handle(frame:length:capacity:)`` did with a frame.
    public enum Outcome: Equatable, Sendable {
        /// The frame now holds the answer, `length` bytes: transmit it back.
        case answered(length: Int)
        /// Neighbor traffic not asking for us (a reply, or a question for someone else); its
        /// sender was learned where it named one.
        case learned
        /// Neither ARP nor ICMPv6 neighbor discovery: the caller's to handle.
        case notNeighborTraffic
        /// ARP or neighbor discovery that is malformed (bad checksum, hop limit, length).
        case malformed
    }

    public let mac: MACAddress
    public let ipv4Addresses: [IPv4Address]
    public let ipv6Addresses: [IPv6Address]
    public var neighbors: NeighborTable

    public init(mac: MACAddress = CalicoConvention.podMAC, ipv4: [IPv4Address] = [], ipv6: [IPv6Address] = [], tableCapacity: Int = 256) {
        self.mac = mac
        ipv4Addresses = ipv4
        ipv6Addresses = ipv6
        neighbors = NeighborTable(capacity: tableCapacity)
    }

    /// Looks at one Ethernet frame of `length` bytes in a buffer of `capacity` bytes.
    public mutating func handle(frame: UnsafeMutableRawPointer, length: Int, capacity: Int) -> Outcome {
        guard case .success(let l2) = PacketWalk.ethernet(frame, length: length) else { return .notNeighborTraffic }
        switch l2.etherType {
        case EtherType.arp: return handleARP(frame, length: length, at: l2.offset)
        case EtherType.ipv6: return handleND(frame, length: length, capacity: capacity, at: l2.offset)
        default: return .notNeighborTraffic
        }
    }

    private mutating func handleARP(_ frame: UnsafeMutableRawPointer, length: Int, at offset: Int) -> Outcome {
        guard case .success(let arp) = ARPHeader.parse(frame + offset, length: length - offset) else { return .malformed }
        let sender = arp.senderProtocolAddress
        if sender != .any { neighbors.learn(sender, arp.senderHardwareAddress) }
        guard arp.operation == ARPHeader.request, ipv4Addresses.contains(arp.targetProtocolAddress) else { return .learned }
        guard case .success = InPlaceReply.arp(frame: frame, length: length, hardwareAddress: mac) else { return .malformed }
        return .answered(length: length)
    }

    private mutating func handleND(_ frame: UnsafeMutableRawPointer, length: Int, capacity: Int, at offset: Int) -> Outcome {
        guard case .success(let ip) = IPv6Header.parse(frame + offset, length: length - offset),
            case .success(let t) = ip.locateTransport(), t.protocolNumber == IPProtocol.icmpv6, t.fragment == .unfragmented,
            t.transportLength >= ICMPv6Header.size
        else { return .notNeighborTraffic }
        let type = (ip.base + t.offset).load(as: UInt8.self)
        guard type == ICMPv6Header.neighborSolicitation || type == ICMPv6Header.neighborAdvertisement else {
            return .notNeighborTraffic
        }
        guard case .success(let message) = ICMPv6Header.parseNeighborMessage(ip.base + t.offset, length: t.transportLength),
            ip.hopLimit == 255, message.isChecksumValid(ip.pseudoHeader)
        else { return .malformed }
        if type == ICMPv6Header.neighborAdvertisement {
            if let answerer = message.linkLayerAddress(option: ICMPv6Header.targetLinkLayerOption) {
                neighbors.learn(message.targetAddress, answerer)
            }
            return .learned
        }
        if !ip.source.isUnspecified, let asker = message.linkLayerAddress(option: ICMPv6Header.sourceLinkLayerOption) {
            neighbors.learn(ip.source, asker)
        }
        guard ipv6Addresses.contains(message.targetAddress) else { return .learned }
        switch InPlaceReply.neighborAdvertisement(frame: frame, length: length, capacity: capacity, hardwareAddress: mac) {
        case .success(let n): return .answered(length: n)
        case .failure: return .malformed
        }
    }
}
