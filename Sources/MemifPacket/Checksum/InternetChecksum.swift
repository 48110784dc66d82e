/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
///
/// A *sum* here is the one's-complement sum of the bytes read as big-endian 16-bit words, folded
/// to 16 bits and not complemented; the checksum field holds its complement. Sums are computed on
/// native 64-bit loads: one's-complement addition does not care about byte order (RFC 1071 2(B)),
/// so the folded result is byte-swapped once at the end on little-endian machines.
public enum InternetChecksum {
    /// The sum of `count` bytes at `p` (any alignment), eight bytes per step with carries kept.
    @inlinable
    public static func sum(_ p: UnsafeRawPointer, count: Int) -> UInt16 {
        var acc: UInt64 = 0
        var carries: UInt64 = 0
        // Each add is followed by counting its carry, which compiles to `add; adc $0`: two
        // instructions per eight bytes, branch-free. Four per round to cut loop overhead.
        var i = 0
        while i &+ 32 <= count {
            add(&acc, &carries, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            add(&acc, &carries, p.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self))
            add(&acc, &carries, p.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self))
            add(&acc, &carries, p.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self))
            i &+= 32
        }
        while i &+ 8 <= count {
            add(&acc, &carries, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i &+= 8
        }
        // The tail: up to seven bytes, in native 16-bit lanes (an odd last byte is the first byte of a
        // big-endian word, which is the low byte of a native little-endian lane).
        var tail: UInt64 = 0
        if i &+ 4 <= count {
            tail &+= UInt64(p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            i &+= 4
        }
        if i &+ 2 <= count {
            tail &+= UInt64(p.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i &+= 2
        }
        if i < count {
            let byte = UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            tail &+= UInt16(1).littleEndian == 1 ? byte : byte << 8
        }
        add(&acc, &carries, tail)
        let folded = fold64(acc, carries: carries)
        return UInt16(bigEndian: folded)
    }

    @inlinable @inline(__always)
    static func add(_ acc: inout UInt64, _ carries: inout UInt64, _ word: UInt64) {
        let (sum, overflow) = acc.addingReportingOverflow(word)
        acc = sum
        carries &+= overflow ? 1 : 0
    }

    /// Folds a 64-bit native accumulator plus a count of lost carries to 16 bits.
    @inlinable @inline(__always)
    static func fold64(_ acc: UInt64, carries: UInt64) -> UInt16 {
        // Each lost carry is worth 2^64, which is 1 modulo 2^16 - 1.
        var s = (acc & 0xFFFF_FFFF) &+ (acc >> 32) &+ carries
        s = (s & 0xFFFF) &+ (s >> 16 & 0xFFFF) &+ (s >> 32)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }

    /// One's-complement addition of two folded sums.
    @inlinable @inline(__always)
    public static func add(_ a: UInt16, _ b: UInt16) -> UInt16 {
        let s = UInt32(a) &+ UInt32(b)
        return UInt16(truncatingIfNeeded: (s & 0xFFFF) &+ (s >> 16))
    }

    /// Folds a 32-bit sum of 16-bit words to 16 bits.
    @inlinable @inline(__always)
    public static func fold(_ s: UInt32) -> UInt16 {
        var v = (s & 0xFFFF) &+ (s >> 16)
        v = (v & 0xFFFF) &+ (v >> 16)
        return UInt16(truncatingIfNeeded: v)
    }

    /// The checksum field value for `count` bytes at `p`, optionally starting from a prior sum
    /// (for example a pseudo-header's).
    @inlinable
    public static func checksum(_ p: UnsafeRawPointer, count: Int, adding initial: UInt16 = 0) -> UInt16 {
        ~add(sum(p, count: count), initial)
    }

    /// RFC 1624 eqn. 3: the new checksum after one 16-bit word changed from `old` to `new`,
    /// HC' = ~(~HC + ~m + m'). A zero sum is kept as 0xFFFF (negative zero), so the result equals a
    /// full recomputation for any data that is not all zeros.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        finish(UInt32(~checksum) &+ UInt32(~old) &+ UInt32(new))
    }

    /// As ``update(_:old:new:)-(UInt16,_,_)`` for a 32-bit field (an IPv4 address, a sequence number).
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        let o = ~old
        return finish(
            UInt32(~checksum) &+ (o >> 16) &+ (o & 0xFFFF) &+ (new >> 16) &+ (new & 0xFFFF))
    }

    /// As ``update(_:old:new:)-(UInt16,_,_)`` for a 128-bit field (an IPv6 address).
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: IPv6Address, new: IPv6Address) -> UInt16 {
        var s = UInt64(~checksum)
        s &+= words(~old.high) &+ words(~old.low) &+ words(new.high) &+ words(new.low)
        return finish(UInt32(truncatingIfNeeded: s & 0xFFFF_FFFF) &+ UInt32(truncatingIfNeeded: s >> 32))
    }

    @inlinable @inline(__always)
    static func words(_ v: UInt64) -> UInt64 {
        (v & 0xFFFF) &+ (v >> 16 & 0xFFFF) &+ (v >> 32 & 0xFFFF) &+ (v >> 48)
    }

    @inlinable @inline(__always)
    static func finish(_ s: UInt32) -> UInt16 {
        let f = fold(s)
        return ~(f == 0 ? 0xFFFF : f)
    }

    /// The pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 (RFC 768/793).
    @inlinable
    public static func pseudoHeaderSum(
        source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, length: Int
    ) -> UInt16 {
        let s = (source.rawValue >> 16) &+ (source.rawValue & 0xFFFF) &+ (destination.rawValue >> 16)
            &+ (destination.rawValue & 0xFFFF) &+ UInt32(protocolNumber) &+ UInt32(truncatingIfNeeded: length & 0xFFFF)
        return fold(s)
    }

    /// The pseudo-header sum over IPv6 (RFC 8200 8.1): addresses, 32-bit length, next header.
    @inlinable
    public static func pseudoHeaderSum(
        source: IPv6Address, destination: IPv6Address, protocolNumber: UInt8, length: Int
    ) -> UInt16 {
        let l = UInt64(truncatingIfNeeded: length) & 0xFFFF_FFFF
        let s = words(source.high) &+ words(source.low) &+ words(destination.high) &+ words(destination.low)
            &+ (l >> 16) &+ (l & 0xFFFF) &+ UInt64(protocolNumber)
        return fold(UInt32(truncatingIfNeeded: s & 0xFFFF_FFFF) &+ UInt32(truncatingIfNeeded: s >> 32))
    }
}

/// The addresses a transport checksum covers besides its own bytes.
@frozen
public enum PseudoHeader: Sendable, Hashable {
    case ipv4(source: IPv4Address, destination: IPv4Address)
    case ipv6(source: IPv6Address, destination: IPv6Address)

    /// The folded pseudo-header sum for a transport segment of `length` bytes.
    @inlinable
    public func sum(protocolNumber: UInt8, length: Int) -> UInt16 {
        switch self {
        case .ipv4(let s, let d):
            InternetChecksum.pseudoHeaderSum(source: s, destination: d, protocolNumber: protocolNumber, length: length)
        case .ipv6(let s, let d):
            InternetChecksum.pseudoHeaderSum(source: s, destination: d, protocolNumber: protocolNumber, length: length)
        }
    }
}
