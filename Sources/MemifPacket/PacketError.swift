/// Why bytes could not be read as the header asked for. Parsers return it as a value
/// (`Result<View, PacketError>`): hostile or short packets never trap and never allocate.
public enum PacketError: UInt8, Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Fewer bytes than the fixed header, or than a length field inside it, claims.
    case truncated
    /// The IP version nibble is not the one the parser reads.
    case badVersion
    /// A header-length field is below the fixed header (IPv4 IHL < 5, TCP data offset < 5).
    case badHeaderLength
    /// A total-length field is below the header it covers (IPv4 total length, UDP length).
    case badTotalLength
    /// More 802.1Q/802.1ad tags than ``PacketWalk/maximumVLANTags``.
    case tooManyTags
    /// More IPv6 extension headers than ``PacketWalk/maximumExtensionHeaders``.
    case tooManyExtensionHeaders
    /// Well-formed, but not what this view handles (ARP for another hardware or protocol,
    /// an ICMPv6 message that is not the one asked for).
    case unsupported
    /// A field that can never be valid (an ND option of length zero, an ARP operation on the wrong type).
    case malformed

    public var description: String {
        switch self {
        case .truncated: "truncated"
        case .badVersion: "bad IP version"
        case .badHeaderLength: "bad header length"
        case .badTotalLength: "bad total length"
        case .tooManyTags: "too many VLAN tags"
        case .tooManyExtensionHeaders: "too many IPv6 extension headers"
        case .unsupported: "unsupported"
        case .malformed: "malformed"
        }
    }
}
