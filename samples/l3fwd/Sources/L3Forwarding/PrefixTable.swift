/// Longest-prefix match over 8-bit strides with controlled prefix expansion: each level is
/// a 256-entry node; a prefix of length L lives at level (L-1)/8, copied into the
/// 2^(8*(level+1)-L) entries it covers, where a longer prefix always wins. A lookup reads at
/// most one entry per byte of address (4 for IPv4, 16 for IPv6), no allocation.
///
/// Built once with ``PrefixTable/Builder``, then immutable and shared by every worker.
public final class PrefixTable<Value: Sendable>: Sendable {
    /// Per entry: index into `values` (-1: none), and the child node (0: none; 0 is the root).
    private let hop: [Int32]
    private let child: [Int32]
    private let values: [Value]
    private let defaultIndex: Int32
    /// Address bytes: 4 or 16.
    public let addressBytes: Int
    public var count: Int { values.count }

    init(_ b: Builder) {
        hop = b.hop
        child = b.child
        values = b.values
        defaultIndex = b.defaultIndex
        addressBytes = b.addressBytes
    }

    /// The value of the longest prefix covering the address at `p` (network byte order).
    @inline(__always)
    public func lookup(at p: UnsafeRawPointer) -> Value? {
        hop.withUnsafeBufferPointer { hop in
            child.withUnsafeBufferPointer { child in
                var best = defaultIndex
                var node = 0
                for l in 0..<addressBytes {
                    let e = node &* 256 &+ Int(p.load(fromByteOffset: l, as: UInt8.self))
                    let h = hop[e]
                    if h >= 0 { best = h }
                    let c = child[e]
                    if c == 0 { break }
                    node = Int(c)
                }
                return best >= 0 ? values[Int(best)] : nil
            }
        }
    }

    public func lookup(_ address: [UInt8]) -> Value? {
        precondition(address.count == addressBytes)
        return address.withUnsafeBytes { lookup(at: $0.baseAddress!) }
    }

    /// Collects prefixes, then ``build()`` freezes them into a table.
    public struct Builder {
        var hop: [Int32]
        var length: [UInt8]
        var child: [Int32]
        var values: [Value] = []
        var defaultIndex: Int32 = -1
        let addressBytes: Int

        public init(addressBytes: Int) {
            precondition(addressBytes == 4 || addressBytes == 16)
            self.addressBytes = addressBytes
            hop = Array(repeating: -1, count: 256)
            length = Array(repeating: 0, count: 256)
            child = Array(repeating: 0, count: 256)
        }

        private mutating func newNode() -> Int32 {
            let node = Int32(hop.count / 256)
            hop += repeatElement(-1, count: 256)
            length += repeatElement(0, count: 256)
            child += repeatElement(0, count: 256)
            return node
        }

        /// Adds `address/prefixLength -> value` (bits past the prefix are ignored). Inserting
        /// the same prefix again replaces its value.
        public mutating func insert(_ address: [UInt8], prefixLength: Int, value: Value) {
            precondition(address.count == addressBytes && (0...addressBytes * 8).contains(prefixLength))
            values.append(value)
            let index = Int32(values.count - 1)
            guard prefixLength > 0 else {
                defaultIndex = index
                return
            }
            let level = (prefixLength - 1) / 8
            var node = 0
            for l in 0..<level {
                let e = node * 256 + Int(address[l])
                if child[e] == 0 { child[e] = newNode() }
                node = Int(child[e])
            }
            let open = 8 * (level + 1) - prefixLength  // bits of this byte the prefix leaves open
            let first = Int(address[level]) & ~((1 << open) - 1)
            for b in first..<(first + (1 << open)) {
                let e = node * 256 + b
                if Int(length[e]) <= prefixLength {
                    hop[e] = index
                    length[e] = UInt8(prefixLength)
                }
            }
        }

        public func build() -> PrefixTable { PrefixTable(self) }
    }
}
