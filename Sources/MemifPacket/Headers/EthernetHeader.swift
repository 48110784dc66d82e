/// EtherType values this module reads.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let ipv6: UInt16 = 0x86DD
    /// 802.1Q customer tag.
    public static let vlan: UInt16 = 0x8100
    /// 802.1ad service tag (QinQ outer tag).
    public static let qinq: UInt16 = 0x88A8
    /// Pre-standard QinQ outer tag, still seen on some switches.
    public static let qinqLegacy: UInt16 = 0x9100

    /// True for the tag protocol identifiers the Ethernet walk skips.
    @inlinable @inline(__always)
    public static func isVLANTag(_ t: UInt16) -> Bool { t == vlan || t == qinq || t == qinqLegacy }
}

/// One 802.1Q/802.1ad tag: the TPID that announces it and its 16-bit tag control information.
@frozen
public struct VLANTag: Hashable, Sendable, BitwiseCopyable {
    public var tagProtocol: UInt16
    /// Priority (3 bits), drop eligible (1 bit), VLAN id (12 bits).
    public var controlInformation: UInt16

    @inlinable
    public init(tagProtocol: UInt16 = EtherType.vlan, vlanID: UInt16, priority: UInt8 = 0, dropEligible: Bool = false) {
        self.tagProtocol = tagProtocol
        controlInformation = UInt16(priority & 7) << 13 | (dropEligible ? 0x1000 : 0) | (vlanID & 0x0FFF)
    }

    @inlinable public var vlanID: UInt16 { controlInformation & 0x0FFF }
    @inlinable public var priority: UInt8 { UInt8(truncatingIfNeeded: controlInformation >> 13) }
    @inlinable public var dropEligible: Bool { controlInformation & 0x1000 != 0 }
}

/// A view of an Ethernet II header (14 bytes) at the start of a frame of `length` bytes.
@frozen
public struct EthernetHeader {
    public static let size = 14

    public let base: UnsafeMutableRawPointer
    /// Bytes of frame from `base`.
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view when at least 14 bytes are there.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<EthernetHeader, PacketError> {
        length >= size ? .success(EthernetHeader(unchecked: base, length: length)) : .failure(.truncated)
    }

    @inlinable public var destination: MACAddress {
        get { MACAddress(loadingFrom: base, at: 0) }
        nonmutating set { newValue.store(to: base, at: 0) }
    }

    @inlinable public var source: MACAddress {
        get { MACAddress(loadingFrom: base, at: 6) }
        nonmutating set { newValue.store(to: base, at: 6) }
    }

    /// The type field right after the addresses: a TPID when the frame is tagged.
    @inlinable public var etherType: UInt16 {
        get { base.be16(12) }
        nonmutating set { base.setBE16(12, newValue) }
    }

    /// Finds the payload past any VLAN tags (see ``PacketWalk/ethernet(_:length:)``).
    @inlinable
    public func locatePayload() -> Result<L3Location, PacketError> { PacketWalk.ethernet(base, length: length) }

    /// The tag at position `index` (0 = outermost) when the frame carries that many; nil otherwise.
    @inlinable
    public func vlanTag(_ index: Int) -> VLANTag? {
        guard index >= 0 else { return nil }
        var offset = 12
        for i in 0...index {
            guard offset + 4 <= length, EtherType.isVLANTag(base.be16(offset)) else { return nil }
            if i == index {
                var t = VLANTag(vlanID: 0)
                t.tagProtocol = base.be16(offset)
                t.controlInformation = base.be16(offset + 2)
                return t
            }
            offset += 4
        }
        return nil
    }

    /// Writes destination, source, the tags (outermost first) and `etherType` at `base`.
    /// Returns the header length (14 + 4 per tag), or `.truncated` when `capacity` is too small.
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, destination: MACAddress, source: MACAddress,
        etherType: UInt16, tags: some Collection<VLANTag> = EmptyCollection()
    ) -> Result<Int, PacketError> {
        let headerLength = size + 4 * tags.count
        guard capacity >= headerLength else { return .failure(.truncated) }
        destination.store(to: base, at: 0)
        source.store(to: base, at: 6)
        var offset = 12
        for tag in tags {
            base.setBE16(offset, tag.tagProtocol)
            base.setBE16(offset + 2, tag.controlInformation)
            offset += 4
        }
        base.setBE16(offset, etherType)
        return .success(headerLength)
    }
}
