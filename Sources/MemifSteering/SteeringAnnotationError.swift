/// Why a pod's steering annotations were refused. `description` is the message memif-cni
/// returns as CNI error 7, so it names the annotation key, the bad token and where it starts.
public struct SteeringAnnotationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The value is empty (or only whitespace where whitespace is allowed).
        case emptyValue
        /// A list item is not `PROTOCOL:PORT[-PORT]`.
        case badItem
        /// The protocol name is not one the grammar knows.
        case badProtocol
        /// The protocol parses but cannot be steered (our key only; Calico ignores it).
        case unsupportedProtocol
        /// A port is not a decimal number in 0...65535 (1...65535 for our key).
        case badPort
        /// `first-last` with last below first (our key only; Calico steers `first`).
        case reversedRange
        /// The spec is not valid JSON, or not a JSON object.
        case badJSON
        /// A spec field our key does not define.
        case unknownField
        /// A spec field appears twice (our key only; Calico keeps the last).
        case duplicateField
        /// A spec field has the wrong JSON type or an unknown enumeration value.
        case badFieldValue
        /// A spec value is outside what the memif core (or the node) supports.
        case outOfLimits
        /// `memifkit.io/spec` was given without any ports annotation.
        case specWithoutPorts
    }

    public var kind: Kind
    /// The annotation key whose value was refused.
    public var key: String
    /// The offending text exactly as written (may be empty).
    public var token: String
    /// 1-based column of `token` in the value, counted in Unicode scalars.
    public var column: Int
    /// What is wrong, in words.
    public var problem: String

    public init(_ kind: Kind, key: String, token: String, column: Int, problem: String) {
        self.kind = kind
        self.key = key
        self.token = token
        self.column = column
        self.problem = problem
    }

    public var description: String {
        "annotation \(key): \(problem) (\"\(token.shortenedForMessages)\" at column \(column))"
    }
}

extension String {
    /// At most 64 scalars, so a huge bad value cannot flood a CNI error or an event.
    var shortenedForMessages: String {
        let scalars = unicodeScalars
        guard scalars.count > 64 else { return self }
        return String(String.UnicodeScalarView(scalars.prefix(63))) + "…"
    }
}

/// Something accepted but not acted on, for memifd to report as a pod event (Calico's key
/// accepts entries and values its dataplane then silently ignores).
public struct SteeringNote: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var token: String
    public var column: Int
    public var message: String

    public init(key: String, token: String, column: Int, message: String) {
        self.key = key
        self.token = token
        self.column = column
        self.message = message
    }

    public var description: String { "annotation \(key): \(message) (\"\(token.shortenedForMessages)\" at column \(column))" }
}
