/// A view of the fixed IPv6 header (40 bytes) at `base`; `length` is the bytes from `base`
/// (at least 40 + payload length, possibly more with link padding).
@frozen
public struct IPv6Header {
    public static let size = 40

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view after checking version 6 and 40 + payload length <= `length`.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<IPv6Header, PacketError> {
        guard length > 0 else { return .failure(.truncated) }
        guard base.u8(0) >> 4 == 6 else { return .failure(.badVersion) }
        guard length >= size else { return .failure(.truncated) }
        guard size + Int(base.be16(4)) <= length else { return .failure(.truncated) }
        return .success(IPv6Header(unchecked: base, length: length))
    }

    @inlinable public var version: UInt8 { base.u8(0) >> 4 }

    @inlinable public var trafficClass: UInt8 {
        get { UInt8(truncatingIfNeeded: base.be32(0) >> 20) }
        nonmutating set { base.setBE32(0, base.be32(0) & 0xF00F_FFFF | UInt32(newValue) << 20) }
    }

    @inlinable public var flowLabel: UInt32 {
        get { base.be32(0) & 0x000F_FFFF }
        nonmutating set { base.setBE32(0, base.be32(0) & 0xFFF0_0000 | newValue & 0x000F_FFFF) }
    }

    @inlinable public var payloadLength: UInt16 {
        get { base.be16(4) }
        nonmutating set { base.setBE16(4, newValue) }
    }

    @inlinable public var nextHeader: UInt8 {
        get { base.u8(6) }
        nonmutating set { base.setU8(6, newValue) }
    }

    @inlinable public var hopLimit: UInt8 {
        get { base.u8(7) }
        nonmutating set { base.setU8(7, newValue) }
    }

    @inlinable public var source: IPv6Address {
        get { IPv6Address(loadingFrom: base, at: 8) }
        nonmutating set { newValue.store(to: base, at: 8) }
    }

    @inlinable public var destination: IPv6Address {
        get { IPv6Address(loadingFrom: base, at: 24) }
        nonmutating set { newValue.store(to: base, at: 24) }
    }

    /// The pseudo-header a transport checksum in this packet covers, as its receiver sees it: with the
    /// destination field (a routing header with segments left is not resolved to its final address).
    @inlinable public var pseudoHeader: PseudoHeader { .ipv6(source: source, destination: destination) }

    /// Walks the extension headers to the transport header (offsets relative to `base`).
    @inlinable
    public func locateTransport() -> Result<TransportLocation, PacketError> {
        PacketWalk.ipv6Transport(base, length: length)
    }

    /// Writes a fixed header at `base`. Extension headers, if any, are the caller's to write after it
    /// (`nextHeader` names the first, `payloadLength` counts them).
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, source: IPv6Address, destination: IPv6Address,
        nextHeader: UInt8, payloadLength: Int, hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
    ) -> Result<IPv6Header, PacketError> {
        guard payloadLength >= 0, payloadLength <= 0xFFFF else { return .failure(.badTotalLength) }
        guard capacity >= size else { return .failure(.truncated) }
        base.setBE32(0, 6 << 28 | UInt32(trafficClass) << 20 | flowLabel & 0x000F_FFFF)
        base.setBE16(4, UInt16(payloadLength))
        base.setU8(6, nextHeader)
        base.setU8(7, hopLimit)
        source.store(to: base, at: 8)
        destination.store(to: base, at: 24)
        return .success(IPv6Header(unchecked: base, length: max(capacity, size)))
    }
}
