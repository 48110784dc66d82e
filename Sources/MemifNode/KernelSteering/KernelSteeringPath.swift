import CMemifLinux
import Memif
import MemifPacket
import MemifSteering
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Kernel-mode port steering for one pod attachment (ARCHITECTURE.md section 3): nftables
/// marks packets to the pod's addresses whose TCP/UDP destination port is steered, an
/// `ip rule` sends marked packets to the attachment's routing table, whose routes lead into a
/// tun this object owns; its pump moves them into the pod's memif and hands what the pod
/// sends back to the kernel through the same tun. Everything else stays on the pod's normal
/// interface.
///
/// ```swift
/// let path = try KernelSteeringPath(.init(id: 7, podIPv4: [podIP], ports: rules, namespacePath: nil))
/// try path.install()                       // ADD, or memifd restart
/// memif.onConnected { try? path.attach($0) }
/// memif.onDisconnected { _ in try? path.detach() }
/// try path.remove()                        // DEL
/// ```
///
/// `install`, `attach`, `detach` and `remove` run `nft`/`ip` (a few milliseconds each) and
/// are for one control thread at a time; with the `kernel` fallback, `attach` and `detach`
/// run commands too, so call them off the memif event loop. The pump runs on its own thread.
public final class KernelSteeringPath: @unchecked Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Unique per attachment on the node (1...65535): names, mark and table derive from it.
        public var id: UInt16
        public var podIPv4: [IPv4Address]
        public var podIPv6: [IPv6Address]
        /// The pod's steered TCP/UDP destination ports; empty steers nothing.
        public var ports: PortRuleSet
        public var mode: MemifSpec.Mode
        public var fallback: MemifSpec.Fallback
        /// The namespace memifkit's rules, routes and tun live in: the node's (`nil`: the
        /// caller's own, which is the node's for memifd).
        public var namespacePath: String?
        /// The tun's MTU: the pod interface's MTU.
        public var mtu: Int
        /// The node-side MAC in Ethernet mode: the source of frames to the pod and the answer
        /// to its ARP/neighbor questions.
        public var nodeMAC: MACAddress
        public var options: KernelSteeringOptions

        public init(
            id: UInt16, podIPv4: [IPv4Address] = [], podIPv6: [IPv6Address] = [], ports: PortRuleSet,
            mode: MemifSpec.Mode = .ethernet, fallback: MemifSpec.Fallback = .drop, namespacePath: String?,
            mtu: Int = 1500, nodeMAC: MACAddress = KernelSteeringPath.nodeMAC,
            options: KernelSteeringOptions = KernelSteeringOptions()
        ) {
            self.id = id
            self.podIPv4 = podIPv4
            self.podIPv6 = podIPv6
            self.ports = ports
            self.mode = mode
            self.fallback = fallback
            self.namespacePath = namespacePath
            self.mtu = mtu
            self.nodeMAC = nodeMAC
            self.options = options
        }
    }

    /// The node side's MAC in Ethernet mode, `02:6d:6b:00:00:01` ("mk", locally administered):
    /// distinct from Calico's pod MAC `02:00:00:00:00:01` and tun MAC `02:00:00:00:00:00`.
    public static let nodeMAC = MACAddress(0x02, 0x6D, 0x6B, 0x00, 0x00, 0x01)

    public let configuration: Configuration
    public let names: KernelSteeringNames
    private let rules: SteeringRules
    private let counters = KernelSteeringCounters()

    private enum Phase { case created, installed, removed }

    private struct State {
        var phase = Phase.created
        var tunFD: Int32 = -1
        var pump: SteeringPump?
        var attached = false
    }

    private let state = Mutex(State())

    public init(_ configuration: Configuration) throws(KernelSteeringError) {
        guard !configuration.podIPv4.isEmpty || !configuration.podIPv6.isEmpty else {
            throw KernelSteeringError(.invalidArgument, "a steering path needs at least one pod address")
        }
        guard (576...65535).contains(configuration.mtu) else {
            throw KernelSteeringError(.invalidArgument, "tun MTU \(configuration.mtu) is outside 576...65535")
        }
        self.configuration = configuration
        names = try KernelSteeringNames(id: configuration.id, options: configuration.options)
        rules = SteeringRules(
            names: names, options: configuration.options, commands: NetworkCommands(namespacePath: configuration.namespacePath))
    }

    deinit {
        try? remove()
    }

    /// Counters since install.
    public var statistics: KernelSteeringStatistics { counters.snapshot }

    /// True between ``attach(_:)`` and ``detach()``.
    public var isAttached: Bool { state.withLock { $0.attached } }

    private var families: [String] {
        (configuration.podIPv4.isEmpty ? [] : ["-4"]) + (configuration.podIPv6.isEmpty ? [] : ["-6"])
    }

    /// Creates the tun, starts the pump, installs the nft chains and routes, and the
    /// `ip rule`s unless the fallback is `kernel` (then they come with ``attach(_:)``). Rebuilds
    /// whatever a previous run left under the same id. On failure, everything created so far
    /// is removed again.
    public func install() throws(KernelSteeringError) {
        try state.withLock { s throws(KernelSteeringError) in
            guard s.phase == .created else { throw KernelSteeringError(.state, "steering path \(names.id) was already installed") }
            do throws(KernelSteeringError) {
                try removeKernelObjects()  // a previous run's leftovers under this id
                let fd = cmemif_tun_open(configuration.namespacePath, names.tunName)
                guard fd >= 0 else {
                    throw KernelSteeringError(.system, "cannot create tun \(names.tunName): \(String(cString: strerror(-fd)))")
                }
                s.tunFD = fd
                let pump = try SteeringPump(
                    tunFD: fd, ethernet: configuration.mode == .ethernet, podMAC: CalicoPodMAC.value, nodeMAC: configuration.nodeMAC,
                    mtu: configuration.mtu, podIPv4: configuration.podIPv4, podIPv6: configuration.podIPv6, counters: counters)
                try pump.start()
                s.pump = pump
                let commands = rules.commands
                // No link-local address and no multicast: the kernel then sends no router
                // solicitations or MLD reports into the tun, so everything the pump reads was steered.
                try commands.check(["ip", "link", "set", "dev", names.tunName, "addrgenmode", "none"])
                // Chains first: their drop of the kernel's multicast must be there when the link comes up.
                try rules.installChains(ipv4: configuration.podIPv4, ipv6: configuration.podIPv6, ports: configuration.ports)
                try commands.check(["ip", "link", "set", "dev", names.tunName, "multicast", "off", "mtu", String(configuration.mtu), "up"])
                // Packets from the pod enter on the tun with the pod's address as source, which
                // the main table routes out of the pod's normal interface, and the tun has no
                // IPv4 address: reverse-path filtering (strict or loose) would drop them. The
                // prerouting chain marks them, and with src_valid_mark the reverse lookup
                // follows the mark to this attachment's table, which routes the pod into the tun.
                try commands.setSysctl("net/ipv4/conf/\(names.tunName)/src_valid_mark", "1")
                try rules.installRoutes(ipv4: configuration.podIPv4, ipv6: configuration.podIPv6)
                if configuration.fallback == .drop { try rules.installMarkRules(families: families) }
                s.phase = .installed
            } catch {
                tearDown(&s)
                throw error
            }
        }
    }

    /// The pod's memif client connected: the pump starts moving packets, and with the
    /// `kernel` fallback the steering rules come (back) into force.
    public func attach(_ connection: MemifConnection) throws(KernelSteeringError) {
        try state.withLock { s throws(KernelSteeringError) in
            guard s.phase == .installed, let pump = s.pump else { throw KernelSteeringError(.state, "steering path \(names.id) is not installed") }
            pump.request(.attach(connection))
            if configuration.fallback == .kernel && !s.attached { try rules.installMarkRules(families: families) }
            s.attached = true
        }
    }

    /// The pod's memif client went away: with `drop`, steered packets keep arriving on the
    /// tun and are dropped (counted); with `kernel`, the rules go, so they take the pod's
    /// normal interface until the next ``attach(_:)``.
    public func detach() throws(KernelSteeringError) {
        try state.withLock { s throws(KernelSteeringError) in
            guard s.phase == .installed, let pump = s.pump else { return }
            pump.request(.detach)
            if configuration.fallback == .kernel && s.attached { try rules.removeMarkRules(families: families) }
            s.attached = false
        }
    }

    /// Removes the rules, routes, chains and the tun, and stops the pump. Idempotent, and
    /// tolerant of objects someone else (``removeStale(keeping:namespacePath:options:)``)
    /// already removed.
    public func remove() throws(KernelSteeringError) {
        try state.withLock { s throws(KernelSteeringError) in
            guard s.phase != .removed else { return }
            s.phase = .removed
            try tearDown(&s, reportErrors: true)
        }
    }

    /// What a crash leaves: the pump and the tun go (with its routes), the nft chains and
    /// `ip rule`s stay. For the tests of ``removeStale(keeping:namespacePath:options:)``.
    func simulateCrash() {
        state.withLock { s in
            s.phase = .removed
            s.pump?.stop()
            s.pump = nil
            if s.tunFD >= 0 { close(s.tunFD) }
            s.tunFD = -1
        }
    }

    private func tearDown(_ s: inout State, reportErrors: Bool = false) throws(KernelSteeringError) {
        s.phase = .removed
        s.attached = false
        s.pump?.stop()
        s.pump = nil
        var firstError: KernelSteeringError?
        do { try removeKernelObjects() } catch { firstError = error }
        if s.tunFD >= 0 {
            close(s.tunFD)  // a non-persistent tun disappears with its last descriptor
            s.tunFD = -1
        }
        if reportErrors, let firstError { throw firstError }
    }

    private func tearDown(_ s: inout State) {
        try? tearDown(&s, reportErrors: false)
    }

    private func removeKernelObjects() throws(KernelSteeringError) {
        try rules.removeMarkRules()
        try rules.removeChains()
        try rules.removeRoutes()
        _ = try rules.commands.run(["ip", "link", "del", "dev", names.tunName])
    }

    /// Deletes every memifkit chain, `ip rule`, routing table and tun in the namespace whose
    /// id is not in `keeping`: what attachments of a crashed run or already deleted pods
    /// left. Returns the ids it removed something for.
    @discardableResult
    public static func removeStale(
        keeping: Set<UInt16>, namespacePath: String?, options: KernelSteeringOptions = KernelSteeringOptions()
    ) throws(KernelSteeringError) -> Set<UInt16> {
        let commands = NetworkCommands(namespacePath: namespacePath)
        var found = Set<UInt16>()
        for chain in try SteeringRules.chains(options: options, commands: commands) {
            if let id = KernelSteeringNames.id(ofChain: chain) { found.insert(id) }
        }
        for family in ["-4", "-6"] {
            let out = try commands.run(["ip", "-j", family, "rule", "show"])
            guard out.succeeded, let items = (try? parseJSON(out.standardOutput)) as? [[String: Any]] else { continue }
            for item in items {
                if let id = steeringID(table: item["table"], options: options) { found.insert(id) }
            }
            let routes = try commands.run(["ip", "-j", family, "route", "show", "table", "all"])
            guard routes.succeeded, let list = (try? parseJSON(routes.standardOutput)) as? [[String: Any]] else { continue }
            for item in list {
                if let id = steeringID(table: item["table"], options: options) { found.insert(id) }
            }
        }
        let links = try commands.run(["ip", "-j", "link", "show"])
        if links.succeeded, let list = (try? parseJSON(links.standardOutput)) as? [[String: Any]] {
            for item in list {
                guard let name = item["ifname"] as? String, name.hasPrefix(options.tunPrefix),
                    let id = UInt16(name.dropFirst(options.tunPrefix.count)), id != 0
                else { continue }
                found.insert(id)
            }
        }
        let stale = found.subtracting(keeping)
        for id in stale.sorted() {
            let rules = SteeringRules(names: try KernelSteeringNames(id: id, options: options), options: options, commands: commands)
            try rules.removeMarkRules()
            try rules.removeChains()
            try rules.removeRoutes()
            _ = try commands.run(["ip", "link", "del", "dev", rules.names.tunName])
        }
        try SteeringRules.deleteTableIfEmpty(options: options, commands: commands)
        return stale
    }

    /// The id of a memifkit routing table (`ip -j` prints a number, or a name for known tables).
    private static func steeringID(table: Any?, options: KernelSteeringOptions) -> UInt16? {
        let number: UInt32?
        if let n = table as? Int { number = UInt32(exactly: n) } else if let s = table as? String { number = UInt32(s) } else { number = nil }
        guard let t = number, t > options.tableBase, t - options.tableBase <= UInt32(UInt16.max) else { return nil }
        return UInt16(t - options.tableBase)
    }
}

/// Calico's pod-side MAC (kubernetes-integration.md 1.7), the destination of frames to the pod.
enum CalicoPodMAC {
    static let value = MACAddress(0x02, 0, 0, 0, 0, 0x01)
}
