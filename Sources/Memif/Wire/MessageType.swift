/// The `type` field at byte 0 of every control message (reference section 1.3).
public enum MemifMessageType: UInt16, Sendable, CaseIterable {
    case none = 0
    case ack = 1
    case hello = 2
    case initialize = 3
    case addRegion = 4
    case addRing = 5
    case connect = 6
    case connected = 7
    case disconnect = 8
}
