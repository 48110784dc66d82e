// Unaligned big-endian field access. Packet headers sit at any alignment (an Ethernet header
// puts IPv4 at offset 14), and a misaligned `load` traps, so every field goes through these.

extension UnsafeRawPointer {
    @inlinable @inline(__always)
    func u8(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }

    @inlinable @inline(__always)
    func be16(_ offset: Int) -> UInt16 { UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }

    @inlinable @inline(__always)
    func be32(_ offset: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }

    @inlinable @inline(__always)
    func be64(_ offset: Int) -> UInt64 { UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}

extension UnsafeMutableRawPointer {
    @inlinable @inline(__always)
    func u8(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }

    @inlinable @inline(__always)
    func be16(_ offset: Int) -> UInt16 { UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }

    @inlinable @inline(__always)
    func be32(_ offset: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }

    @inlinable @inline(__always)
    func be64(_ offset: Int) -> UInt64 { UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

    @inlinable @inline(__always)
    func setU8(_ offset: Int, _ value: UInt8) { storeBytes(of: value, toByteOffset: offset, as: UInt8.self) }

    @inlinable @inline(__always)
    func setBE16(_ offset: Int, _ value: UInt16) { storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self) }

    @inlinable @inline(__always)
    func setBE32(_ offset: Int, _ value: UInt32) { storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self) }

    @inlinable @inline(__always)
    func setBE64(_ offset: Int, _ value: UInt64) { storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self) }
}
