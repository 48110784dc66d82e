/// Builds a zero-filled 128-byte message field by field, little-endian, at any alignment.
struct MessageWriter {
    private(set) var bytes = [UInt8](repeating: 0, count: MemifProtocol.messageSize)

    mutating func put8(_ v: UInt8, at o: Int) { bytes[o] = v }
    mutating func put16(_ v: UInt16, at o: Int) { putLE(UInt64(v), width: 2, at: o) }
    mutating func put32(_ v: UInt32, at o: Int) { putLE(UInt64(v), width: 4, at: o) }
    mutating func put64(_ v: UInt64, at o: Int) { putLE(v, width: 8, at: o) }

    private mutating func putLE(_ v: UInt64, width: Int, at o: Int) {
        for i in 0..<width { bytes[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }

    /// Copies at most `field - 1` bytes so a NUL always follows, as the C peers' strlcpy does.
    mutating func putBytes(_ v: [UInt8], at o: Int, field: Int) {
        for (i, b) in v.prefix(field - 1).enumerated() { bytes[o + i] = b }
    }

    mutating func putString(_ s: String, at o: Int, field: Int) {
        putBytes(Array(s.utf8), at: o, field: field)
    }
}

/// Reads fields of a received 128-byte message, little-endian, at any alignment.
struct MessageReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u8(at o: Int) -> UInt8 { bytes[o] }
    func u16(at o: Int) -> UInt16 { UInt16(truncatingIfNeeded: le(at: o, width: 2)) }
    func u32(at o: Int) -> UInt32 { UInt32(truncatingIfNeeded: le(at: o, width: 4)) }
    func u64(at o: Int) -> UInt64 { le(at: o, width: 8) }

    private func le(at o: Int, width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[o + i]) << (8 * UInt64(i)) }
        return v
    }

    /// The bytes of a fixed field up to its first NUL; a field with no NUL is taken whole.
    func bytesBeforeNUL(at o: Int, field: Int) -> [UInt8] {
        let slice = bytes[o..<(o + field)]
        return Array(slice.prefix { $0 != 0 })
    }

    func string(at o: Int, field: Int) -> String {
        String(decoding: bytesBeforeNUL(at: o, field: field), as: UTF8.self)
    }
}
