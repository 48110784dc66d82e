/// Hand-assembled packet bytes, written field by field without the library's builders, so parser
/// tests do not depend on the code they check. Checksums are left zero unless a test sets them.
enum Raw {
    static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func be32(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }

    static func ethernet(type: Int, tags: [(tpid: Int, vid: Int)] = []) -> [UInt8] {
        var b: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
        for t in tags { b += be16(t.tpid) + be16(t.vid) }
        return b + be16(type)
    }

    /// An IPv4 header; `options` bytes make the IHL unless `ihl` overrides it.
    static func ipv4(
        protocolNumber: UInt8 = 17, payloadLength: Int, options: [UInt8] = [], ihl: Int? = nil,
        totalLength: Int? = nil, fragment: Int = 0, ttl: UInt8 = 64, version: UInt8 = 4,
        source: [UInt8] = [10, 0, 0, 1], destination: [UInt8] = [10, 0, 0, 2]
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        var b: [UInt8] = [version << 4 | UInt8(ihl ?? headerLength / 4), 0]
        b += be16(totalLength ?? headerLength + payloadLength)
        b += be16(0x1234) + be16(fragment) + [ttl, protocolNumber, 0, 0] + source + destination + options
        return b
    }

    static func ipv6(nextHeader: UInt8, payloadLength: Int, version: UInt8 = 6, hopLimit: UInt8 = 64) -> [UInt8] {
        [version << 4, 0, 0, 0] + be16(payloadLength) + [nextHeader, hopLimit]
            + [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [1]
            + [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [2]
    }

    /// A hop-by-hop, routing or destination-options header of `units` eight-byte units.
    static func extensionHeader(next: UInt8, units: Int = 1) -> [UInt8] {
        [next, UInt8(units - 1)] + [UInt8](repeating: 0, count: units * 8 - 2)
    }

    static func fragmentHeader(next: UInt8, offset: Int, more: Bool) -> [UInt8] {
        [next, 0] + be16(offset << 3 | (more ? 1 : 0)) + be32(0xABCD)
    }

    static func udp(source: Int = 1000, destination: Int = 53, payload: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
        be16(source) + be16(destination) + be16(8 + payload.count) + be16(0) + payload
    }

    static func tcp(source: Int = 40000, destination: Int = 443, dataOffset: Int = 5, options: [UInt8] = [],
                    payload: [UInt8] = []) -> [UInt8] {
        be16(source) + be16(destination) + be32(1) + be32(2) + [UInt8(dataOffset << 4), 0x18] + be16(512)
            + be16(0) + be16(0) + options + payload
    }
}
