/// A view of an ICMP (IPv4) message at `base`; `length` is the message length (to the end of the
/// IP packet), which the checksum covers.
@frozen
public struct ICMPHeader {
    public static let size = 8
    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let echoRequest: UInt8 = 8
    public static let timeExceeded: UInt8 = 11

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view when the 8-byte header (type, code, checksum, rest-of-header) is there.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<ICMPHeader, PacketError> {
        length >= size ? .success(ICMPHeader(unchecked: base, length: length)) : .failure(.truncated)
    }

    @inlinable public var type: UInt8 {
        get { base.u8(0) }
        nonmutating set { base.setU8(0, newValue) }
    }

    @inlinable public var code: UInt8 {
        get { base.u8(1) }
        nonmutating set { base.setU8(1, newValue) }
    }

    @inlinable public var checksum: UInt16 {
        get { base.be16(2) }
        nonmutating set { base.setBE16(2, newValue) }
    }

    /// Echo identifier (meaningful for echo request and reply).
    @inlinable public var identifier: UInt16 {
        get { base.be16(4) }
        nonmutating set { base.setBE16(4, newValue) }
    }

    /// Echo sequence number.
    @inlinable public var sequenceNumber: UInt16 {
        get { base.be16(6) }
        nonmutating set { base.setBE16(6, newValue) }
    }

    @inlinable public var isChecksumValid: Bool { InternetChecksum.sum(base, count: length) == 0xFFFF }

    @inlinable
    public func updateChecksum() {
        checksum = 0
        checksum = InternetChecksum.checksum(base, count: length)
    }

    /// Turns an echo request into its reply in place (type 8 -> 0, checksum adjusted).
    @inlinable
    public func turnIntoEchoReply() -> Result<Void, PacketError> {
        guard type == Self.echoRequest, code == 0 else { return .failure(.unsupported) }
        checksum = InternetChecksum.update(checksum, old: UInt16(Self.echoRequest) << 8, new: UInt16(Self.echoReply) << 8)
        type = Self.echoReply
        return .success(())
    }

    /// Writes an echo request or reply header for `payloadLength` bytes already in place after it,
    /// with the checksum over both.
    @inlinable
    public static func buildEcho(
        at base: UnsafeMutableRawPointer, capacity: Int, reply: Bool = false, identifier: UInt16,
        sequenceNumber: UInt16, payloadLength: Int
    ) -> Result<ICMPHeader, PacketError> {
        guard payloadLength >= 0 else { return .failure(.badTotalLength) }
        guard capacity >= size + payloadLength else { return .failure(.truncated) }
        base.setU8(0, reply ? echoReply : echoRequest)
        base.setU8(1, 0)
        base.setBE16(2, 0)
        base.setBE16(4, identifier)
        base.setBE16(6, sequenceNumber)
        let h = ICMPHeader(unchecked: base, length: size + payloadLength)
        h.checksum = InternetChecksum.checksum(base, count: h.length)
        return .success(h)
    }
}
