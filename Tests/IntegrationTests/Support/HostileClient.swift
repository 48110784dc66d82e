import CMemifLinux
import Foundation
import Testing

@testable import Memif

#if canImport(Glibc)
import Glibc
#endif

// A hostile peer against a live server: a raw control socket plays the client role by hand
// (reference sections 1.2-1.6, 2.2-2.5, 2.10) while a well-behaved client keeps traffic
// flowing on another interface of the same socket. Every attack must end in the exact
// DISCONNECT text the server sends (or a closed socket), and the server must keep serving.

// MARK: - Hostile side

struct HostileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Client memory built by hand, as reference section 2.2 lays it out with 64-byte cache
/// lines: one memfd region, a 16-slot S2M ring at 0, a 16-slot M2S ring at 384, then
/// 2048-byte buffers from offset 1024 (S2M slot k uses buffer k, M2S slot k buffer 16 + k).
final class HostileRegion {
    static let log2: UInt8 = 4
    static let slots = 16
    static let s2m = 0
    static let m2s = 384
    static let buffers = 1024
    static let bufferSize = 2048
    /// 17 pages: room for the rings and 32 buffers.
    static let size = 17 * 4096

    let fd: OwnedDescriptor
    let base: UnsafeMutableRawPointer
    let fileSize: Int
    /// Our producer index on the S2M ring.
    var s2mHead: UInt16 = 0

    /// A memfd of `fileSize` bytes (ftruncate first, then sealed unless `seal` is false),
    /// mapped here, both rings initialised with `cookie`.
    init(fileSize: Int = HostileRegion.size, seal: Bool = true, cookie: UInt32 = MemifProtocol.cookie) throws {
        let raw = cmemif_memfd_create("memif region hostile")
        guard raw >= 0 else { throw HostileError("memfd_create failed, errno \(errno)") }
        fd = OwnedDescriptor(raw)
        guard ftruncate(raw, off_t(fileSize)) == 0 else { throw HostileError("ftruncate failed, errno \(errno)") }
        if seal {
            guard cmemif_seal_region(raw) == 0 else { throw HostileError("sealing failed, errno \(errno)") }
        }
        guard let p = mmap(nil, fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, raw, 0), p != MAP_FAILED else {
            throw HostileError("mmap failed, errno \(errno)")
        }
        base = p
        self.fileSize = fileSize
        initRing(at: Self.s2m, cookie: cookie)
        initRing(at: Self.m2s, cookie: cookie)
    }

    deinit { munmap(base, fileSize) }

    func initRing(at ring: Int, cookie: UInt32) {
        memset(base + ring, 0, 128 + 16 * Self.slots)
        (base + ring).storeBytes(of: cookie, as: UInt32.self)
    }

    func head(_ ring: Int) -> UInt16 { cmemif_load_acquire_u16(base + ring + 6) }
    func setHead(_ ring: Int, _ v: UInt16) { cmemif_store_release_u16(base + ring + 6, v) }
    func tail(_ ring: Int) -> UInt16 { cmemif_load_acquire_u16(base + ring + 64) }

    func descriptorAddress(_ ring: Int, _ counter: UInt16) -> UnsafeMutableRawPointer {
        base + ring + 128 + 16 * Int(counter & UInt16(Self.slots - 1))
    }

    func setDescriptor(_ ring: Int, counter: UInt16, _ d: cmemif_desc_t) {
        descriptorAddress(ring, counter).storeBytes(of: d, as: cmemif_desc_t.self)
    }

    func descriptor(_ ring: Int, counter: UInt16) -> cmemif_desc_t {
        descriptorAddress(ring, counter).load(as: cmemif_desc_t.self)
    }

    func bufferOffset(_ k: Int) -> UInt32 { UInt32(Self.buffers + k * Self.bufferSize) }

    func write(_ bytes: [UInt8], at offset: UInt32) {
        bytes.withUnsafeBytes { (base + Int(offset)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    func read(at offset: UInt32, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    }

    /// Writes `payload` into the S2M buffer of slot `counter` and returns a valid descriptor for it.
    func packet(_ payload: [UInt8], at counter: UInt16, next: Bool = false) -> cmemif_desc_t {
        let offset = bufferOffset(Int(counter & UInt16(Self.slots - 1)))
        write(payload, at: offset)
        return desc(offset: offset, length: UInt32(payload.count), next: next)
    }

    func desc(region: UInt16 = 0, offset: UInt32, length: UInt32, next: Bool = false) -> cmemif_desc_t {
        cmemif_desc_t(
            flags: next ? MemifProtocol.descriptorFlagNext : 0, region: region, length: length, offset: offset,
            metadata: 0)
    }

    /// Publishes `descriptors` on the S2M ring from our head, then advances head past them.
    func push(_ descriptors: [cmemif_desc_t]) {
        for d in descriptors {
            setDescriptor(Self.s2m, counter: s2mHead, d)
            s2mHead &+= 1
        }
        setHead(Self.s2m, s2mHead)
    }
}

/// Open fds and mappings of our hand-made memfds, wherever they are held (test or server).
/// Exact even when other suites run in parallel, unlike a total fd count.
enum HostileResources {
    static let marker = "memif region hostile"

    static func descriptors() -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "").contains(marker)
        }.count
    }

    static func mappings() -> Int {
        Resources.procFile("/proc/self/maps").split(separator: "\n").filter { $0.contains(marker) }.count
    }

    /// Waits until no hostile memfd is open or mapped any more.
    static func released(sourceLocation: SourceLocation = #_sourceLocation) {
        var fds = 0
        var maps = 0
        let gone = Resources.eventually(timeout: 5) {
            fds = descriptors()
            maps = mappings()
            return fds == 0 && maps == 0
        }
        #expect(gone, "hostile memfds still held: \(fds) fds, \(maps) mappings", sourceLocation: sourceLocation)
    }
}

func hostileEventFD() -> OwnedDescriptor { OwnedDescriptor(cmemif_eventfd(0, 1)) }

func payload(_ seed: Int, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: seed &* 131 &+ $0 &* 7 &+ 3) }
}

/// A raw control socket that plays the client by hand, one message at a time.
final class HostileClient {
    enum Reply: Equatable, CustomStringConvertible {
        case message(MemifMessage)
        /// A datagram that is not a memif message (the server must never send one).
        case garbage(Int)
        case closed
        case timeout

        var description: String {
            switch self {
            case .message(.disconnect(let code, let reason)): "DISCONNECT(\(code), \"\(reason)\")"
            case .message(let m): "\(m.type)"
            case .garbage(let n): "garbage datagram of \(n) bytes"
            case .closed: "closed socket"
            case .timeout: "no reply"
            }
        }
    }

    enum Expectation {
        /// DISCONNECT with this exact text, then the socket closes.
        case disconnect(String)
        /// DISCONNECT with this text, or the socket closed without one.
        case disconnectOrClose(String)
        /// The socket closes without a DISCONNECT (the peer itself disconnected).
        case closed
    }

    let socket: ControlSocket
    /// fds we sent, kept open as a real client would.
    private var kept: [OwnedDescriptor] = []

    init(_ name: MemifSocketName) throws { socket = try ControlSocket.connect(name) }

    /// The next message, or `.closed` once the server closed (two EOFs in a row: a first
    /// ECONNRESET may precede a queued DISCONNECT when the server closed with data unread).
    func next(timeout: Double = 3) -> Reply {
        let deadline = Date().addingTimeInterval(timeout)
        var endOfFiles = 0
        repeat {
            let received: ControlSocket.Received
            do {
                received = try socket.receive()
            } catch {
                return .closed
            }
            switch received {
            case .datagram(let bytes, _, _):
                guard let m = try? MemifMessage(decoding: bytes) else { return .garbage(bytes.count) }
                return .message(m)
            case .endOfFile:
                endOfFiles += 1
                if endOfFiles >= 2 { return .closed }
            case .wouldBlock:
                endOfFiles = 0
                usleep(500)
            }
        } while Date() < deadline
        return .timeout
    }

    func expectHello() throws -> MemifMessage.Hello {
        let r = next()
        guard case .message(.hello(let hello)) = r else { throw HostileError("expected HELLO, got \(r)") }
        return hello
    }

    func send(_ m: MemifMessage, fd: OwnedDescriptor? = nil) throws {
        if let fd { kept.append(fd) }
        try socket.send(m, attaching: fd)
    }

    func sendRaw(_ bytes: [UInt8], fd: OwnedDescriptor? = nil) throws {
        if let fd { kept.append(fd) }
        try socket.send(bytes: bytes, attaching: fd)
    }

    /// Sends `bytes` as one datagram with every fd of `fds` in one SCM_RIGHTS message
    /// (ControlSocket only attaches one). The control layout is LP64 Linux: a 16-byte
    /// cmsghdr (len: size_t, level, type), then the fds, padded to 8.
    func sendWithDescriptors(_ bytes: [UInt8], _ fds: [OwnedDescriptor]) throws {
        kept += fds
        var control = [UInt8](repeating: 0, count: 16 + ((4 * fds.count + 7) & ~7))
        control.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt64(16 + 4 * fds.count), toByteOffset: 0, as: UInt64.self)
            c.storeBytes(of: Int32(1), toByteOffset: 8, as: Int32.self)  // SOL_SOCKET
            c.storeBytes(of: Int32(1), toByteOffset: 12, as: Int32.self)  // SCM_RIGHTS
            for (i, fd) in fds.enumerated() { c.storeBytes(of: fd.raw, toByteOffset: 16 + 4 * i, as: Int32.self) }
        }
        var data = bytes
        let sent = data.withUnsafeMutableBytes { b in
            control.withUnsafeMutableBytes { c in
                var iov = iovec(iov_base: b.baseAddress, iov_len: b.count)
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    var message = msghdr()
                    message.msg_iov = iovPointer
                    message.msg_iovlen = 1
                    message.msg_control = c.baseAddress
                    message.msg_controllen = c.count
                    return sendmsg(socket.fd, &message, 0x4000)  // MSG_NOSIGNAL
                }
            }
        }
        guard sent == bytes.count else { throw HostileError("sendmsg with \(fds.count) fds failed, errno \(errno)") }
    }

    /// Sends one message and requires ACK (lock-step, as every reference client does).
    func step(_ m: MemifMessage, fd: OwnedDescriptor? = nil) throws {
        try send(m, fd: fd)
        let r = next()
        guard r == .message(.ack) else { throw HostileError("\(m.type) was answered with \(r), not ACK") }
    }

    static func initMessage(
        id: UInt32 = 0, version: UInt16 = MemifProtocol.version, mode: UInt8 = 0, name: String = "hostile"
    ) -> MemifMessage {
        .initialize(.init(version: version, id: id, mode: mode, secret: [], name: name))
    }

    static func ring(
        s2m: Bool, index: UInt16 = 0, region: UInt16 = 0, offset: UInt32? = nil, log2: UInt8 = HostileRegion.log2,
        privateHeaderSize: UInt16 = 0
    ) -> MemifMessage {
        .addRing(
            .init(
                flags: s2m ? MemifProtocol.addRingFlagClientToServer : 0, index: index, region: region,
                offset: offset ?? UInt32(s2m ? HostileRegion.s2m : HostileRegion.m2s), log2RingSize: log2,
                privateHeaderSize: privateHeaderSize))
    }

    func initialize(id: UInt32 = 0) throws { try step(Self.initMessage(id: id)) }

    func addRegion(_ region: HostileRegion, announced: UInt64? = nil) throws {
        try step(.addRegion(.init(index: 0, size: announced ?? UInt64(region.fileSize))), fd: region.fd)
    }

    func addRings() throws {
        try step(Self.ring(s2m: true), fd: hostileEventFD())
        try step(Self.ring(s2m: false), fd: hostileEventFD())
    }

    /// Reads the server's answer to the offending message and checks it.
    /// `lenient`: any DISCONNECT text will do, only the close is required (for leak runs).
    func expectRefusal(
        _ expectation: Expectation, _ name: String, lenient: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let reply = next()
        if lenient {
            var last = reply
            while case .message = last { last = next() }
            #expect(last == .closed, "\(name): the server did not close the socket (\(last))", sourceLocation: sourceLocation)
            return
        }
        switch (expectation, reply) {
        case (.disconnect(let want), .message(.disconnect(let code, let reason))),
            (.disconnectOrClose(let want), .message(.disconnect(let code, let reason))):
            #expect(reason == want, "\(name): DISCONNECT reason", sourceLocation: sourceLocation)
            #expect(code == 0, "\(name): DISCONNECT code", sourceLocation: sourceLocation)
            let after = next()
            #expect(after == .closed, "\(name): the socket must close after DISCONNECT, got \(after)",
                sourceLocation: sourceLocation)
        case (.disconnectOrClose, .closed), (.closed, .closed):
            break
        case (.disconnect(let want), _), (.disconnectOrClose(let want), _):
            Issue.record("\(name): expected DISCONNECT \"\(want)\", got \(reply)", sourceLocation: sourceLocation)
        case (.closed, _):
            Issue.record("\(name): expected the socket to close silently, got \(reply)", sourceLocation: sourceLocation)
        }
    }
}

/// One attack: everything after HELLO up to and including the offending message.
struct Attack {
    let name: String
    let expectation: HostileClient.Expectation
    let script: (HostileClient) throws -> Void

    init(_ name: String, _ expectation: HostileClient.Expectation, _ script: @escaping (HostileClient) throws -> Void) {
        self.name = name
        self.expectation = expectation
        self.script = script
    }
}
