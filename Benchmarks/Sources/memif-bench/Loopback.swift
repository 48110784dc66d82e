import Memif

/// A server and a client interface in one process, connected, with one burst array per
/// direction: the client sources frames, the server sinks them, on the calling thread.
final class Loopback {
    static let burstSize = 32

    private let loop: MemifEventLoop
    private let server: MemifInterface
    private let client: MemifInterface
    private let tx: MemifTxQueue
    private let rx: MemifRxQueue
    private let txBurst = MemifBurst(capacity: Loopback.burstSize)
    private let rxBurst = MemifBurst(capacity: Loopback.burstSize)
    private let frame: [UInt8]

    init(frameSize: Int) throws {
        let socket = try MemifSocketName("@memif-bench-\(UInt32.random(in: 0...UInt32.max))")
        loop = try MemifEventLoop()
        server = try MemifInterface(MemifConfiguration(role: .server, socket: socket), eventLoop: loop)
        client = try MemifInterface(MemifConfiguration(role: .client, socket: socket), eventLoop: loop)
        try server.start()
        try client.start()
        guard let c = client.waitForConnection(timeout: .seconds(30)),
            let s = server.waitForConnection(timeout: .seconds(30))
        else { throw MemifError(.disconnected, "loopback did not connect") }
        tx = c.transmitQueue(0)
        rx = s.receiveQueue(0)
        frame = (0..<frameSize).map { UInt8(truncatingIfNeeded: $0) }
    }

    func close() {
        client.stop()
        server.stop()
        loop.shutdown()
    }

    /// Sends and receives until `packets` whole packets have crossed; returns that count.
    func move(packets: Int) -> Int {
        let start = rx.statistics.packets
        var received = 0
        frame.withUnsafeBytes { frame in
            while received < packets {
                _ = measuredTransmit(tx, frame, txBurst.buffers)
                _ = measuredReceive(rx, rxBurst.buffers)
                received = Int(rx.statistics.packets - start)
            }
        }
        return received
    }
}

/// One transmit burst: what `memifctl source` does per burst. Not inlined, so callgrind can
/// count the instructions inside it alone.
@inline(never)
func measuredTransmit(_ tx: MemifTxQueue, _ frame: UnsafeRawBufferPointer, _ burst: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
    MemifTraffic.source(tx, frame: frame, burst: burst)
}

/// One receive burst: what `memifctl sink` does per burst.
@inline(never)
func measuredReceive(_ rx: MemifRxQueue, _ burst: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
    MemifTraffic.sink(rx, burst: burst)
}
