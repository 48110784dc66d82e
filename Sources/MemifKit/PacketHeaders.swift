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

extension MemifBuffer {
    /// Turns a packet around in place, as testpmd's `5tswap`: swaps the MACs (L2), the IPv4 or
    /// IPv6 addresses and the TCP/UDP ports, so the reply goes back to the sender. Checksums stay
    /// valid without an update (a swap does not change a ones'-complement sum). Returns false,
    /// changing nothing, when the segment holds no IP packet.
    @inlinable
    @discardableResult
    public func swapFiveTuple(_ framing: MemifFraming) -> Bool {
        guard let t = transport(framing), let ip = ipOffset(framing) else { return false }
        if framing == .ethernet, let e = ethernet { (e.source, e.destination) = (e.destination, e.source) }
        let p = data + ip
        if p.load(as: UInt8.self) >> 4 == 4 {
            let (s, d) = (IPv4Address(loadingFrom: p, at: 12), IPv4Address(loadingFrom: p, at: 16))
            d.store(to: p, at: 12)
            s.store(to: p, at: 16)
        } else {
            let (s, d) = (IPv6Address(loadingFrom: p, at: 8), IPv6Address(loadingFrom: p, at: 24))
            d.store(to: p, at: 8)
            s.store(to: p, at: 24)
        }
        let ports = t.protocolNumber == IPProtocol.tcp || t.protocolNumber == IPProtocol.udp
        if ports && t.fragment != .nonFirstFragment && t.offset + 4 <= Int(length) {
            let q = data + t.offset
            let (s, d) = (q.loadUnaligned(as: UInt16.self), q.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            q.storeBytes(of: d, as: UInt16.self)
            q.storeBytes(of: s, toByteOffset: 2, as: UInt16.self)
        }
        return true
    }
}
