@_exported import MemifPacket

/// Parsed-header convenience on received and transmit views. Nothing is parsed until asked
/// for, and each accessor is a bounds-checked walk of a few loads: no allocation, no copy.
/// Headers are looked for in the view's own segment (the first of a chain holds them).
extension MemifBuffer {
    /// The Ethernet header of an L2 channel's frame.
    @inlinable
    public var ethernet: EthernetHeader? {
        if case .success(let h) = EthernetHeader.parse(data, length: Int(length)) { return h }
        return nil
    }

    /// Where the IP packet starts: after the Ethernet header and any VLAN tags (L2), or at 0
    /// (L3). `nil` for non-IP frames and malformed ones.
    @inlinable
    public func ipOffset(_ framing: MemifFraming) -> Int? {
        guard framing == .ethernet else { return length > 0 ? 0 : nil }
        guard case .success(let l3) = PacketWalk.ethernet(data, length: Int(length)),
            l3.etherType == EtherType.ipv4 || l3.etherType == EtherType.ipv6
        else { return nil }
        return l3.offset
    }

    /// The IPv4 header, checked (version, IHL, total length within the segment).
    @inlinable
    public func ipv4(_ framing: MemifFraming) -> IPv4Header? {
        guard let offset = ipOffset(framing), case .success(let h) = IPv4Header.parse(data + offset, length: Int(length) - offset)
        else { return nil }
        return h
    }

    /// The IPv6 header, checked (version, payload length within the segment).
    @inlinable
    public func ipv6(_ framing: MemifFraming) -> IPv6Header? {
        guard let offset = ipOffset(framing), case .success(let h) = IPv6Header.parse(data + offset, length: Int(length) - offset)
        else { return nil }
        return h
    }

    /// Protocol, offset and fragment status of the transport header (offset from `data`).
    @inlinable
    public func transport(_ framing: MemifFraming) -> TransportLocation? {
        guard let offset = ipOffset(framing),
            case .success(let t) = PacketWalk.transport(data, length: Int(length), at: offset)
        else { return nil }
        return t
    }
}

/// Calico/VPP's conventions for a pod's memif (kubernetes-integration.md 1.7): VPP reaches
/// the pod IP through a static neighbor entry to this MAC, so an Ethernet-mode pod client
/// must own it; VPP's side is promiscuous.
public enum CalicoConvention {
    public static let podMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    /// The MAC Calico/VPP reports for the pod's side of its tun.
    public static let tunMAC = MACAddress(0x02, 0, 0, 0, 0, 0x00)
    public static let socket = MemifChannel.defaultSocket
}
