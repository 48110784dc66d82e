import MemifSteering
import Testing

/// The spec's JSON reader through the public parser: RFC 8259 details, hostile input, and
/// random bytes that must come back as values or errors, never traps.
@Suite struct SpecJSONTests {
    func ours(_ value: String) throws(SteeringAnnotationError) -> MemifSpec {
        try MemifSpec.parse(value, key: SteeringAnnotationKey.spec, dialect: .memifKit).spec
    }

    @Test func stringsDecodeEscapesAndSurrogatePairs() throws {
        #expect(try ours(#"{"mode":"\u0069\u0070"}"#).mode == .ip)
        #expect(try ours(#"{"m\u006fde":"ip"}"#).mode == .ip)
        #expect(try ours("{\"fallback\"\t:\r\n\"kernel\"}").fallback == .kernel)
        // A valid pair decodes (and is then an unknown mode), a lone surrogate is a JSON error.
        #expect(throws: SteeringAnnotationError.self) { try ours(#"{"mode":"\ud83d\ude00"}"#) }
        for bad in [#"{"mode":"\ud83d"}"#, #"{"mode":"\ude00x"}"#, #"{"mode":"\u12"}"#, #"{"mode":"\x"}"#, "{\"mode\":\"a\u{1}\"}"] {
            #expect {
                try ours(bad)
            } throws: { error in
                (error as? SteeringAnnotationError)?.kind == .badJSON
            }
        }
    }

    @Test func theFirstLineOfAnErrorPointsIntoTheValue() {
        do {
            _ = try ours(#"{"queues": 2 "mode": "ip"}"#)
            Issue.record("accepted a missing comma")
        } catch {
            #expect(error.description == #"annotation memifkit.io/spec: invalid JSON: expected ',' or '}' (""" at column 14)"#)
        }
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect {
            try ours(#"{"x":"# + deep + "}")
        } throws: { error in
            (error as? SteeringAnnotationError)?.problem.contains("nested too deeply") == true
        }
        let calico = #"{"foo":"# + String(repeating: "[", count: 31) + String(repeating: "]", count: 31) + "}"
        #expect(throws: Never.self) { try MemifSpec.parse(calico, key: "k", dialect: .calico) }
    }

    @Test func numbersFollowTheGrammar() {
        for good in ["0", "-0", "1.5", "1e3", "1E+3", "-2.5e-3"] {
            #expect(throws: Never.self) { try MemifSpec.parse(#"{"foo":"# + good + "}", key: "k", dialect: .calico) }
        }
        for bad in ["01", "1.", ".5", "+1", "1e", "-", "0x10", "1e+", "--1", "NaN", "Infinity"] {
            #expect {
                try MemifSpec.parse(#"{"foo":"# + bad + "}", key: "k", dialect: .calico)
            } throws: { error in
                (error as? SteeringAnnotationError)?.kind == .badJSON
            }
        }
    }

    /// Random mutations of valid specs: each parses or fails with a column inside the value.
    @Test func mutatedSpecsNeverTrap() {
        var rng = SplitMix(seed: 42)
        let seeds = [
            #"{"queues":4,"ringSize":2048,"bufferSize":9216,"mode":"ip","rxMode":"interrupt","fallback":"kernel"}"#,
            #"{"rx":2,"tx":2,"rxqsz":2048,"isl3":true,"rxMode":"polling","x":[1,{"y":"\u00e9"}]}"#,
        ]
        let alphabet = Array(#"{}[]":,\u0123456789-+.eEtrufalsn "#.unicodeScalars) + ["é", "\u{0}", "\u{1F600}"]
        for _ in 0..<20_000 {
            var scalars = Array(seeds.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: scalars[i] = alphabet.randomElement(using: &rng)!
                case 1: scalars.insert(alphabet.randomElement(using: &rng)!, at: i)
                default: if scalars.count > 1 { scalars.remove(at: i) }
                }
            }
            let value = String(String.UnicodeScalarView(scalars))
            for dialect in [MemifSpec.Dialect.calico, .memifKit] {
                do {
                    _ = try MemifSpec.parse(value, key: "k", dialect: dialect)
                } catch {
                    #expect(error.column >= 1 && error.column <= scalars.count + 1, "\(value)")
                }
            }
        }
    }
}
