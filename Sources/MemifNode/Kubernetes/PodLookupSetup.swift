import Foundation
import Logging

/// memifd's pod lookup when it runs in a cluster: a node-local watch (pods with
/// `spec.nodeName` = `NODE_NAME`) feeding the cache a ``PodLookup`` reads first, falling back
/// to a GET. Outside a cluster (the lab, where the runtime passes annotations) there is none.
public struct PodLookupSetup: Sendable {
    public let lookup: PodLookup
    public let watch: PodWatch

    /// From the service-account environment; nil (and a log line) when not in a pod.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) -> PodLookupSetup? {
        let configuration: KubernetesAPIConfiguration
        do throws(PodLookupError) {
            configuration = try KubernetesAPIConfiguration.inCluster(environment: environment)
        } catch {
            logger.info("no Kubernetes API: pods must come with their annotations (runtimeConfig)", metadata: ["why": "\(error)"])
            return nil
        }
        let client = KubernetesAPIClient(configuration)
        let cache = PodCache()
        let watch: PodWatch
        if let node = environment["NODE_NAME"], !node.isEmpty {
            watch = PodWatch(client: client, nodeName: node, cache: cache)
            watch.start()
        } else {
            logger.warning("NODE_NAME is not set: looking pods up one GET at a time, with no watch")
            watch = PodWatch(client: client, nodeName: "", cache: cache)
        }
        return PodLookupSetup(lookup: PodLookup(client: client, cache: cache), watch: watch)
    }
}
