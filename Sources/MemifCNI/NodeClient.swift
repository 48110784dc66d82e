#if canImport(Glibc)
import Glibc
#endif

/// memif-cni's and memifctl's side of the node protocol: connect to memifd's socket, send one
/// request, read one reply. Every failure to reach memifd is CNI error 11 (try again later);
/// DEL tells "not running" from "failing" (see `CNIPlugin`).
public enum NodeClient {
    public static func send(_ request: NodeRequest, socketPath: String, timeoutSeconds: Int = 30) throws(CNIError) -> NodeReply {
        switch exchange(request, socketPath: socketPath, timeoutSeconds: timeoutSeconds) {
        case .reply(let reply): return reply
        case .notServing(let error), .failed(let error): throw error
        }
    }

    enum Outcome {
        case reply(NodeReply)
        /// Nobody listens on the socket (no file, or refused): memifd is not running.
        case notServing(CNIError)
        /// memifd was reached but the exchange failed (timeout, bad reply).
        case failed(CNIError)
    }

    static func exchange(_ request: NodeRequest, socketPath: String, timeoutSeconds: Int) -> Outcome {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(CNIError(.tryAgainLater, "cannot create a unix socket: \(errnoText())")) }
        defer { close(fd) }
        UnixStream.setTimeouts(fd, seconds: timeoutSeconds)
        guard UnixStream.connect(fd, path: socketPath) else {
            let code = errno
            let error = CNIError(.tryAgainLater, "memifd is not reachable at \(socketPath): \(errnoText(code))")
            return code == ENOENT || code == ECONNREFUSED ? .notServing(error) : .failed(error)
        }
        guard UnixStream.writeAll(fd, Array(request.json.serialized.utf8)) else {
            return .failed(CNIError(.tryAgainLater, "sending the request to memifd at \(socketPath) failed: \(errnoText())"))
        }
        shutdown(fd, Int32(SHUT_WR))
        let bytes: [UInt8]
        switch UnixStream.readAll(fd, limit: NodeProtocol.maximumMessageBytes) {
        case .success(let b): bytes = b
        case .failure(let problem):
            return .failed(CNIError(.tryAgainLater, "reading memifd's reply at \(socketPath) failed: \(problem)"))
        }
        guard !bytes.isEmpty else {
            return .failed(CNIError(.tryAgainLater, "memifd at \(socketPath) closed the connection without a reply"))
        }
        let document: JSON
        do throws(JSONSyntaxError) {
            document = try JSON.parse(bytes: bytes)
        } catch {
            return .failed(CNIError(.protocolMismatch, "memifd's reply is not JSON: \(error)"))
        }
        do throws(CNIError) {
            return .reply(try NodeReply(json: document))
        } catch {
            return .failed(error)
        }
    }
}

/// Blocking stream I/O on a unix socket, with the timeouts set on the socket.
public enum UnixStream {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func setTimeouts(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Fills a `sockaddr_un` for `path`; false (errno ENAMETOOLONG) when it does not fit.
    public static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
            errno = ENAMETOOLONG
            return nil
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + 1)
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    public static func connect(_ fd: Int32, path: String) -> Bool {
        withAddress(path) { addr, len in
            while true {
                let rc = Glibc.connect(fd, addr, len)
                if rc == 0 { return true }
                if errno != EINTR { return false }
            }
        } ?? false
    }

    /// Writes everything; on a socket without SIGPIPE, so a vanished peer is an error, not a kill.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        var isSocket = true
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                isSocket
                    ? Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    : Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOTSOCK && isSocket {
                    isSocket = false
                    continue
                }
                return false
            }
            offset += n
        }
        return true
    }

    /// Reads until end of file; refuses more than `limit` bytes.
    public static func readAll(_ fd: Int32, limit: Int) -> Result<[UInt8], Failure> {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return .success(out) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .failure(Failure(description: "timed out")) }
                return .failure(Failure(description: errnoText()))
            }
            guard out.count + n <= limit else { return .failure(Failure(description: "message longer than \(limit) bytes")) }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
