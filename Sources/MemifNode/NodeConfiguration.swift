import MemifCNI
import MemifSteering

/// How memifd runs on this node.
public struct NodeConfiguration: Sendable {
    /// memifd's unix socket for memif-cni and memifctl.
    public var socketPath: String
    public var stateFile: String
    /// `/metrics` and `/healthz`: IPv4 address and port; port 0 picks a free one.
    public var metricsHost: String
    public var metricsPort: UInt16
    /// The pod's abstract socket name; `{ifname}` becomes `CNI_IFNAME` (Calico: `vpp/memif-{ifname}`).
    /// A pod may name its own with `memifkit.io/socket`.
    public var socketTemplate: String
    /// What a pod's spec may ask for (Calico's `maxPodIfSpec`).
    public var limits: MemifSpec.Limits
    /// Accept clients whose regions are not sealed against shrinking (hugepage-backed VPP or
    /// zero-copy DPDK in the pod). Off by default: a shrunk region would fault memifd.
    public var allowUnsealedRegions: Bool
    /// Sent in HELLO to every pod client.
    public var applicationName: String

    public init(
        socketPath: String = NetworkConfiguration.defaultNodeSocket, stateFile: String = "/run/memifkit/attachments.json",
        metricsHost: String = "127.0.0.1", metricsPort: UInt16 = 9464, socketTemplate: String = "vpp/memif-{ifname}",
        limits: MemifSpec.Limits = .memifCore, allowUnsealedRegions: Bool = false, applicationName: String = "memifd"
    ) {
        self.socketPath = socketPath
        self.stateFile = stateFile
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
        self.socketTemplate = socketTemplate
        self.limits = limits
        self.allowUnsealedRegions = allowUnsealedRegions
        self.applicationName = applicationName
    }

    /// The socket for `ifname` by the node's template, as `@name`.
    public func defaultSocket(ifname: String) -> String {
        "@" + socketTemplate.replacing("{ifname}", with: ifname)
    }
}
