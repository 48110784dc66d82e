import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One memif interface, server or client, driven by a ``MemifEventLoop``.
///
/// ```swift
/// let loop = try MemifEventLoop()
/// let memif = try MemifInterface(MemifConfiguration(role: .client, socket: .init("@vpp/memif-eth0")), eventLoop: loop)
/// try memif.start()
/// if let connection = memif.waitForConnection(timeout: .seconds(5)) {
///     let rx = connection.receiveQueue(0)   // drive it on a thread of your own
/// }
/// ```
///
/// A client keeps reconnecting, with backoff, until ``stop()``. A server keeps listening;
/// after a disconnect, the next client may connect.
public final class MemifInterface: @unchecked Sendable {
    public let configuration: MemifConfiguration
    private let loop: MemifEventLoop
    private let logger: Logger

    private struct Status {
        var connection: MemifConnection?
        var lastDisconnectReason: String?
        var connections = 0
        var onConnected: (@Sendable (MemifConnection) -> Void)?
        var onDisconnected: (@Sendable (String) -> Void)?
    }

    private let status = Mutex(Status())
    /// Loop-thread only.
    private var clientDriver: ClientDriver?
    private var started = false
    /// A pooled client's buffers, one table per configured queue (client-to-server first),
    /// claimed once and kept across reconnects.
    let pooledSlots: [SlotTable]?

    public init(_ configuration: MemifConfiguration, eventLoop: MemifEventLoop, logger: Logger? = nil) throws(MemifError) {
        try configuration.validate()
        self.configuration = configuration
        self.loop = eventLoop
        if let pool = configuration.bufferPool {
            let slots = 1 << Int(configuration.log2RingSize)
            var tables: [SlotTable] = []
            for _ in 0..<(configuration.clientToServerQueues + configuration.serverToClientQueues) {
                tables.append(try pool.claim(slots))
            }
            pooledSlots = tables
        } else {
            pooledSlots = nil
        }
        var logger = logger ?? Logger(label: "memif")
        logger[metadataKey: "memif"] = "\(configuration.socket)/\(configuration.id)"
        self.logger = logger
    }

    /// Called on the event loop thread when a connection comes up or goes down. Set them
    /// before ``start()``; they must not block.
    public func onConnected(_ handler: @escaping @Sendable (MemifConnection) -> Void) {
        status.withLock { $0.onConnected = handler }
    }

    public func onDisconnected(_ handler: @escaping @Sendable (String) -> Void) {
        status.withLock { $0.onDisconnected = handler }
    }

    /// Server: binds the socket (shared with other server interfaces on it) and accepts.
    /// Client: starts connecting, and retries until stopped.
    public func start() throws(MemifError) {
        let result: Result<Void, MemifError> = loop.sync { [self] in
            guard !started else { return .success(()) }
            switch configuration.role {
            case .server:
                do throws(MemifError) {
                    let listener: ServerListener
                    let address = ListenerAddress(configuration)
                    if let existing = loop.listeners[address] {
                        listener = existing
                    } else {
                        listener = try ServerListener(address: address, loop: loop)
                        loop.listeners[address] = listener
                    }
                    try listener.add(self)
                } catch {
                    return .failure(error)
                }
            case .client:
                let driver = ClientDriver(interface: self, loop: loop)
                clientDriver = driver
                driver.start()
            }
            started = true
            return .success(())
        }
        try result.get()
    }

    /// Disconnects (sending DISCONNECT "Device closed") and stops listening or retrying.
    public func stop() {
        loop.sync { [self] in
            guard started else { return }
            started = false
            switch configuration.role {
            case .server:
                let address = ListenerAddress(configuration)
                if let listener = loop.listeners[address] {
                    listener.remove(self)
                    if listener.isEmpty {
                        listener.close()
                        loop.listeners[address] = nil
                    }
                }
            case .client:
                clientDriver?.stop()
                clientDriver = nil
            }
        }
    }

    /// The live connection, if any.
    public var connection: MemifConnection? { status.withLock { $0.connection } }

    /// Why the last connection or attempt ended: the peer's DISCONNECT text, ours, or a
    /// socket error.
    public var lastDisconnectReason: String? { status.withLock { $0.lastDisconnectReason } }

    /// How many connections have been established since start.
    public var connectionCount: Int { status.withLock { $0.connections } }

    /// Blocks the calling thread (never the event loop's) until a connection is up.
    public func waitForConnection(timeout: Duration) -> MemifConnection? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let c = connection, c.isConnected { return c }
            if ContinuousClock.now >= deadline { return nil }
            usleep(1000)
        }
    }

    // Loop-thread callbacks from the drivers.

    func connected(_ connection: MemifConnection) {
        logger.info(
            "connected",
            metadata: [
                "peer": "\(connection.peerApplicationName)", "peerInterface": "\(connection.peerInterfaceName)",
                "rx": "\(connection.receiveQueueCount)", "tx": "\(connection.transmitQueueCount)",
            ])
        let handler = status.withLock { s in
            s.connection = connection
            s.connections += 1
            return s.onConnected
        }
        handler?(connection)
    }

    /// Records why, then marks `connection` inactive (so a thread that sees it go down
    /// also sees the reason), then tells the application.
    func disconnected(_ connection: MemifConnection, reason: String) {
        logger.info("disconnected", metadata: ["reason": "\(reason)"])
        let handler = status.withLock { s in
            s.connection = nil
            s.lastDisconnectReason = reason
            return s.onDisconnected
        }
        connection.deactivate()
        handler?(reason)
    }

    func handshakeFailed(reason: String) {
        logger.debug("connection attempt failed", metadata: ["reason": "\(reason)"])
        status.withLock { $0.lastDisconnectReason = reason }
    }
}
