import CMemifLinux

#if canImport(Glibc)
import Glibc
#endif

/// One non-blocking `SOCK_SEQPACKET` unix socket: a listener, or one memif control channel.
/// Each datagram is one 128-byte message, with at most one fd attached (SCM_RIGHTS).
final class ControlSocket: @unchecked Sendable {
    let descriptor: OwnedDescriptor
    var fd: Int32 { descriptor.raw }

    private init(_ descriptor: OwnedDescriptor) { self.descriptor = descriptor }

    enum Received {
        /// A datagram of `bytes.count` bytes (which may be any size: the caller checks),
        /// with the fd that came with it, owned by the receiver. `truncated` means the peer
        /// sent more bytes or fds than one message may carry.
        case datagram(bytes: [UInt8], fd: OwnedDescriptor?, truncated: Bool)
        case endOfFile
        case wouldBlock
    }

    /// Binds and listens. For a filesystem path, a stale socket file (one nobody listens on)
    /// is removed first, as VPP does; a live listener is never disturbed.
    static func listen(_ name: MemifSocketName) throws(MemifError) -> ControlSocket {
        let socket = try makeSocket()
        let abstract: Int32 = name.kind == .abstract ? 1 : 0
        var bound = bind(socket, name, abstract)
        if !bound && errno == EADDRINUSE && name.kind == .filesystem && isStaleSocketFile(name) {
            unlink(name.name)
            bound = bind(socket, name, abstract)
        }
        guard bound else {
            if errno == EADDRINUSE {
                throw MemifError(.invalidSocket, "socket \(name) is already served by another listener")
            }
            throw MemifError.system("bind(\(name))")
        }
        try retryingInterrupts("listen(\(name))") { Glibc.listen(socket.fd, 64) }
        try socket.setNonBlocking()
        return socket
    }

    /// Binds and listens inside the network namespace at `namespace` (a short-lived thread joins
    /// it for the bind); the socket is then served from whichever thread, as any other.
    static func listen(_ name: MemifSocketName, inNamespace namespace: String?) throws(MemifError) -> ControlSocket {
        guard let namespace else { return try listen(name) }
        let nsFD = cmemif_netns_open(namespace)
        guard nsFD >= 0 else {
            if errno == EINVAL { throw MemifError(.invalidSocket, "\(namespace) is not a network namespace") }
            throw MemifError.system("open network namespace \(namespace)")
        }
        defer { close(nsFD) }
        let fd = name.name.withCString {
            cmemif_netns_listen_unix(nsFD, $0, strlen($0), name.kind == .abstract ? 1 : 0, 64)
        }
        guard fd >= 0 else {
            if errno == EADDRINUSE {
                throw MemifError(.invalidSocket, "socket \(name) is already served in network namespace \(namespace)")
            }
            throw MemifError.system("bind(\(name)) in network namespace \(namespace)")
        }
        let socket = ControlSocket(OwnedDescriptor(fd))
        try socket.setNonBlocking()
        return socket
    }

    /// Connects to a listener; fails at once (ECONNREFUSED, ENOENT) when none is there.
    static func connect(_ name: MemifSocketName) throws(MemifError) -> ControlSocket {
        let socket = try makeSocket()
        let rc = name.name.withCString { cmemif_connect_unix(socket.fd, $0, strlen($0), name.kind == .abstract ? 1 : 0) }
        guard rc == 0 else { throw MemifError.system("connect(\(name))") }
        try socket.setNonBlocking()
        return socket
    }

    /// Accepts one pending connection, or returns nil when none is pending.
    func accept() throws(MemifError) -> ControlSocket? {
        while true {
            let client = cmemif_accept(fd)
            if client >= 0 { return ControlSocket(OwnedDescriptor(client)) }
            switch errno {
            case EINTR: continue
            case EAGAIN, ECONNABORTED: return nil
            default: throw MemifError.system("accept")
            }
        }
    }

    /// Sends one message, with `attaching` passed as SCM_RIGHTS when given.
    func send(_ message: MemifMessage, attaching attached: OwnedDescriptor? = nil) throws(MemifError) {
        try send(bytes: message.encoded(), attaching: attached)
    }

    /// Sends raw bytes as one datagram; tests use it to play a hostile peer.
    func send(bytes: [UInt8], attaching attached: OwnedDescriptor? = nil) throws(MemifError) {
        let n = bytes.withUnsafeBytes { cmemif_send_with_fd(fd, $0.baseAddress, $0.count, attached?.raw ?? -1) }
        guard n == bytes.count else { throw MemifError.system("sendmsg") }
    }

    func receive() throws(MemifError) -> Received {
        // Twice the message size: a longer datagram is seen as too long, not silently cut.
        var buffer = [UInt8](repeating: 0, count: 2 * MemifProtocol.messageSize)
        var receivedFD: Int32 = -1
        var truncated: Int32 = 0
        let n = buffer.withUnsafeMutableBytes {
            cmemif_recv_with_fd(fd, $0.baseAddress, $0.count, &receivedFD, &truncated)
        }
        if n < 0 {
            if errno == EAGAIN { return .wouldBlock }
            if errno == ECONNRESET { return .endOfFile }
            throw MemifError.system("recvmsg")
        }
        let owned = receivedFD >= 0 ? OwnedDescriptor(receivedFD) : nil
        if n == 0 && owned == nil { return .endOfFile }
        return .datagram(bytes: Array(buffer[0..<n]), fd: owned, truncated: truncated != 0)
    }

    private static func makeSocket() throws(MemifError) -> ControlSocket {
        let fd = cmemif_seqpacket_socket()
        guard fd >= 0 else { throw MemifError.system("socket(AF_UNIX, SOCK_SEQPACKET)") }
        return ControlSocket(OwnedDescriptor(fd))
    }

    private static func bind(_ socket: ControlSocket, _ name: MemifSocketName, _ abstract: Int32) -> Bool {
        name.name.withCString { cmemif_bind_unix(socket.fd, $0, strlen($0), abstract) } == 0
    }

    /// True when `name` is a socket file that nobody accepts connections on: safe to remove.
    /// Anything else at that path (a live listener, a regular file) is left alone.
    private static func isStaleSocketFile(_ name: MemifSocketName) -> Bool {
        var info = stat()
        guard lstat(name.name, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return false }
        guard let probe = try? makeSocket() else { return false }
        let rc = name.name.withCString { cmemif_connect_unix(probe.fd, $0, strlen($0), 0) }
        return rc != 0 && errno == ECONNREFUSED
    }

    private func setNonBlocking() throws(MemifError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw MemifError.system("fcntl(O_NONBLOCK)") }
    }
}
