#if canImport(Glibc)
import Glibc
#endif

/// Owns one file descriptor and closes it exactly once, when the last reference goes.
/// Control-plane only: regions, eventfds and sockets are shared between the event loop and
/// the connection objects the application holds, so reference counting decides when to close.
final class OwnedDescriptor: @unchecked Sendable {
    /// Immutable after init; `@unchecked Sendable` because an fd number is a plain value.
    let raw: Int32

    init(_ raw: Int32) {
        precondition(raw >= 0, "OwnedDescriptor needs a valid fd")
        self.raw = raw
    }

    deinit { close(raw) }
}

/// Calls `body` until it stops failing with EINTR; returns its result or throws with errno.
@discardableResult
func retryingInterrupts<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(MemifError) -> T {
    while true {
        let r = body()
        if r >= 0 { return r }
        if errno == EINTR { continue }
        throw MemifError.system(call)
    }
}
