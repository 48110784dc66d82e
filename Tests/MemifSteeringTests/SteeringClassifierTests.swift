import MemifSteering
import Testing

/// The classifier over scapy-made packets in both framings and both rule-set lookups, plus
/// every truncation of every packet.
@Suite struct SteeringClassifierTests {
    static let rules = try! PortRuleSet(PortListGrammar.parse(ScapyCases.rules, key: "test", dialect: .memifKit).ranges)
    static let lookups: [PortRuleSet.Lookup] = [.scan, .bitmap]

    func classify(_ bytes: [UInt8], _ framing: PacketFraming, _ lookup: PortRuleSet.Lookup) -> SteeringPath {
        // An exact-size heap copy, so any read past the packet is a read past the allocation.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        let classifier = SteeringClassifier(rules: PortRuleSet(Self.rules.ranges, lookup: lookup), framing: framing)
        return classifier.classify(UnsafeRawBufferPointer(copy))
    }

    @Test func scapyMadeEveryCase() {
        if ScapyCases.all.count < 40 { Issue.record("\(ScapyCases.loadError ?? "only \(ScapyCases.all.count) cases")") }
        #expect(ScapyCases.all.contains { $0.expected == "memif" } && ScapyCases.all.contains { $0.expected == "normal" })
    }

    @Test(arguments: ScapyCases.all, lookups)
    func ethernetFramesTakeTheirPath(c: ScapyCase, lookup: PortRuleSet.Lookup) {
        #expect(classify(c.frame, .ethernet, lookup) == (c.expected == "memif" ? .memif : .normal))
    }

    @Test(arguments: ScapyCases.all.filter { $0.ipPacket != nil }, lookups)
    func ipPacketsTakeTheirPath(c: ScapyCase, lookup: PortRuleSet.Lookup) {
        #expect(classify(c.ipPacket!, .ip, lookup) == (c.expected == "memif" ? .memif : .normal))
    }

    /// A packet cut anywhere before its end is truncated, so it takes the normal path.
    @Test(arguments: ScapyCases.all.filter { $0.expected == "memif" && !$0.padded })
    func everyTruncationTakesTheNormalPath(c: ScapyCase) {
        for n in 0..<c.frame.count {
            #expect(classify(Array(c.frame.prefix(n)), .ethernet, .scan) == .normal, "frame cut at \(n)")
        }
        if let ip = c.ipPacket {
            for n in 0..<ip.count {
                #expect(classify(Array(ip.prefix(n)), .ip, .bitmap) == .normal, "packet cut at \(n)")
            }
        }
    }

    @Test func anEmptyRuleSetSteersNothingAndEmptyBuffersAreNormal() {
        let none = SteeringClassifier(rules: .empty, framing: .ethernet)
        for c in ScapyCases.all {
            c.frame.withUnsafeBytes { #expect(none.classify($0) == .normal) }
        }
        let any = SteeringClassifier(rules: Self.rules, framing: .ip)
        #expect(any.classify(UnsafeRawBufferPointer(start: nil, count: 0)) == .normal)
    }

    /// The rule set decides: the same packet flips path with the rules.
    @Test func theRulesDecide() throws {
        let c = try #require(ScapyCases.all.first { $0.name == "v4-tcp-81" })
        let steer81 = SteeringClassifier(rules: PortRuleSet([PortRange(.tcp, 81)]), framing: .ethernet)
        c.frame.withUnsafeBytes { #expect(steer81.classify($0) == .memif) }
    }
}
