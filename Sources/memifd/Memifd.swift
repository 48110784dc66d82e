import ArgumentParser
import Logging
import Memif
import MemifCNI
import MemifNode
import MemifSteering

#if canImport(Glibc)
import Glibc
#endif

/// memifd: the node service. Grants pods memif sockets in their network namespaces on
/// memif-cni's requests, keeps them across restarts, and serves /metrics and /healthz.
@main
struct Memifd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memifd", abstract: "Grant pods memif sockets in their network namespaces (the memif-cni node service).")

    @Option(help: "Unix socket memif-cni and memifctl talk to.")
    var socket = NetworkConfiguration.defaultNodeSocket

    @Option(name: [.customLong("state-file"), .customLong("state")], help: "State file: the attachments, recreated at start.")
    var stateFile = "/run/memifkit/attachments.json"

    @Option(help: "Address of /metrics and /healthz (IPv4:port; port 0 picks one).")
    var metrics = "127.0.0.1:9464"

    @Option(help: "Abstract socket name in each pod; {ifname} is CNI_IFNAME. A pod may set memifkit.io/socket.")
    var socketTemplate = "vpp/memif-{ifname}"

    @Option(help: "Most queues (each direction) a pod's spec may ask for.")
    var maximumQueues = 255

    @Option(help: "Largest ring a pod's spec may ask for (slots).")
    var maximumRingSize = 1 << 14

    @Flag(help: "Accept pod clients whose regions are not sealed (hugepage-backed VPP, zero-copy DPDK).")
    var allowUnsealedRegions = false

    @Flag(help: "Grant memifs without kernel-mode port steering (no nft rules, routes or tuns).")
    var noSteering = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard parseMetrics() != nil else { throw ValidationError("--metrics must be IPV4:PORT") }
        guard (1...255).contains(maximumQueues) else { throw ValidationError("--maximum-queues must be 1...255") }
        guard maximumRingSize >= 2, maximumRingSize <= 1 << 14, maximumRingSize & (maximumRingSize - 1) == 0 else {
            throw ValidationError("--maximum-ring-size must be a power of two, 2...16384")
        }
        guard socketTemplate.contains("{ifname}"), (try? MemifSocketName("@" + socketTemplate)) != nil else {
            throw ValidationError("--socket-template must contain {ifname} and fit an abstract socket name")
        }
    }

    private func parseMetrics() -> (String, UInt16)? {
        guard let colon = metrics.lastIndex(of: ":"), let port = UInt16(metrics[metrics.index(after: colon)...]) else { return nil }
        return (String(metrics[..<colon]), port)
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { LogfmtLogHandler(label: $0, level: level) }
        let logger = Logger(label: "memifd")

        // Signals are taken by sigwait below; every thread started from here inherits the mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        let (host, port) = parseMetrics()!
        var limits = MemifSpec.Limits.memifCore
        limits.maximumQueues = maximumQueues
        limits.maximumRingSize = maximumRingSize
        let configuration = NodeConfiguration(
            socketPath: socket, stateFile: stateFile, metricsHost: host, metricsPort: port,
            socketTemplate: socketTemplate, limits: limits, allowUnsealedRegions: allowUnsealedRegions)

        let loop = try MemifEventLoop()
        // Kernel-mode steering in memifd's own (the node's) namespace; pod lookup through the
        // API server when memifd runs in a cluster (a runtime that passes annotations needs none).
        let hooks: (any AttachmentHooks)? = noSteering ? nil : KernelSteeringHooks(logger: logger)
        let lookup = PodLookupSetup.inCluster(logger: logger)
        let service = NodeService(
            configuration: configuration, eventLoop: loop, hooks: hooks, annotationSource: lookup?.lookup, logger: logger)
        // Both sockets are bound before the state file is touched: a second memifd started by
        // mistake fails here, and never rewrites the running one's state.
        let cniServer = try CNIServer(path: socket, service: service, logger: logger)
        let metricsServer = try MetricsServer(host: host, port: port, service: service, logger: logger)
        service.restore()
        metricsServer.start()
        cniServer.start()
        logger.info(
            "serving",
            metadata: [
                "socket": "\(socket)", "stateFile": "\(stateFile)", "metrics": "\(host):\(metricsServer.port)",
                "attachments": "\(service.attachments().count)",
            ])

        var received: Int32 = 0
        sigwait(&signals, &received)
        logger.info("stopping", metadata: ["signal": "\(received)"])
        cniServer.stop()
        lookup?.watch.stop()
        metricsServer.stop()
        service.shutdown()
        loop.shutdown()
    }
}
