import Foundation

/// Pod annotations from the API server: the node-local watch's cache first (when one is
/// given), then `GET /api/v1/namespaces/NS/pods/NAME`, retried briefly on NotFound (the
/// runtime can call CNI before the pod is visible to a lagging API server or cache), with
/// the UID checked against `K8S_POD_UID` as Multus does.
public final class PodLookup: PodAnnotationSource {
    public let client: KubernetesAPIClient
    public let cache: PodCache?
    /// Further GETs after a NotFound, and the pause before each.
    public let notFoundRetries: Int
    public let retryDelay: Duration

    public init(client: KubernetesAPIClient, cache: PodCache? = nil, notFoundRetries: Int = 5, retryDelay: Duration = .milliseconds(200)) {
        self.client = client
        self.cache = cache
        self.notFoundRetries = notFoundRetries
        self.retryDelay = retryDelay
    }

    public func annotations(namespace: String, name: String, uid: String?) throws -> [String: String] {
        try pod(namespace: namespace, name: name, uid: uid).annotations
    }

    /// The pod, checked against `uid` when given.
    public func pod(namespace: String, name: String, uid: String?) throws(PodLookupError) -> PodRecord {
        if let cached = cache?.pod(namespace: namespace, name: name), uid == nil || cached.uid == uid {
            return cached
        }
        guard Self.isName(namespace), Self.isName(name) else {
            throw .malformed("'\(namespace)/\(name)' is not a Kubernetes namespace/name")
        }
        let path = "/api/v1/namespaces/\(namespace)/pods/\(name)"
        var attempt = 0
        while true {
            let (status, body) = try client.get(path)
            switch status {
            case 200:
                let pod = try KubernetesJSON.pod(KubernetesJSON.decode(KubernetesJSON.Object.self, body))
                if let uid, pod.uid != uid {
                    throw .uidMismatch(namespace: namespace, name: name, expected: uid, found: pod.uid)
                }
                return pod
            case 404:
                guard attempt < notFoundRetries else { throw .notFound(namespace: namespace, name: name) }
                attempt += 1
                Thread.sleep(forTimeInterval: Double(retryDelay.components.seconds) + Double(retryDelay.components.attoseconds) / 1e18)
            case 401: throw .unauthorized(KubernetesJSON.message(body))
            case 403: throw .forbidden(KubernetesJSON.message(body))
            default: throw .http(status: status, message: KubernetesJSON.message(body))
            }
        }
    }

    /// DNS-1123 names (what namespaces and pod names are): nothing that could change the URL path.
    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 253
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }
    }
}
