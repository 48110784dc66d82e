import MemifKit

/// A running l3fwd: its channels (on one shared buffer pool, so forwarding is by
/// descriptor), one worker per queue, and the counters they feed.
public final class L3Router: Sendable {
    public let configuration: L3Configuration
    public let statistics = L3Statistics()
    public let channels: [MemifChannel]
    let pool: MemifBufferPool?
    let workers: [MemifWorker]

    /// Opens every channel and starts the workers.
    /// - Parameter cpus: CPUs to pin worker 0, 1, ... to (fewer than queues: the rest float).
    public init(
        _ configuration: L3Configuration, receiveMode: MemifReceiveMode = .polling, cpus: [Int] = [], burst: Int = 32
    ) throws(MemifError) {
        self.configuration = configuration
        let clients = configuration.channels.filter { $0.role == .client }.count
        pool = clients > 0 ? try MemifBufferPool(channels: clients, queues: configuration.queues, ringSize: configuration.ringSize) : nil
        var opened: [MemifChannel] = []
        for c in configuration.channels {
            var o = MemifChannelOptions()
            o.socket = c.socket
            o.role = c.role
            o.id = c.id
            o.framing = c.framing
            o.queues = configuration.queues
            o.ringSize = configuration.ringSize
            o.pool = c.role == .client ? pool : nil
            o.receiveMode = receiveMode
            o.name = c.name
            o.applicationName = "l3fwd"
            let channel = try MemifChannel(o)
            try channel.start()
            opened.append(channel)
        }
        let channels = opened
        self.channels = channels
        let routes = RouteTables(configuration)
        let statistics = statistics
        workers = (0..<configuration.queues).map { q in
            let wake = channels.map { $0.queue(q) }
            return MemifWorker.start(
                name: "l3fwd-\(q)", cpu: q < cpus.count ? cpus[q] : nil, receiveMode: receiveMode, wakeOn: wake,
                makeState: {
                    L3Forwarder(
                        channels: channels, configuration: configuration, queue: q, routes: routes, statistics: statistics,
                        burst: burst)
                },
                body: { $0.poll() })
        }
    }

    /// Stops the workers, then the channels.
    public func stop() {
        workers.forEach { $0.stop() }
        channels.forEach { $0.stop() }
    }
}
