import Synchronization

/// Counters of one steering path, written by its pump once per burst (relaxed atomics)
/// and readable from any thread.
public final class KernelSteeringCounters: Sendable {
    let steeringHits = Atomic<UInt64>(0)
    let toMemifPackets = Atomic<UInt64>(0)
    let toMemifBytes = Atomic<UInt64>(0)
    let fromMemifPackets = Atomic<UInt64>(0)
    let fromMemifBytes = Atomic<UInt64>(0)
    let neighborAnswers = Atomic<UInt64>(0)
    let dropsDetached = Atomic<UInt64>(0)
    let dropsMemifFull = Atomic<UInt64>(0)
    let dropsTooBig = Atomic<UInt64>(0)
    let dropsNotIP = Atomic<UInt64>(0)
    let dropsTunWrite = Atomic<UInt64>(0)

    init() {}

    /// A consistent-enough copy for reporting (each field read once).
    public var snapshot: KernelSteeringStatistics {
        KernelSteeringStatistics(
            steeringHits: steeringHits.load(ordering: .relaxed),
            toMemifPackets: toMemifPackets.load(ordering: .relaxed),
            toMemifBytes: toMemifBytes.load(ordering: .relaxed),
            fromMemifPackets: fromMemifPackets.load(ordering: .relaxed),
            fromMemifBytes: fromMemifBytes.load(ordering: .relaxed),
            neighborAnswers: neighborAnswers.load(ordering: .relaxed),
            dropsDetached: dropsDetached.load(ordering: .relaxed),
            dropsMemifFull: dropsMemifFull.load(ordering: .relaxed),
            dropsTooBig: dropsTooBig.load(ordering: .relaxed),
            dropsNotIP: dropsNotIP.load(ordering: .relaxed),
            dropsTunWrite: dropsTunWrite.load(ordering: .relaxed))
    }
}

/// What a steering path has done since it was installed.
public struct KernelSteeringStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Packets the kernel steered into the tun (read by the pump).
    public var steeringHits: UInt64
    /// Packets and bytes written into the pod's memif (bytes include an added Ethernet header).
    public var toMemifPackets: UInt64
    public var toMemifBytes: UInt64
    /// Packets and bytes the pod sent on its memif that went back to the kernel (IP bytes).
    public var fromMemifPackets: UInt64
    public var fromMemifBytes: UInt64
    /// ARP requests and neighbor solicitations from the pod answered with the node-side MAC.
    public var neighborAnswers: UInt64
    /// Steered packets dropped because no memif client was connected (fallback `drop`).
    public var dropsDetached: UInt64
    /// Steered packets dropped because the pod posted no free buffer.
    public var dropsMemifFull: UInt64
    /// Packets that did not fit a memif buffer (tun side) or the pump's frame (memif side).
    public var dropsTooBig: UInt64
    /// Frames from the pod that were neither IP nor answerable neighbor discovery, or whose
    /// IP version did not match the frame.
    public var dropsNotIP: UInt64
    /// Packets from the pod the kernel refused on the tun write.
    public var dropsTunWrite: UInt64

    public var drops: UInt64 { dropsDetached + dropsMemifFull + dropsTooBig + dropsNotIP + dropsTunWrite }

    public var description: String {
        "hits \(steeringHits), to memif \(toMemifPackets) pkts/\(toMemifBytes) B, from memif \(fromMemifPackets) pkts/"
            + "\(fromMemifBytes) B, neighbor answers \(neighborAnswers), drops: detached \(dropsDetached), memif full "
            + "\(dropsMemifFull), too big \(dropsTooBig), not IP \(dropsNotIP), tun write \(dropsTunWrite)"
    }
}
