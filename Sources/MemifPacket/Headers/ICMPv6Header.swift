/// A view of an ICMPv6 message at `base`; `length` is the message length (to the end of the IP
/// packet). Echo fields sit at 4...7; neighbor solicitation/advertisement fields at 4...23 and
/// their options from 24.
@frozen
public struct ICMPv6Header {
    public static let size = 8
    /// Neighbor solicitation/advertisement: header, flags, target.
    public static let neighborMessageSize = 24
    public static let echoRequest: UInt8 = 128
    public static let echoReply: UInt8 = 129
    public static let neighborSolicitation: UInt8 = 135
    public static let neighborAdvertisement: UInt8 = 136
    /// ND option types (RFC 4861 4.6.1).
    public static let sourceLinkLayerOption: UInt8 = 1
    public static let targetLinkLayerOption: UInt8 = 2
    /// Neighbor advertisement flags, in the first byte after the checksum.
    public static let routerFlag: UInt8 = 0x80
    public static let solicitedFlag: UInt8 = 0x40
    public static let overrideFlag: UInt8 = 0x20

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view when type, code, checksum and the 4-byte message body start are there.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<ICMPv6Header, PacketError> {
        length >= size ? .success(ICMPv6Header(unchecked: base, length: length)) : .failure(.truncated)
    }

    /// A view of a neighbor solicitation or advertisement: at least 24 bytes, code 0, and options
    /// that each have a non-zero length and end within the message.
    @inlinable
    public static func parseNeighborMessage(_ base: UnsafeMutableRawPointer, length: Int) -> Result<ICMPv6Header, PacketError> {
        guard length >= size else { return .failure(.truncated) }
        let t = base.u8(0)
        guard t == neighborSolicitation || t == neighborAdvertisement else { return .failure(.unsupported) }
        guard length >= neighborMessageSize else { return .failure(.truncated) }
        guard base.u8(1) == 0 else { return .failure(.malformed) }
        var at = neighborMessageSize
        while at < length {
            guard at + 2 <= length else { return .failure(.truncated) }
            let units = Int(base.u8(at + 1))
            guard units > 0 else { return .failure(.malformed) }
            guard at + units * 8 <= length else { return .failure(.truncated) }
            at += units * 8
        }
        return .success(ICMPv6Header(unchecked: base, length: length))
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

    @inlinable public var identifier: UInt16 {
        get { base.be16(4) }
        nonmutating set { base.setBE16(4, newValue) }
    }

    @inlinable public var sequenceNumber: UInt16 {
        get { base.be16(6) }
        nonmutating set { base.setBE16(6, newValue) }
    }

    /// Router/solicited/override bits of an advertisement.
    @inlinable public var neighborFlags: UInt8 {
        get { base.u8(4) }
        nonmutating set { base.setU8(4, newValue) }
    }

    /// Target address of a solicitation or advertisement (a view from ``parseNeighborMessage(_:length:)``
    /// has it); on a message shorter than 24 bytes it reads as unspecified and is not written.
    @inlinable public var targetAddress: IPv6Address {
        get { length >= Self.neighborMessageSize ? IPv6Address(loadingFrom: base, at: 8) : .unspecified }
        nonmutating set { if length >= Self.neighborMessageSize { newValue.store(to: base, at: 8) } }
    }

    /// The Ethernet address in the first source (1) or target (2) link-layer address option, if any
    /// (reads stay within `length`; the option lengths are checked by ``parseNeighborMessage(_:length:)``).
    @inlinable
    public func linkLayerAddress(option: UInt8) -> MACAddress? {
        var at = Self.neighborMessageSize
        while at + 8 <= length {
            let units = Int(base.u8(at + 1))
            if units == 0 { return nil }
            if base.u8(at) == option { return MACAddress(loadingFrom: base, at: at + 2) }
            at += units * 8
        }
        return nil
    }

    @inlinable
    public func computeChecksum(_ pseudoHeader: PseudoHeader) -> UInt16 {
        let saved = checksum
        checksum = 0
        let c = InternetChecksum.checksum(
            base, count: length, adding: pseudoHeader.sum(protocolNumber: IPProtocol.icmpv6, length: length))
        checksum = saved
        return c
    }

    @inlinable
    public func updateChecksum(_ pseudoHeader: PseudoHeader) { checksum = computeChecksum(pseudoHeader) }

    @inlinable
    public func isChecksumValid(_ pseudoHeader: PseudoHeader) -> Bool {
        InternetChecksum.add(
            InternetChecksum.sum(base, count: length), pseudoHeader.sum(protocolNumber: IPProtocol.icmpv6, length: length))
            == 0xFFFF
    }

    /// Turns an echo request into its reply in place (type 128 -> 129, checksum adjusted; the caller
    /// swaps the IPv6 addresses, which leaves the pseudo-header sum unchanged).
    @inlinable
    public func turnIntoEchoReply() -> Result<Void, PacketError> {
        guard type == Self.echoRequest, code == 0 else { return .failure(.unsupported) }
        checksum = InternetChecksum.update(checksum, old: UInt16(Self.echoRequest) << 8, new: UInt16(Self.echoReply) << 8)
        type = Self.echoReply
        return .success(())
    }

    /// Writes an echo request or reply for `payloadLength` bytes already in place after the header.
    @inlinable
    public static func buildEcho(
        at base: UnsafeMutableRawPointer, capacity: Int, reply: Bool = false, identifier: UInt16,
        sequenceNumber: UInt16, payloadLength: Int, pseudoHeader: PseudoHeader
    ) -> Result<ICMPv6Header, PacketError> {
        guard payloadLength >= 0 else { return .failure(.badTotalLength) }
        guard capacity >= size + payloadLength else { return .failure(.truncated) }
        base.setU8(0, reply ? echoReply : echoRequest)
        base.setU8(1, 0)
        base.setBE16(2, 0)
        base.setBE16(4, identifier)
        base.setBE16(6, sequenceNumber)
        let h = ICMPv6Header(unchecked: base, length: size + payloadLength)
        h.updateChecksum(pseudoHeader)
        return .success(h)
    }

    /// Writes a neighbor solicitation (135) or advertisement (136) for `target`, with a source (NS)
    /// or target (NA) link-layer address option when `linkLayerAddress` is given: 24 or 32 bytes.
    @inlinable
    public static func buildNeighborMessage(
        at base: UnsafeMutableRawPointer, capacity: Int, type: UInt8, target: IPv6Address, flags: UInt8 = 0,
        linkLayerAddress: MACAddress?, pseudoHeader: PseudoHeader
    ) -> Result<ICMPv6Header, PacketError> {
        guard type == neighborSolicitation || type == neighborAdvertisement else { return .failure(.unsupported) }
        let length = neighborMessageSize + (linkLayerAddress == nil ? 0 : 8)
        guard capacity >= length else { return .failure(.truncated) }
        base.setU8(0, type)
        base.setU8(1, 0)
        base.setBE16(2, 0)
        base.setBE32(4, type == neighborAdvertisement ? UInt32(flags & 0xE0) << 24 : 0)
        target.store(to: base, at: 8)
        if let mac = linkLayerAddress {
            base.setU8(24, type == neighborSolicitation ? sourceLinkLayerOption : targetLinkLayerOption)
            base.setU8(25, 1)
            mac.store(to: base, at: 26)
        }
        let h = ICMPv6Header(unchecked: base, length: length)
        h.updateChecksum(pseudoHeader)
        return .success(h)
    }
}
