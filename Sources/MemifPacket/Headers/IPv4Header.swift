/// A view of an IPv4 header, options included, at `base`; `length` is the bytes from `base`
/// (at least the total length, possibly more with link padding).
@frozen
public struct IPv4Header {
    public static let minimumSize = 20

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view after checking version, IHL >= 5, the header within `length`, and
    /// header length <= total length <= `length`.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<IPv4Header, PacketError> {
        switch PacketWalk.ipv4Transport(base, length: length) {
        case .success: .success(IPv4Header(unchecked: base, length: length))
        case .failure(let e): .failure(e)
        }
    }

    @inlinable public var version: UInt8 { base.u8(0) >> 4 }

    /// IHL in bytes (20...60).
    @inlinable public var headerLength: Int { Int(base.u8(0) & 0x0F) << 2 }

    /// Type of service: DSCP (6 bits) and ECN (2 bits).
    @inlinable public var typeOfService: UInt8 {
        get { base.u8(1) }
        nonmutating set { base.setU8(1, newValue) }
    }

    @inlinable public var totalLength: UInt16 {
        get { base.be16(2) }
        nonmutating set { base.setBE16(2, newValue) }
    }

    @inlinable public var identification: UInt16 {
        get { base.be16(4) }
        nonmutating set { base.setBE16(4, newValue) }
    }

    @inlinable public var dontFragment: Bool { base.be16(6) & 0x4000 != 0 }
    @inlinable public var moreFragments: Bool { base.be16(6) & 0x2000 != 0 }
    /// Fragment offset in 8-byte units.
    @inlinable public var fragmentOffset: UInt16 { base.be16(6) & 0x1FFF }

    /// Flags (3 bits) and fragment offset (13 bits) as on the wire.
    @inlinable public var flagsAndFragmentOffset: UInt16 {
        get { base.be16(6) }
        nonmutating set { base.setBE16(6, newValue) }
    }

    @inlinable public var fragmentStatus: FragmentStatus {
        let f = base.be16(6)
        return f & 0x1FFF != 0 ? .nonFirstFragment : (f & 0x2000 != 0 ? .firstFragment : .unfragmented)
    }

    @inlinable public var timeToLive: UInt8 {
        get { base.u8(8) }
        nonmutating set { base.setU8(8, newValue) }
    }

    @inlinable public var protocolNumber: UInt8 {
        get { base.u8(9) }
        nonmutating set { base.setU8(9, newValue) }
    }

    @inlinable public var checksum: UInt16 {
        get { base.be16(10) }
        nonmutating set { base.setBE16(10, newValue) }
    }

    @inlinable public var source: IPv4Address {
        get { IPv4Address(loadingFrom: base, at: 12) }
        nonmutating set { newValue.store(to: base, at: 12) }
    }

    @inlinable public var destination: IPv4Address {
        get { IPv4Address(loadingFrom: base, at: 16) }
        nonmutating set { newValue.store(to: base, at: 16) }
    }

    /// The option bytes between the fixed header and the payload (empty when IHL is 5).
    @inlinable public var options: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Self.minimumSize, count: max(0, headerLength - Self.minimumSize))
    }

    /// The payload (transport header onwards), up to the total length.
    @inlinable public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + headerLength, count: max(0, min(Int(totalLength), length) - headerLength))
    }

    /// The pseudo-header a transport checksum in this packet covers.
    @inlinable public var pseudoHeader: PseudoHeader { .ipv4(source: source, destination: destination) }

    @inlinable public var isChecksumValid: Bool { InternetChecksum.sum(base, count: headerLength) == 0xFFFF }

    /// Recomputes the header checksum from scratch.
    @inlinable
    public func updateChecksum() {
        checksum = 0
        checksum = InternetChecksum.checksum(base, count: headerLength)
    }

    /// Writes a header with checksum at `base`: version 4, IHL from `options` (a multiple of four
    /// bytes, at most 40), total length = header + `payloadLength`, don't-fragment set by default.
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, source: IPv4Address, destination: IPv4Address,
        protocolNumber: UInt8, payloadLength: Int, timeToLive: UInt8 = 64, identification: UInt16 = 0,
        typeOfService: UInt8 = 0, flagsAndFragmentOffset: UInt16 = 0x4000,
        options: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> Result<IPv4Header, PacketError> {
        guard options.count % 4 == 0, options.count <= 40 else { return .failure(.badHeaderLength) }
        let headerLength = minimumSize + options.count
        guard payloadLength >= 0, headerLength + payloadLength <= 0xFFFF else { return .failure(.badTotalLength) }
        guard capacity >= headerLength else { return .failure(.truncated) }
        base.setU8(0, 0x40 | UInt8(headerLength >> 2))
        base.setU8(1, typeOfService)
        base.setBE16(2, UInt16(headerLength + payloadLength))
        base.setBE16(4, identification)
        base.setBE16(6, flagsAndFragmentOffset)
        base.setU8(8, timeToLive)
        base.setU8(9, protocolNumber)
        base.setBE16(10, 0)
        source.store(to: base, at: 12)
        destination.store(to: base, at: 16)
        if let o = options.baseAddress, options.count > 0 {
            (base + minimumSize).copyMemory(from: o, byteCount: options.count)
        }
        let h = IPv4Header(unchecked: base, length: max(capacity, headerLength))
        h.checksum = InternetChecksum.checksum(base, count: headerLength)
        return .success(h)
    }
}
