/// An IPv6 address as two numbers: `high` holds the first eight bytes on the wire.
@frozen
public struct IPv6Address: Hashable, Sendable, BitwiseCopyable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From eight 16-bit groups in text order.
    public init(groups g: [UInt16]) {
        precondition(g.count == 8, "an IPv6 address has eight groups")
        high = UInt64(g[0]) << 48 | UInt64(g[1]) << 32 | UInt64(g[2]) << 16 | UInt64(g[3])
        low = UInt64(g[4]) << 48 | UInt64(g[5]) << 32 | UInt64(g[6]) << 16 | UInt64(g[7])
    }

    /// Reads sixteen bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public init(loadingFrom p: UnsafeRawPointer, at offset: Int = 0) {
        high = p.be64(offset)
        low = p.be64(offset + 8)
    }

    /// Writes the sixteen bytes at `p + offset` (any alignment).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutableRawPointer, at offset: Int = 0) {
        p.setBE64(offset, high)
        p.setBE64(offset + 8, low)
    }

    /// Group `i` (0...7) in text order.
    @inlinable
    public func group(_ i: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * (i & 3)))
    }

    public static let unspecified = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)
    /// ff02::1, every node on the link.
    public static let allNodes = IPv6Address(high: 0xFF02_0000_0000_0000, low: 1)

    @inlinable public var isMulticast: Bool { high >> 56 == 0xFF }
    @inlinable public var isUnspecified: Bool { high == 0 && low == 0 }
    @inlinable public var isLinkLocal: Bool { high >> 54 == 0x3FA }

    /// ff02::1:ffXX:XXXX, where neighbor solicitations for this address go (RFC 4291 2.7.1).
    @inlinable
    public var solicitedNodeMulticast: IPv6Address {
        IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (low & 0x00FF_FFFF))
    }

    /// Parses RFC 4291 text: eight hex groups, one `::` for a run of zero groups, and an optional
    /// dotted quad for the last 32 bits ("::ffff:10.0.0.1"). No zone, no brackets, no prefix.
    public init(parsing text: String) throws(AddressParseError) {
        func fail(_ reason: String) -> AddressParseError { AddressParseError(kind: "IPv6", text: text, reason: reason) }
        let t = Array(text.utf8)
        if t.isEmpty { throw fail("empty") }
        let colon = UInt8(ascii: ":")
        // Split around the single "::", if any.
        var gap: Int? = nil
        var i = 0
        while i + 1 < t.count {
            if t[i] == colon && t[i + 1] == colon {
                if gap != nil { throw fail("more than one '::'") }
                gap = i
                i += 2
                if i < t.count && t[i] == colon { throw fail("':::' is not allowed") }
                continue
            }
            i += 1
        }
        func groups(_ part: ArraySlice<UInt8>, last: Bool) throws(AddressParseError) -> [UInt16] {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: colon, omittingEmptySubsequences: false)
            for (n, f) in fields.enumerated() {
                if f.isEmpty { throw fail(n == 0 ? "leading ':'" : n == fields.count - 1 ? "trailing ':'" : "empty group") }
                if last && n == fields.count - 1 && f.contains(UInt8(ascii: ".")) {
                    let v = try AddressText.dottedQuad(f, kind: "IPv6", text: text, context: "embedded IPv4: ")
                    out.append(UInt16(truncatingIfNeeded: v >> 16))
                    out.append(UInt16(truncatingIfNeeded: v))
                    continue
                }
                if f.count > 4 { throw fail("group longer than four hex digits") }
                var g: UInt16 = 0
                for c in f {
                    guard let h = AddressText.hexValue(c) else {
                        throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
                    }
                    g = g << 4 | UInt16(h)
                }
                out.append(g)
            }
            return out
        }
        var all: [UInt16]
        if let gap {
            let head = try groups(t[..<gap], last: false)
            let tail = try groups(t[(gap + 2)...], last: true)
            if head.count + tail.count > 7 { throw fail("too many groups around '::'") }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            all = try groups(t[...], last: true)
            if all.count != 8 { throw fail("expected eight groups, found \(all.count)") }
        }
        self.init(groups: all)
    }

    /// Nil when `text` is not an IPv6 address; see ``init(parsing:)`` for the error.
    public init?(_ text: String) {
        guard let a = try? IPv6Address(parsing: text) else { return nil }
        self = a
    }

    /// RFC 5952 text: lowercase, no leading zeros, the longest run (the first of equals) of two or
    /// more zero groups as "::", and IPv4-mapped addresses as "::ffff:a.b.c.d".
    public var description: String {
        if high == 0 && low >> 32 == 0xFFFF {
            return "::ffff:" + IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)).description
        }
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength {
                    bestStart = runStart
                    bestLength = i - runStart
                }
                runStart = -1
            }
        }
        var s = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                s += "::"
                i += bestLength
                continue
            }
            if !s.isEmpty && !s.hasSuffix(":") { s += ":" }
            s += AddressText.hex(group(i))
            i += 1
        }
        return s
    }

    @inlinable
    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
