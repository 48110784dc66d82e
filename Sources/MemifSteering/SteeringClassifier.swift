import MemifPacket

/// Which interface a packet for the pod takes.
public enum SteeringPath: UInt8, Sendable, Hashable, BitwiseCopyable {
    /// The pod's normal interface (the kernel path).
    case normal
    /// The pod's memif.
    case memif
}

/// How packets handed to the classifier start.
public enum PacketFraming: Sendable, Hashable, BitwiseCopyable {
    /// An Ethernet frame; 802.1Q/802.1ad tags are skipped.
    case ethernet
    /// A bare IPv4 or IPv6 packet (a tun device, a memif in ip mode).
    case ip
}

/// Decides the path of one packet for the pod from its rule set: a TCP or UDP packet whose
/// destination port is steered goes to the memif; everything else takes the normal path
/// (ICMP, other protocols, non-IP, and anything truncated or malformed). Stateless, and per
/// packet it allocates nothing, retains nothing and takes no lock.
///
/// IPv4 options and IPv6 hop-by-hop, routing, destination-options and fragment headers are
/// skipped (`MemifPacket`'s `PacketWalk`); a header it does not skip (AH, ESP, mobility, or more
/// than eight extension headers) is not TCP/UDP, so it takes the normal path.
///
/// **Fragments take the normal path, first fragments included.** A non-first fragment
/// carries no ports, and a stateless classifier cannot know which path its first fragment
/// took. Steering the first fragment by its ports would split the datagram across two
/// interfaces, and neither side could reassemble it: the datagram would be lost. Sending
/// every fragment to the normal path keeps each datagram whole, where the kernel reassembles
/// it; the cost is that fragmented datagrams of a steered port arrive on the normal interface,
/// which is why steered traffic should fit the MTU. Atomic fragments (offset 0, no more
/// fragments; RFC 6946) are whole datagrams and are classified by their ports. Calico/VPP
/// instead reads "ports" from a non-first fragment's payload (reference §1.8).
public struct SteeringClassifier: Sendable {
    public let rules: PortRuleSet
    public let framing: PacketFraming

    public init(rules: PortRuleSet, framing: PacketFraming) {
        self.rules = rules
        self.framing = framing
    }

    /// The path of the packet in `packet`.
    @inlinable
    public func classify(_ packet: UnsafeRawBufferPointer) -> SteeringPath {
        guard let base = packet.baseAddress else { return .normal }
        return classify(base, length: packet.count)
    }

    /// The path of the `length`-byte packet at `base`.
    @inlinable
    public func classify(_ base: UnsafeRawPointer, length: Int) -> SteeringPath {
        let walk = framing == .ethernet ? PacketWalk.frame(base, length: length) : PacketWalk.transport(base, length: length)
        guard case .success(let transport) = walk, transport.fragment == .unfragmented else { return .normal }
        // The whole fixed header must be there: 20 bytes for TCP, 8 for UDP.
        let headerSize: Int
        switch transport.protocolNumber {
        case IPProtocol.tcp: headerSize = 20
        case IPProtocol.udp: headerSize = 8
        default: return .normal
        }
        guard transport.transportLength >= headerSize,
            let ports = PacketWalk.ports(base, at: transport.offset, end: transport.end)
        else { return .normal }
        return rules.contains(ipProtocol: transport.protocolNumber, port: ports.destination) ? .memif : .normal
    }
}
