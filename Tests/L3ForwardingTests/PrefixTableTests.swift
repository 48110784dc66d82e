import L3Forwarding
import Testing

/// The stride table against a plain longest-match scan over random prefixes.
@Suite struct PrefixTableTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    }

    static func matches(_ address: [UInt8], _ prefix: [UInt8], _ length: Int) -> Bool {
        for bit in 0..<length where (address[bit / 8] ^ prefix[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
        return true
    }

    @Test(arguments: [4, 16], [1, 2, 3])
    func agreesWithALinearScan(addressBytes: Int, seed: UInt64) {
        var g = Generator(state: seed)
        var builder = PrefixTable<Int>.Builder(addressBytes: addressBytes)
        var prefixes: [([UInt8], Int, Int)] = []
        for i in 0..<300 {
            // Cluster prefixes so they nest: share the first byte often.
            var address = g.bytes(addressBytes)
            if i % 2 == 0 { address[0] = 10 }
            let length = Int(g.next() % UInt64(addressBytes * 8 + 1))
            builder.insert(address, prefixLength: length, value: i)
            prefixes.removeAll { $0.1 == length && Self.matches($0.0, address, length) }
            prefixes.append((address, length, i))
        }
        let table = builder.build()
        for k in 0..<3000 {
            var address = g.bytes(addressBytes)
            if k % 3 == 0 { address[0] = 10 }
            if k % 5 == 0, let p = prefixes.randomElement(using: &g) {  // inside a known prefix
                address = p.0
            }
            let expected = prefixes.filter { Self.matches(address, $0.0, $0.1) }.max { $0.1 < $1.1 }?.2
            #expect(table.lookup(address) == expected)
        }
    }

    @Test func defaultRouteAndHostRoutes() {
        var b = PrefixTable<String>.Builder(addressBytes: 4)
        b.insert([0, 0, 0, 0], prefixLength: 0, value: "default")
        b.insert([10, 0, 0, 0], prefixLength: 8, value: "ten")
        b.insert([10, 1, 2, 3], prefixLength: 32, value: "host")
        b.insert([10, 1, 2, 0], prefixLength: 23, value: "slash23")
        let t = b.build()
        #expect(t.lookup([10, 1, 2, 3]) == "host")
        #expect(t.lookup([10, 1, 3, 9]) == "slash23")
        #expect(t.lookup([10, 1, 4, 9]) == "ten")
        #expect(t.lookup([192, 168, 0, 1]) == "default")
    }
}

extension PrefixTableTests.Generator: RandomNumberGenerator {}
