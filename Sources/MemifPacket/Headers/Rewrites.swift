// What a forwarder changes per packet, each with an incremental checksum update (RFC 1624)
// instead of a recomputation: TTL and hop limit, addresses (with the transport checksum that
// covers them through the pseudo-header), ports.

/// Where the checksum of a transport protocol sits, for those whose checksum covers the pseudo-header.
@inlinable @inline(__always)
func pseudoHeaderChecksumOffset(_ protocolNumber: UInt8) -> Int? {
    switch protocolNumber {
    case IPProtocol.tcp: 16
    case IPProtocol.udp: 6
    case IPProtocol.icmpv6: 2
    default: nil
    }
}

/// Applies an address change to the transport checksum at `offset` (UDP's zero means "none").
@inlinable @inline(__always)
func adjustTransportChecksum(
    _ p: UnsafeMutableRawPointer, at offset: Int, protocolNumber: UInt8, update: (UInt16) -> UInt16
) {
    let c = p.be16(offset)
    if protocolNumber == IPProtocol.udp {
        guard c != 0 else { return }
        let n = update(c)
        p.setBE16(offset, n == 0 ? 0xFFFF : n)
    } else {
        p.setBE16(offset, update(c))
    }
}

extension IPv4Header {
    /// Decrements the TTL and adjusts the header checksum. Returns false, changing nothing, when
    /// the TTL is 0 or 1: the packet must not be forwarded.
    @inlinable
    public func decrementTimeToLive() -> Bool {
        let word = base.be16(8)
        guard word >> 8 > 1 else { return false }
        let new = word &- 0x100
        base.setBE16(8, new)
        checksum = InternetChecksum.update(checksum, old: word, new: new)
        return true
    }

    /// Replaces the source address; adjusts the header checksum and a TCP/UDP checksum in this
    /// packet (not in a non-first fragment, which carries none).
    @inlinable
    public func rewriteSource(_ address: IPv4Address) { rewriteAddress(at: 12, to: address) }

    @inlinable
    public func rewriteDestination(_ address: IPv4Address) { rewriteAddress(at: 16, to: address) }

    @inlinable
    func rewriteAddress(at field: Int, to address: IPv4Address) {
        let old = base.be32(field)
        let new = address.rawValue
        base.setBE32(field, new)
        checksum = InternetChecksum.update(checksum, old: old, new: new)
        let proto = protocolNumber
        guard proto != IPProtocol.icmpv6, let at = pseudoHeaderChecksumOffset(proto), fragmentOffset == 0 else { return }
        let offset = headerLength + at
        guard offset + 2 <= min(Int(totalLength), length) else { return }
        adjustTransportChecksum(base, at: offset, protocolNumber: proto) { InternetChecksum.update($0, old: old, new: new) }
    }
}

extension IPv6Header {
    /// Decrements the hop limit (IPv6 has no header checksum). Returns false, changing nothing,
    /// when it is 0 or 1.
    @inlinable
    public func decrementHopLimit() -> Bool {
        let h = hopLimit
        guard h > 1 else { return false }
        hopLimit = h &- 1
        return true
    }

    /// Replaces the source address and adjusts the TCP, UDP or ICMPv6 checksum found past the
    /// extension headers. Returns the walk's error, with the address unchanged, when the chain is bad.
    @inlinable
    public func rewriteSource(_ address: IPv6Address) -> Result<Void, PacketError> { rewriteAddress(at: 8, to: address) }

    @inlinable
    public func rewriteDestination(_ address: IPv6Address) -> Result<Void, PacketError> {
        rewriteAddress(at: 24, to: address)
    }

    @inlinable
    func rewriteAddress(at field: Int, to address: IPv6Address) -> Result<Void, PacketError> {
        let location: TransportLocation
        switch locateTransport() {
        case .success(let l): location = l
        case .failure(let e): return .failure(e)
        }
        let old = IPv6Address(loadingFrom: base, at: field)
        address.store(to: base, at: field)
        guard location.fragment != .nonFirstFragment, let at = pseudoHeaderChecksumOffset(location.protocolNumber),
            location.offset + at + 2 <= location.end
        else { return .success(()) }
        adjustTransportChecksum(base, at: location.offset + at, protocolNumber: location.protocolNumber) {
            InternetChecksum.update($0, old: old, new: address)
        }
        return .success(())
    }
}
