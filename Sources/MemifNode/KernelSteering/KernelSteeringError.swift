/// Why installing, changing or removing a kernel steering path failed; the message names the
/// command or system call and carries its own error text.
public struct KernelSteeringError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A parameter was refused before anything was changed (bad id, no pod address).
        case invalidArgument
        /// `nft` or `ip` exited non-zero.
        case command
        /// A system call failed (opening the tun, eventfd, thread).
        case system
        /// The path is not in a state that allows the call (removed, not installed).
        case state
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
