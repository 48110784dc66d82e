/// What a handshake state machine wants its driver to do after one incoming message.
enum HandshakeStep {
    /// Reply with this message (and fd).
    case send(MemifMessage, OwnedDescriptor?)
    /// Server: INIT for this interface id passed every check; claim it, then send ACK.
    case claim(id: UInt32)
    /// Send DISCONNECT with this reason and close.
    case refuse(String)
    /// The handshake is complete; for a server, CONNECTED must still be sent.
    case established(MemifConnection)
}

/// Reason strings as DPDK sends them, so peers and operators see familiar texts
/// (reference section 1.6).
enum DisconnectReason {
    static let idNotFound = "ID not found"
    static let secretRequired = "Secret required"
    static let incorrectSecret = "Incorrect secret"
    static let incompatibleVersion = "Incompatible memif version"
    static let onlyEthernet = "Only ethernet mode supported"
    static let modeMismatch = "Mode mismatch"
    static let invalidMessageSize = "Invalid message size"
    static let alreadyConnected = "Already connected"
    static let missingRegionFD = "Missing region fd"
    static let invalidRegionIndex = "Invalid region index"
    static let missingInterruptFD = "Missing interrupt fd"
    static let invalidRingIndex = "Invalid ring index"
    static let invalidRingSize = "Invalid ring size"
    static let privateHeaders = "Private headers not supported"
    static let unexpectedMessage = "Unexpected message"
    static let unknownMessageType = "Unknown message type"
    static let deviceError = "Device error"
    static let deviceClosed = "Device closed"
    static let wrongRing = "Wrong ring"
    static let handshakeTimeout = "Handshake timeout"
    static let unexpectedFD = "Unexpected file descriptor"
}
