#if canImport(Glibc)
import Glibc
#endif

/// A control-plane failure: a syscall that failed, a configuration that cannot work, or a
/// peer that broke the protocol. The data path never throws.
public struct MemifError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// A system call failed; `errno` says why.
        case system(call: String, errno: Int32)
        /// The configuration is inconsistent or outside protocol limits.
        case invalidConfiguration
        /// The socket name is empty, too long, or already served by a live listener.
        case invalidSocket
        /// The peer closed the connection or sent DISCONNECT.
        case disconnected
        /// A received region or ring failed validation.
        case invalidPeerMemory
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Captures `errno` right after a failed call.
    static func system(_ call: String, errno code: Int32 = errno) -> MemifError {
        MemifError(.system(call: call, errno: code), "\(call): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}
