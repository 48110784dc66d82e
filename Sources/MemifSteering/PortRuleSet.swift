/// The destination ports steered to the memif, per protocol: immutable after construction,
/// `Sendable`, and looked up without allocation, locks or reference counting.
///
/// Two lookups, chosen at construction: a linear scan of the merged ranges, and a 65536-bit
/// bitmap per protocol (one load whatever the rule count, but 16 KiB per rule set). Measured
/// with `memif-bench classify --callgrind` over its 12-frame mix, cache-hot: with one range the
/// two cost the same (124 vs 123 instructions/packet), with 8 TCP ranges the scan costs 18 more,
/// with 32 ranges 62 more. The bitmap's 16 KiB per pod is what a node serving many pods pays
/// in cache misses instead, so `.automatic` scans up to `PortRuleSet.scanLimit` ranges per
/// protocol (a handful, the common case) and uses the bitmap above that.
public struct PortRuleSet: Sendable, Hashable, CustomStringConvertible {
    public enum Lookup: Sendable, Hashable {
        case automatic
        case scan
        case bitmap
    }

    /// Ranges per protocol up to which `.automatic` scans.
    public static let scanLimit = 4

    /// The steered ports, sorted by protocol then port, overlapping and adjacent ranges merged.
    public let ranges: [PortRange]
    @usableFromInline let table: PortTable

    public init(_ ranges: some Sequence<PortRange>, lookup: Lookup = .automatic) {
        let merged = Self.merge(ranges)
        self.ranges = merged
        let counts = SteeredProtocol.allCases.map { p in merged.count { $0.transport == p } }
        let useBitmap: Bool
        switch lookup {
        case .automatic: useBitmap = counts.contains { $0 > Self.scanLimit }
        case .scan: useBitmap = false
        case .bitmap: useBitmap = true
        }
        table = PortTable(merged, bitmap: useBitmap)
    }

    /// No port steered: everything takes the normal path.
    public static let empty = PortRuleSet([])

    public var isEmpty: Bool { ranges.isEmpty }
    public var usesBitmap: Bool { table.bitmap != nil }

    /// Whether a packet of IP protocol `ipProtocol` to destination `port` goes to the memif.
    @inlinable
    public func contains(ipProtocol: UInt8, port: UInt16) -> Bool {
        table.contains(ipProtocol: ipProtocol, port: port)
    }

    public func contains(_ transport: SteeredProtocol, port: UInt16) -> Bool {
        contains(ipProtocol: transport.rawValue, port: port)
    }

    public static func == (a: PortRuleSet, b: PortRuleSet) -> Bool { a.ranges == b.ranges }
    public func hash(into hasher: inout Hasher) { hasher.combine(ranges) }

    /// In the annotation grammar, e.g. `tcp:80,tcp:4444-20000,udp:53`.
    public var description: String { ranges.map(\.description).joined(separator: ",") }

    static func merge(_ input: some Sequence<PortRange>) -> [PortRange] {
        let sorted = input.sorted { ($0.transport.rawValue, $0.first) < ($1.transport.rawValue, $1.first) }
        var out: [PortRange] = []
        for r in sorted {
            if let last = out.last, last.transport == r.transport, Int(r.first) <= Int(last.last) + 1 {
                out[out.count - 1] = PortRange(r.transport, last.first, max(last.last, r.last))
            } else {
                out.append(r)
            }
        }
        return out
    }
}

/// The lookup tables behind a `PortRuleSet`, in memory owned by this object and never written
/// after `init`: per protocol (TCP, UDP) either a bitmap or packed `first << 16 | last` ranges.
@usableFromInline
final class PortTable: @unchecked Sendable {
    /// 2 x 1024 words, TCP then UDP; nil when scanning.
    @usableFromInline let bitmap: UnsafeMutablePointer<UInt64>?
    /// TCP ranges at `0..<tcpCount`, UDP ranges at `tcpCount..<tcpCount + udpCount`.
    @usableFromInline let packed: UnsafeMutablePointer<UInt32>
    @usableFromInline let tcpCount: Int
    @usableFromInline let udpCount: Int

    init(_ merged: [PortRange], bitmap useBitmap: Bool) {
        let tcp = merged.filter { $0.transport == .tcp }
        let udp = merged.filter { $0.transport == .udp }
        tcpCount = tcp.count
        udpCount = udp.count
        packed = .allocate(capacity: max(1, merged.count))
        for (i, r) in (tcp + udp).enumerated() {
            packed[i] = UInt32(r.first) << 16 | UInt32(r.last)
        }
        if useBitmap {
            let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 2048)
            words.initialize(repeating: 0, count: 2048)
            for r in merged {
                let base = r.transport == .tcp ? 0 : 1024
                for port in Int(r.first)...Int(r.last) {
                    words[base + port >> 6] |= 1 << UInt64(port & 63)
                }
            }
            bitmap = words
        } else {
            bitmap = nil
        }
    }

    deinit {
        bitmap?.deallocate()
        packed.deallocate()
    }

    @inlinable
    func contains(ipProtocol: UInt8, port: UInt16) -> Bool {
        let base: Int
        let count: Int
        switch ipProtocol {
        case 6:
            base = 0
            count = tcpCount
        case 17:
            base = tcpCount
            count = udpCount
        default:
            return false
        }
        if let bitmap {
            let word = bitmap[(ipProtocol == 6 ? 0 : 1024) &+ Int(port &>> 6)]
            return word &>> UInt64(port & 63) & 1 != 0
        }
        let p = UInt32(port)
        var i = base
        let end = base &+ count
        while i < end {
            let r = packed[i]
            if p < r &>> 16 { return false }  // sorted: no later range starts this low
            if p <= r & 0xFFFF { return true }
            i &+= 1
        }
        return false
    }
}
