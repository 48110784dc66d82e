/// The network configuration a runtime passes on stdin: our plugin object from the conflist
/// plus `cniVersion`, `name`, `runtimeConfig` and `prevResult`. Keys we do not know are kept in
/// `document` (and so passed through untouched).
public struct NetworkConfiguration: Sendable {
    /// What memif-cni speaks; 1.0.0 so it chains after plugins that stop there (Debian's 1.1.1
    /// reference plugins).
    public static let supportedVersions = ["1.0.0", "1.1.0"]
    public static let defaultNodeSocket = "/run/memifkit/memifd.sock"
    /// The capability the plugin declares so containerd and CRI-O pass the pod's annotations.
    public static let podAnnotationsCapability = "io.kubernetes.cri.pod-annotations"

    public var document: JSON
    public var cniVersion: String
    public var name: String?
    /// memifd's unix socket on the node (`memifdSocket`).
    public var nodeSocket: String
    /// The pod's annotations when the runtime passed them, nil otherwise.
    public var podAnnotations: [String: String]?
    public var prevResult: JSON?
    /// GC: `cni.dev/valid-attachments`.
    public var validAttachments: [AttachmentKey]?

    public init(stdin bytes: [UInt8]) throws(CNIError) {
        let document: JSON
        do throws(JSONSyntaxError) {
            document = try JSON.parse(bytes: bytes)
        } catch {
            throw CNIError(.decodingFailure, "network configuration is not JSON: \(error)")
        }
        guard case .object = document else {
            throw CNIError(.decodingFailure, "network configuration is \(document.typeName), not an object")
        }
        self.document = document
        guard let version = document["cniVersion"]?.stringValue else {
            throw CNIError(.invalidConfiguration, "network configuration has no cniVersion string")
        }
        guard Self.supportedVersions.contains(version) else {
            throw CNIError(
                .incompatibleVersion, "cniVersion \(version.prefix(40)) is not supported",
                details: "supported: \(Self.supportedVersions.joined(separator: ", "))")
        }
        cniVersion = version
        name = document["name"]?.stringValue
        switch document["memifdSocket"] {
        case nil, .null?: nodeSocket = Self.defaultNodeSocket
        case .string(let path)? where path.hasPrefix("/"): nodeSocket = path
        case let other?:
            throw CNIError(.invalidConfiguration, "memifdSocket must be an absolute path string, got \(other.typeName)")
        }
        switch document["runtimeConfig"]?[Self.podAnnotationsCapability] {
        case nil, .null?: podAnnotations = nil
        case .object(let members)?:
            var annotations: [String: String] = [:]
            for m in members {
                guard case .string(let v) = m.value else {
                    throw CNIError(
                        .invalidConfiguration,
                        "runtimeConfig.\(Self.podAnnotationsCapability)[\(m.key.prefix(80))] is \(m.value.typeName), not a string")
                }
                annotations[m.key] = v
            }
            podAnnotations = annotations
        case let other?:
            throw CNIError(.invalidConfiguration, "runtimeConfig.\(Self.podAnnotationsCapability) is \(other.typeName), not an object")
        }
        switch document["prevResult"] {
        case nil, .null?: prevResult = nil
        case let result? where result.objectValue != nil: prevResult = result
        case let other?: throw CNIError(.invalidConfiguration, "prevResult is \(other.typeName), not an object")
        }
        switch document["cni.dev/valid-attachments"] {
        case nil, .null?: validAttachments = nil
        case .array(let items)?:
            var keys: [AttachmentKey] = []
            for item in items {
                guard let id = item["containerID"]?.stringValue, let ifname = item["ifname"]?.stringValue else {
                    throw CNIError(.invalidConfiguration, "cni.dev/valid-attachments entries need containerID and ifname strings")
                }
                keys.append(AttachmentKey(containerID: id, ifname: ifname))
            }
            validAttachments = keys
        case let other?: throw CNIError(.invalidConfiguration, "cni.dev/valid-attachments is \(other.typeName), not an array")
        }
    }
}

/// The spec's result documents, built over what the previous plugin returned.
public enum CNIResult {
    /// First spec version whose interfaces carry `socketPath`.
    static let socketPathVersion = "1.1.0"

    /// ADD's result: `prevResult` (or an empty result when memif-cni runs alone), relabelled to
    /// `cniVersion`, with the memif appended to `interfaces` as `{name, sandbox, socketPath}`.
    ///
    /// A 1.0.0 result has no field for a socket, so it is returned unchanged and stays valid
    /// 1.0.0: the socket is then known by convention (`@vpp/memif-<CNI_IFNAME>`, or the pod's
    /// `memifkit.io/socket`) and listed by `memifctl status`.
    public static func add(prevResult: JSON?, cniVersion: String, memif: AttachmentStatus?) -> JSON {
        var result = prevResult ?? .object([])
        result.set("cniVersion", .string(cniVersion))
        if result["interfaces"] == nil, prevResult == nil { result.set("interfaces", .array([])) }
        guard let memif, cniVersion == socketPathVersion else { return result }
        var interfaces = result["interfaces"]?.arrayValue ?? []
        interfaces.append(
            .object([
                ("name", .string(memif.interfaceName)), ("sandbox", .string(memif.netns)),
                ("socketPath", .string(memif.socket)),
            ]))
        result.set("interfaces", .array(interfaces))
        return result
    }

    /// VERSION's document.
    public static func version(cniVersion: String) -> JSON {
        .object([
            ("cniVersion", .string(cniVersion)),
            ("supportedVersions", .array(NetworkConfiguration.supportedVersions.map { .string($0) })),
        ])
    }
}
