import Foundation
import MemifKit

/// Unique abstract socket names, so parallel runs never meet.
func uniqueSocket(_ prefix: String) -> String { "@\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))" }

/// A test frame whose bytes encode its sequence number.
func frame(_ sequence: Int, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: sequence &* 31 &+ $0) }
}

/// Sends `frames` on `queue`, retrying until `deadline`; returns how many went out.
func send(_ frames: [[UInt8]], on queue: inout MemifChannelQueue, deadline: Date) -> Int {
    let burst = MemifBurst(capacity: 64)
    var sent = 0
    while sent < frames.count && Date() < deadline {
        let free = queue.reserve(into: burst.buffers)
        var used = 0
        while sent < frames.count {
            let k = frames[sent].withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: used, to: free) }
            if k == 0 { break }
            used += k
            sent += 1
        }
        if used > 0 { queue.publish(burst.buffers, count: used) } else { usleep(100) }
    }
    return sent
}

/// Receives `count` whole packets from `queue` or gives up at `deadline`.
func receive(_ count: Int, from queue: inout MemifChannelQueue, deadline: Date) -> [[UInt8]] {
    let burst = MemifBurst(capacity: 64)
    var packets: [[UInt8]] = []
    var current: [UInt8] = []
    while packets.count < count && Date() < deadline {
        let n = queue.receive(into: burst.buffers)
        for i in 0..<n {
            current += Array(UnsafeRawBufferPointer(burst[i].bytes))
            if !burst[i].hasNext {
                packets.append(current)
                current = []
            }
        }
        queue.release()
        if n == 0 { usleep(50) }
    }
    return packets
}

/// Sends `frames` 16 at a time through `send`, runs `move` (the CNF under test) between
/// sends, and collects what `receive` returns until every frame is back or 10 s have passed.
func shuttle(
    _ frames: [[UInt8]], send: ([[UInt8]]) -> Int, move: () -> Void, receive: () -> [[UInt8]]
) -> [[UInt8]] {
    var received: [[UInt8]] = []
    var sent = 0
    let deadline = Date().addingTimeInterval(10)
    while received.count < frames.count && Date() < deadline {
        if sent < frames.count { sent += send(Array(frames[sent...].prefix(16))) }
        move()
        received += receive()
    }
    return received
}

/// A server channel and a client channel on one fresh abstract socket.
struct ChannelPair {
    let server: MemifChannel
    let client: MemifChannel

    init(server configure: (inout MemifChannelOptions) -> Void = { _ in }, client configureClient: (inout MemifChannelOptions) -> Void = { _ in })
        throws
    {
        let socket = uniqueSocket("kit")
        var s = MemifChannelOptions()
        s.socket = socket
        s.role = .server
        s.name = "server0"
        configure(&s)
        var c = MemifChannelOptions()
        c.socket = socket
        c.name = "client0"
        configureClient(&c)
        server = try MemifChannel(s)
        client = try MemifChannel(c)
        try server.start()
        try client.start()
    }
}
