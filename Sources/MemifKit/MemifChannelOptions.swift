/// How a channel frames packets: L2 channels carry Ethernet frames, L3 channels bare IP
/// packets (memif `ip` mode, as Calico/VPP uses for a pod's L3 memif).
public enum MemifFraming: String, Sendable, CaseIterable {
    case ethernet
    case ip

    var mode: MemifMode { self == .ethernet ? .ethernet : .ip }
}

/// How a worker waits for packets.
public enum MemifReceiveMode: Sendable, Equatable {
    /// Spins on the rings: lowest latency, one busy core per worker (DPDK's model).
    case polling
    /// Sleeps on the queue's eventfd when idle; the peer signals after each burst.
    case interrupt
    /// Polls while traffic flows; after `idlePolls` empty polls in a row, sleeps on the
    /// eventfd until the next packet (VPP's adaptive mode).
    case adaptive(idlePolls: Int = 1000)
}

/// Everything needed to open a ``MemifChannel``. The defaults connect as a client to
/// Calico/VPP's pod memif: `@vpp/memif-eth0`, id 0, no secret, Ethernet framing.
public struct MemifChannelOptions: Sendable {
    /// Socket to use; nil means `MEMIF_SOCKET` from the environment, else
    /// ``MemifChannel/defaultSocket``.
    public var socket: String?
    public var role: MemifConfiguration.Role = .client
    public var id: UInt32 = 0
    public var secret = ""
    public var framing: MemifFraming = .ethernet
    /// Queue pairs, 1...255.
    public var queues = 1
    /// Slots per ring, a power of two 2...16384.
    public var ringSize = 1024
    /// Bytes per buffer (client only); must match `pool`'s when one is given.
    public var bufferSize = 2048
    /// Client only, without a pool: buffers behind each ring slot (1, 2, 4 or 8), so that
    /// a buffer is rewritten only every that many laps of the ring
    /// (``MemifConfiguration/buffersPerSlot``). 1 saves memory; 2 is faster.
    public var buffersPerSlot = 2
    /// Client only: draw buffers from this pool so packets can move between channels on
    /// the same pool by descriptor (zero-copy forwarding). A pooled channel posts its
    /// receive buffers on its first receive after each connect, so poll it (workers do).
    public var pool: MemifBufferPool?
    public var receiveMode: MemifReceiveMode = .polling
    /// Interface name sent to the peer (CONNECT or CONNECTED).
    public var name = "memif0"
    public var applicationName = "MemifKit"

    public init() {}

    /// The socket this channel uses: explicit, else `MEMIF_SOCKET`, else the default.
    public func resolvedSocket(environment: [String: String]) throws(MemifError) -> MemifSocketName {
        if let socket { return try MemifSocketName(socket) }
        if let fromEnvironment = environment[MemifChannel.socketEnvironmentVariable], !fromEnvironment.isEmpty {
            return try MemifSocketName(fromEnvironment)
        }
        return try MemifSocketName(MemifChannel.defaultSocket)
    }

    /// The core configuration these options describe.
    func configuration(socket: MemifSocketName) throws(MemifError) -> MemifConfiguration {
        guard ringSize >= 2, ringSize <= 1 << 14, ringSize & (ringSize - 1) == 0 else {
            throw MemifError(.invalidConfiguration, "ring size must be a power of two in 2...16384, got \(ringSize)")
        }
        var c = MemifConfiguration(
            role: role, socket: socket, id: id, mode: framing.mode, secret: secret, applicationName: applicationName,
            interfaceName: name, queues: queues, log2RingSize: UInt8(ringSize.trailingZeroBitCount),
            bufferSize: pool?.bufferSize ?? bufferSize)
        c.bufferPool = pool
        c.buffersPerSlot = buffersPerSlot
        try c.validate()
        return c
    }
}

extension MemifBufferPool {
    /// A pool with a buffer for every ring slot of `channels` channels of `queues` queue
    /// pairs each: what those channels claim when opened with it.
    public convenience init(channels: Int, queues: Int = 1, ringSize: Int = 1024, bufferSize: Int = 2048) throws(MemifError) {
        try self.init(bufferCount: channels * queues * 2 * ringSize, bufferSize: bufferSize)
    }
}
