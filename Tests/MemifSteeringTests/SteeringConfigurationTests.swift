import MemifSteering
import Testing

/// A pod's whole annotation map to its steering configuration: which key wins, what fails.
@Suite struct SteeringConfigurationTests {
    typealias Key = SteeringAnnotationKey

    @Test func noPortsKeyMeansNoMemif() throws {
        #expect(try SteeringConfiguration(annotations: [:]) == nil)
        #expect(try SteeringConfiguration(annotations: ["other.io/x": "tcp:80", Key.calicoSpec: #"{"rx":2}"#]) == nil)
    }

    @Test func calicoPortsAloneUseOurDefaultSpec() throws {
        let c = try #require(try SteeringConfiguration(annotations: [Key.calicoPorts: "tcp:4444-20000,udp:4444-20000"]))
        #expect(c.rules.ranges == [PortRange(.tcp, 4444, 20000), PortRange(.udp, 4444, 20000)])
        #expect(c.spec == MemifSpec())
        #expect(c.portsKey == Key.calicoPorts)
        #expect(c.specKey == nil)
        #expect(c.notes.isEmpty)
    }

    @Test func calicoPortsAndSpecTogether() throws {
        let c = try #require(
            try SteeringConfiguration(annotations: [Key.calicoPorts: "udp:6081,sctp:9", Key.calicoSpec: #"{"isl3":true,"rxqsz":4096}"#]))
        #expect(c.rules.ranges == [PortRange(.udp, 6081)])
        #expect(c.spec.mode == .ip)
        #expect(c.spec.bufferSize == 4096)
        #expect(c.specKey == Key.calicoSpec)
        #expect(c.notes.map(\.token) == ["sctp"])
    }

    @Test func ourKeysWinWholeAndTheLosersAreNoted() throws {
        let c = try #require(
            try SteeringConfiguration(annotations: [
                Key.calicoPorts: "tcp:80", Key.ports: "udp: 53",
                Key.calicoSpec: #"{"rx":4}"#, Key.spec: #"{"fallback":"kernel"}"#,
            ]))
        #expect(c.rules.ranges == [PortRange(.udp, 53)])
        #expect(c.portsKey == Key.ports)
        #expect(c.spec == MemifSpec(fallback: .kernel))
        #expect(c.specKey == Key.spec)
        #expect(Set(c.notes.map(\.key)) == [Key.calicoPorts, Key.calicoSpec])
    }

    @Test func mixedFamiliesTakeEachPartFromItsKey() throws {
        let c = try #require(try SteeringConfiguration(annotations: [Key.calicoPorts: "tcp:80", Key.spec: #"{"queues":2}"#]))
        #expect(c.portsKey == Key.calicoPorts)
        #expect(c.spec.clientToServerQueues == 2)
        #expect(c.specKey == Key.spec)
    }

    /// A bad value fails the pod even when the other family's key would win.
    static let failing: [([String: String], String, SteeringAnnotationError.Kind)] = [
        ([Key.ports: "tcp:80", Key.calicoPorts: "tcp:80, udp:53"], Key.calicoPorts, .badProtocol),
        ([Key.ports: "tcp:80", Key.spec: "{}", Key.calicoSpec: "null"], Key.calicoSpec, .badJSON),
        ([Key.ports: "tcp:x"], Key.ports, .badPort),
        ([Key.calicoPorts: "tcp:80", Key.calicoSpec: #"{"rx":1000}"#], Key.calicoSpec, .outOfLimits),
        ([Key.calicoSpec: #"{"rx":"1"}"#], Key.calicoSpec, .badFieldValue),
        ([Key.spec: #"{"queues":2}"#], Key.spec, .specWithoutPorts),
        ([Key.ports: "tcp:1", Key.spec: #"{"queues":2}"#, Key.calicoPorts: ""], Key.calicoPorts, .badItem),
    ]

    @Test(arguments: failing)
    func badAnnotationsFailNamingTheirKey(annotations: [String: String], key: String, kind: SteeringAnnotationError.Kind) {
        #expect {
            try SteeringConfiguration(annotations: annotations)
        } throws: { error in
            guard let e = error as? SteeringAnnotationError else { return false }
            return e.key == key && e.kind == kind && e.description.hasPrefix("annotation \(key): ")
        }
    }

    @Test func ourErrorsComeBeforeCalicosInAFixedOrder() {
        let annotations = [Key.ports: "tcp:0", Key.calicoPorts: "x", Key.spec: "{", Key.calicoSpec: "["]
        #expect {
            try SteeringConfiguration(annotations: annotations)
        } throws: { error in
            (error as? SteeringAnnotationError)?.key == Key.ports
        }
    }
}

@Suite struct SteeringMessageTests {
    @Test func longTokensAreShortenedInMessagesOnly() {
        let value = "[" + String(repeating: "1,", count: 500) + "1]"
        do {
            _ = try SteeringConfiguration(annotations: [SteeringAnnotationKey.ports: "tcp:1", SteeringAnnotationKey.spec: value])
            Issue.record("accepted an array spec")
        } catch {
            #expect(error.token == value)
            #expect(error.description.count < 200)
            #expect(error.description.contains("…\" at column 1)"))
        }
    }
}
