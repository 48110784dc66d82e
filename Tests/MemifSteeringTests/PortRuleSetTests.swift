import MemifSteering
import Testing

/// Both lookups of the rule set against a plain reading of the ranges, port by port.
@Suite struct PortRuleSetTests {
    @Test func rangesAreSortedAndMerged() {
        let set = PortRuleSet([
            PortRange(.udp, 5), PortRange(.tcp, 31, 40), PortRange(.tcp, 10, 20), PortRange(.tcp, 15, 30),
            PortRange(.tcp, 42), PortRange(.udp, 5), PortRange(.udp, 0, 3),
        ])
        #expect(set.ranges == [PortRange(.tcp, 10, 40), PortRange(.tcp, 42), PortRange(.udp, 0, 3), PortRange(.udp, 5)])
        #expect(set.description == "tcp:10-40,tcp:42,udp:0-3,udp:5")
        #expect(set == PortRuleSet(set.ranges, lookup: .bitmap))
    }

    @Test func automaticLookupSwitchesToTheBitmapAboveTheScanLimit() {
        let few = (0..<PortRuleSet.scanLimit).map { PortRange(.tcp, UInt16($0 * 10)) }
        #expect(!PortRuleSet(few).usesBitmap)
        #expect(PortRuleSet(few + [PortRange(.tcp, 1000)]).usesBitmap)
        #expect(PortRuleSet(few, lookup: .bitmap).usesBitmap)
        #expect(!PortRuleSet(few + [PortRange(.tcp, 1000)], lookup: .scan).usesBitmap)
    }

    static func randomRanges(_ count: Int, using rng: inout some RandomNumberGenerator) -> [PortRange] {
        (0..<count).map { _ in
            let a = UInt16.random(in: 0...65535, using: &rng)
            let width = UInt16.random(in: 0...([0, 3, 300] as [UInt16]).randomElement(using: &rng)!, using: &rng)
            let b = UInt16(min(65535, Int(a) + Int(width)))
            return PortRange(Bool.random(using: &rng) ? .tcp : .udp, a, b)
        } + [PortRange(.udp, 65535), PortRange(.tcp, 0)]
    }

    @Test(arguments: [1, 2, 7, 40])
    func everyPortMatchesAPlainReadingOfTheRanges(count: Int) {
        var rng = SplitMix(seed: UInt64(count))
        let ranges = Self.randomRanges(count, using: &rng)
        let scan = PortRuleSet(ranges, lookup: .scan)
        let bitmap = PortRuleSet(ranges, lookup: .bitmap)
        for transport in SteeredProtocol.allCases {
            var expected = [Bool](repeating: false, count: 65536)
            for r in ranges where r.transport == transport {
                for p in Int(r.first)...Int(r.last) { expected[p] = true }
            }
            var mismatches = 0
            for p in 0...65535 {
                let port = UInt16(p)
                if scan.contains(transport, port: port) != expected[p] { mismatches += 1 }
                if bitmap.contains(ipProtocol: transport.rawValue, port: port) != expected[p] { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(transport)")
        }
    }

    @Test func otherProtocolsNeverMatch() {
        let all = PortRuleSet([PortRange(.tcp, 0, 65535), PortRange(.udp, 0, 65535)])
        for lookup in [PortRuleSet.Lookup.scan, .bitmap] {
            let set = PortRuleSet(all.ranges, lookup: lookup)
            for proto in 0...255 where proto != 6 && proto != 17 {
                #expect(!set.contains(ipProtocol: UInt8(proto), port: 80))
            }
            #expect(set.contains(ipProtocol: 6, port: 0) && set.contains(ipProtocol: 17, port: 65535))
        }
        #expect(!PortRuleSet.empty.contains(.tcp, port: 80))
        #expect(PortRuleSet.empty.isEmpty)
    }
}

/// A small seeded generator, so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
