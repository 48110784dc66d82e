import CMemifLinux

#if canImport(Glibc)
import Glibc
#endif

/// Runs work inside a pod's network namespace without moving memifd: a short-lived thread
/// joins the namespace, runs the work, returns to the node's namespace and ends. Threads the
/// work starts (an event loop's) stay in the pod's namespace.
public enum NetworkNamespace {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Runs `body` in the namespace at `path` (`/run/netns/NAME`, `/proc/PID/ns/net`) and
    /// returns its result.
    public static func run<T: Sendable>(in path: String, _ body: @escaping @Sendable () -> T) throws(Failure) -> T {
        let fd = cmemif_netns_open(path)
        guard fd >= 0 else {
            throw Failure(description: "network namespace \(path): \(errno == EINVAL ? "not a network namespace" : String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let box = ResultBox<T>()
        let job = NamespaceJob { box.value = body() }
        let rc = cmemif_netns_run(fd, { context in
            Unmanaged<NamespaceJob>.fromOpaque(context!).takeUnretainedValue().body()
        }, Unmanaged.passUnretained(job).toOpaque())
        withExtendedLifetime(job) {}
        guard rc == 0, let result = box.value else {
            throw Failure(description: "entering network namespace \(path): \(String(cString: strerror(rc)))")
        }
        return result
    }
}

private final class NamespaceJob: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Written by the namespace thread, read after it was joined.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
