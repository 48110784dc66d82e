import MemifSteering
import Testing

/// Golden cases for both dialects of the port-list grammar: what Calico/VPP's parser accepts
/// (and what it then ignores), what it rejects, and where `memifkit.io/ports` differs.
@Suite struct PortListGrammarTests {
    static let calicoKey = SteeringAnnotationKey.calicoPorts
    static let ourKey = SteeringAnnotationKey.ports

    func calico(_ value: String) throws(SteeringAnnotationError) -> PortListGrammar.Parsed {
        try PortListGrammar.parse(value, key: Self.calicoKey, dialect: .calico)
    }

    func ours(_ value: String) throws(SteeringAnnotationError) -> PortListGrammar.Parsed {
        try PortListGrammar.parse(value, key: Self.ourKey, dialect: .memifKit)
    }

    /// Accepted by Calico: the value, then the steered ranges in written order.
    static let calicoAccepted: [(String, [PortRange])] = [
        ("tcp:4444-20000,udp:4444-20000", [PortRange(.tcp, 4444, 20000), PortRange(.udp, 4444, 20000)]),
        ("udp:6081", [PortRange(.udp, 6081)]),
        ("TCP:80,Udp:53", [PortRange(.tcp, 80), PortRange(.udp, 53)]),
        ("tcp:0080", [PortRange(.tcp, 80)]),
        ("tcp:0", [PortRange(.tcp, 0)]),
        ("tcp:65535", [PortRange(.tcp, 65535)]),
        ("tcp:0-65535", [PortRange(.tcp, 0, 65535)]),
        ("tcp:80,tcp:80", [PortRange(.tcp, 80), PortRange(.tcp, 80)]),
        ("udp:000000000000000000053", [PortRange(.udp, 53)]),
        ("tcp:7-7", [PortRange(.tcp, 7)]),
    ]

    @Test(arguments: calicoAccepted)
    func calicoAcceptsWhatCalicoAccepts(value: String, expected: [PortRange]) throws {
        let parsed = try calico(value)
        #expect(parsed.ranges == expected)
        #expect(parsed.notes.isEmpty)
    }

    /// Accepted by Calico but not (fully) steered: the ranges left, and the noted token.
    static let calicoAcceptedWithNotes: [(String, [PortRange], String, Int)] = [
        ("sctp:80", [], "sctp", 1),
        ("tcp:80,icmp:0", [PortRange(.tcp, 80)], "icmp", 8),
        ("ICMP6:1-2,udp:9", [PortRange(.udp, 9)], "ICMP6", 1),
        // Go's ToUpper maps dotless ı to I and long ſ to S.
        ("ıcmp:1", [], "ıcmp", 1),
        ("ſctp:1", [], "ſctp", 1),
        // A reversed range steers its first port.
        ("tcp:20-10", [PortRange(.tcp, 20)], "20-10", 5),
    ]

    @Test(arguments: calicoAcceptedWithNotes)
    func calicoAcceptsAndNotesWhatItDoesNotSteer(value: String, expected: [PortRange], token: String, column: Int) throws {
        let parsed = try calico(value)
        #expect(parsed.ranges == expected)
        #expect(parsed.notes.count == 1)
        #expect(parsed.notes.first?.token == token)
        #expect(parsed.notes.first?.column == column)
        #expect(parsed.notes.first?.key == Self.calicoKey)
    }

    /// Rejected by Calico: the value, the error kind, the bad token and its column.
    static let calicoRejected: [(String, SteeringAnnotationError.Kind, String, Int)] = [
        ("", .badItem, "", 1),
        ("tcp:80, udp:53", .badProtocol, " udp", 8),
        ("tcp: 80", .badPort, " 80", 5),
        ("tcp:80 ", .badPort, "80 ", 5),
        (" tcp:80", .badProtocol, " tcp", 1),
        ("tcp:80,", .badItem, "", 8),
        (",tcp:80", .badItem, "", 1),
        ("tcp", .badItem, "tcp", 1),
        ("tcp:80:90", .badItem, "tcp:80:90", 1),
        ("tcp:80-90-100", .badItem, "80-90-100", 5),
        ("tcp:80-", .badPort, "", 8),
        ("tcp:-80", .badPort, "", 5),
        ("tcp:65536", .badPort, "65536", 5),
        ("tcp:99999999999999999999", .badPort, "99999999999999999999", 5),
        ("tcp:+80", .badPort, "+80", 5),
        ("tcp:8o", .badPort, "8o", 5),
        ("tcp:1_000", .badPort, "1_000", 5),
        ("tcp:0x50", .badPort, "0x50", 5),
        ("tcp:٨٠", .badPort, "٨٠", 5),
        ("http:80", .badProtocol, "http", 1),
        ("tcp6:80", .badProtocol, "tcp6", 1),
        ("udp:53,tcp", .badItem, "tcp", 8),
        (":80", .badProtocol, "", 1),
        ("tcp:", .badPort, "", 5),
    ]

    @Test(arguments: calicoRejected)
    func calicoRejectsWhatCalicoRejects(value: String, kind: SteeringAnnotationError.Kind, token: String, column: Int) {
        #expect {
            try calico(value)
        } throws: { error in
            guard let e = error as? SteeringAnnotationError else { return false }
            return e.kind == kind && e.token == token && e.column == column && e.key == Self.calicoKey
        }
    }

    static let oursAccepted: [(String, [PortRange])] = [
        ("tcp:4444-20000,udp:4444-20000", [PortRange(.tcp, 4444, 20000), PortRange(.udp, 4444, 20000)]),
        ("tcp:80, udp:53", [PortRange(.tcp, 80), PortRange(.udp, 53)]),
        (" tcp : 80 - 90 ,\tudp:53 ", [PortRange(.tcp, 80, 90), PortRange(.udp, 53)]),
        ("TCP:0080", [PortRange(.tcp, 80)]),
        ("udp:1-65535", [PortRange(.udp, 1, 65535)]),
    ]

    @Test(arguments: oursAccepted)
    func memifKitAcceptsTheGrammarWithSpaces(value: String, expected: [PortRange]) throws {
        let parsed = try ours(value)
        #expect(parsed.ranges == expected)
        #expect(parsed.notes.isEmpty)
    }

    static let oursRejected: [(String, SteeringAnnotationError.Kind, String, Int)] = [
        ("", .emptyValue, "", 1),
        ("  \t", .emptyValue, "  \t", 1),
        ("sctp:80", .unsupportedProtocol, "sctp", 1),
        ("tcp:80, icmp:1", .unsupportedProtocol, "icmp", 9),
        ("ıcmp:1", .badProtocol, "ıcmp", 1),
        ("tcp:20-10", .reversedRange, "20-10", 5),
        ("tcp: 20 - 10 ", .reversedRange, "20 - 10", 6),
        ("tcp:0", .badPort, "0", 5),
        ("tcp:80,,udp:53", .badItem, "", 8),
        ("tcp:80,", .badItem, "", 8),
        ("tcp:8 0", .badPort, "8 0", 5),
        ("tcp:80, udp", .badItem, "udp", 9),
        ("tcp:65536", .badPort, "65536", 5),
        ("tcp:80-90-100", .badItem, "80-90-100", 5),
        ("tcp 80", .badItem, "tcp 80", 1),
        ("tcp:\u{A0}80", .badPort, "\u{A0}80", 5),
    ]

    @Test(arguments: oursRejected)
    func memifKitRejectsWithTokenAndColumn(value: String, kind: SteeringAnnotationError.Kind, token: String, column: Int) {
        #expect {
            try ours(value)
        } throws: { error in
            guard let e = error as? SteeringAnnotationError else { return false }
            return e.kind == kind && e.token == token && e.column == column && e.key == Self.ourKey
        }
    }

    @Test func errorDescriptionNamesKeyTokenAndColumn() {
        do {
            _ = try ours("tcp:80, udp:8o")
            Issue.record("accepted a bad port")
        } catch {
            #expect(error.description == "annotation memifkit.io/ports: a port must be a decimal number 1...65535 (\"8o\" at column 13)")
        }
    }

    /// Every value of a small alphabet up to length 4 either parses or fails with a token that
    /// really occurs at the reported column; nothing traps.
    @Test func exhaustiveShortValuesNeverTrapAndPointAtRealTokens() {
        let alphabet: [Character] = ["t", "c", "p", ":", "-", ",", "8", " ", "ı"]
        var values = [""]
        for _ in 0..<4 { values += values.flatMap { v in alphabet.map { v + String($0) } } }
        for value in Set(values) {
            for dialect in [PortListGrammar.Dialect.calico, .memifKit] {
                do {
                    _ = try PortListGrammar.parse(value, key: "k", dialect: dialect)
                } catch {
                    let scalars = Array(value.unicodeScalars)
                    let start = error.column - 1
                    let end = start + error.token.unicodeScalars.count
                    #expect(start >= 0 && end <= scalars.count)
                    if start >= 0, end <= scalars.count {
                        #expect(String(String.UnicodeScalarView(scalars[start..<end])) == error.token)
                    }
                }
            }
        }
    }
}
