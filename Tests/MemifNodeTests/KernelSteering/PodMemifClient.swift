import Foundation
import Memif
import MemifPacket
import Synchronization

/// The pod's side of the steering memif in a test: a real memif client connected to a
/// server interface (what memifd would run in the pod's namespace). Its responder thread
/// answers every UDP datagram it receives by swapping addresses and ports (checksums stay
/// valid: both sums are symmetric) and records what it saw.
final class PodMemifClient: @unchecked Sendable {
    struct Seen: Sendable, Equatable {
        var ipProtocol: UInt8
        var destinationPort: UInt16
        var tcpFlags: UInt8
        var sourceMAC: MACAddress?
        var destinationMAC: MACAddress?
    }

    let loop: MemifEventLoop
    let server: MemifInterface
    let client: MemifInterface
    let mode: MemifMode
    private let seen = Mutex<[Seen]>([])
    private let stopFlag = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private var running = false
    /// Frames to send from the pod (e.g. an ARP request), picked up by the responder thread.
    private let outbox = Mutex<[[UInt8]]>([])
    /// Frames received that were neither UDP nor TCP (neighbor answers).
    private let others = Mutex<[[UInt8]]>([])

    /// - Parameter bufferSize: the client's buffers; Calico/VPP's pods commonly get 1024
    ///   (its `rxqsz` quirk), which chains every frame above 1 KiB.
    init(mode: MemifMode = .ethernet, bufferSize: Int = 2048) throws {
        self.mode = mode
        loop = try MemifEventLoop()
        let socket = try MemifSocketName("@memifkit-ksteer-\(getpid())-\(UUID().uuidString.prefix(8))")
        server = try MemifInterface(
            MemifConfiguration(role: .server, socket: socket, mode: mode, applicationName: "memifd", interfaceName: "steer"),
            eventLoop: loop)
        client = try MemifInterface(
            MemifConfiguration(
                role: .client, socket: socket, mode: mode, applicationName: "pod", interfaceName: "pod0", bufferSize: bufferSize),
            eventLoop: loop)
        try server.start()
    }

    deinit {
        stopResponder()
        client.stop()
        server.stop()
        loop.shutdown()
    }

    /// Connects the client and returns the server's connection (what memifd attaches).
    func connect() throws -> MemifConnection {
        try client.start()
        guard let c = client.waitForConnection(timeout: .seconds(5)), let s = server.waitForConnection(timeout: .seconds(5)) else {
            throw TopologyError.command("memif client did not connect")
        }
        startResponder(c)
        return s
    }

    /// Stops the responder and disconnects the client.
    func disconnect() {
        stopResponder()
        client.stop()
        let deadline = Date().addingTimeInterval(5)
        while server.connection?.isConnected == true && Date() < deadline { usleep(1000) }
    }

    var packetsSeen: [Seen] { seen.withLock { $0 } }
    var otherFrames: [[UInt8]] { others.withLock { $0 } }
    func send(_ frame: [UInt8]) { outbox.withLock { $0.append(frame) } }

    private func stopResponder() {
        guard running else { return }
        running = false
        stopFlag.store(true, ordering: .relaxed)
        stopped.wait()
    }

    private func startResponder(_ connection: MemifConnection) {
        stopFlag.store(false, ordering: .relaxed)
        running = true
        Thread.detachNewThread { [self] in
            respond(connection)
            stopped.signal()
        }
    }

    private func respond(_ connection: MemifConnection) {
        let rx = connection.receiveQueue(0)
        let tx = connection.transmitQueue(0)
        let inBurst = MemifBurst(capacity: 64)
        let outBurst = MemifBurst(capacity: 64)
        var current: [UInt8] = []
        while !stopFlag.load(ordering: .relaxed) {
            let pending = outbox.withLock { o -> [[UInt8]] in
                defer { o.removeAll() }
                return o
            }
            for frame in pending {
                // A connection that went away never frees a slot: give up on it then.
                while tx.reserve(into: outBurst.buffers) == 0 {
                    guard tx.isActive && !stopFlag.load(ordering: .relaxed) else { return }
                    usleep(100)
                }
                _ = frame.withUnsafeBytes { MemifTxQueue.copy($0, into: outBurst.buffers, from: 0, to: 1) }
                tx.publish(outBurst.buffers, count: 1)
            }
            let n = rx.receive(into: inBurst.buffers)
            if n == 0 {
                guard rx.isActive else { return }  // this connection is gone; a new one gets its own thread
                usleep(20)
                continue
            }
            // Whole packets, chains gathered (test code: allocation is fine here).
            var packets: [[UInt8]] = []
            for i in 0..<n {
                current += UnsafeRawBufferPointer(inBurst[i].bytes)
                if !inBurst[i].hasNext {
                    packets.append(current)
                    current = []
                }
            }
            rx.release()
            let free = tx.reserve(into: outBurst.buffers)
            var used = 0
            for packet in packets {
                guard let reply = handle(packet) else { continue }
                let k = reply.withUnsafeBytes { MemifTxQueue.copy($0, into: outBurst.buffers, from: used, to: free) }
                used += k
            }
            if used > 0 { tx.publish(outBurst.buffers, count: used) }
        }
    }

    /// Records one packet; returns the reply for UDP (addresses and ports swapped).
    private func handle(_ packet: [UInt8]) -> [UInt8]? {
        let l2 = mode == .ethernet ? 14 : 0
        let length = packet.count
        guard length >= l2 + 20 else {
            others.withLock { $0.append(packet) }
            return nil
        }
        let version = packet[l2] >> 4
        let ipHeader: Int
        let proto: UInt8
        if version == 4 {
            ipHeader = Int(packet[l2] & 0xF) * 4
            proto = packet[l2 + 9]
        } else if version == 6, length >= l2 + 48 {
            ipHeader = 40
            proto = packet[l2 + 6]
        } else {
            others.withLock { $0.append(packet) }
            return nil
        }
        let l4 = l2 + ipHeader
        guard proto == 6 || proto == 17, length >= l4 + 8 else {
            others.withLock { $0.append(packet) }
            return nil
        }
        let port = UInt16(packet[l4 + 2]) << 8 | UInt16(packet[l4 + 3])
        let flags: UInt8 = proto == 6 && length >= l4 + 14 ? packet[l4 + 13] : 0
        let macs: (MACAddress?, MACAddress?) =
            l2 == 0
            ? (nil, nil)
            : packet.withUnsafeBytes { (MACAddress(loadingFrom: $0.baseAddress!, at: 6), MACAddress(loadingFrom: $0.baseAddress!, at: 0)) }
        seen.withLock {
            if $0.count < 10_000 {
                $0.append(Seen(ipProtocol: proto, destinationPort: port, tcpFlags: flags, sourceMAC: macs.0, destinationMAC: macs.1))
            }
        }
        guard proto == 17 else { return nil }
        var out = packet
        if l2 != 0 {
            out[0..<6] = packet[6..<12]
            out[6..<12] = packet[0..<6]
        }
        let a = version == 4 ? l2 + 12 : l2 + 8
        let size = version == 4 ? 4 : 16
        out[a..<(a + size)] = packet[(a + size)..<(a + 2 * size)]
        out[(a + size)..<(a + 2 * size)] = packet[a..<(a + size)]
        out[l4..<(l4 + 2)] = packet[(l4 + 2)..<(l4 + 4)]
        out[(l4 + 2)..<(l4 + 4)] = packet[l4..<(l4 + 2)]
        return out
    }
}
