/// TCP flag bits as in the 13th and 14th header bytes.
public enum TCPFlags {
    public static let fin: UInt16 = 0x001
    public static let syn: UInt16 = 0x002
    public static let rst: UInt16 = 0x004
    public static let psh: UInt16 = 0x008
    public static let ack: UInt16 = 0x010
    public static let urg: UInt16 = 0x020
    public static let ece: UInt16 = 0x040
    public static let cwr: UInt16 = 0x080
}

/// A view of a TCP header, options included, at `base`; `length` is the segment length (header and
/// data up to the end of the IP packet), which the checksum covers.
@frozen
public struct TCPHeader {
    public static let minimumSize = 20

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// A view after checking data offset >= 5 and the header within `length`.
    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<TCPHeader, PacketError> {
        guard length >= minimumSize else { return .failure(.truncated) }
        let headerLength = Int(base.u8(12) >> 4) << 2
        guard headerLength >= minimumSize else { return .failure(.badHeaderLength) }
        guard headerLength <= length else { return .failure(.truncated) }
        return .success(TCPHeader(unchecked: base, length: length))
    }

    @inlinable public var sourcePort: UInt16 {
        get { base.be16(0) }
        nonmutating set { base.setBE16(0, newValue) }
    }

    @inlinable public var destinationPort: UInt16 {
        get { base.be16(2) }
        nonmutating set { base.setBE16(2, newValue) }
    }

    @inlinable public var sequenceNumber: UInt32 {
        get { base.be32(4) }
        nonmutating set { base.setBE32(4, newValue) }
    }

    @inlinable public var acknowledgmentNumber: UInt32 {
        get { base.be32(8) }
        nonmutating set { base.setBE32(8, newValue) }
    }

    /// Data offset in bytes (20...60).
    @inlinable public var headerLength: Int { Int(base.u8(12) >> 4) << 2 }

    /// The eight flag bits (``TCPFlags``).
    @inlinable public var flags: UInt16 {
        get { UInt16(base.u8(13)) }
        nonmutating set { base.setU8(13, UInt8(truncatingIfNeeded: newValue)) }
    }

    @inlinable public var window: UInt16 {
        get { base.be16(14) }
        nonmutating set { base.setBE16(14, newValue) }
    }

    @inlinable public var checksum: UInt16 {
        get { base.be16(16) }
        nonmutating set { base.setBE16(16, newValue) }
    }

    @inlinable public var urgentPointer: UInt16 {
        get { base.be16(18) }
        nonmutating set { base.setBE16(18, newValue) }
    }

    @inlinable public var options: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Self.minimumSize, count: max(0, headerLength - Self.minimumSize))
    }

    @inlinable public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + headerLength, count: max(0, length - headerLength))
    }

    @inlinable
    public func computeChecksum(_ pseudoHeader: PseudoHeader) -> UInt16 {
        let saved = checksum
        checksum = 0
        let c = InternetChecksum.checksum(
            base, count: length, adding: pseudoHeader.sum(protocolNumber: IPProtocol.tcp, length: length))
        checksum = saved
        return c
    }

    @inlinable
    public func updateChecksum(_ pseudoHeader: PseudoHeader) { checksum = computeChecksum(pseudoHeader) }

    @inlinable
    public func isChecksumValid(_ pseudoHeader: PseudoHeader) -> Bool {
        InternetChecksum.add(
            InternetChecksum.sum(base, count: length), pseudoHeader.sum(protocolNumber: IPProtocol.tcp, length: length))
            == 0xFFFF
    }

    /// Rewrites a port and adjusts the checksum incrementally.
    @inlinable
    public func rewriteSourcePort(_ port: UInt16) {
        checksum = InternetChecksum.update(checksum, old: sourcePort, new: port)
        sourcePort = port
    }

    @inlinable
    public func rewriteDestinationPort(_ port: UInt16) {
        checksum = InternetChecksum.update(checksum, old: destinationPort, new: port)
        destinationPort = port
    }

    /// Writes a header at `base` (options copied in, a multiple of four bytes) for `payloadLength`
    /// data bytes already in place after the header; computes the checksum when given a pseudo-header.
    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, sourcePort: UInt16, destinationPort: UInt16,
        sequenceNumber: UInt32, acknowledgmentNumber: UInt32, flags: UInt16, window: UInt16,
        urgentPointer: UInt16 = 0, options: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payloadLength: Int, pseudoHeader: PseudoHeader?
    ) -> Result<TCPHeader, PacketError> {
        guard options.count % 4 == 0, options.count <= 40 else { return .failure(.badHeaderLength) }
        let headerLength = minimumSize + options.count
        guard payloadLength >= 0 else { return .failure(.badTotalLength) }
        guard capacity >= headerLength + payloadLength else { return .failure(.truncated) }
        base.setBE16(0, sourcePort)
        base.setBE16(2, destinationPort)
        base.setBE32(4, sequenceNumber)
        base.setBE32(8, acknowledgmentNumber)
        base.setU8(12, UInt8(headerLength >> 2) << 4)
        base.setU8(13, UInt8(truncatingIfNeeded: flags))
        base.setBE16(14, window)
        base.setBE16(16, 0)
        base.setBE16(18, urgentPointer)
        if let o = options.baseAddress, options.count > 0 {
            (base + minimumSize).copyMemory(from: o, byteCount: options.count)
        }
        let h = TCPHeader(unchecked: base, length: headerLength + payloadLength)
        if let pseudoHeader { h.updateChecksum(pseudoHeader) }
        return .success(h)
    }
}
