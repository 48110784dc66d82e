extension MemifSpec {
    public enum Dialect: Sendable, Hashable {
        /// `cni.projectcalico.org/vppExtraMemifSpec`: Calico's InterfaceSpec object read the
        /// way Go's `encoding/json` reads it. Fields `rx`, `tx` (VPP's receive and transmit
        /// queues, so client-to-server and server-to-client), `rxqsz`, `txqsz`, `isl3`, `rxMode`;
        /// names match case-insensitively; unknown fields are ignored; a repeated field keeps
        /// its last value; `null` leaves a field at its default; 0 means default. As Calico/VPP
        /// does, `rxqsz` becomes the memif **buffer size** in bytes (reference §1.6), the ring
        /// keeps 1024 slots and `txqsz` is unused; an unknown `rxMode` string is the default.
        /// Unlike Calico we check every value against `Limits` (Calico checks only the node's
        /// `maxPodIfSpec`, and a top-level `null` crashes its agent; here it is an error).
        case calico
        /// `memifkit.io/spec`: `queues`, `ringSize`, `bufferSize`, `mode` (`ethernet`|`ip`),
        /// `rxMode` (`polling`|`interrupt`|`adaptive`), `fallback` (`drop`|`kernel`). Strict:
        /// exact field names, no unknown or repeated fields, no `null`, integers only.
        case memifKit
    }

    /// Parses and validates a spec annotation value; notes say what Calico's dialect ignored.
    public static func parse(
        _ value: String, key: String, dialect: Dialect, limits: Limits = .memifCore
    ) throws(SteeringAnnotationError) -> (spec: MemifSpec, notes: [SteeringNote]) {
        let document: SpecJSON
        let documentColumn: Int
        do {
            (document, documentColumn) = try SpecJSON.parse(value)
        } catch {
            throw SteeringAnnotationError(.badJSON, key: key, token: error.token, column: error.column, problem: "invalid JSON: \(error.problem)")
        }
        guard case .object(let members) = document else {
            throw SteeringAnnotationError(
                .badJSON, key: key, token: value, column: documentColumn, problem: "the spec must be a JSON object, not \(document.typeName)")
        }
        var reader = SpecReader(key: key, limits: limits)
        switch dialect {
        case .calico: try reader.readCalico(members)
        case .memifKit: try reader.readMemifKit(members)
        }
        return (reader.spec, reader.notes)
    }
}

private struct SpecReader {
    let key: String
    let limits: MemifSpec.Limits
    var spec = MemifSpec()
    var notes: [SteeringNote] = []

    init(key: String, limits: MemifSpec.Limits) {
        self.key = key
        self.limits = limits
    }

    mutating func readCalico(_ members: [SpecJSON.Member]) throws(SteeringAnnotationError) {
        // Go's encoding/json: the last of several case-insensitively equal names wins.
        var fields: [String: SpecJSON.Member] = [:]
        for member in members {
            let name = Self.goFolded(member.key)
            if ["rx", "tx", "rxqsz", "txqsz", "isl3", "rxmode"].contains(name) {
                fields[name] = member
            } else {
                notes.append(note(member, "Calico/VPP ignores this field"))
            }
        }
        var rx = 0, tx = 0, rxqsz = 0
        if let m = fields["rx"] { rx = try calicoInteger(m) }
        if let m = fields["tx"] { tx = try calicoInteger(m) }
        if let m = fields["rxqsz"] { rxqsz = try calicoInteger(m) }
        if let m = fields["txqsz"], try calicoInteger(m) != 0 {
            notes.append(note(m, "Calico/VPP does not use txqsz for the memif"))
        }
        if let m = fields["isl3"] {
            switch m.value {
            case .bool(let isL3): spec.mode = isL3 ? .ip : .ethernet
            case .null: break
            default: throw wrongType(m, "isl3 must be true or false")
            }
        }
        if let m = fields["rxmode"] {
            switch m.value {
            case .string(let mode):
                if let known = MemifSpec.RxMode(rawValue: mode) {
                    spec.rxMode = known
                } else if mode != "default" {
                    notes.append(note(m, "unknown rxMode; Calico/VPP uses the default (adaptive)"))
                }
            case .null: break
            default: throw wrongType(m, "rxMode must be a string")
            }
        }
        // Calico replaces 0 by 1 queue and 1024 entries, then hands rxqsz to VPP as buffer_size.
        spec.clientToServerQueues = try queues(rx == 0 ? 1 : rx, fields["rx"])
        spec.serverToClientQueues = try queues(tx == 0 ? 1 : tx, fields["tx"])
        spec.bufferSize = try bufferSize(rxqsz == 0 ? 1024 : rxqsz, fields["rxqsz"])
        spec.ringSize = 1024
        spec.fallback = .drop
    }

    mutating func readMemifKit(_ members: [SpecJSON.Member]) throws(SteeringAnnotationError) {
        var seen: Set<String> = []
        for member in members {
            guard seen.insert(member.key).inserted else {
                throw SteeringAnnotationError(
                    .duplicateField, key: key, token: member.key, column: member.keyColumn, problem: "the field appears more than once")
            }
            switch member.key {
            case "queues":
                let n = try strictInteger(member)
                spec.clientToServerQueues = try queues(n, member)
                spec.serverToClientQueues = spec.clientToServerQueues
            case "ringSize":
                let n = try strictInteger(member)
                guard n >= 2, n <= limits.maximumRingSize, n & (n - 1) == 0 else {
                    throw outOfLimits(member, "ringSize must be a power of two from 2 to \(limits.maximumRingSize)")
                }
                spec.ringSize = n
            case "bufferSize":
                spec.bufferSize = try bufferSize(try strictInteger(member), member)
            case "mode":
                spec.mode = try enumeration(member, MemifSpec.Mode.self)
            case "rxMode":
                spec.rxMode = try enumeration(member, MemifSpec.RxMode.self)
            case "fallback":
                spec.fallback = try enumeration(member, MemifSpec.Fallback.self)
            default:
                throw SteeringAnnotationError(
                    .unknownField, key: key, token: member.key, column: member.keyColumn,
                    problem: "unknown field; expected queues, ringSize, bufferSize, mode, rxMode or fallback")
            }
        }
    }

    private func queues(_ n: Int, _ member: SpecJSON.Member?) throws(SteeringAnnotationError) -> Int {
        guard n >= 1, n <= limits.maximumQueues else {
            throw outOfLimits(member, "queue count must be 1...\(limits.maximumQueues)")
        }
        return n
    }

    private func bufferSize(_ n: Int, _ member: SpecJSON.Member?) throws(SteeringAnnotationError) -> Int {
        guard n >= 1, n <= limits.maximumBufferSize else {
            throw outOfLimits(member, "buffer size must be 1...\(limits.maximumBufferSize) bytes")
        }
        return n
    }

    /// Go's `int` from a JSON literal: an integer without fraction or exponent; `null` is 0.
    private func calicoInteger(_ m: SpecJSON.Member) throws(SteeringAnnotationError) -> Int {
        switch m.value {
        case .null: return 0
        case .number(let literal):
            guard let n = Int(literal) else { throw wrongType(m, "\(m.key) must be an integer") }
            return n
        default: throw wrongType(m, "\(m.key) must be an integer")
        }
    }

    private func strictInteger(_ m: SpecJSON.Member) throws(SteeringAnnotationError) -> Int {
        guard case .number(let literal) = m.value, let n = Int(literal) else {
            throw wrongType(m, "\(m.key) must be an integer")
        }
        return n
    }

    private func enumeration<E: RawRepresentable & CaseIterable>(_ m: SpecJSON.Member, _: E.Type) throws(SteeringAnnotationError) -> E
    where E.RawValue == String {
        let expected = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let s) = m.value, let e = E(rawValue: s) else {
            throw wrongType(m, "\(m.key) must be one of \(expected)")
        }
        return e
    }

    private func wrongType(_ m: SpecJSON.Member, _ problem: String) -> SteeringAnnotationError {
        SteeringAnnotationError(.badFieldValue, key: key, token: m.valueText, column: m.valueColumn, problem: problem)
    }

    private func outOfLimits(_ m: SpecJSON.Member?, _ problem: String) -> SteeringAnnotationError {
        // A default can only be out of limits when a node lowered them; then no token exists.
        SteeringAnnotationError(.outOfLimits, key: key, token: m?.valueText ?? "", column: m?.valueColumn ?? 1, problem: problem)
    }

    private func note(_ m: SpecJSON.Member, _ message: String) -> SteeringNote {
        SteeringNote(key: key, token: m.key, column: m.keyColumn, message: message)
    }

    /// Go's encoding/json name matching: simple case folding, where long ſ folds to s and the
    /// Kelvin sign to k.
    static func goFolded(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        for s in name.unicodeScalars {
            switch s.value {
            case 0x41...0x5A: out.append(Unicode.Scalar(UInt8(s.value + 0x20)))
            case 0x017F: out.append("s")
            case 0x212A: out.append("k")
            default: out.append(s)
            }
        }
        return String(out)
    }
}
