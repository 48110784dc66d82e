/// One asynchronous copy interface for a burst: enqueue copies, submit them as one burst
/// with a cookie, then poll bursts back strictly in submission order.
///
/// Engines are structs over a pointer to their state, and callers are generic over the
/// engine type (specialised), so the per-packet path never goes through an existential,
/// never allocates, retains, locks or throws. One thread at a time drives an engine.
public protocol CopyEngine {
    /// Most copies one burst may hold.
    var maxCopiesPerBurst: Int { get }
    /// True when a burst can be started: there is room to track one more in flight.
    var canStartBurst: Bool { get }
    /// Copies that can still join the burst being built (0 when no burst can start).
    var copyCapacity: Int { get }
    /// Bursts submitted and not yet returned by ``poll()``.
    var burstsInFlight: Int { get }
    /// Adds a copy to the burst being built. `fence`: it starts only after every earlier
    /// copy of the burst finished (a DSA batch FENCE; the CPU is in order anyway). Returns
    /// false, changing nothing, when the burst is full, no burst can be started, or the
    /// length is negative.
    func enqueue(destination: UnsafeMutableRawPointer, source: UnsafeRawPointer, length: Int, fence: Bool) -> Bool
    /// Submits the burst being built (possibly empty) under `cookie`. Returns false when no
    /// burst can be started (see ``canStartBurst``).
    func submit(cookie: UInt64) -> Bool
    /// The cookie of the oldest burst when all its copies are done, retiring it; nil while
    /// it is still in flight (or nothing is). Later bursts never overtake it.
    func poll() -> UInt64?
    var statistics: CopyEngineStatistics { get }
}

extension CopyEngine {
    @inlinable @inline(__always)
    public func enqueue(destination: UnsafeMutableRawPointer, source: UnsafeRawPointer, length: Int) -> Bool {
        enqueue(destination: destination, source: source, length: length, fence: false)
    }
}

/// Why copies ran on the CPU instead of the device.
public enum CopyFallbackReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Below the offload threshold: cheaper inline than a descriptor.
    case belowThreshold
    /// The work queue had no free entry (occupancy would exceed its size).
    case queueFull
    /// A shared queue kept refusing (ENQCMD ZF=1 / EAGAIN) past the retry bound.
    case retriesExhausted
    /// The portal or `write()` reported an error.
    case submissionError
    /// 0x03: the remainder after a partial completion.
    case pageFault
    /// 0x05: failed and not-attempted batch members.
    case batchFailure
    /// Any other status.
    case otherError
    /// A wait passed its deadline: the engine is wedged and redid everything in flight.
    case deadline
    /// The engine was already wedged when the burst was submitted.
    case wedged
    /// Longer than the work queue's `max_transfer_size`.
    case oversize

    public var description: String {
        switch self {
        case .belowThreshold: "below-threshold"
        case .queueFull: "queue-full"
        case .retriesExhausted: "retries-exhausted"
        case .submissionError: "submission-error"
        case .pageFault: "page-fault"
        case .batchFailure: "batch-failure"
        case .otherError: "other-error"
        case .deadline: "deadline"
        case .wedged: "wedged"
        case .oversize: "oversize"
        }
    }
}

/// Counters of one engine (copies, not bytes, unless named so).
public struct CopyEngineStatistics: Equatable, Sendable {
    /// Copies enqueued and submitted.
    public var submitted: UInt64 = 0
    /// Copies whose burst was retired by poll.
    public var completed: UInt64 = 0
    public var bursts: UInt64 = 0
    /// BATCH descriptors handed to the device (resubmissions included).
    public var batches: UInt64 = 0
    /// Descriptors handed to the device, batch members included.
    public var descriptors: UInt64 = 0
    /// Copies (or remainders) done on the CPU, per ``CopyFallbackReason``.
    public var cpuFallbacks: [UInt64] = Array(repeating: 0, count: CopyFallbackReason.allCases.count)
    /// Completion records reporting a page fault (0x03, 0x04, 0x06).
    public var faults: UInt64 = 0
    /// Portal refusals retried (ENQCMD ZF=1, EAGAIN).
    public var retries: UInt64 = 0
    /// Batches resubmitted after a descriptor-list fault.
    public var resubmissions: UInt64 = 0
    public var wedged: Bool = false

    public init() {}

    public func fallbacks(_ reason: CopyFallbackReason) -> UInt64 { cpuFallbacks[reason.rawValue] }
    public var totalFallbacks: UInt64 { cpuFallbacks.reduce(0, +) }
}

/// The raw counters behind ``CopyEngineStatistics``: written by the engine's thread only,
/// plain stores (no per-copy atomics); snapshots are taken by that thread or after it stops.
@usableFromInline
struct EngineCounters {
    @usableFromInline var submitted: UInt64 = 0
    @usableFromInline var completed: UInt64 = 0
    @usableFromInline var bursts: UInt64 = 0
    @usableFromInline var batches: UInt64 = 0
    @usableFromInline var descriptors: UInt64 = 0
    @usableFromInline var fallbacks: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    @usableFromInline var faults: UInt64 = 0
    @usableFromInline var retries: UInt64 = 0
    @usableFromInline var resubmissions: UInt64 = 0
    @usableFromInline var wedged = false

    @usableFromInline init() {}

    @inlinable @inline(__always)
    mutating func fallback(_ reason: CopyFallbackReason, _ n: UInt64 = 1) {
        switch reason {
        case .belowThreshold: fallbacks.0 &+= n
        case .queueFull: fallbacks.1 &+= n
        case .retriesExhausted: fallbacks.2 &+= n
        case .submissionError: fallbacks.3 &+= n
        case .pageFault: fallbacks.4 &+= n
        case .batchFailure: fallbacks.5 &+= n
        case .otherError: fallbacks.6 &+= n
        case .deadline: fallbacks.7 &+= n
        case .wedged: fallbacks.8 &+= n
        case .oversize: fallbacks.9 &+= n
        }
    }

    var snapshot: CopyEngineStatistics {
        var s = CopyEngineStatistics()
        s.submitted = submitted
        s.completed = completed
        s.bursts = bursts
        s.batches = batches
        s.descriptors = descriptors
        let f = fallbacks
        s.cpuFallbacks = [f.0, f.1, f.2, f.3, f.4, f.5, f.6, f.7, f.8, f.9]
        s.faults = faults
        s.retries = retries
        s.resubmissions = resubmissions
        s.wedged = wedged
        return s
    }
}
