/// A view of an ESP header (RFC 4303): SPI and sequence number; the rest is encrypted payload.
@frozen
public struct ESPHeader {
    public static let size = 8

    public let base: UnsafeMutableRawPointer
    public let length: Int

    @inlinable @inline(__always)
    init(unchecked base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    @inlinable
    public static func parse(_ base: UnsafeMutableRawPointer, length: Int) -> Result<ESPHeader, PacketError> {
        length >= size ? .success(ESPHeader(unchecked: base, length: length)) : .failure(.truncated)
    }

    @inlinable public var securityParameterIndex: UInt32 {
        get { base.be32(0) }
        nonmutating set { base.setBE32(0, newValue) }
    }

    @inlinable public var sequenceNumber: UInt32 {
        get { base.be32(4) }
        nonmutating set { base.setBE32(4, newValue) }
    }

    /// Everything after SPI and sequence number (IV, ciphertext, trailer, ICV).
    @inlinable public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Self.size, count: max(0, length - Self.size))
    }

    @inlinable
    public static func build(
        at base: UnsafeMutableRawPointer, capacity: Int, securityParameterIndex: UInt32, sequenceNumber: UInt32
    ) -> Result<ESPHeader, PacketError> {
        guard capacity >= size else { return .failure(.truncated) }
        base.setBE32(0, securityParameterIndex)
        base.setBE32(4, sequenceNumber)
        return .success(ESPHeader(unchecked: base, length: capacity))
    }
}
