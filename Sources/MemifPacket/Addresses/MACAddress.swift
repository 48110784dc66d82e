/// A 48-bit Ethernet address, held as a number whose bits 47...40 are the first byte on the wire.
@frozen
public struct MACAddress: Hashable, Sendable, BitwiseCopyable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    /// The low 48 bits of `rawValue`; higher bits are dropped.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    @inlinable
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        rawValue = UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5)
    }

    /// Reads six bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public init(loadingFrom p: UnsafeRawPointer, at offset: Int = 0) {
        rawValue = UInt64(p.be32(offset)) << 16 | UInt64(p.be16(offset + 4))
    }

    /// Writes the six bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutableRawPointer, at offset: Int = 0) {
        p.setBE32(offset, UInt32(truncatingIfNeeded: rawValue >> 16))
        p.setBE16(offset + 4, UInt16(truncatingIfNeeded: rawValue))
    }

    public static let zero = MACAddress(rawValue: 0)
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    /// Group bit: the low bit of the first byte.
    @inlinable public var isMulticast: Bool { rawValue & (1 << 40) != 0 }
    @inlinable public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF_FFFF }
    @inlinable public var isLocallyAdministered: Bool { rawValue & (2 << 40) != 0 }

    /// The six bytes in wire order.
    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * $0)) } }

    /// The Ethernet address an IPv6 multicast group maps to (RFC 2464: 33:33 + low 32 bits).
    @inlinable
    public init(ipv6Multicast group: IPv6Address) {
        rawValue = 0x3333_0000_0000 | (group.low & 0xFFFF_FFFF)
    }

    /// Parses six groups of one or two hex digits separated by ':' or '-' (the same throughout).
    public init(parsing text: String) throws(AddressParseError) {
        func fail(_ reason: String) -> AddressParseError { AddressParseError(kind: "MAC", text: text, reason: reason) }
        let utf8 = Array(text.utf8)
        if utf8.isEmpty { throw fail("empty") }
        let separator = utf8.first { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") } ?? UInt8(ascii: ":")
        let groups = utf8.split(separator: separator, omittingEmptySubsequences: false)
        if groups.count != 6 { throw fail("expected six groups, found \(groups.count)") }
        var value: UInt64 = 0
        for group in groups {
            if group.isEmpty { throw fail("empty group") }
            if group.count > 2 { throw fail("group longer than two hex digits") }
            var b: UInt64 = 0
            for c in group {
                guard let h = AddressText.hexValue(c) else {
                    throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
                }
                b = b << 4 | UInt64(h)
            }
            value = value << 8 | b
        }
        self.init(rawValue: value)
    }

    /// Nil when `text` is not a MAC address; see ``init(parsing:)`` for the error.
    public init?(_ text: String) {
        guard let a = try? MACAddress(parsing: text) else { return nil }
        self = a
    }

    /// Lowercase, two digits per byte, colon separated: "02:00:00:00:00:01".
    public var description: String {
        var s = ""
        s.reserveCapacity(17)
        for i in 0..<6 {
            let b = Int(truncatingIfNeeded: rawValue >> (40 - 8 * i)) & 0xFF
            if i > 0 { s.append(":") }
            s.append(AddressText.hexDigits[b >> 4])
            s.append(AddressText.hexDigits[b & 15])
        }
        return s
    }

    @inlinable
    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}
