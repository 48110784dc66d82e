/// The port-list annotation grammar, `PROTOCOL:PORT[-PORT]{,PROTOCOL:PORT[-PORT]}`, in its two
/// dialects.
///
/// `.calico` is `cni.projectcalico.org/vppExtraMemifPorts` exactly as Calico/VPP's agent
/// parses it (`pod_annotations.go`, reference §1.2): split on `,`, each item on `:` into
/// exactly two parts, the ports on `-` into one or two parts, each port Go's
/// `strconv.ParseUint(s, 10, 16)` (ASCII digits only, leading zeros allowed, 0...65535).
/// No whitespace anywhere. Protocol names go through Go's Unicode `ToUpper` and must then be
/// `TCP`, `UDP`, `SCTP`, `ICMP` or `ICMP6`; the dataplane steers only TCP and UDP, so the
/// other three are accepted and reported as notes. A range whose end is below its start
/// steers its start port only (reference §1.2), also reported.
///
/// `.memifKit` (`memifkit.io/ports`) is the same grammar, deliberately different in four ways:
/// spaces and tabs are allowed around every token; only `tcp` and `udp` (ASCII, any case)
/// are accepted, because silently ignoring an entry the user wrote is worse than refusing it;
/// a reversed range is an error; port 0 is an error (it is never a real destination port).
public enum PortListGrammar {
    public enum Dialect: Sendable, Hashable {
        case calico
        case memifKit
    }

    /// What a value parsed to: the ranges to steer, in written order, and the notes about
    /// what was accepted but is not steered.
    public struct Parsed: Sendable, Hashable {
        public var ranges: [PortRange]
        public var notes: [SteeringNote]
    }

    /// Parses `value` of annotation `key`. Errors name the bad token and its column.
    public static func parse(_ value: String, key: String, dialect: Dialect) throws(SteeringAnnotationError) -> Parsed {
        let text = Array(value.unicodeScalars)
        var parser = Parser(text: text, key: key, dialect: dialect)
        return try parser.run()
    }
}

/// One pass over the value's scalars; every token is a half-open index range into `text`.
private struct Parser {
    let text: [Unicode.Scalar]
    let key: String
    let dialect: PortListGrammar.Dialect
    var parsed = PortListGrammar.Parsed(ranges: [], notes: [])

    init(text: [Unicode.Scalar], key: String, dialect: PortListGrammar.Dialect) {
        self.text = text
        self.key = key
        self.dialect = dialect
    }

    mutating func run() throws(SteeringAnnotationError) -> PortListGrammar.Parsed {
        if dialect == .memifKit, trimmed(0..<text.count).isEmpty {
            throw error(.emptyValue, 0..<text.count, "the port list is empty")
        }
        for item in split(0..<text.count, on: ",") {
            try parseItem(item)
        }
        return parsed
    }

    private mutating func parseItem(_ item: Range<Int>) throws(SteeringAnnotationError) {
        let parts = split(item, on: ":")
        guard parts.count == 2 else {
            let what = trimmed(item).isEmpty ? "an empty item" : "an item without exactly one ':'"
            throw error(.badItem, trimmed(item), "\(what); expected PROTOCOL:PORT or PROTOCOL:PORT-PORT")
        }
        let protocolToken = trimmed(parts[0])
        let transport = try protocolOf(protocolToken)
        let ports = split(parts[1], on: "-")
        guard ports.count == 1 || ports.count == 2 else {
            throw error(.badItem, trimmed(parts[1]), "expected PORT or PORT-PORT")
        }
        let first = try port(trimmed(ports[0]))
        var last = first
        if ports.count == 2 {
            last = try port(trimmed(ports[1]))
        }
        if last < first {
            if dialect == .memifKit {
                throw error(.reversedRange, trimmed(parts[1]), "the range ends below its start")
            }
            note(trimmed(parts[1]), "the range ends below its start; Calico/VPP steers port \(first) only")
            last = first
        }
        guard let transport else {
            note(protocolToken, "Calico/VPP accepts this protocol but steers only tcp and udp; entry ignored")
            return
        }
        parsed.ranges.append(PortRange(transport, first, last))
    }

    /// nil for a protocol Calico accepts but does not steer.
    private func protocolOf(_ token: Range<Int>) throws(SteeringAnnotationError) -> SteeredProtocol? {
        switch dialect {
        case .memifKit:
            switch asciiUppercased(token) {
            case "TCP": return .tcp
            case "UDP": return .udp
            case "SCTP", "ICMP", "ICMP6":
                throw error(.unsupportedProtocol, token, "only tcp and udp traffic can be steered")
            default:
                throw error(.badProtocol, token, "unknown protocol; expected tcp or udp")
            }
        case .calico:
            switch goUppercased(token) {
            case "TCP": return .tcp
            case "UDP": return .udp
            case "SCTP", "ICMP", "ICMP6": return nil
            default:
                throw error(.badProtocol, token, "unknown protocol; expected tcp, udp, sctp, icmp or icmp6")
            }
        }
    }

    private func port(_ token: Range<Int>) throws(SteeringAnnotationError) -> UInt16 {
        let range = dialect == .calico ? "0...65535" : "1...65535"
        var value = 0
        for i in token {
            let v = text[i].value
            guard v >= 0x30, v <= 0x39 else {
                throw error(.badPort, token, "a port must be a decimal number \(range)")
            }
            value = value * 10 + Int(v - 0x30)
            guard value <= 65535 else { throw error(.badPort, token, "a port must be a decimal number \(range)") }
        }
        guard !token.isEmpty else { throw error(.badPort, token, "a port is missing") }
        if dialect == .memifKit, value == 0 {
            throw error(.badPort, token, "port 0 is not a destination port")
        }
        return UInt16(value)
    }

    /// Go's `strings.Split`: n separators give n+1 parts, empty parts included.
    private func split(_ range: Range<Int>, on separator: Unicode.Scalar) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = range.lowerBound
        for i in range where text[i] == separator {
            parts.append(start..<i)
            start = i + 1
        }
        parts.append(start..<range.upperBound)
        return parts
    }

    /// Strips spaces and tabs in the `.memifKit` dialect; `.calico` keeps every byte.
    private func trimmed(_ range: Range<Int>) -> Range<Int> {
        guard dialect == .memifKit else { return range }
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, text[lower] == " " || text[lower] == "\t" { lower += 1 }
        while upper > lower, text[upper - 1] == " " || text[upper - 1] == "\t" { upper -= 1 }
        return lower..<upper
    }

    /// ASCII letters upper-cased; every other scalar kept.
    private func asciiUppercased(_ token: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        for i in token {
            let v = text[i].value
            out.append(v >= 0x61 && v <= 0x7A ? Unicode.Scalar(UInt8(v - 0x20)) : text[i])
        }
        return String(out)
    }

    /// Go's `strings.ToUpper`, as far as it can produce an accepted name: ASCII letters, plus
    /// the only two non-ASCII letters whose upper case is ASCII, dotless ı (U+0131) -> I and
    /// long ſ (U+017F) -> S. Calico therefore accepts `ıcmp` and `ſctp`.
    private func goUppercased(_ token: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        for i in token {
            let v = text[i].value
            switch v {
            case 0x0131: out.append("I")
            case 0x017F: out.append("S")
            case 0x61...0x7A: out.append(Unicode.Scalar(UInt8(v - 0x20)))
            default: out.append(text[i])
            }
        }
        return String(out)
    }

    private func string(_ range: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text[range])
        return String(out)
    }

    private func error(_ kind: SteeringAnnotationError.Kind, _ token: Range<Int>, _ problem: String) -> SteeringAnnotationError {
        SteeringAnnotationError(kind, key: key, token: string(token), column: token.lowerBound + 1, problem: problem)
    }

    private mutating func note(_ token: Range<Int>, _ message: String) {
        parsed.notes.append(SteeringNote(key: key, token: string(token), column: token.lowerBound + 1, message: message))
    }
}
