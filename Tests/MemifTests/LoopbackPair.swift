import CMemifLinux
import Glibc
import Testing

@testable import Memif

/// A client and a server connection over the same shared memory in one process, built
/// without sockets: the client creates its memory as in a real handshake, the server maps
/// the same memfds a second time. Lets tests drive the data path and poke at the rings.
struct LoopbackPair {
    let client: MemifConnection
    let server: MemifConnection
    let memory: ClientMemory
    /// The server's own mappings of the client's regions.
    let serverRegions: [SharedRegion]

    /// - Parameter startIndex: head and tail of every ring before connecting, to test
    ///   free-running u16 arithmetic across wrap-around.
    init(configuration c: MemifConfiguration, startIndex: UInt16 = 0) throws {
        let memory = try ClientMemory(
            configuration: c, clientToServer: c.clientToServerQueues, serverToClient: c.serverToClientQueues,
            log2RingSize: c.log2RingSize)
        for r in memory.rings {
            let ring = Ring(header: r.header, layout: c.ringLayout, log2RingSize: r.log2RingSize)
            ring.storeHeadRelease(startIndex)
            ring.storeTailRelease(startIndex)
        }
        self.memory = memory
        let serverRegions = try memory.regions.map {
            try SharedRegion.adopt(OwnedDescriptor(dup($0.descriptor.raw)), size: $0.size, requireShrinkSeal: true)
        }
        self.serverRegions = serverRegions
        let serverRings = memory.rings.map { r -> MemifConnection.RingSetup in
            let offset = r.header - memory.regions[0].base
            return MemifConnection.RingSetup(
                header: serverRegions[0].base + offset, log2RingSize: r.log2RingSize,
                eventFD: OwnedDescriptor(dup(r.eventFD.raw)))
        }
        let s = c.clientToServerQueues
        server = MemifConnection(
            role: .server, mode: c.mode, peerApplicationName: "client", peerInterfaceName: "client0",
            regions: serverRegions, receive: Array(serverRings[..<s]), transmit: Array(serverRings[s...]),
            ringLayout: c.ringLayout, bufferSize: c.bufferSize, interruptMode: false)
        client = MemifConnection(
            role: .client, mode: c.mode, peerApplicationName: "server", peerInterfaceName: "server0",
            regions: memory.regions, receive: Array(memory.rings[s...]), transmit: Array(memory.rings[..<s]),
            ringLayout: c.ringLayout, bufferSize: c.bufferSize, interruptMode: false)
    }

    /// The client-to-server ring `i` as the client sees it.
    func clientToServerRing(_ i: Int, _ c: MemifConfiguration) -> Ring {
        Ring(header: memory.rings[i].header, layout: c.ringLayout, log2RingSize: memory.rings[i].log2RingSize)
    }

    func serverToClientRing(_ i: Int, _ c: MemifConfiguration) -> Ring {
        let r = memory.rings[c.clientToServerQueues + i]
        return Ring(header: r.header, layout: c.ringLayout, log2RingSize: r.log2RingSize)
    }

    static func configuration(log2RingSize: UInt8 = 4, bufferSize: Int = 256, queues: Int = 1) -> MemifConfiguration {
        var c = MemifConfiguration(role: .client, socket: try! MemifSocketName("@loopback"))
        c.log2RingSize = log2RingSize
        c.bufferSize = bufferSize
        c.clientToServerQueues = queues
        c.serverToClientQueues = queues
        return c
    }
}

/// Frames and helpers for data-path tests.
enum Frames {
    static func make(_ sequence: Int, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: sequence &* 131 &+ $0 &* 7) }
    }

    /// Sends every frame it can; returns how many went out.
    static func send(_ frames: [[UInt8]], _ tx: MemifTxQueue, _ burst: borrowing MemifBurst) -> Int {
        let free = tx.reserve(into: burst.buffers)
        var used = 0
        var sent = 0
        for f in frames {
            let k = f.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: used, to: free) }
            if k == 0 { break }
            used += k
            sent += 1
        }
        let published = tx.publish(burst.buffers, count: used)
        precondition(published == used)
        return sent
    }

    /// Receives everything available as whole packets, then releases.
    static func receive(_ rx: MemifRxQueue, _ burst: borrowing MemifBurst) -> [[UInt8]] {
        let n = rx.receive(into: burst.buffers)
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        for i in 0..<n {
            current += Array(UnsafeRawBufferPointer(burst[i].bytes))
            if !burst[i].hasNext {
                out.append(current)
                current = []
            }
        }
        #expect(current.isEmpty, "a receive burst ended inside a chain")
        rx.release()
        return out
    }
}

