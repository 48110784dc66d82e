/// The transport protocols steering acts on: those whose destination port decides the path.
/// Calico/VPP's dataplane steers only these two as well (reference §1.2, §1.8).
public enum SteeredProtocol: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tcp = 6
    case udp = 17

    public var description: String { self == .tcp ? "tcp" : "udp" }
}

/// Destination ports `first...last` of one protocol that go to the memif.
public struct PortRange: Sendable, Hashable, CustomStringConvertible {
    public let transport: SteeredProtocol
    public let first: UInt16
    public let last: UInt16

    /// `first` must not exceed `last` (the parsers turn reversed ranges into errors or, for
    /// Calico's key, into Calico's single port).
    public init(_ transport: SteeredProtocol, _ first: UInt16, _ last: UInt16) {
        precondition(first <= last, "port range \(first)-\(last) is reversed")
        self.transport = transport
        self.first = first
        self.last = last
    }

    public init(_ transport: SteeredProtocol, _ port: UInt16) {
        self.init(transport, port, port)
    }

    public var description: String { first == last ? "\(transport):\(first)" : "\(transport):\(first)-\(last)" }
}
