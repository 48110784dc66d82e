import CMemifLinux
import Foundation
import Testing

@testable import Memif

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Attack catalogues

enum Attacks {
    static func malformed() -> [Attack] {
        let initBytes = HostileClient.initMessage().encoded()
        var unknown = [UInt8](repeating: 0, count: 128)
        unknown[0] = 99
        return [
            Attack("127-byte datagram", .disconnect("Invalid message size")) { try $0.sendRaw(Array(initBytes.prefix(127))) },
            Attack("129-byte datagram", .disconnect("Invalid message size")) { try $0.sendRaw(initBytes + [0]) },
            Attack("1-byte datagram", .disconnect("Invalid message size")) { try $0.sendRaw([3]) },
            Attack("4096-byte datagram", .disconnect("Invalid message size")) {
                try $0.sendRaw(initBytes + [UInt8](repeating: 0xAB, count: 4096 - 128))
            },
            Attack("empty datagram carrying an fd", .disconnect("Invalid message size")) {
                try $0.sendRaw([], fd: hostileEventFD())
            },
            Attack("empty datagram", .disconnectOrClose("Invalid message size")) { try $0.sendRaw([]) },
            Attack("unknown type 99", .disconnect("Unknown message type")) { try $0.sendRaw(unknown) },
            Attack("unknown type 99 carrying an fd", .disconnect("Unknown message type")) {
                try $0.sendRaw(unknown, fd: hostileEventFD())
            },
            Attack("INIT carrying 3 fds", .disconnect("Invalid message size")) {
                try $0.sendWithDescriptors(initBytes, (0..<3).map { _ in hostileEventFD() })
            },
            Attack("INIT carrying 20 fds (more than the server's control buffer)", .disconnect("Invalid message size")) {
                try $0.sendWithDescriptors(initBytes, (0..<20).map { _ in hostileEventFD() })
            },
            Attack("DISCONNECT carrying an fd before INIT", .closed) {
                try $0.send(.disconnect(code: 0, reason: "bye"), fd: hostileEventFD())
            },
            Attack("ADD_REGION carrying 2 fds after INIT", .disconnect("Invalid message size")) { h in
                try h.initialize(id: 0)
                let region = try HostileRegion()
                try h.sendWithDescriptors(
                    MemifMessage.addRegion(.init(index: 0, size: UInt64(region.fileSize))).encoded(),
                    [region.fd, hostileEventFD()])
            },
            Attack("127-byte ADD_REGION after INIT for id 0", .disconnect("Invalid message size")) { h in
                try h.initialize(id: 0)
                let region = try HostileRegion()
                let bytes = MemifMessage.addRegion(.init(index: 0, size: UInt64(region.fileSize))).encoded()
                try h.sendRaw(Array(bytes.prefix(127)), fd: region.fd)
            },
            Attack("unknown type 0xFFFF after INIT for id 0", .disconnect("Unknown message type")) { h in
                try h.initialize(id: 0)
                try h.sendRaw([0xFF, 0xFF] + [UInt8](repeating: 0, count: 126))
            },
        ]
    }

    static func outOfOrder() -> [Attack] {
        [
            Attack("ADD_REGION before INIT", .disconnect("Unexpected message")) { h in
                let region = try HostileRegion()
                try h.send(.addRegion(.init(index: 0, size: UInt64(region.fileSize))), fd: region.fd)
            },
            Attack("ADD_RING before INIT", .disconnect("Unexpected message")) { h in
                try h.send(HostileClient.ring(s2m: true), fd: hostileEventFD())
            },
            Attack("CONNECT before INIT", .disconnect("Unexpected message")) { try $0.send(.connect(interfaceName: "x")) },
            Attack("second INIT", .disconnect("Unexpected message")) { h in
                try h.initialize(id: 0)
                try h.send(HostileClient.initMessage(id: 0))
            },
            Attack("HELLO sent by the client", .disconnect("Unexpected message")) { try $0.send(.hello(.init(name: "evil"))) },
            Attack("ACK sent by the client", .disconnect("Unexpected message")) { try $0.send(.ack) },
            Attack("NONE (type 0)", .disconnect("Unexpected message")) { try $0.send(.none) },
            Attack("CONNECTED sent by the client after INIT", .disconnect("Unexpected message")) { h in
                try h.initialize(id: 0)
                try h.send(.connected(interfaceName: "x"))
            },
            Attack("version 0x0100", .disconnect("Incompatible memif version")) {
                try $0.send(HostileClient.initMessage(version: 0x0100))
            },
            Attack("version 0x0201", .disconnect("Incompatible memif version")) {
                try $0.send(HostileClient.initMessage(version: 0x0201))
            },
            Attack("unknown id 77", .disconnect("ID not found")) { try $0.send(HostileClient.initMessage(id: 77)) },
            Attack("id 0xFFFFFFFF", .disconnect("ID not found")) { try $0.send(HostileClient.initMessage(id: .max)) },
            Attack("id 1 while connected", .disconnect("Already connected")) { try $0.send(HostileClient.initMessage(id: 1)) },
            Attack("mode ip to an ethernet server", .disconnect("Only ethernet mode supported")) {
                try $0.send(HostileClient.initMessage(mode: 1))
            },
            Attack("mode punt/inject", .disconnect("Only ethernet mode supported")) {
                try $0.send(HostileClient.initMessage(mode: 2))
            },
            Attack("mode 255", .disconnect("Only ethernet mode supported")) { try $0.send(HostileClient.initMessage(mode: 255)) },
            Attack("INIT carrying an fd", .disconnect("Unexpected file descriptor")) {
                try $0.send(HostileClient.initMessage(), fd: hostileEventFD())
            },
        ]
    }

    static func badIndices() -> [Attack] {
        [
            Attack("ADD_REGION index 1 first", .disconnect("Invalid region index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.send(.addRegion(.init(index: 1, size: UInt64(region.fileSize))), fd: region.fd)
            },
            Attack("ADD_REGION without fd", .disconnect("Missing region fd")) { h in
                try h.initialize()
                try h.send(.addRegion(.init(index: 0, size: UInt64(HostileRegion.size))))
            },
            Attack("ADD_REGION of size 0", .disconnect("Invalid region index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.send(.addRegion(.init(index: 0, size: 0)), fd: region.fd)
            },
            Attack("ADD_RING index beyond the 2 configured queues", .disconnect("Invalid ring index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.step(HostileClient.ring(s2m: true, index: 0), fd: hostileEventFD())
                try h.step(HostileClient.ring(s2m: true, index: 1, offset: 768), fd: hostileEventFD())
                try h.send(HostileClient.ring(s2m: true, index: 2, offset: 1152), fd: hostileEventFD())
            },
            Attack("ADD_RING index 0xFFFF", .disconnect("Invalid ring index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: false, index: 0xFFFF), fd: hostileEventFD())
            },
            Attack("ADD_RING non-sequential index (1 before 0)", .disconnect("Invalid ring index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, index: 1), fd: hostileEventFD())
            },
            Attack("ADD_RING repeated index", .disconnect("Invalid ring index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.step(HostileClient.ring(s2m: false, index: 0), fd: hostileEventFD())
                try h.send(HostileClient.ring(s2m: false, index: 0), fd: hostileEventFD())
            },
            Attack("ADD_RING without fd", .disconnect("Missing interrupt fd")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true))
            },
            Attack("ADD_RING private_hdr_size 8", .disconnect("Private headers not supported")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, privateHeaderSize: 8), fd: hostileEventFD())
            },
            Attack("ADD_RING before any region", .disconnect("Invalid region index")) { h in
                try h.initialize()
                try h.send(HostileClient.ring(s2m: true), fd: hostileEventFD())
            },
            Attack("ADD_RING in unregistered region 3", .disconnect("Invalid region index")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, region: 3), fd: hostileEventFD())
            },
            Attack("ADD_RING log2 size 0", .disconnect("Invalid ring size")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, log2: 0), fd: hostileEventFD())
            },
            Attack("ADD_RING log2 size 15", .disconnect("Invalid ring size")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, log2: 15), fd: hostileEventFD())
            },
            Attack("ring offset placing the ring past the region end", .disconnect("Wrong ring")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                // 384-byte ring starting 128 bytes before the end.
                try h.send(HostileClient.ring(s2m: true, offset: UInt32(HostileRegion.size - 128)), fd: hostileEventFD())
            },
            Attack("ring offset that overflows 32 bits", .disconnect("Wrong ring")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: false, offset: 0xFFFF_FF80), fd: hostileEventFD())
            },
            Attack("misaligned ring offset", .disconnect("Wrong ring")) { h in
                try h.initialize()
                let region = try HostileRegion()
                try h.addRegion(region)
                try h.send(HostileClient.ring(s2m: true, offset: 4), fd: hostileEventFD())
            },
            Attack("S2M ring with a bad cookie at CONNECT", .disconnect("Wrong ring")) { h in
                let region = try HostileRegion()
                region.initRing(at: HostileRegion.s2m, cookie: 0xDEAD_BEEF)
                try h.initialize()
                try h.addRegion(region)
                try h.addRings()
                try h.send(.connect(interfaceName: "x"))
            },
            Attack("M2S ring with a bad cookie at CONNECT", .disconnect("Wrong ring")) { h in
                let region = try HostileRegion()
                region.initRing(at: HostileRegion.m2s, cookie: 0)
                try h.initialize()
                try h.addRegion(region)
                try h.addRings()
                try h.send(.connect(interfaceName: "x"))
            },
        ]
    }

    static func memory() -> [Attack] {
        func fullRegistration(_ h: HostileClient, _ region: HostileRegion, announced: UInt64? = nil, regionFD: OwnedDescriptor? = nil) throws {
            try h.initialize()
            try h.step(.addRegion(.init(index: 0, size: announced ?? UInt64(region.fileSize))), fd: regionFD ?? region.fd)
            try h.addRings()
            try h.send(.connect(interfaceName: "x"))
        }
        return [
            Attack("unsealed memfd region", .disconnect("Device error")) { h in
                try fullRegistration(h, try HostileRegion(seal: false))
            },
            Attack("sealed region fd smaller than announced", .disconnect("Device error")) { h in
                try fullRegistration(h, try HostileRegion(fileSize: 4096), announced: UInt64(HostileRegion.size))
            },
            Attack("unsealed region fd smaller than announced", .disconnect("Device error")) { h in
                try fullRegistration(h, try HostileRegion(fileSize: 4096, seal: false), announced: UInt64(HostileRegion.size))
            },
            Attack("region announced as 2^63 bytes", .disconnect("Device error")) { h in
                try fullRegistration(h, try HostileRegion(), announced: 1 << 63)
            },
            Attack("region announced as UInt64.max bytes", .disconnect("Device error")) { h in
                try fullRegistration(h, try HostileRegion(), announced: .max)
            },
            Attack("region fd that is an eventfd", .disconnect("Device error")) { h in
                let region = try HostileRegion()
                try fullRegistration(h, region, regionFD: hostileEventFD())
            },
            Attack("complete registration, CONNECT carrying an fd", .disconnect("Unexpected file descriptor")) { h in
                let region = try HostileRegion()
                try h.initialize()
                try h.addRegion(region)
                try h.addRings()
                try h.send(.connect(interfaceName: "x"), fd: hostileEventFD())
            },
        ]
    }

    /// CONNECT with no region and no ring registered: nothing to connect, out of order.
    static func connectRightAfterInit() -> Attack {
        Attack("CONNECT right after INIT", .disconnect("Unexpected message")) { h in
            try h.initialize(id: 0)
            try h.send(.connect(interfaceName: "x"))
        }
    }

    static func all() -> [Attack] { malformed() + outOfOrder() + [connectRightAfterInit()] + badIndices() + memory() }
}

// MARK: - Data-path helpers

/// One receive burst on the server, copied out, then released.
func drain(_ rx: MemifRxQueue, _ burst: borrowing MemifBurst) -> [(bytes: [UInt8], next: Bool)] {
    let n = rx.receive(into: burst.buffers)
    var out: [(bytes: [UInt8], next: Bool)] = []
    for i in 0..<n { out.append((Array(UnsafeRawBufferPointer(burst[i].bytes)), burst[i].hasNext)) }
    rx.release()
    return out
}

func delta(_ a: MemifQueueStatistics, _ b: MemifQueueStatistics) -> MemifQueueStatistics {
    MemifQueueStatistics(
        packets: b.packets &- a.packets, bytes: b.bytes &- a.bytes, drops: b.drops &- a.drops,
        badDescriptors: b.badDescriptors &- a.badDescriptors, chains: b.chains &- a.chains)
}
