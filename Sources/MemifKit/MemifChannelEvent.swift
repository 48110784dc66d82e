/// What happened to a channel's connection, for the control side of a CNF.
public enum MemifChannelEvent: Sendable, Equatable {
    /// A connection came up: the peer's application and interface names.
    case connected(peerApplication: String, peerInterface: String)
    /// The connection went down, and why (the peer's DISCONNECT text, ours, or a socket error).
    case disconnected(reason: String)
}
