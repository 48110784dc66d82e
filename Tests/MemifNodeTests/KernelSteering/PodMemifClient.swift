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

    init(mode: MemifMode = .ethernet) throws {
        self.mode = mode
        loop = try MemifEventLoop()
        let socket = try MemifSocketName("@memifkit-ksteer-\(getpid())-\(UUID().uuidString.prefix(8))")
        server = try MemifInterface(
            MemifConfiguration(role: .server, socket: socket, mode: mode, applicationName: "memifd", interfaceName: "steer"),
            eventLoop: loop)
        client = try MemifInterface(
            MemifConfiguration(role: .client, socket: socket, mode: mode, applicationName: "pod", interfaceName: "pod0"),
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
        let l2 = mode == .ethernet ? 14 : 0
        while !stopFlag.load(ordering: .relaxed) {
            let pending = outbox.withLock { o -> [[UInt8]] in
                defer { o.removeAll() }
                return o
            }
            for frame in pending {
                while tx.reserve(into: outBurst.buffers) == 0 { usleep(100) }
                _ = frame.withUnsafeBytes { MemifTxQueue.copy($0, into: outBurst.buffers, from: 0, to: 1) }
                tx.publish(outBurst.buffers, count: 1)
            }
            let n = rx.receive(into: inBurst.buffers)
            if n == 0 {
                usleep(20)
                continue
            }
            let free = tx.reserve(into: outBurst.buffers)
            var used = 0
            for i in 0..<n {
                let b = inBurst[i]
                let p = UnsafeRawPointer(b.data)
                let length = Int(b.length)
                guard length >= l2 + 20 else { continue }
                let version = p.load(fromByteOffset: l2, as: UInt8.self) >> 4
                let ipHeader: Int
                let proto: UInt8
                if version == 4 {
                    ipHeader = Int(p.load(fromByteOffset: l2, as: UInt8.self) & 0xF) * 4
                    proto = p.load(fromByteOffset: l2 + 9, as: UInt8.self)
                } else if version == 6, length >= l2 + 48 {
                    ipHeader = 40
                    proto = p.load(fromByteOffset: l2 + 6, as: UInt8.self)
                } else {
                    others.withLock { $0.append(Array(UnsafeRawBufferPointer(start: p, count: length))) }
                    continue
                }
                let l4 = l2 + ipHeader
                guard proto == 6 || proto == 17, length >= l4 + 8 else {
                    others.withLock { $0.append(Array(UnsafeRawBufferPointer(start: p, count: length))) }
                    continue
                }
                let port = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: l4 + 2, as: UInt16.self))
                let flags: UInt8 = proto == 6 && length >= l4 + 14 ? p.load(fromByteOffset: l4 + 13, as: UInt8.self) : 0
                let macs = l2 == 0 ? (nil, nil) : (MACAddress(loadingFrom: p, at: 6), MACAddress(loadingFrom: p, at: 0))
                seen.withLock {
                    if $0.count < 10_000 { $0.append(Seen(ipProtocol: proto, destinationPort: port, tcpFlags: flags, sourceMAC: macs.0, destinationMAC: macs.1)) }
                }
                guard proto == 17, used < free, Int(outBurst[used].capacity) >= length else { continue }
                let out = outBurst[used].data
                out.copyMemory(from: p, byteCount: length)
                if l2 != 0 {
                    out.copyMemory(from: p + 6, byteCount: 6)
                    (out + 6).copyMemory(from: p, byteCount: 6)
                }
                let addressOffset = version == 4 ? l2 + 12 : l2 + 8
                let addressSize = version == 4 ? 4 : 16
                (out + addressOffset).copyMemory(from: p + addressOffset + addressSize, byteCount: addressSize)
                (out + addressOffset + addressSize).copyMemory(from: p + addressOffset, byteCount: addressSize)
                (out + l4).copyMemory(from: p + l4 + 2, byteCount: 2)
                (out + l4 + 2).copyMemory(from: p + l4, byteCount: 2)
                outBurst.buffers[used].length = UInt32(length)
                outBurst.buffers[used].flags = 0
                used += 1
            }
            rx.release()
            if used > 0 { tx.publish(outBurst.buffers, count: used) }
        }
    }
}
