import Synchronization

/// The pods a node-local watch has seen, keyed by namespace and name.
public final class PodCache: Sendable {
    private struct Key: Hashable {
        var namespace: String
        var name: String
    }

    private let pods = Mutex<[Key: PodRecord]>([:])

    public init() {}

    public func pod(namespace: String, name: String) -> PodRecord? {
        pods.withLock { $0[Key(namespace: namespace, name: name)] }
    }

    public var count: Int { pods.withLock { $0.count } }

    func replaceAll(_ list: [PodRecord]) {
        pods.withLock { p in
            p = Dictionary(list.map { (Key(namespace: $0.namespace, name: $0.name), $0) }, uniquingKeysWith: { $1 })
        }
    }

    func put(_ pod: PodRecord) { pods.withLock { $0[Key(namespace: pod.namespace, name: pod.name)] = pod } }

    func remove(_ pod: PodRecord) {
        pods.withLock { p in
            let key = Key(namespace: pod.namespace, name: pod.name)
            if p[key]?.uid == pod.uid { p[key] = nil }
        }
    }
}
