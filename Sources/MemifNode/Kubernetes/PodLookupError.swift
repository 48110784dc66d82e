/// Why a pod could not be looked up; each case says what to check.
public enum PodLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration is incomplete (no service host, unreadable token or CA file).
    case configuration(String)
    /// The pod does not exist (after the retries).
    case notFound(namespace: String, name: String)
    /// A pod of that name exists but is another incarnation (StatefulSet pods reuse names).
    case uidMismatch(namespace: String, name: String, expected: String, found: String)
    /// 401: the API server rejected the service-account token.
    case unauthorized(String)
    /// 403: the token is valid but may not read pods.
    case forbidden(String)
    /// Any other HTTP status, with the API server's message.
    case http(status: Int, message: String)
    /// Connecting, TLS or reading failed (libcurl's message).
    case transport(String)
    /// The response was not the JSON a Kubernetes API server sends.
    case malformed(String)

    public var description: String {
        switch self {
        case .configuration(let m): "Kubernetes client configuration: \(m)"
        case .notFound(let ns, let name): "pod \(ns)/\(name) not found"
        case .uidMismatch(let ns, let name, let expected, let found):
            "pod \(ns)/\(name) has uid \(found), not \(expected) (K8S_POD_UID): a newer pod reuses the name"
        case .unauthorized(let m): "API server answered 401 Unauthorized (service-account token rejected: expired or revoked?): \(m)"
        case .forbidden(let m): "API server answered 403 Forbidden (RBAC must allow get/list/watch on pods): \(m)"
        case .http(let status, let m): "API server answered HTTP \(status): \(m)"
        case .transport(let m): "cannot reach the API server: \(m)"
        case .malformed(let m): "unexpected API server response: \(m)"
        }
    }
}
