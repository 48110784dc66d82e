/// Where the network layer starts in a frame, past any VLAN tags.
@frozen
public struct L3Location: Hashable, Sendable, BitwiseCopyable {
    /// The EtherType of the payload (after the last tag).
    public var etherType: UInt16
    /// Offset of the payload from the start of the frame.
    public var offset: Int
    /// VLAN tags skipped.
    public var tagCount: Int
    /// The VLAN id of the innermost tag; 0 when untagged.
    public var innerVLANID: UInt16

    @inlinable
    public init(etherType: UInt16, offset: Int, tagCount: Int, innerVLANID: UInt16) {
        self.etherType = etherType
        self.offset = offset
        self.tagCount = tagCount
        self.innerVLANID = innerVLANID
    }
}

/// Whether a packet is part of a fragmented datagram, and which part.
@frozen
public enum FragmentStatus: UInt8, Sendable, Hashable, BitwiseCopyable {
    /// A whole datagram (an IPv6 atomic fragment, offset 0 without M, counts as whole: RFC 6946).
    case unfragmented
    /// Offset 0 with more to come: the transport header is here, the rest of the datagram is not.
    case firstFragment
    /// Offset above 0: no transport header in this packet.
    case nonFirstFragment
}

/// Where the transport header starts in an IP packet.
@frozen
public struct TransportLocation: Hashable, Sendable, BitwiseCopyable {
    /// The upper-layer protocol (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 50 ESP, ...).
    public var protocolNumber: UInt8
    /// Offset of the transport header (or, for a non-first fragment, of the fragment data) from the
    /// start of the buffer the walk was given.
    public var offset: Int
    /// Offset one past the IP packet's last byte (link padding excluded).
    public var end: Int
    public var fragment: FragmentStatus

    @inlinable
    public init(protocolNumber: UInt8, offset: Int, end: Int, fragment: FragmentStatus) {
        self.protocolNumber = protocolNumber
        self.offset = offset
        self.end = end
        self.fragment = fragment
    }

    /// Bytes from the transport header to the end of the IP packet.
    @inlinable public var transportLength: Int { end - offset }
}

/// IP protocol numbers this module reads.
public enum IPProtocol {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let esp: UInt8 = 50
    public static let icmpv6: UInt8 = 58
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
}

/// The fast walks of the classifiers: a few loads and compares per header, bounded loops, and
/// every read checked against the length first. Offset arithmetic wraps (`&+`): each operand is a
/// checked offset within the buffer or a header length below 2^17, so it cannot overflow, and the
/// overflow traps would only cost branches.
public enum PacketWalk {
    /// VLAN tags skipped before giving up (802.1ad QinQ uses two).
    public static let maximumVLANTags = 4
    /// IPv6 extension headers skipped before giving up.
    public static let maximumExtensionHeaders = 8

    /// Skips 802.1Q/802.1ad tags from the start of an Ethernet frame of `length` bytes.
    @inlinable
    public static func ethernet(_ p: UnsafeRawPointer, length: Int) -> Result<L3Location, PacketError> {
        guard length >= EthernetHeader.size else { return .failure(.truncated) }
        var offset = 12
        var type = p.be16(offset)
        var tags = 0
        var vlan: UInt16 = 0
        while EtherType.isVLANTag(type) {
            guard tags < maximumVLANTags else { return .failure(.tooManyTags) }
            // The tag (4 bytes) and the next type field (2 bytes) must both be there.
            guard offset &+ 6 <= length else { return .failure(.truncated) }
            vlan = p.be16(offset &+ 2) & 0x0FFF
            offset &+= 4
            type = p.be16(offset)
            tags &+= 1
        }
        return .success(L3Location(etherType: type, offset: offset &+ 2, tagCount: tags, innerVLANID: vlan))
    }

    /// Finds the transport header of the IP packet at `p + offset` (version 4 or 6, by its first nibble).
    @inlinable
    public static func transport(_ p: UnsafeRawPointer, length: Int, at offset: Int = 0) -> Result<TransportLocation, PacketError> {
        guard offset >= 0, offset < length else { return .failure(.truncated) }
        switch p.u8(offset) >> 4 {
        case 4: return ipv4Transport(p, length: length, at: offset)
        case 6: return ipv6Transport(p, length: length, at: offset)
        default: return .failure(.badVersion)
        }
    }

    /// Ethernet walk, then transport walk for IPv4 or IPv6 payloads (`.unsupported` for others).
    @inlinable
    public static func frame(_ p: UnsafeRawPointer, length: Int) -> Result<TransportLocation, PacketError> {
        switch ethernet(p, length: length) {
        case .failure(let e): return .failure(e)
        case .success(let l3):
            switch l3.etherType {
            case EtherType.ipv4: return ipv4Transport(p, length: length, at: l3.offset)
            case EtherType.ipv6: return ipv6Transport(p, length: length, at: l3.offset)
            default: return .failure(.unsupported)
            }
        }
    }

    /// IPv4: checks version, IHL and total length, skips options, reads the fragment fields.
    @inlinable
    public static func ipv4Transport(_ p: UnsafeRawPointer, length: Int, at offset: Int = 0) -> Result<TransportLocation, PacketError> {
        guard offset >= 0, offset < length else { return .failure(.truncated) }
        let vihl = p.u8(offset)
        guard vihl >> 4 == 4 else { return .failure(.badVersion) }
        guard length &- offset >= IPv4Header.minimumSize else { return .failure(.truncated) }
        let headerLength = Int(vihl & 0x0F) << 2
        guard headerLength >= IPv4Header.minimumSize else { return .failure(.badHeaderLength) }
        guard headerLength <= length &- offset else { return .failure(.truncated) }
        let totalLength = Int(p.be16(offset &+ 2))
        guard totalLength >= headerLength else { return .failure(.badTotalLength) }
        guard totalLength <= length &- offset else { return .failure(.truncated) }
        let fragmentField = p.be16(offset &+ 6)
        let status: FragmentStatus =
            fragmentField & 0x1FFF != 0 ? .nonFirstFragment : (fragmentField & 0x2000 != 0 ? .firstFragment : .unfragmented)
        return .success(
            TransportLocation(
                protocolNumber: p.u8(offset &+ 9), offset: offset &+ headerLength, end: offset &+ totalLength,
                fragment: status))
    }

    /// IPv6: checks version and payload length, then skips hop-by-hop, routing, destination-options
    /// and fragment headers (at most ``maximumExtensionHeaders``). Stops at a non-first fragment.
    @inlinable
    public static func ipv6Transport(_ p: UnsafeRawPointer, length: Int, at offset: Int = 0) -> Result<TransportLocation, PacketError> {
        guard offset >= 0, offset < length else { return .failure(.truncated) }
        guard p.u8(offset) >> 4 == 6 else { return .failure(.badVersion) }
        guard length &- offset >= IPv6Header.size else { return .failure(.truncated) }
        let end = offset &+ IPv6Header.size &+ Int(p.be16(offset &+ 4))
        guard end <= length else { return .failure(.truncated) }
        var next = p.u8(offset &+ 6)
        var at = offset &+ IPv6Header.size
        var status = FragmentStatus.unfragmented
        var count = 0
        while true {
            switch next {
            case IPProtocol.hopByHop, IPProtocol.routing, IPProtocol.destinationOptions:
                guard count < maximumExtensionHeaders else { return .failure(.tooManyExtensionHeaders) }
                guard at &+ 8 <= end else { return .failure(.truncated) }
                let size = (Int(p.u8(at &+ 1)) &+ 1) << 3
                guard at &+ size <= end else { return .failure(.truncated) }
                next = p.u8(at)
                at &+= size
                count &+= 1
            case IPProtocol.fragment:
                guard count < maximumExtensionHeaders else { return .failure(.tooManyExtensionHeaders) }
                guard at &+ 8 <= end else { return .failure(.truncated) }
                next = p.u8(at)
                let field = p.be16(at &+ 2)
                at &+= 8
                count &+= 1
                if field & 0xFFF8 != 0 {
                    return .success(TransportLocation(protocolNumber: next, offset: at, end: end, fragment: .nonFirstFragment))
                }
                if field & 1 != 0 { status = .firstFragment }
            default:
                return .success(TransportLocation(protocolNumber: next, offset: at, end: end, fragment: status))
            }
        }
    }

    /// Source and destination port of a TCP or UDP header at `offset` (both start with the ports),
    /// or nil when the four bytes are not all before `end`.
    @inlinable @inline(__always)
    public static func ports(_ p: UnsafeRawPointer, at offset: Int, end: Int) -> (source: UInt16, destination: UInt16)? {
        guard offset >= 0, offset + 4 <= end else { return nil }
        return (p.be16(offset), p.be16(offset + 2))
    }
}
