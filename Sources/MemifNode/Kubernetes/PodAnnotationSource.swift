/// Where memifd gets a pod's annotations when the runtime did not pass them.
public protocol PodAnnotationSource: Sendable {
    func annotations(namespace: String, name: String, uid: String?) throws -> [String: String]
}
