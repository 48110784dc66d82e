import MemifCNI
import MemifSteering

/// What memifd persists for one attachment: enough to recreate its listener and steering
/// after a restart without asking anyone.
public struct AttachmentRecord: Sendable, Hashable {
    public var key: AttachmentKey
    /// `CNI_NETNS` as the runtime passed it.
    public var netns: String
    public var podNamespace: String?
    public var podName: String?
    public var podUID: String?
    /// The CNI network (`name` in the config) the attachment belongs to.
    public var network: String?
    /// The memif socket in the pod's namespace (`@name`).
    public var socket: String
    /// The pod's memif annotations only (ports, spec, socket), re-read on restore.
    public var annotations: [String: String]
    /// The pod's addresses (from the chain's previous result): what steering matches on.
    public var podIPs: [String]

    /// The annotation keys memifd keeps.
    public static let keptAnnotations: Set<String> = [
        SteeringAnnotationKey.calicoPorts, SteeringAnnotationKey.calicoSpec, SteeringAnnotationKey.ports,
        SteeringAnnotationKey.spec, SocketAnnotation.key,
    ]

    public init(
        key: AttachmentKey, netns: String, podNamespace: String?, podName: String?, podUID: String?, network: String?,
        socket: String, annotations: [String: String], podIPs: [String] = []
    ) {
        self.podIPs = podIPs
        self.network = network
        self.key = key
        self.netns = netns
        self.podNamespace = podNamespace
        self.podName = podName
        self.podUID = podUID
        self.socket = socket
        self.annotations = annotations.filter { Self.keptAnnotations.contains($0.key) }
    }

    var json: JSON {
        var m: [(key: String, value: JSON)] = [
            ("containerID", .string(key.containerID)), ("ifname", .string(key.ifname)), ("netns", .string(netns)),
        ]
        for (name, value) in [("podNamespace", podNamespace), ("podName", podName), ("podUID", podUID), ("network", network)] {
            if let value { m.append((name, .string(value))) }
        }
        m.append(("socket", .string(socket)))
        m.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        if !podIPs.isEmpty { m.append(("podIPs", .array(podIPs.map { .string($0) }))) }
        return .object(m)
    }

    init?(json: JSON) {
        guard let key = AttachmentKey(json: json), let netns = json["netns"]?.stringValue,
            let socket = json["socket"]?.stringValue, let members = json["annotations"]?.objectValue
        else { return nil }
        var annotations: [String: String] = [:]
        for m in members {
            guard let v = m.value.stringValue else { return nil }
            annotations[m.key] = v
        }
        self.init(
            key: key, netns: netns, podNamespace: json["podNamespace"]?.stringValue, podName: json["podName"]?.stringValue,
            podUID: json["podUID"]?.stringValue, network: json["network"]?.stringValue, socket: socket,
            annotations: annotations, podIPs: json["podIPs"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

/// `memifkit.io/socket`: the pod's own abstract socket name (default: the node's template).
public enum SocketAnnotation {
    public static let key = "memifkit.io/socket"
}
