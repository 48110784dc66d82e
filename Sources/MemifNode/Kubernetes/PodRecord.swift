import Foundation

/// What memifd needs of a `v1.Pod`: identity, node and annotations.
public struct PodRecord: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var uid: String
    public var resourceVersion: String
    public var nodeName: String?
    public var annotations: [String: String]

    public init(
        namespace: String, name: String, uid: String, resourceVersion: String, nodeName: String?, annotations: [String: String]
    ) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.nodeName = nodeName
        self.annotations = annotations
    }
}

/// The JSON shapes of the API server: Pod, PodList, Status and watch events. Unknown fields
/// are ignored, as every Kubernetes client does.
enum KubernetesJSON {
    struct Metadata: Decodable {
        var name: String?
        var namespace: String?
        var uid: String?
        var resourceVersion: String?
        var annotations: [String: String]?
    }

    struct Spec: Decodable { var nodeName: String? }

    /// A Pod, or a Status (the `object` of an ERROR event, or an error body).
    struct Object: Decodable {
        var kind: String?
        var metadata: Metadata?
        var spec: Spec?
        var code: Int?
        var reason: String?
        var message: String?
    }

    struct PodList: Decodable {
        var metadata: Metadata?
        var items: [Object]
    }

    struct Event: Decodable {
        var type: String
        var object: Object
    }

    static let decoder = JSONDecoder()

    static func pod(_ o: Object) throws(PodLookupError) -> PodRecord {
        guard let m = o.metadata, let name = m.name, let uid = m.uid else {
            throw .malformed("a pod without metadata.name or metadata.uid")
        }
        return PodRecord(
            namespace: m.namespace ?? "default", name: name, uid: uid, resourceVersion: m.resourceVersion ?? "",
            nodeName: o.spec?.nodeName, annotations: m.annotations ?? [:])
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(PodLookupError) -> T {
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw .malformed("\(T.self): \(error)")
        }
    }

    /// The message of a Status body, or the body's first bytes.
    static func message(_ body: Data) -> String {
        if let s = try? decoder.decode(Object.self, from: body), let m = s.message { return m }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }
}
