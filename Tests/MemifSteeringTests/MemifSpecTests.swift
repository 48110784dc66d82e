import Memif
import MemifSteering
import Testing

/// Both spec dialects: Calico's InterfaceSpec as Go reads it (and the rxqsz quirk), ours
/// strictly, and the limits against the memif core's own validation.
@Suite struct MemifSpecTests {
    static let calicoKey = SteeringAnnotationKey.calicoSpec
    static let ourKey = SteeringAnnotationKey.spec

    func calico(_ value: String, limits: MemifSpec.Limits = .memifCore) throws(SteeringAnnotationError) -> (spec: MemifSpec, notes: [SteeringNote]) {
        try MemifSpec.parse(value, key: Self.calicoKey, dialect: .calico, limits: limits)
    }

    func ours(_ value: String, limits: MemifSpec.Limits = .memifCore) throws(SteeringAnnotationError) -> MemifSpec {
        try MemifSpec.parse(value, key: Self.ourKey, dialect: .memifKit, limits: limits).spec
    }

    @Test func calicoExampleFromTheReference() throws {
        let (spec, notes) = try calico(#"{"rx":2,"tx":3,"rxqsz":2048,"isl3":true,"rxMode":"polling"}"#)
        #expect(spec.clientToServerQueues == 2)
        #expect(spec.serverToClientQueues == 3)
        #expect(spec.bufferSize == 2048)  // rxqsz is Calico/VPP's buffer size
        #expect(spec.ringSize == 1024)
        #expect(spec.mode == .ip)
        #expect(spec.rxMode == .polling)
        #expect(spec.fallback == .drop)
        #expect(notes.isEmpty)
    }

    @Test func calicoDefaultsAreCalicos() throws {
        let spec = try calico("{}").spec
        #expect(spec == MemifSpec(queues: 1, ringSize: 1024, bufferSize: 1024, mode: .ethernet, rxMode: .adaptive, fallback: .drop))
        #expect(try calico(#"{"rx":0,"tx":null,"rxqsz":0,"isl3":null,"rxMode":null}"#).spec == spec)
        #expect(try calico(#"{"isl3":false,"rxMode":"default"}"#).spec == spec)
    }

    @Test func calicoReadsNamesLikeGo() throws {
        #expect(try calico(#"{"RX":3,"Rxqsz":4096,"ISL3":true}"#).spec.clientToServerQueues == 3)
        #expect(try calico(#"{"RX":3,"Rxqsz":4096}"#).spec.bufferSize == 4096)
        #expect(try calico(#"{"rxqſz":4096}"#).spec.bufferSize == 4096)  // Go folds long ſ to s
        #expect(try calico(#"{"rx":2,"rx":4}"#).spec.clientToServerQueues == 4)  // last wins
        #expect(try calico(#"{"rx":2,"Rx":5}"#).spec.clientToServerQueues == 5)
        #expect(try calico(#"{"rx":-0}"#).spec.clientToServerQueues == 1)
    }

    @Test func calicoNotesWhatItIgnores() throws {
        let (spec, notes) = try calico(#"{"txqsz":512,"rxMode":"turbo","foo":[1,{"a":null}]}"#)
        #expect(spec.rxMode == .adaptive)
        #expect(Set(notes.map(\.token)) == ["txqsz", "rxMode", "foo"])
        #expect(notes.first { $0.token == "foo" }?.column == 31)
    }

    static let calicoRejected: [(String, SteeringAnnotationError.Kind, String, Int)] = [
        ("null", .badJSON, "null", 1),  // Calico's agent dereferences nil here
        ("[]", .badJSON, "[]", 1),
        (" 12", .badJSON, " 12", 2),
        ("", .badJSON, "", 1),
        (#"{"rx":"2"}"#, .badFieldValue, #""2""#, 7),
        (#"{"rx":2.0}"#, .badFieldValue, "2.0", 7),
        (#"{"rx":1e1}"#, .badFieldValue, "1e1", 7),
        (#"{"rx":99999999999999999999}"#, .badFieldValue, "99999999999999999999", 7),
        (#"{"isl3":"true"}"#, .badFieldValue, #""true""#, 9),
        (#"{"rxMode":1}"#, .badFieldValue, "1", 11),
        (#"{"rx":256}"#, .outOfLimits, "256", 7),
        (#"{"tx":-1}"#, .outOfLimits, "-1", 7),
        (#"{"rxqsz":65536}"#, .outOfLimits, "65536", 10),
        (#"{"rx":2"#, .badJSON, "", 8),
        (#"{'rx':2}"#, .badJSON, "'", 2),
        (#"{"rx":02}"#, .badJSON, "02", 7),
        (#"{"rx":2,}"#, .badJSON, "}", 9),
        (#"{"rx":2} x"#, .badJSON, "x", 10),
    ]

    @Test(arguments: calicoRejected)
    func calicoRejectsWithTokenAndColumn(value: String, kind: SteeringAnnotationError.Kind, token: String, column: Int) {
        #expect {
            try calico(value)
        } throws: { error in
            guard let e = error as? SteeringAnnotationError else { return false }
            return e.kind == kind && e.token == token && e.column == column && e.key == Self.calicoKey
        }
    }

    @Test func oursReadsEveryField() throws {
        let spec = try ours(
            #"{"queues":4,"ringSize":2048,"bufferSize":9216,"mode":"ip","rxMode":"interrupt","fallback":"kernel"}"#)
        #expect(spec == MemifSpec(queues: 4, ringSize: 2048, bufferSize: 9216, mode: .ip, rxMode: .interrupt, fallback: .kernel))
        #expect(spec.log2RingSize == 11)
        #expect(try ours(" { } ") == MemifSpec())
        #expect(try ours(#"{"ringSize":16384,"bufferSize":65535,"queues":255}"#).log2RingSize == 14)
    }

    static let oursRejected: [(String, SteeringAnnotationError.Kind, String, Int)] = [
        (#"{"queue":2}"#, .unknownField, "queue", 2),
        (#"{"Queues":2}"#, .unknownField, "Queues", 2),
        (#"{"rx":2}"#, .unknownField, "rx", 2),
        (#"{"queues":2, "queues":2}"#, .duplicateField, "queues", 14),
        (#"{"ringSize":1000}"#, .outOfLimits, "1000", 13),
        (#"{"ringSize":1}"#, .outOfLimits, "1", 13),
        (#"{"ringSize":32768}"#, .outOfLimits, "32768", 13),
        (#"{"ringSize":-1024}"#, .outOfLimits, "-1024", 13),
        (#"{"bufferSize":0}"#, .outOfLimits, "0", 15),
        (#"{"bufferSize":65536}"#, .outOfLimits, "65536", 15),
        (#"{"queues":0}"#, .outOfLimits, "0", 11),
        (#"{"queues":null}"#, .badFieldValue, "null", 11),
        (#"{"queues":"2"}"#, .badFieldValue, #""2""#, 11),
        (#"{"queues":2.5}"#, .badFieldValue, "2.5", 11),
        (#"{"mode":"l3"}"#, .badFieldValue, #""l3""#, 9),
        (#"{"mode":"Ethernet"}"#, .badFieldValue, #""Ethernet""#, 9),
        (#"{"rxMode":"default"}"#, .badFieldValue, #""default""#, 11),
        (#"{"fallback":"tun"}"#, .badFieldValue, #""tun""#, 13),
        (#"{"fallback":true}"#, .badFieldValue, "true", 13),
        ("[1]", .badJSON, "[1]", 1),
    ]

    @Test(arguments: oursRejected)
    func oursRejectsWithTokenAndColumn(value: String, kind: SteeringAnnotationError.Kind, token: String, column: Int) {
        #expect {
            try ours(value)
        } throws: { error in
            guard let e = error as? SteeringAnnotationError else { return false }
            return e.kind == kind && e.token == token && e.column == column && e.key == Self.ourKey
        }
    }

    @Test func aNodeCanLowerTheLimits() throws {
        let node = MemifSpec.Limits(maximumQueues: 4, maximumRingSize: 4096, maximumBufferSize: 10240)
        #expect(try ours(#"{"queues":4,"ringSize":4096,"bufferSize":10240}"#, limits: node).ringSize == 4096)
        #expect(throws: SteeringAnnotationError.self) { try ours(#"{"queues":5}"#, limits: node) }
        #expect(throws: SteeringAnnotationError.self) { try ours(#"{"ringSize":8192}"#, limits: node) }
        #expect(throws: SteeringAnnotationError.self) { try calico(#"{"tx":5}"#, limits: node) }
        // A default above a lowered limit is refused too, with no token to point at.
        let tiny = MemifSpec.Limits(maximumQueues: 1, maximumRingSize: 512, maximumBufferSize: 512)
        #expect {
            try calico("{}", limits: tiny)
        } throws: { error in
            (error as? SteeringAnnotationError)?.kind == .outOfLimits && (error as? SteeringAnnotationError)?.token == ""
        }
    }

    /// The restated limits are exactly the memif core's: its validation accepts each maximum
    /// and refuses one past it.
    @Test func limitsMatchTheMemifCore() throws {
        let limits = MemifSpec.Limits.memifCore
        let socket = try MemifSocketName("@steering-limits")
        func configuration(queues: Int = 1, log2: UInt8 = 10, buffer: Int = 2048) -> MemifConfiguration {
            MemifConfiguration(role: .server, socket: socket, queues: queues, log2RingSize: log2, bufferSize: buffer)
        }
        let maxLog2 = UInt8(limits.maximumRingSize.trailingZeroBitCount)
        #expect(1 << Int(maxLog2) == limits.maximumRingSize)
        #expect(maxLog2 == MemifProtocol.maxLog2RingSize)
        try configuration(queues: limits.maximumQueues, log2: maxLog2, buffer: limits.maximumBufferSize).validate()
        #expect(throws: MemifError.self) { try configuration(queues: limits.maximumQueues + 1).validate() }
        #expect(throws: MemifError.self) { try configuration(log2: maxLog2 + 1).validate() }
        #expect(throws: MemifError.self) { try configuration(buffer: limits.maximumBufferSize + 1).validate() }
        // Our defaults are the core's defaults.
        let core = configuration()
        let ours = MemifSpec()
        #expect(ours.clientToServerQueues == core.clientToServerQueues)
        #expect(ours.log2RingSize == MemifConfiguration(role: .client, socket: socket).log2RingSize)
        #expect(ours.bufferSize == MemifConfiguration(role: .client, socket: socket).bufferSize)
        #expect(ours.mode.rawValue == MemifMode.ethernet.description)
    }
}
