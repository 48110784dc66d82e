/// A view of an ARP packet for Ethernet and IPv4 (28 bytes), the only kind an IPv4 network function answers.
@frozen
public struct ARPHeader {
    public static let size = 28
    public static let request: UInt16 = 1
    public static let reply: UInt16 = 2

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view when 28 bytes are there and the packet is Ethernet (1) / IPv4 (0x0800) with address
    /// lengths 6 and 4; `.unsupported` for other hardware or protocol types.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<ARPHeader, PacketError> {
        guard length >= size else { return .failure(.truncated) }
        guard base.be16(0) == 1, base.be16(2) == EtherType.ipv4 else { return .failure(.unsupported) }
        guard base.u8(4) == 6, base.u8(5) == 4 else { return .failure(.malformed) }
        return .success(ARPHeader(unchecked: base, length: length))
    }

    @inlinable public var hardwareType: UInt16 { base.be16(0) }
    @inlinable public var protocolType: UInt16 { base.be16(2) }

    @inlinable public var operation: UInt16 {
        get { base.be16(6) }
        nonmutating set { base.setBE16(6, newValue) }
    }

    @inlinable public var senderHardwareAddress: MACAddress {
        get { MACAddress(loadingFrom: base, at: 8) }
        nonmutating set { newValue.store(to: base, at: 8) }
    }

    @inlinable public var senderProtocolAddress: IPv4Address {
        get { IPv4Address(loadingFrom: base, at: 14) }
        nonmutating set { newValue.store(to: base, at: 14) }
    }

    @inlinable public var targetHardwareAddress: MACAddress {
        get { MACAddress(loadingFrom: base, at: 18) }
        nonmutating set { newValue.store(to: base, at: 18) }
    }

    @inlinable public var targetProtocolAddress: IPv4Address {
        get { IPv4Address(loadingFrom: base, at: 24) }
        nonmutating set { newValue.store(to: base, at: 24) }
    }

    /// Turns a request into the reply from `hardwareAddress` (who owns the target address):
    /// the requester becomes the target, we become the sender. `.malformed` if not a request.
    @inlinable
    public func turnIntoReply(from hardwareAddress: MACAddress) -> Result<Void, PacketError> {
        guard operation == Self.request else { return .failure(.malformed) }
        let askedFor = targetProtocolAddress
        targetHardwareAddress = senderHardwareAddress
        targetProtocolAddress = senderProtocolAddress
        senderHardwareAddress = hardwareAddress
        senderProtocolAddress = askedFor
        operation = Self.reply
        return .success(())
    }

    /// Writes an Ethernet/IPv4 ARP packet at `base`.
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, operation: UInt16,
        senderHardwareAddress: MACAddress, senderProtocolAddress: IPv4Address,
        targetHardwareAddress: MACAddress, targetProtocolAddress: IPv4Address
    ) -> Result<ARPHeader, PacketError> {
        guard capacity >= size else { return .failure(.truncated) }
        base.setBE16(0, 1)
        base.setBE16(2, EtherType.ipv4)
        base.setU8(4, 6)
        base.setU8(5, 4)
        base.setBE16(6, operation)
        senderHardwareAddress.store(to: base, at: 8)
        senderProtocolAddress.store(to: base, at: 14)
        targetHardwareAddress.store(to: base, at: 18)
        targetProtocolAddress.store(to: base, at: 24)
        return .success(ARPHeader(unchecked: base, length: capacity))
    }
}
