/// Where the kernel objects of the path with a given id live: tun name, nftables chains,
/// firewall mark, routing table, rule priority. Everything memifkit creates is derived from
/// the id, so a restarted memifd (or ``KernelSteeringPath/removeStale(keeping:options:)``)
/// finds it again without a record.
public struct KernelSteeringOptions: Sendable, Hashable {
    /// The nftables table (family `inet`) that holds every memifkit chain.
    public var table: String
    /// Tun names are this prefix plus the id (at most 15 characters in all).
    public var tunPrefix: String
    /// Marks are `markBase + id`. The default spells "MK" in the high half, away from
    /// kube-proxy's 0x4000/0x8000 bits. The steering rule replaces any earlier mark.
    public var markBase: UInt32
    /// Routing tables are `tableBase + id`.
    public var tableBase: UInt32
    /// Priority of the `ip rule`s: before the main table (32766).
    public var rulePriority: UInt32
    /// nftables priority of the steering chains: after destination NAT (-100), so service
    /// traffic is matched on the pod-side port, as Calico/VPP's PBL does after cnat.
    public var chainPriority: Int

    public init(
        table: String = "memifkit", tunPrefix: String = "mksteer", markBase: UInt32 = 0x4D4B_0000,
        tableBase: UInt32 = 0x4D4B_0000, rulePriority: UInt32 = 90, chainPriority: Int = -90
    ) {
        self.table = table
        self.tunPrefix = tunPrefix
        self.markBase = markBase
        self.tableBase = tableBase
        self.rulePriority = rulePriority
        self.chainPriority = chainPriority
    }
}

/// The names and numbers of one attachment's kernel objects.
public struct KernelSteeringNames: Sendable, Hashable {
    /// The attachment's id (1...65535), unique on the node.
    public let id: UInt16
    public let tunName: String
    /// The chain hooked at prerouting (forwarded traffic) and the one at output (traffic the
    /// node itself sends to the pod).
    public let preroutingChain: String
    public let outputChain: String
    public let mark: UInt32
    public let routingTable: UInt32

    public init(id: UInt16, options: KernelSteeringOptions = KernelSteeringOptions()) throws(KernelSteeringError) {
        guard id != 0 else { throw KernelSteeringError(.invalidArgument, "kernel steering ids start at 1") }
        let tun = "\(options.tunPrefix)\(id)"
        guard tun.utf8.count <= 15, !options.tunPrefix.isEmpty else {
            throw KernelSteeringError(.invalidArgument, "tun name '\(tun)' is longer than 15 characters")
        }
        self.id = id
        tunName = tun
        preroutingChain = "pre-\(id)"
        outputChain = "out-\(id)"
        mark = options.markBase &+ UInt32(id)
        routingTable = options.tableBase &+ UInt32(id)
    }

    /// The id a chain name carries (`pre-7` -> 7), or nil for any other name.
    static func id(ofChain name: String) -> UInt16? {
        for prefix in ["pre-", "out-"] where name.hasPrefix(prefix) {
            return UInt16(name.dropFirst(prefix.count))
        }
        return nil
    }
}
