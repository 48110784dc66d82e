/// A small IP -> MAC table for one data-path thread: fixed capacity chosen at init, open
/// addressing, no allocation after init. IPv4 addresses are kept as IPv4-mapped IPv6.
/// When full, a new entry replaces the one at its home slot (the table is a cache: a
/// neighbor that matters answers again).
public struct NeighborTable: ~Copyable {
    @usableFromInline struct Entry {
        @usableFromInline var address: IPv6Address
        @usableFromInline var mac: MACAddress
        @usableFromInline var used: Bool
    }

    @usableFromInline let entries: UnsafeMutableBufferPointer<Entry>
    @usableFromInline let mask: Int
    /// Probes before giving up (and replacing the home slot).
    @usableFromInline static var probeLimit: Int { 8 }
    public private(set) var count = 0

    /// - Parameter capacity: rounded up to a power of two, at least 8.
    public init(capacity: Int = 256) {
        let size = max(8, 1 << (Int.bitWidth - max(capacity - 1, 1).leadingZeroBitCount))
        entries = .allocate(capacity: size)
        entries.initialize(repeating: Entry(address: .unspecified, mac: .zero, used: false))
        mask = size - 1
    }

    deinit { entries.deallocate() }

    public var capacity: Int { entries.count }

    @inlinable @inline(__always)
    static func home(_ a: IPv6Address, _ mask: Int) -> Int {
        let h = a.high ^ (a.low &* 0x9E37_79B9_7F4A_7C15)
        let m = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: m >> 32) & mask
    }

    /// Adds or refreshes an entry.
    public mutating func learn(_ address: IPv6Address, _ mac: MACAddress) {
        let start = Self.home(address, mask)
        var free: Int?
        for i in 0..<Self.probeLimit {
            let slot = (start + i) & mask
            if entries[slot].used {
                if entries[slot].address == address {
                    entries[slot].mac = mac
                    return
                }
            } else if free == nil {
                free = slot
            }
        }
        let slot = free ?? start
        if !entries[slot].used { count += 1 }
        entries[slot] = Entry(address: address, mac: mac, used: true)
    }

    public mutating func learn(_ address: IPv4Address, _ mac: MACAddress) { learn(IPv6Address(mapping: address), mac) }

    @inlinable
    public func lookup(_ address: IPv6Address) -> MACAddress? {
        let start = Self.home(address, mask)
        for i in 0..<Self.probeLimit {
            let e = entries[(start + i) & mask]
            if e.used && e.address == address { return e.mac }
        }
        return nil
    }

    @inlinable
    public func lookup(_ address: IPv4Address) -> MACAddress? { lookup(IPv6Address(mapping: address)) }

    public mutating func forget(_ address: IPv6Address) {
        let start = Self.home(address, mask)
        for i in 0..<Self.probeLimit {
            let slot = (start + i) & mask
            if entries[slot].used && entries[slot].address == address {
                entries[slot].used = false
                count -= 1
                return
            }
        }
    }
}

extension IPv6Address {
    /// The IPv4-mapped form `::ffff:a.b.c.d` (RFC 4291 2.5.5.2).
    @inlinable
    public init(mapping v4: IPv4Address) { self.init(high: 0, low: 0xFFFF_0000_0000 | UInt64(v4.rawValue)) }
}
