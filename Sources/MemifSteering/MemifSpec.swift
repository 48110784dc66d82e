/// How the pod's steering memif is set up and what happens to its traffic while the pod's
/// client is away: the value of `memifkit.io/spec` or Calico's `vppExtraMemifSpec`.
///
/// The pod is the memif client and owns the memory, so ring and buffer sizes here are what
/// memifd offers and accepts (limits), not what every client must use.
public struct MemifSpec: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Ethernet frames; the pod side is expected to own 02:00:00:00:00:01 (Calico's convention).
        case ethernet
        /// Bare IPv4/IPv6 packets.
        case ip
    }

    public enum RxMode: String, Sendable, Hashable, CaseIterable {
        case polling
        case interrupt
        /// Interrupts while idle, polling under load; Calico/VPP's default for pod interfaces.
        case adaptive
    }

    /// Where steered traffic goes while the pod's memif client is not connected.
    public enum Fallback: String, Sendable, Hashable, CaseIterable {
        /// Drop it, as Calico/VPP does (its memif path resolves to drop).
        case drop
        /// Leave it on the pod's normal interface until the client connects.
        case kernel
    }

    /// Pod-to-node queues (the memif core's `clientToServerQueues`).
    public var clientToServerQueues: Int
    /// Node-to-pod queues (`serverToClientQueues`).
    public var serverToClientQueues: Int
    /// Slots per ring, a power of two.
    public var ringSize: Int
    /// Bytes per buffer.
    public var bufferSize: Int
    public var mode: Mode
    public var rxMode: RxMode
    public var fallback: Fallback

    /// The defaults every memif peer agrees on (the core's `MemifConfiguration`), adaptive,
    /// and Calico's drop.
    public init(
        queues: Int = 1, ringSize: Int = 1024, bufferSize: Int = 2048, mode: Mode = .ethernet,
        rxMode: RxMode = .adaptive, fallback: Fallback = .drop
    ) {
        self.clientToServerQueues = queues
        self.serverToClientQueues = queues
        self.ringSize = ringSize
        self.bufferSize = bufferSize
        self.mode = mode
        self.rxMode = rxMode
        self.fallback = fallback
    }

    /// `log2(ringSize)`, as the memif core's configuration wants it.
    public var log2RingSize: UInt8 { UInt8(truncatingIfNeeded: Int.bitWidth - 1 - ringSize.leadingZeroBitCount) }

    /// What a spec may ask for. The defaults restate the memif core's limits
    /// (`Sources/Memif/Control/MemifConfiguration.swift` `validate()` and
    /// `Sources/Memif/Wire/ProtocolConstants.swift` `maxLog2RingSize`); this module does not
    /// depend on `Memif` so memif-cni stays small, and a test checks the two agree. A node
    /// may lower them (Calico's `maxPodIfSpec`).
    public struct Limits: Sendable, Hashable {
        public var maximumQueues: Int
        public var maximumRingSize: Int
        public var maximumBufferSize: Int

        public init(maximumQueues: Int = 255, maximumRingSize: Int = 1 << 14, maximumBufferSize: Int = 65535) {
            self.maximumQueues = maximumQueues
            self.maximumRingSize = maximumRingSize
            self.maximumBufferSize = maximumBufferSize
        }

        public static let memifCore = Limits()
    }
}
