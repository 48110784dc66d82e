import CMemifDSA
import CNuma

#if canImport(Glibc)
import Glibc
#endif

/// Choosing a work queue and a way to submit to it (reference 2.1-2.3, 7.1): an enabled
/// user queue on the memory's NUMA node, dedicated (MOVDIR64B) before shared (ENQCMD)
/// before `write()`, each gated on CPUID; the CPU when nothing else works.
public enum DSAWorkQueueSelection {
    /// The NUMA node of the page holding `address` (nil if unknown), else the calling CPU's.
    public static func numaNode(of address: UnsafeRawPointer?) -> Int {
        if let address, numa_available() >= 0 {
            var node: Int32 = -1
            let flags = UInt32(MPOL_F_NODE | MPOL_F_ADDR)
            if get_mempolicy(&node, nil, 0, UnsafeMutableRawPointer(mutating: address), flags) == 0 && node >= 0 {
                return Int(node)
            }
        }
        return Int(max(0, cmemif_current_numa_node()))
    }

    /// Usable queues, best first: enabled, user type, with a device node, MEMMOVE in
    /// `op_cap`; on `node` before other nodes; dedicated before shared.
    public static func rank(_ queues: [DSAWorkQueueInfo], node: Int) -> [DSAWorkQueueInfo] {
        queues.filter { $0.enabled && $0.isUser && $0.devicePath != nil && $0.operations.supports(DSAOpcode.memmove) }
            .sorted { a, b in
                let (an, bn) = (a.numaNode == node ? 0 : 1, b.numaNode == node ? 0 : 1)
                if an != bn { return an < bn }
                if a.dedicated != b.dedicated { return a.dedicated }
                return a.name < b.name
            }
    }

    /// The engine configuration a queue calls for, on a given submission path.
    public static func configuration(for q: DSAWorkQueueInfo, path: DSASubmissionPath) -> DSAEngineConfiguration {
        var c = DSAEngineConfiguration()
        c.workQueueSize = max(1, path == .enqcmd || !q.dedicated ? q.threshold > 0 ? q.threshold : q.size : q.size)
        c.maxBatchSize = max(1, q.maxBatchSize)
        c.maxTransferSize = max(1, q.maxTransferSize)
        c.cacheControl = q.cacheControl
        // BATCH is hidden from op_cap on devices unsafe for user submission, and refused
        // by write() on DSA 1.0 (INTEL-SA-01084).
        c.useBatch = q.operations.supports(DSAOpcode.batch) && !(path == .write && q.version == 0x100) && q.maxBatchSize >= 2
        c.maxCopiesPerBurst = min(c.maxCopiesPerBurst, c.useBatch ? c.maxBatchSize : c.workQueueSize)
        return c
    }
}

public enum DSASubmissionPath: String, Sendable {
    case movdir64b, enqcmd, write
}

/// An opened work queue: its file descriptor and, when the kernel allows it, the mapped
/// portal. Closed and unmapped when released.
public final class DSAOpenedQueue: @unchecked Sendable {
    public let info: DSAWorkQueueInfo
    public let path: DSASubmissionPath
    public let fd: Int32
    public let portal: UnsafeMutableRawPointer?

    init(info: DSAWorkQueueInfo, path: DSASubmissionPath, fd: Int32, portal: UnsafeMutableRawPointer?) {
        self.info = info
        self.path = path
        self.fd = fd
        self.portal = portal
    }

    deinit {
        if let portal { munmap(portal, 4096) }
        close(fd)
    }

    public enum OpenError: Error, Equatable, Sendable {
        case noDevicePath
        case open(Int32)
        /// The CPU lacks MOVDIR64B (dedicated) or ENQCMD (shared) and `write()` is refused.
        case noSubmissionPath(mmap: Int32)
    }

    /// Opens `q`: maps the portal when permitted (CAP_SYS_RAWIO on current kernels) and the
    /// CPU has the instruction; otherwise uses `write()`.
    public static func open(_ q: DSAWorkQueueInfo) -> Result<DSAOpenedQueue, OpenError> {
        guard let devicePath = q.devicePath else { return .failure(.noDevicePath) }
        let fd = Glibc.open(devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.open(errno)) }
        let cpuCan = q.dedicated ? cmemif_cpu_has_movdir64b() != 0 : cmemif_cpu_has_enqcmd() != 0
        var mmapErrno: Int32 = 0
        if cpuCan {
            let p = mmap(nil, 4096, PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)
            if let p, p != MAP_FAILED {
                return .success(DSAOpenedQueue(info: q, path: q.dedicated ? .movdir64b : .enqcmd, fd: fd, portal: p))
            }
            mmapErrno = errno
        }
        guard probeWrite(fd) else {
            close(fd)
            return .failure(.noSubmissionPath(mmap: mmapErrno))
        }
        return .success(DSAOpenedQueue(info: q, path: .write, fd: fd, portal: nil))
    }

    /// One NOOP through `write()`, waiting for its record (as DTO does), bounded by 100 ms.
    static func probeWrite(_ fd: Int32) -> Bool {
        let memory = PinnedMemory(byteCount: 128, alignment: 64)
        let record = memory.base + 64
        DSADescriptor.writeControl(
            memory.base, opcode: DSAOpcode.noop,
            flags: DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord,
            completion: UInt64(UInt(bitPattern: record)))
        cmemif_sfence()
        guard write(fd, memory.base, 64) == 64 else { return false }
        let deadline = cmemif_monotonic_ns() + 100_000_000
        while cmemif_cr_status_acquire(record) == 0 {
            if cmemif_monotonic_ns() > deadline { return false }
            cmemif_cpu_pause()
        }
        return cmemif_cr_status_acquire(record) == DSAStatus.success
    }
}

/// The engine chosen once for a queue: switch on it once, then run generic code with
/// the concrete engine (see ``CopyEngineUser``), never per packet through an existential.
public enum CopyEngineChoice {
    case cpu(CPUCopyEngine)
    case dedicated(DSACopyEngine<MovDir64BPortal>, DSAOpenedQueue)
    case shared(DSACopyEngine<EnqcmdPortal>, DSAOpenedQueue)
    case write(DSACopyEngine<WriteSubmissionPortal>, DSAOpenedQueue)

    /// The best engine for copies touching `memory`: the first ranked queue that opens,
    /// else the CPU. `why` says what was chosen or why DSA was not.
    public static func best(
        near memory: UnsafeRawPointer?, discovery: some WorkQueueDiscovery = AccelConfigDiscovery(),
        tune: (inout DSAEngineConfiguration) -> Void = { _ in }
    ) -> (choice: CopyEngineChoice, why: String) {
        let queues: [DSAWorkQueueInfo]
        switch discovery.workQueues() {
        case .failure(let e): return (.cpu(CPUCopyEngine()), "CPU: \(e)")
        case .success(let q): queues = q
        }
        let node = DSAWorkQueueSelection.numaNode(of: memory)
        var reasons: [String] = []
        for q in DSAWorkQueueSelection.rank(queues, node: node) {
            switch DSAOpenedQueue.open(q) {
            case .failure(let e):
                reasons.append("\(q.device)/\(q.name): \(e)")
            case .success(let opened):
                var c = DSAWorkQueueSelection.configuration(for: q, path: opened.path)
                tune(&c)
                let why = "DSA \(q.device)/\(q.name) node \(q.numaNode) via \(opened.path.rawValue)"
                switch opened.path {
                case .movdir64b:
                    return (.dedicated(DSACopyEngine(portal: MovDir64BPortal(portal: opened.portal!), configuration: c, portalOwner: opened), opened), why)
                case .enqcmd:
                    return (.shared(DSACopyEngine(portal: EnqcmdPortal(portal: opened.portal!), configuration: c, portalOwner: opened), opened), why)
                case .write:
                    return (.write(DSACopyEngine(
                            portal: WriteSubmissionPortal(fd: opened.fd, isDedicated: q.dedicated), configuration: c,
                            portalOwner: opened), opened), why)
                }
            }
        }
        let summary = queues.isEmpty ? "no DSA work queue found" : "no usable work queue (\(reasons.joined(separator: "; ")))"
        return (.cpu(CPUCopyEngine()), "CPU: \(summary)")
    }

    /// Runs `user` with the concrete engine: one switch, then specialised generic code.
    public func run<U: CopyEngineUser>(_ user: U) -> U.Result {
        switch self {
        case .cpu(let e): user.run(e)
        case .dedicated(let e, _): user.run(e)
        case .shared(let e, _): user.run(e)
        case .write(let e, _): user.run(e)
        }
    }
}

/// Code generic over the engine, entered once per queue through ``CopyEngineChoice/run(_:)``.
public protocol CopyEngineUser {
    associatedtype Result
    func run<E: CopyEngine>(_ engine: E) -> Result
}
