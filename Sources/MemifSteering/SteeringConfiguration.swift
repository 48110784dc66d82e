/// The annotation keys a pod uses to ask for a steering memif.
public enum SteeringAnnotationKey {
    public static let calicoPorts = "cni.projectcalico.org/vppExtraMemifPorts"
    public static let calicoSpec = "cni.projectcalico.org/vppExtraMemifSpec"
    public static let ports = "memifkit.io/ports"
    public static let spec = "memifkit.io/spec"
}

/// What a pod's annotations ask of memifd and memif-cni: which ports go to the memif and how
/// the memif is set up.
///
/// Precedence when both families are present: for each of ports and spec, our key
/// (`memifkit.io/…`) wins over Calico's, whole, without merging (a merged port list would
/// steer ports nobody wrote in one place). The losing key is still parsed and its errors
/// still fail the pod, as they would on Calico/VPP, so a typo never hides behind the other
/// key; a note records that it was overridden.
///
/// A memif is requested by a ports key. Calico's spec key alone is accepted and requests
/// nothing (as on Calico/VPP); our spec key alone is an error, since it can only be a mistake.
/// Without a spec key the spec is `MemifSpec()`.
public struct SteeringConfiguration: Sendable, Hashable {
    public var rules: PortRuleSet
    public var spec: MemifSpec
    /// The key the ports came from.
    public var portsKey: String
    /// The key the spec came from; nil for the defaults.
    public var specKey: String?
    /// Accepted-but-ignored entries and overridden keys, for a pod event.
    public var notes: [SteeringNote]

    public init(rules: PortRuleSet, spec: MemifSpec, portsKey: String, specKey: String?, notes: [SteeringNote] = []) {
        self.rules = rules
        self.spec = spec
        self.portsKey = portsKey
        self.specKey = specKey
        self.notes = notes
    }

    /// Reads a pod's whole annotation map. Returns nil when the pod asks for no memif; throws
    /// the first bad annotation in the order ports, spec, Calico ports, Calico spec.
    public init?(annotations: [String: String], limits: MemifSpec.Limits = .memifCore) throws(SteeringAnnotationError) {
        typealias Key = SteeringAnnotationKey
        let ours = try annotations[Key.ports].map { v throws(SteeringAnnotationError) in
            try PortListGrammar.parse(v, key: Key.ports, dialect: .memifKit)
        }
        let ourSpec = try annotations[Key.spec].map { v throws(SteeringAnnotationError) in
            try MemifSpec.parse(v, key: Key.spec, dialect: .memifKit, limits: limits)
        }
        let calico = try annotations[Key.calicoPorts].map { v throws(SteeringAnnotationError) in
            try PortListGrammar.parse(v, key: Key.calicoPorts, dialect: .calico)
        }
        let calicoSpec = try annotations[Key.calicoSpec].map { v throws(SteeringAnnotationError) in
            try MemifSpec.parse(v, key: Key.calicoSpec, dialect: .calico, limits: limits)
        }

        guard let ports = ours ?? calico else {
            if ourSpec != nil {
                throw SteeringAnnotationError(
                    .specWithoutPorts, key: Key.spec, token: annotations[Key.spec] ?? "", column: 1,
                    problem: "a spec needs \(Key.ports) (or \(Key.calicoPorts)) to say which ports to steer")
            }
            return nil
        }
        var notes: [SteeringNote] = []
        if let ours {
            notes += ours.notes
            if let calico {
                notes += calico.notes
                notes.append(Self.overridden(Key.calicoPorts, by: Key.ports, value: annotations[Key.calicoPorts] ?? ""))
            }
        } else {
            notes += ports.notes
        }
        var spec = MemifSpec()
        var specKey: String?
        if let ourSpec {
            (spec, specKey) = (ourSpec.spec, Key.spec)
            if let calicoSpec {
                notes += calicoSpec.notes
                notes.append(Self.overridden(Key.calicoSpec, by: Key.spec, value: annotations[Key.calicoSpec] ?? ""))
            }
        } else if let calicoSpec {
            (spec, specKey) = (calicoSpec.spec, Key.calicoSpec)
            notes += calicoSpec.notes
        }
        self.init(
            rules: PortRuleSet(ports.ranges), spec: spec, portsKey: ours == nil ? Key.calicoPorts : Key.ports,
            specKey: specKey, notes: notes)
    }

    private static func overridden(_ key: String, by winner: String, value: String) -> SteeringNote {
        SteeringNote(key: key, token: value, column: 1, message: "valid but overridden by \(winner)")
    }
}
