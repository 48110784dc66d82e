/// A view of a UDP header (8 bytes) at `base`; `length` is the bytes from `base` to the end of the
/// IP packet (``TransportLocation/transportLength``).
@frozen
public struct UDPHeader {
    public static let size = 8

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view after checking 8 <= UDP length <= `length`.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<UDPHeader, PacketError> {
        guard length >= size else { return .failure(.truncated) }
        let udpLength = Int(base.be16(4))
        guard udpLength >= size else { return .failure(.badTotalLength) }
        guard udpLength <= length else { return .failure(.truncated) }
        return .success(UDPHeader(unchecked: base, length: length))
    }

    @inlinable public var sourcePort: UInt16 {
        get { base.be16(0) }
        nonmutating set { base.setBE16(0, newValue) }
    }

    @inlinable public var destinationPort: UInt16 {
        get { base.be16(2) }
        nonmutating set { base.setBE16(2, newValue) }
    }

    /// Header plus data, from the header's own length field.
    @inlinable public var udpLength: UInt16 {
        get { base.be16(4) }
        nonmutating set { base.setBE16(4, newValue) }
    }

    /// Zero over IPv4 means "not computed" (RFC 768).
    @inlinable public var checksum: UInt16 {
        get { base.be16(6) }
        nonmutating set { base.setBE16(6, newValue) }
    }

    @inlinable public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Self.size, count: max(0, min(Int(udpLength), length) - Self.size))
    }

    /// The checksum over the pseudo-header and `udpLength` bytes; a computed zero is sent as 0xFFFF.
    @inlinable
    public func computeChecksum(_ pseudoHeader: PseudoHeader) -> UInt16 {
        let n = Int(udpLength)
        let saved = checksum
        checksum = 0
        let c = InternetChecksum.checksum(
            base, count: n, adding: pseudoHeader.sum(protocolNumber: IPProtocol.udp, length: n))
        checksum = saved
        return c == 0 ? 0xFFFF : c
    }

    @inlinable
    public func updateChecksum(_ pseudoHeader: PseudoHeader) { checksum = computeChecksum(pseudoHeader) }

    /// True when the stored checksum verifies (a zero checksum counts as valid only over IPv4).
    @inlinable
    public func isChecksumValid(_ pseudoHeader: PseudoHeader) -> Bool {
        if checksum == 0, case .ipv4 = pseudoHeader { return true }
        let n = Int(udpLength)
        return InternetChecksum.add(
            InternetChecksum.sum(base, count: n), pseudoHeader.sum(protocolNumber: IPProtocol.udp, length: n)) == 0xFFFF
    }

    /// Rewrites a port and adjusts the checksum incrementally (a zero IPv4 checksum stays zero).
    @inlinable
    public func rewriteSourcePort(_ port: UInt16) {
        adjustChecksum(old: sourcePort, new: port)
        sourcePort = port
    }

    @inlinable
    public func rewriteDestinationPort(_ port: UInt16) {
        adjustChecksum(old: destinationPort, new: port)
        destinationPort = port
    }

    @inlinable @inline(__always)
    func adjustChecksum(old: UInt16, new: UInt16) {
        let c = checksum
        guard c != 0 else { return }
        let n = InternetChecksum.update(c, old: old, new: new)
        checksum = n == 0 ? 0xFFFF : n
    }

    /// Writes a header at `base` for `payloadLength` data bytes that are already in place after it,
    /// with the checksum computed over them.
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, sourcePort: UInt16, destinationPort: UInt16,
        payloadLength: Int, pseudoHeader: PseudoHeader?
    ) -> Result<UDPHeader, PacketError> {
        guard payloadLength >= 0, size + payloadLength <= 0xFFFF else { return .failure(.badTotalLength) }
        guard capacity >= size + payloadLength else { return .failure(.truncated) }
        base.setBE16(0, sourcePort)
        base.setBE16(2, destinationPort)
        base.setBE16(4, UInt16(size + payloadLength))
        base.setBE16(6, 0)
        let h = UDPHeader(unchecked: base, length: size + payloadLength)
        if let pseudoHeader { h.updateChecksum(pseudoHeader) }
        return .success(h)
    }
}
