/// An IPv4 address as a number: 10.0.0.1 is `0x0A00_0001`.
@frozen
public struct IPv4Address: Hashable, Sendable, BitwiseCopyable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Reads four bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public init(loadingFrom p: UnsafeRawPointer, at offset: Int = 0) { rawValue = p.be32(offset) }

    /// Writes the four bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutableRawPointer, at offset: Int = 0) { p.setBE32(offset, rawValue) }

    public static let any = IPv4Address(rawValue: 0)
    public static let broadcast = IPv4Address(rawValue: 0xFFFF_FFFF)

    @inlinable public var isMulticast: Bool { rawValue >> 28 == 0xE }

    /// Parses a strict dotted quad ("10.0.0.1"); leading zeros are refused (they read as octal elsewhere).
    public init(parsing text: String) throws(AddressParseError) {
        rawValue = try AddressText.dottedQuad(Array(text.utf8)[...], kind: "IPv4", text: text)
    }

    /// Nil when `text` is not a dotted quad; see ``init(parsing:)`` for the error.
    public init?(_ text: String) {
        guard let a = try? IPv4Address(parsing: text) else { return nil }
        self = a
    }

    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xFF).\(rawValue >> 8 & 0xFF).\(rawValue & 0xFF)"
    }

    @inlinable
    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }
}
