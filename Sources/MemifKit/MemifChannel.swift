import Foundation
import Synchronization

/// A memif channel a CNF sends and receives on: one memif interface (a client by default,
/// reconnecting on its own), its queues as ``MemifChannelQueue`` handles that follow
/// reconnects, and its connection events as an `AsyncSequence`.
///
/// ```swift
/// let channel = try MemifChannel()          // MEMIF_SOCKET, else @vpp/memif-eth0
/// try channel.start()
/// for await event in channel.events { print(event) }
/// ```
public final class MemifChannel: Sendable {
    /// Calico/VPP's socket for a pod's memif on `eth0`, in the pod's network namespace.
    public static let defaultSocket = "@vpp/memif-eth0"
    /// The environment variable naming the socket when the options do not.
    public static let socketEnvironmentVariable = "MEMIF_SOCKET"

    public let options: MemifChannelOptions
    public let socket: MemifSocketName
    let interface: MemifInterface
    private let loop: MemifEventLoop
    private let ownsLoop: Bool
    private let subscribers = Mutex<Subscribers>(Subscribers())

    private struct Subscribers {
        var next = 0
        var continuations: [Int: AsyncStream<MemifChannelEvent>.Continuation] = [:]
        var last: MemifChannelEvent?
    }

    /// - Parameter eventLoop: the control-plane thread to use; by default the channel
    ///   starts its own.
    public init(
        _ options: MemifChannelOptions = MemifChannelOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment, eventLoop: MemifEventLoop? = nil
    ) throws(MemifError) {
        self.options = options
        socket = try options.resolvedSocket(environment: environment)
        let configuration = try options.configuration(socket: socket)
        if let eventLoop {
            loop = eventLoop
            ownsLoop = false
        } else {
            loop = try MemifEventLoop()
            ownsLoop = true
        }
        interface = try MemifInterface(configuration, eventLoop: loop)
        interface.onConnected { [weak self] connection in
            self?.publish(.connected(peerApplication: connection.peerApplicationName, peerInterface: connection.peerInterfaceName))
        }
        interface.onDisconnected { [weak self] reason in self?.publish(.disconnected(reason: reason)) }
    }

    deinit {
        interface.stop()
        if ownsLoop { loop.shutdown() }
        subscribers.withLock { $0.continuations.values.forEach { $0.finish() } }
    }

    /// Starts connecting (client) or listening (server).
    public func start() throws(MemifError) { try interface.start() }

    /// Disconnects and stops; ``events`` streams finish.
    public func stop() {
        interface.stop()
        let ended = subscribers.withLock { s in
            defer { s.continuations = [:] }
            return Array(s.continuations.values)
        }
        ended.forEach { $0.finish() }
    }

    /// Connection events from now on; a new stream starts with the current state when the
    /// channel has already connected or disconnected once. Each call is its own stream.
    public var events: AsyncStream<MemifChannelEvent> {
        AsyncStream(bufferingPolicy: .bufferingNewest(64)) { continuation in
            let id = subscribers.withLock { s in
                defer { s.next += 1 }
                s.continuations[s.next] = continuation
                if let last = s.last { continuation.yield(last) }
                return s.next
            }
            continuation.onTermination = { [weak self] _ in
                _ = self?.subscribers.withLock { $0.continuations.removeValue(forKey: id) }
            }
        }
    }

    private func publish(_ event: MemifChannelEvent) {
        let targets = subscribers.withLock { s in
            s.last = event
            return Array(s.continuations.values)
        }
        for t in targets { t.yield(event) }
    }

    public var isConnected: Bool { interface.connection?.isConnected ?? false }

    /// Blocks the calling thread until connected or `timeout` passes.
    @discardableResult
    public func waitUntilConnected(timeout: Duration) -> Bool { interface.waitForConnection(timeout: timeout) != nil }

    /// Why the last connection or attempt ended.
    public var lastDisconnectReason: String? { interface.lastDisconnectReason }

    /// The data-path handle of queue pair `index`; give each to one thread.
    public func queue(_ index: Int) -> MemifChannelQueue {
        precondition(index >= 0 && index < options.queues, "queue \(index) does not exist")
        return MemifChannelQueue(channel: self, index: index)
    }

    /// The live connection, for statistics and advanced use.
    public var connection: MemifConnection? { interface.connection }
}
