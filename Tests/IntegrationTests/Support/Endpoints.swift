import Foundation
import Memif

/// A server and a client interface on their own event loops, torn down on deinit.
final class Endpoints: @unchecked Sendable {
    let serverLoop: MemifEventLoop
    let clientLoop: MemifEventLoop
    var server: MemifInterface
    var client: MemifInterface

    init(server s: MemifConfiguration, client c: MemifConfiguration, startClient: Bool = true) throws {
        serverLoop = try MemifEventLoop()
        clientLoop = try MemifEventLoop()
        server = try MemifInterface(s, eventLoop: serverLoop)
        client = try MemifInterface(c, eventLoop: clientLoop)
        try server.start()
        if startClient { try client.start() }
    }

    deinit {
        client.stop()
        server.stop()
        clientLoop.shutdown()
        serverLoop.shutdown()
    }

    /// Both sides connected to each other, or nil after `timeout` seconds.
    func connected(timeout: Double = 5) -> (server: MemifConnection, client: MemifConnection)? {
        guard let c = client.waitForConnection(timeout: .milliseconds(Int(timeout * 1000))),
            let s = server.waitForConnection(timeout: .milliseconds(Int(timeout * 1000)))
        else { return nil }
        return (s, c)
    }

    static func configurations(
        socket: String, mode: MemifMode = .ethernet, queues: Int = 1, bufferSize: Int = 2048, log2RingSize: UInt8 = 10,
        secret: String = "", clientSecret: String? = nil
    ) throws -> (server: MemifConfiguration, client: MemifConfiguration) {
        let name = try MemifSocketName(socket)
        var s = MemifConfiguration(role: .server, socket: name, mode: mode, secret: secret, queues: queues)
        var c = MemifConfiguration(
            role: .client, socket: name, mode: mode, secret: clientSecret ?? secret, queues: queues,
            log2RingSize: log2RingSize, bufferSize: bufferSize)
        s.interfaceName = "server0"
        c.interfaceName = "client0"
        c.reconnectDelay = .milliseconds(20)
        c.maximumReconnectDelay = .milliseconds(200)
        return (s, c)
    }
}

/// Sends frames one way and checks they all arrive byte for byte, in order.
func exchange(
    _ frames: [[UInt8]], from tx: MemifTxQueue, to rx: MemifRxQueue, timeout: Double = 10
) -> [[UInt8]] {
    let txBurst = MemifBurst(capacity: 64)
    let rxBurst = MemifBurst(capacity: 256)
    let deadline = Date().addingTimeInterval(timeout)
    var received: [[UInt8]] = []
    var sent = 0
    while received.count < frames.count && Date() < deadline {
        if sent < frames.count {
            sent += TestTraffic.send(Array(frames[sent..<min(sent + 16, frames.count)]), over: tx, burst: txBurst, deadline: deadline)
        }
        received += TestTraffic.receive(frames.count - received.count, from: rx, burst: rxBurst, deadline: Date().addingTimeInterval(0.001))
    }
    return received
}
