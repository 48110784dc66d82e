/// A CNI error as the spec defines it: printed on stdout as `{cniVersion, code, msg, details}`
/// with a non-zero exit status. Also what memifd returns to memif-cni when it refuses a request.
public struct CNIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The codes of CNI spec 1.1 section "Error", and ours (100 and up).
    public enum Code: Int, Sendable {
        case incompatibleVersion = 1
        case unsupportedField = 2
        case unknownContainer = 3
        case invalidEnvironment = 4
        case ioFailure = 5
        case decodingFailure = 6
        case invalidConfiguration = 7
        case tryAgainLater = 11
        /// STATUS: the plugin cannot serve ADD now (memifd is down).
        case pluginNotAvailable = 50
        case pluginLimitedConnectivity = 51
        /// ADD for a (container, interface) that already has an attachment.
        case attachmentExists = 100
        /// memifd could not create the memif listener in the pod (bad netns, socket taken).
        case grantFailed = 101
        /// CHECK: the attachment memifd holds is missing or differs from the expected one.
        case attachmentMismatch = 102
        /// memifd answered, but not in the protocol memif-cni speaks.
        case protocolMismatch = 103
    }

    public var code: Int
    public var msg: String
    public var details: String

    public init(_ code: Code, _ msg: String, details: String = "") {
        self.init(code: code.rawValue, msg: msg, details: details)
    }

    public init(code: Int, msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    public var description: String { details.isEmpty ? "CNI error \(code): \(msg)" : "CNI error \(code): \(msg) (\(details))" }

    /// The spec's error document.
    public func json(cniVersion: String) -> JSON {
        var members: [(key: String, value: JSON)] = [("cniVersion", .string(cniVersion)), ("code", JSON(code)), ("msg", .string(msg))]
        if !details.isEmpty { members.append(("details", .string(details))) }
        return .object(members)
    }

    /// Reads an error document (memifd's replies use the same shape).
    public init?(json: JSON) {
        guard let code = json["code"]?.intValue, let msg = json["msg"]?.stringValue else { return nil }
        self.init(code: code, msg: msg, details: json["details"]?.stringValue ?? "")
    }
}
