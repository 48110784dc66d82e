import MemifPacket
import Testing

@Suite struct ChecksumTests {
    /// RFC 1071's definition, word by word: the reference the fast sum must match.
    static func referenceSum(_ bytes: [UInt8]) -> UInt16 {
        var s: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            s += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt32(bytes[i]) << 8 }
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    @Test func rfc1071Example() {
        let p = PacketBytes(hex: "0001 f203 f4f5 f6f7")
        #expect(InternetChecksum.sum(p.pointer, count: p.count) == 0xDDF2)
        #expect(InternetChecksum.checksum(p.pointer, count: p.count) == 0x220D)
    }

    @Test func knownIPv4HeaderChecksum() throws {
        let p = PacketBytes(Hex.bytes("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7") + [UInt8](repeating: 0, count: 0x73 - 20))
        let h = try IPv4Header.parse(p.pointer, length: p.count).get()
        #expect(h.isChecksumValid)
        h.updateChecksum()
        #expect(h.checksum == 0xB861)
    }

    /// Every length 0...300 at every start alignment 0...7, including the 0xFF-heavy data that makes
    /// the 64-bit accumulator overflow.
    @Test(arguments: [UInt8(0x00), 0xFF, 0x5A])
    func fastSumMatchesTheReference(fill: UInt8) {
        var rng = SeededGenerator(seed: UInt64(fill))
        let bytes = (0..<308).map { _ in fill == 0x5A ? UInt8.random(in: 0...255, using: &rng) : fill }
        let p = PacketBytes(bytes)
        for start in 0..<8 {
            for n in 0...300 {
                let expected = Self.referenceSum(Array(bytes[start..<start + n]))
                #expect(InternetChecksum.sum(p.pointer + start, count: n) == expected, "start \(start) length \(n)")
            }
        }
    }

    @Test func longAllOnesBufferFolds() {
        let p = PacketBytes([UInt8](repeating: 0xFF, count: 65535))
        #expect(InternetChecksum.sum(p.pointer, count: p.count) == Self.referenceSum(p.bytes()))
    }

    /// RFC 1624: an incremental update equals a full recomputation, for 16-, 32- and 128-bit fields at
    /// random even offsets of random data.
    @Test(arguments: [2, 4, 16])
    func incrementalUpdateEqualsRecompute(fieldBytes: Int) {
        var rng = SeededGenerator(seed: UInt64(fieldBytes) * 977)
        for round in 0..<3000 {
            let n = Int.random(in: 20...120, using: &rng) & ~1
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round % 5 == 0 { for i in 0..<n where i % 3 != 0 { bytes[i] = 0 } }  // sparse data too
            bytes[0] = 0x45  // never all zeros, as in any real header
            let p = PacketBytes(bytes)
            let checksumAt = 2
            p.pointer.storeBytes(of: UInt16(0), toByteOffset: checksumAt, as: UInt16.self)
            let c0 = InternetChecksum.checksum(p.pointer, count: n)
            p.pointer.storeBytes(of: c0.bigEndian, toByteOffset: checksumAt, as: UInt16.self)
            let field = 4 + 2 * Int.random(in: 0...((n - 4 - fieldBytes) / 2), using: &rng)
            let newValue: [UInt8] = (0..<fieldBytes).map { _ in
                round % 7 == 0 ? 0xFF : round % 11 == 0 ? 0 : UInt8.random(in: 0...255, using: &rng)
            }
            let before = p.bytes()
            for (i, b) in newValue.enumerated() { p.pointer.storeBytes(of: b, toByteOffset: field + i, as: UInt8.self) }
            let updated: UInt16
            switch fieldBytes {
            case 2:
                let old = UInt16(before[field]) << 8 | UInt16(before[field + 1])
                updated = InternetChecksum.update(c0, old: old, new: UInt16(newValue[0]) << 8 | UInt16(newValue[1]))
            case 4:
                let old = IPv4Address(before[field], before[field + 1], before[field + 2], before[field + 3]).rawValue
                let new = IPv4Address(newValue[0], newValue[1], newValue[2], newValue[3]).rawValue
                updated = InternetChecksum.update(c0, old: old, new: new)
            default:
                let old = before.withUnsafeBytes { IPv6Address(loadingFrom: $0.baseAddress!, at: field) }
                let new = newValue.withUnsafeBytes { IPv6Address(loadingFrom: $0.baseAddress!, at: 0) }
                updated = InternetChecksum.update(c0, old: old, new: new)
            }
            p.pointer.storeBytes(of: UInt16(0), toByteOffset: checksumAt, as: UInt16.self)
            let full = InternetChecksum.checksum(p.pointer, count: n)
            #expect(updated == full, "round \(round)")
        }
    }

    @Test func pseudoHeaderSums() throws {
        // Sum of the IPv4 pseudo-header words written out by hand.
        let s = InternetChecksum.pseudoHeaderSum(
            source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocolNumber: 17, length: 12)
        #expect(s == Self.referenceSum([10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 12]))
        let a = try IPv6Address(parsing: "fd00::1"), b = try IPv6Address(parsing: "2001:db8::ffff:2")
        var bytes = [UInt8](repeating: 0, count: 40)
        bytes.withUnsafeMutableBytes {
            a.store(to: $0.baseAddress!, at: 0)
            b.store(to: $0.baseAddress!, at: 16)
        }
        bytes[32...35] = [0, 1, 0, 4]
        bytes[39] = 58
        #expect(InternetChecksum.pseudoHeaderSum(source: a, destination: b, protocolNumber: 58, length: 65540)
            == Self.referenceSum(bytes))
    }
}
