import CMemifLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One established memif connection: the mapped regions, the rings, and a receive and a
/// transmit queue handle per ring. Created by the event loop when the handshake
/// completes; handed to the application, which drives its queues on its own threads.
///
/// Lifetime: when the peer goes away the connection is marked inactive (bursts return 0)
/// but its memory stays mapped until the application drops its last reference to the
/// connection and its queues, so a data-path thread can never touch unmapped memory.
public final class MemifConnection: @unchecked Sendable {
    public let role: MemifConfiguration.Role
    public let mode: MemifMode
    /// The peer's application name (HELLO from a server, INIT from a client).
    public let peerApplicationName: String
    /// The peer's interface name (CONNECT or CONNECTED).
    public let peerInterfaceName: String
    /// Log2 of each receive and transmit ring's size, in queue order.
    public let receiveRingSizes: [UInt8]
    public let transmitRingSizes: [UInt8]

    // Everything below is immutable after init; `@unchecked Sendable` rests on that plus
    // the per-queue thread rule documented on the queue types.
    private let regions: [SharedRegion]
    private let eventDescriptors: [OwnedDescriptor]
    private let regionSpans: UnsafeMutablePointer<RegionSpan>
    private let states: UnsafeMutablePointer<QueueState>
    private let counters: UnsafeMutablePointer<QueueCounters>
    private let activeFlag: UnsafeMutablePointer<UInt32>
    private let receiveCount: Int
    private let transmitCount: Int
    /// What the slot tables belong to (a pool, or this connection's own tables).
    private let slotOwner: AnyObject?

    /// One ring as the handshake found it: where it is and the eventfd that signals it.
    struct RingSetup {
        var header: UnsafeMutableRawPointer
        var log2RingSize: UInt8
        var eventFD: OwnedDescriptor
        /// Client only: the buffer region's base and index, and which buffer each slot holds.
        var ownBase: UnsafeMutableRawPointer?
        var ownRegion: UInt16 = 0
        var slots: UnsafeMutablePointer<UInt32>?
        /// Client only: entries in `slots`, a power of two: the ring's slots, or with
        /// several buffers per slot a multiple of them.
        var slotCount = 0
        /// Client only: the buffers come from a shared ``MemifBufferPool``.
        var pooled = false
    }

    /// The slot table of a server, which has none: never read.
    nonisolated(unsafe) private static let noSlots = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)

    init(
        role: MemifConfiguration.Role, mode: MemifMode, peerApplicationName: String, peerInterfaceName: String,
        regions: [SharedRegion], receive: [RingSetup], transmit: [RingSetup], ringLayout: RingLayout,
        bufferSize: Int, interruptMode: Bool, slotOwner: AnyObject? = nil
    ) {
        self.slotOwner = slotOwner
        self.role = role
        self.mode = mode
        self.peerApplicationName = peerApplicationName
        self.peerInterfaceName = peerInterfaceName
        self.regions = regions
        self.receiveCount = receive.count
        self.transmitCount = transmit.count
        self.receiveRingSizes = receive.map(\.log2RingSize)
        self.transmitRingSizes = transmit.map(\.log2RingSize)
        self.eventDescriptors = (receive + transmit).map(\.eventFD)

        regionSpans = .allocate(capacity: max(regions.count, 1))
        for (i, r) in regions.enumerated() { (regionSpans + i).initialize(to: RegionSpan(base: r.base, size: r.size)) }
        let total = receive.count + transmit.count
        counters = .allocate(capacity: total)
        counters.initialize(repeating: QueueCounters(), count: total)
        activeFlag = .allocate(capacity: 1)
        activeFlag.initialize(to: 1)
        states = .allocate(capacity: total)
        let isClient = role == .client
        for (i, setup) in (receive + transmit).enumerated() {
            let ring = Ring(header: setup.header, layout: ringLayout, log2RingSize: setup.log2RingSize)
            let locator = BufferLocator(
                isClient: isClient, regions: regionSpans, regionCount: UInt16(regions.count),
                ownBase: setup.ownBase ?? setup.header, ownRegion: setup.ownRegion, slots: setup.slots ?? Self.noSlots,
                bufferSize: UInt32(bufferSize), mask: setup.slotCount > 0 ? UInt16(setup.slotCount - 1) : ring.mask,
                pooled: setup.pooled)
            (states + i).initialize(
                to: QueueState(
                    ring: ring, locator: locator, eventFD: setup.eventFD.raw, counters: counters + i, active: activeFlag))
        }
        // Indices as the peer left them at connect (DPDK and libmemif reset them to 0, G13).
        for i in 0..<total {
            let ring = states[i].ring
            let isReceive = i < receive.count
            if isClient {
                states[i].position = isReceive ? ring.loadTailAcquire() : ring.loadHeadAcquire()
                states[i].refillHead = ring.loadHeadAcquire()
            } else {
                states[i].position = ring.loadTailAcquire()
            }
            if isReceive {
                ring.storeFlags(interruptMode ? 0 : MemifProtocol.ringFlagMaskInterrupt)
            }
        }
        // A client posts its empty receive buffers only now, after CONNECTED (G13); from a
        // pool, on the first receive instead (``QueueState/refillPending``).
        if isClient {
            for i in 0..<receive.count {
                if receive[i].pooled {
                    states[i].refillPending = true
                } else {
                    let q = MemifRxQueue(state: states + i, owner: self)
                    q.refill(states + i, upTo: states[i].position &+ states[i].ring.size)
                }
            }
        }
    }

    deinit {
        let total = receiveCount + transmitCount
        states.deinitialize(count: total)
        states.deallocate()
        counters.deallocate()
        activeFlag.deallocate()
        regionSpans.deallocate()
    }

    /// False once the peer disconnected or the interface was stopped.
    public var isConnected: Bool { cmemif_load_relaxed_u32(activeFlag) != 0 }

    func deactivate() { cmemif_store_relaxed_u32(activeFlag, 0) }

    public var receiveQueueCount: Int { receiveCount }
    public var transmitQueueCount: Int { transmitCount }

    public func receiveQueue(_ index: Int) -> MemifRxQueue {
        precondition(index >= 0 && index < receiveCount, "receive queue \(index) does not exist")
        return MemifRxQueue(state: states + index, owner: self)
    }

    public func transmitQueue(_ index: Int) -> MemifTxQueue {
        precondition(index >= 0 && index < transmitCount, "transmit queue \(index) does not exist")
        return MemifTxQueue(state: states + receiveCount + index, owner: self)
    }

    /// In interrupt mode: blocks until the peer signals any receive queue, or the timeout
    /// (-1: none) passes, and resets the signals. Returns false on timeout.
    public func waitForReceiveSignal(timeoutMilliseconds: Int32) -> Bool {
        var fds = (0..<receiveCount).map { pollfd(fd: states[$0].eventFD, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), timeoutMilliseconds) > 0 else { return false }
        for p in fds where p.revents & Int16(POLLIN) != 0 { _ = cmemif_eventfd_wait(p.fd, 0) }
        return true
    }

    /// Sizes of the regions in use, in index order.
    public var regionSizes: [UInt64] { regions.map(\.size) }

    /// The mapped regions, for registering them with a copy device (or its model).
    package var mappedRegions: [UnsafeMutableRawBufferPointer] {
        regions.map { UnsafeMutableRawBufferPointer(start: $0.base, count: Int($0.size)) }
    }
}
