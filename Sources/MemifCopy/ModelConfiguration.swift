/// What the work-queue model is, as discovery would report it for a real queue
/// (reference/dsa.md 5.2 ModelConfig).
public struct DSAModelConfiguration: Sendable {
    public enum Submission: Sendable {
        /// Mapped portal: MOVDIR64B (dedicated) or ENQCMD (shared).
        case portal
        /// The kernel's `write()` path.
        case write
    }

    /// 0x100 (DSA 1.0, Sapphire/Emerald Rapids) or 0x200 (DSA 2.0).
    public var version: UInt32 = 0x200
    /// Engines in the queue's group: how many descriptors may complete out of order.
    public var engines = 4
    public var dedicated = true
    /// WQ entries (`size`).
    public var size = 128
    /// Shared queue: the limited portal refuses once occupancy reaches this.
    public var threshold = 128
    public var maxBatchSize = 1024
    public var maxTransferSize = 2 << 20
    /// The WQ's `block_on_fault`: BOF descriptors wait for the page instead of stopping.
    public var blockOnFault = false
    /// `gen_cap.cache_control_mem`: without it, CC is an invalid flag.
    public var cacheControl = true
    /// Opcodes in `op_cap` that the device executes. The model executes NOOP, BATCH, DRAIN
    /// and MEMMOVE; an opcode not in this list gets 0x10 as on a device without it.
    public var operations: [UInt8] = [DSAOpcode.noop, DSAOpcode.batch, DSAOpcode.drain, DSAOpcode.memmove]
    public var submission = Submission.portal
    /// `user_submission_safe`: false on DSA 1.0 and 2.0 today (INTEL-SA-01084).
    public var userSubmissionSafe = false
    /// Non-zero: completion order across engines and batch members is permuted with it.
    public var seed: UInt64 = 0
    public var timing = DSAModelTiming.instant

    public init() {}

    /// `op_cap` as sysfs would show it: BATCH hidden on a device unsafe for user submission.
    public var reportedOperations: [UInt8] {
        userSubmissionSafe ? operations : operations.filter { $0 != DSAOpcode.batch }
    }
}

/// How long a descriptor takes: `base + bytes / engine bandwidth`, bounded by a device-wide
/// bandwidth shared by all engines. Estimates from reference section 4, not measurements.
public struct DSAModelTiming: Sendable, Equatable {
    public var baseNanoseconds: Double
    public var engineBytesPerSecond: Double
    public var deviceBytesPerSecond: Double
    /// Modeled page-request (PRS) round trip for block-on-fault.
    public var pageRequestNanoseconds: Double

    public init(baseNanoseconds: Double, engineBytesPerSecond: Double, deviceBytesPerSecond: Double, pageRequestNanoseconds: Double) {
        self.baseNanoseconds = baseNanoseconds
        self.engineBytesPerSecond = engineBytesPerSecond
        self.deviceBytesPerSecond = deviceBytesPerSecond
        self.pageRequestNanoseconds = pageRequestNanoseconds
    }

    /// Completion as soon as the model has copied.
    public static let instant = DSAModelTiming(
        baseNanoseconds: 0, engineBytesPerSecond: .infinity, deviceBytesPerSecond: .infinity, pageRequestNanoseconds: 0)
    /// Sapphire Rapids-like, from the reference's figures: about 0.9 us per descriptor,
    /// about 30 GB/s per device, an engine at a quarter of that, tens of us per page request.
    public static let sprLike = DSAModelTiming(
        baseNanoseconds: 900, engineBytesPerSecond: 7.5e9, deviceBytesPerSecond: 30e9, pageRequestNanoseconds: 20_000)

    public var isInstant: Bool { self == .instant }
}

/// What the model counted.
public struct DSAModelCounters: Equatable, Sendable {
    /// Descriptors taken into the queue (a batch is one).
    public var accepted = 0
    /// Shared queue refusals (ENQCMD ZF=1, EAGAIN).
    public var retried = 0
    /// Dedicated-queue descriptors dropped because the queue was full (SWERR overflow).
    public var overflows = 0
    /// Software-error events: overflows, misaligned or untranslatable completion records.
    public var softwareErrors = 0
    /// Page faults reported (0x03, 0x04, 0x06) and resolved by a page request.
    public var faults = 0
    public var pageRequests = 0
    /// Top-level descriptors finished.
    public var completed = 0
    /// Batch members executed.
    public var members = 0
    /// Completion records lost on purpose (injected).
    public var droppedRecords = 0
    /// `write()` calls refused with EINVAL.
    public var writeRejections = 0
    /// Most descriptors ever in the queue at once.
    public var occupancyHighWater = 0

    public init() {}
}
