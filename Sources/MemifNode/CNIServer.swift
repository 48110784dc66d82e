import Logging
import MemifCNI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// memifd's unix socket: one JSON request and one JSON reply per connection (`NodeProtocol`).
/// Each connection is served on a thread of its own with I/O timeouts, so a client that
/// connects and says nothing holds one thread for a few seconds, never the service.
public final class CNIServer: Sendable {
    /// Connections served at once; more are closed at once (the client retries: error 11).
    public static let maximumConcurrentConnections = 64
    /// A client has this long to send its request and read the reply.
    public static let ioTimeoutSeconds = 10

    private let service: NodeService
    private let logger: Logger
    private let listenFD: Int32
    public let path: String
    private let active = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Binds `path` (creating its directory; replacing a stale socket file, never a live one).
    public init(path: String, service: NodeService, logger: Logger) throws(Failure) {
        self.path = path
        self.service = service
        self.logger = logger
        do throws(StateStore.Failure) {
            try StateStore.makeDirectories(StateStore.directory(of: path))
        } catch {
            throw Failure(description: error.description)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var bound = Self.bind(fd, path)
        if !bound && errno == EADDRINUSE && Self.isStale(path) {
            unlink(path)
            bound = Self.bind(fd, path)
        }
        guard bound, listen(fd, 128) == 0 else {
            let message = errno == EADDRINUSE ? "another memifd serves \(path)" : String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(message)")
        }
        chmod(path, 0o660)
        listenFD = fd
    }

    /// Starts accepting on a thread of its own.
    public func start() {
        startDetachedThread { [self] in acceptLoop() }
    }

    /// Stops accepting and removes the socket file.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        unlink(path)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if stopped.load(ordering: .acquiring) { break }
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    logger.error("accept failed, pausing", metadata: ["error": "\(String(cString: strerror(errno)))"])
                    usleep(100_000)
                    continue
                }
                logger.error("accept failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                usleep(100_000)
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard active.add(1, ordering: .acquiringAndReleasing).newValue <= Self.maximumConcurrentConnections else {
                active.subtract(1, ordering: .acquiringAndReleasing)
                close(client)
                continue
            }
            let started = startDetachedThread { [self] in
                serve(client)
                close(client)
                active.subtract(1, ordering: .acquiringAndReleasing)
            }
            if !started {
                close(client)
                active.subtract(1, ordering: .acquiringAndReleasing)
            }
        }
        close(listenFD)
    }

    private func serve(_ fd: Int32) {
        UnixStream.setTimeouts(fd, seconds: Self.ioTimeoutSeconds)
        let reply: NodeReply
        switch UnixStream.readAll(fd, limit: NodeProtocol.maximumMessageBytes) {
        case .failure(let f):
            logger.warning("unreadable request", metadata: ["error": "\(f)"])
            reply = .failed(CNIError(.decodingFailure, "request not read: \(f)"))
        case .success(let bytes):
            reply = Self.reply(to: bytes, service: service)
        }
        _ = UnixStream.writeAll(fd, Array(reply.json.serialized.utf8))
    }

    /// Decodes and serves one request; anything malformed is an error reply, never a crash.
    static func reply(to bytes: [UInt8], service: NodeService) -> NodeReply {
        let document: JSON
        do throws(JSONSyntaxError) {
            document = try JSON.parse(bytes: bytes)
        } catch {
            return .failed(CNIError(.decodingFailure, "request is not JSON: \(error)"))
        }
        let request: NodeRequest
        do throws(CNIError) {
            request = try NodeRequest(json: document)
        } catch {
            return .failed(error)
        }
        return service.handle(request)
    }

    private static func bind(_ fd: Int32, _ path: String) -> Bool {
        UnixStream.withAddress(path) { addr, len in Glibc.bind(fd, addr, len) == 0 } ?? false
    }

    /// A socket file nobody accepts on.
    private static func isStale(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return false }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return !UnixStream.connect(probe, path: path) && errno == ECONNREFUSED
    }
}
