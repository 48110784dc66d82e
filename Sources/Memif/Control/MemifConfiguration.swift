/// How one memif interface is set up. The defaults are those every peer agrees on
/// (reference section 1.3): 1 queue pair, 1024 slots, 2048-byte buffers, Ethernet.
public struct MemifConfiguration: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        /// Listens; maps the client's memory ("master").
        case server
        /// Connects; creates and owns all shared memory ("slave").
        case client
    }

    /// Where the client puts buffers. `ringsThenBuffers` is DPDK's and VPP's copy-mode
    /// layout (one region); `separateBufferRegion` is libmemif's (rings in region 0,
    /// buffers in region 1).
    public enum RegionLayout: String, Sendable, CaseIterable {
        case ringsThenBuffers
        case separateBufferRegion
    }

    public var role: Role
    public var socket: MemifSocketName
    public var id: UInt32
    public var mode: MemifMode
    /// Empty means none. At most 23 bytes, as the C peers can hold.
    public var secret: String
    /// Sent in HELLO (server) or INIT (client); at most 31 bytes.
    public var applicationName: String
    /// Sent in CONNECT (client) or CONNECTED (server); at most 31 bytes.
    public var interfaceName: String
    /// Client-to-server queues (the server's receive queues), 1...255.
    public var clientToServerQueues: Int
    /// Server-to-client queues (the client's receive queues), 1...255.
    public var serverToClientQueues: Int
    /// Ring size as log2, 1...14. A client clamps it to what the server's HELLO allows.
    public var log2RingSize: UInt8
    /// Client only: bytes per buffer, 1...65535. The client alone decides it (gotcha G7).
    public var bufferSize: Int
    /// Client only: buffers behind each ring slot, 1, 2, 4 or 8 (at most 65536 per ring).
    /// Above 1, a slot takes the next of its buffers each time round the ring, so a buffer
    /// is rewritten only after `buffersPerSlot` ring lengths of traffic, when the other
    /// core has let go of its lines: with the default ring, up to 2-3x the packet rate at
    /// 256-1500 B between two cores (docs/performance.md, "Buffer reuse"), in both
    /// directions (on receive, the server is the one writing). Costs
    /// `(n - 1) * slots * bufferSize` bytes per ring and no instruction per packet. Peers
    /// see only a larger region. Not used with a ``bufferPool``.
    public var buffersPerSlot: Int
    public var regionLayout: RegionLayout
    public var ringLayout: RingLayout
    /// Server only: refuse region fds not sealed against shrinking. Only turn this off for a
    /// peer exporting hugepage files (zero-copy DPDK or VPP), which cannot be sealed.
    public var requireSealedRegions: Bool
    /// Client only: first retry delay after a failed or lost connection; doubles up to
    /// `maximumReconnectDelay`.
    public var reconnectDelay: Duration
    public var maximumReconnectDelay: Duration
    /// A peer that has not completed the handshake by then is dropped (the client then
    /// retries).
    public var handshakeTimeout: Duration
    /// Client only: take buffers from this pool (registered as region 1, rings in region 0)
    /// instead of a region of this interface's own, so packets can be forwarded by
    /// descriptor between interfaces on the same pool. `bufferSize` must match the pool's.
    public var bufferPool: MemifBufferPool?
    /// Server only: a network namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`) to bind
    /// the listening socket in, so an abstract name is visible in that namespace only (a pod's).
    /// The socket is bound there by a short-lived thread and served by the event loop as usual.
    /// Nil: the event loop thread's own namespace.
    public var listenNamespace: String?

    public init(
        role: Role, socket: MemifSocketName, id: UInt32 = 0, mode: MemifMode = .ethernet, secret: String = "",
        applicationName: String = "MemifKit", interfaceName: String = "memif0", queues: Int = 1,
        log2RingSize: UInt8 = 10, bufferSize: Int = 2048, regionLayout: RegionLayout = .ringsThenBuffers,
        ringLayout: RingLayout = RingLayout(), requireSealedRegions: Bool = true,
        reconnectDelay: Duration = .milliseconds(100), maximumReconnectDelay: Duration = .seconds(2),
        handshakeTimeout: Duration = .seconds(5)
    ) {
        self.role = role
        self.socket = socket
        self.id = id
        self.mode = mode
        self.secret = secret
        self.applicationName = applicationName
        self.interfaceName = interfaceName
        self.clientToServerQueues = queues
        self.serverToClientQueues = queues
        self.log2RingSize = log2RingSize
        self.bufferSize = bufferSize
        self.buffersPerSlot = 2
        self.regionLayout = regionLayout
        self.ringLayout = ringLayout
        self.requireSealedRegions = requireSealedRegions
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.handshakeTimeout = handshakeTimeout
    }

    /// Checks every limit of the protocol and of the peers; the message names the field.
    public func validate() throws(MemifError) {
        func fail(_ message: String) -> MemifError { MemifError(.invalidConfiguration, message) }
        guard (1...255).contains(clientToServerQueues), (1...255).contains(serverToClientQueues) else {
            throw fail("queue counts must be 1...255, got \(clientToServerQueues)/\(serverToClientQueues)")
        }
        guard (1...MemifProtocol.maxLog2RingSize).contains(log2RingSize) else {
            throw fail("log2 ring size must be 1...\(MemifProtocol.maxLog2RingSize), got \(log2RingSize)")
        }
        guard (1...65535).contains(bufferSize) else { throw fail("buffer size must be 1...65535, got \(bufferSize)") }
        guard [1, 2, 4, 8].contains(buffersPerSlot) else {
            throw fail("buffers per slot must be 1, 2, 4 or 8, got \(buffersPerSlot)")
        }
        guard bufferPool != nil || buffersPerSlot << Int(log2RingSize) <= 1 << 16 else {
            throw fail("\(buffersPerSlot) buffers per slot of a ring of 2^\(log2RingSize) slots exceed 65536 per ring")
        }
        guard secret.utf8.count < MemifProtocol.secretFieldSize else {
            throw fail("secret is longer than \(MemifProtocol.secretFieldSize - 1) bytes")
        }
        guard !secret.utf8.contains(0) else { throw fail("secret contains a NUL byte") }
        for (field, value) in [("application name", applicationName), ("interface name", interfaceName)] {
            guard value.utf8.count < MemifProtocol.nameFieldSize else {
                throw fail("\(field) is longer than \(MemifProtocol.nameFieldSize - 1) bytes")
            }
        }
        guard mode != .puntInject else { throw fail("punt/inject mode is not specified by any peer") }
        if listenNamespace != nil {
            guard role == .server else { throw fail("only a server listens; a client cannot have a listen namespace") }
        }
        if let pool = bufferPool {
            guard role == .client else { throw fail("only a client owns buffers; a server cannot use a buffer pool") }
            guard pool.bufferSize == bufferSize else {
                throw fail("buffer size \(bufferSize) differs from the pool's \(pool.bufferSize)")
            }
            let needed = (clientToServerQueues + serverToClientQueues) << Int(log2RingSize)
            guard needed <= pool.available else {
                throw fail("buffer pool has \(pool.available) free buffers, \(needed) needed")
            }
        }
        if role == .client {
            let layout = ClientMemoryLayout(configuration: self, log2RingSize: log2RingSize)
            guard layout.bufferRegionEnd <= UInt64(UInt32.max) + 1 else {
                throw fail("buffers need \(layout.bufferRegionEnd) bytes; descriptor offsets reach 4 GiB only")
            }
        }
    }
}
