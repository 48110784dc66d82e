import CMemifDSA
import CMemifLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A software DSA work queue that processes the same 64-byte descriptors as hardware
/// (reference/dsa.md 5.2): bounded submission with dedicated (drop on overflow) or shared
/// (refuse) semantics, the `write()` path's rules, the validation order and status codes,
/// batches with fences, page faults with partial completion and direction, completion
/// records written bytes 1..31 first and the status byte last with release.
///
/// It only touches memory registered with it (everything else is "not present"), so a
/// bad descriptor yields a fault status, never a crash. Step mode (``step()``,
/// ``runUntilIdle()``) is deterministic; ``start(threads:)`` runs engines on threads.
public final class DSAWorkQueueModel: @unchecked Sendable {
    public let configuration: DSAModelConfiguration
    private let state: Mutex<ModelState>
    private let ring: ModelSubmissionRing
    // Scalars read on every submission, kept out of `configuration` (whose array would be
    // retained and released on each read, a shared reference count across cores).
    let dedicated: Bool
    let usesWrite: Bool
    private let admissionLimit: Int
    private let instant: Bool
    private let opcodes: (UInt64, UInt64, UInt64, UInt64)
    private let running = Atomic<Bool>(false)
    private var threads: [pthread_t] = []

    public enum Access: Sendable { case read, write }

    public init(configuration: DSAModelConfiguration = DSAModelConfiguration()) {
        precondition(configuration.size > 0 && configuration.engines > 0)
        self.configuration = configuration
        state = Mutex(ModelState(configuration: configuration))
        ring = ModelSubmissionRing(capacity: configuration.size)
        dedicated = configuration.dedicated
        usesWrite = configuration.submission == .write
        admissionLimit = configuration.dedicated ? configuration.size : min(configuration.threshold, configuration.size)
        instant = configuration.timing.isInstant
        var bits: [UInt64] = [0, 0, 0, 0]
        for op in configuration.operations { bits[Int(op) / 64] |= 1 << UInt64(op % 64) }
        opcodes = (bits[0], bits[1], bits[2], bits[3])
    }

    private func executes(_ opcode: UInt8) -> Bool {
        let word: UInt64
        switch opcode / 64 {
        case 0: word = opcodes.0
        case 1: word = opcodes.1
        case 2: word = opcodes.2
        default: word = opcodes.3
        }
        return word >> UInt64(opcode % 64) & 1 != 0
    }

    deinit { stop() }

    // MARK: memory and injections

    /// Makes `memory` visible to the device (the test's stand-in for SVA page tables).
    public func register(_ memory: UnsafeMutableRawBufferPointer) {
        guard let base = memory.baseAddress, memory.count > 0 else { return }
        let start = UInt64(UInt(bitPattern: base))
        state.withLock { $0.regions.append(start..<start + UInt64(memory.count)) }
    }

    /// The page holding `address` faults on `access` the next `times` times the device
    /// touches it (for block-on-fault, a page request resolves one).
    public func injectFault(at address: UnsafeRawPointer, access: Access, times: Int = 1) {
        let page = UInt64(UInt(bitPattern: address)) & ~4095
        state.withLock { $0.injectedFaults.append(InjectedFault(page: page, write: access == .write, remaining: times)) }
    }

    /// The next `count` submissions to a shared queue are refused (ZF=1 / EAGAIN).
    public func injectRetries(_ count: Int) { ring.injectRetries(count) }

    /// The next `count` completion records the device would write are lost.
    public func dropRecords(_ count: Int) { state.withLock { $0.recordsToDrop += count } }

    /// The next BATCH cannot read its descriptor list past `members` members (0x06).
    public func injectListFault(afterMembers members: Int) { state.withLock { $0.listFaultAfter = members } }

    public var counters: DSAModelCounters {
        var c = state.withLock { $0.counters }
        c.accepted = ring.accepted
        c.retried = ring.retried
        c.overflows = ring.overflows
        c.softwareErrors += ring.overflows
        c.occupancyHighWater = ring.highWater
        return c
    }
    /// Descriptors in the queue now.
    public var occupancy: Int { ring.occupancy }
    /// Step mode: the modeled device time of the last completion, in nanoseconds.
    public var virtualNanoseconds: Double { state.withLock { $0.virtualNow } }

    // MARK: submission

    /// A portal write of one descriptor (MOVDIR64B or ENQCMD). The 64 bytes are captured
    /// now, as the hardware does; later writes by the caller do not affect them.
    public func submit(_ descriptor: UnsafeRawPointer) -> PortalSubmission.Outcome {
        let now = instant ? 0 : Double(cmemif_monotonic_ns())
        switch ring.submit(descriptor, dedicated: dedicated, limit: admissionLimit, acceptedAt: now) {
        case .accepted, .dropped: return .accepted  // a dedicated queue's drop is silent
        case .retry: return .retry
        }
    }

    /// The kernel's `write(fd, descriptors, count * 64)`: bytes accepted, or -errno when the
    /// first descriptor is refused (EINVAL: misaligned record, or BATCH on an unsafe DSA
    /// 1.0; EAGAIN: shared queue full). Partial counts as `idxd_cdev_write` returns them.
    public func write(_ descriptors: UnsafeRawPointer, count: Int) -> Int {
        for i in 0..<count {
            let d = descriptors + i * 64
            let completion = d.loadUnaligned(fromByteOffset: DSALayout.completionOffset, as: UInt64.self)
            let opcode = d.load(fromByteOffset: DSALayout.opcodeOffset, as: UInt8.self)
            let batchRefused =
                opcode == DSAOpcode.batch && configuration.version == 0x100 && !configuration.userSubmissionSafe
            if completion & 31 != 0 || batchRefused {
                state.withLock { $0.counters.writeRejections += 1 }
                return i == 0 ? -Int(EINVAL) : i * 64
            }
            switch submit(d) {
            case .accepted: continue
            case .retry: return i == 0 ? -Int(EAGAIN) : i * 64
            case .failed(let e): return i == 0 ? -Int(e) : i * 64
            }
        }
        return count * 64
    }

    // MARK: engines

    /// Step mode: one engine finishes one descriptor (chosen among the first `engines`
    /// queued, permuted by the seed). Returns false when none can run.
    @discardableResult
    public func step() -> Bool {
        guard let picked = state.withLock({ $0.pick(from: ring) }) else { return false }
        run(picked)
        return true
    }

    /// Step mode: runs until the queue is empty.
    public func runUntilIdle() {
        while step() {}
    }

    /// Threaded mode: `threads` engine threads serve the queue until ``stop()``, thread i
    /// pinned to `cpus[i]` when given (the "device" core of a benchmark).
    public func start(threads count: Int = 1, cpus: [Int] = []) {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for i in 0..<count {
            let context = Unmanaged.passRetained(ThreadStart(model: self, cpu: i < cpus.count ? cpus[i] : -1)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
                if start.cpu >= 0 { _ = cmemif_pin_current_thread(Int32(start.cpu)) }
                start.model.serve()
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(thread)
        }
    }

    /// Stops the engine threads after the descriptor each is working on.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }

    private final class ThreadStart {
        let model: DSAWorkQueueModel
        let cpu: Int
        init(model: DSAWorkQueueModel, cpu: Int) {
            self.model = model
            self.cpu = cpu
        }
    }

    private func serve() {
        var idle = 0
        while running.load(ordering: .relaxed) {
            if step() {
                idle = 0
            } else {
                idle += 1
                if idle < 4096 { cmemif_cpu_pause() } else { usleep(50) }
            }
        }
    }

    private func run(_ picked: Picked) {
        var d = picked.descriptor
        withUnsafeMutableBytes(of: &d) { raw in _ = execute(raw.baseAddress!, topLevel: true, timing: picked.acceptedAt) }
        state.withLock { $0.finish() }
    }

    // MARK: execution

    /// Validates and executes one descriptor, writes its record; returns its payload bytes
    /// and final status.
    private func execute(_ d: UnsafeMutableRawPointer, topLevel: Bool, timing acceptedAt: Double) -> (bytes: Int, status: UInt8) {
        let word0 = d.load(as: UInt32.self)
        let word1 = d.load(fromByteOffset: 4, as: UInt32.self)
        let opcode = UInt8(word1 >> 24)
        let flags = word1 & 0x00FF_FFFF
        let completion = d.load(fromByteOffset: 8, as: UInt64.self)
        var record = RecordFields()
        var bytes = 0
        let status = validate(d, opcode: opcode, flags: flags, word0: word0, record: &record)
        if status == Self.recordSuppressed {  // SWERR: misaligned record, none written
            if topLevel { ring.release() }
            return (0, status)
        }
        if status != 0 {
            record.status = status
        } else {
            switch opcode {
            case DSAOpcode.memmove:
                bytes = Int(d.load(fromByteOffset: 32, as: UInt32.self))
                memmove(d, flags: flags, record: &record)
            case DSAOpcode.batch:
                bytes = batch(d, record: &record)
            default:  // NOOP; DRAIN is ordered by pick()
                record.status = DSAStatus.success
            }
        }
        if topLevel {
            wait(bytes: bytes, members: opcode == DSAOpcode.batch ? 2 : 1, acceptedAt: acceptedAt)
            // The queue entry is free before the record says "done", never after: a
            // submitter that counts occupancy by retired records must never find it full.
            ring.release()
        }
        let wantsRecord =
            flags & DSAFlag.completionAddressValid != 0
            && (flags & DSAFlag.requestCompletionRecord != 0 || record.status != DSAStatus.success)
        if wantsRecord { writeRecord(record, at: completion) }
        return (bytes, record.status)
    }

    fileprivate static let recordSuppressed: UInt8 = 0xFF

    /// Steps 1-7 of the validation order (reference 5.2).
    private func validate(
        _ d: UnsafeRawPointer, opcode: UInt8, flags: UInt32, word0: UInt32, record: inout RecordFields
    ) -> UInt8 {
        guard executes(opcode) else { return DSAStatus.badOpcode }
        var reservedClear = word0 & 0x7FF0_0000 == 0 && d.load(fromByteOffset: 38, as: UInt16.self) == 0
        for off in stride(from: 40, to: 64, by: 8) where d.load(fromByteOffset: off, as: UInt64.self) != 0 {
            reservedClear = false
        }
        guard reservedClear else { return DSAStatus.reservedNonZero }
        guard word0 & 0x8000_0000 == 0 else { return DSAStatus.privilegeBad }
        let common = DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord | DSAFlag.requestCompletionInterrupt
        var allowed: UInt32
        switch opcode {
        case DSAOpcode.memmove:
            allowed =
                common | DSAFlag.fence | DSAFlag.blockOnFault | DSAFlag.address1TrafficClass
                | DSAFlag.address2TrafficClass | DSAFlag.strictOrdering | DSAFlag.destinationReadback
                | DSAFlag.destinationSteering
            if configuration.cacheControl { allowed |= DSAFlag.cacheControl }
        case DSAOpcode.batch: allowed = common | DSAFlag.address1TrafficClass
        case DSAOpcode.noop: allowed = common | DSAFlag.fence
        default: allowed = common
        }
        if flags & ~allowed != 0 {
            record.invalidFlags = flags & ~allowed
            return DSAStatus.invalidFlags
        }
        let completion = d.load(fromByteOffset: 8, as: UInt64.self)
        if flags & DSAFlag.completionAddressValid != 0 && completion & 31 != 0 {
            state.withLock { $0.counters.softwareErrors += 1 }
            return Self.recordSuppressed
        }
        let size = d.load(fromByteOffset: 32, as: UInt32.self)
        if opcode == DSAOpcode.memmove && (size == 0 || Int(size) > configuration.maxTransferSize) {
            return DSAStatus.transferSizeRange
        }
        if opcode == DSAOpcode.batch {
            if size < 2 || Int(size) > configuration.maxBatchSize { return DSAStatus.descriptorCountRange }
            if d.load(fromByteOffset: 16, as: UInt64.self) & 63 != 0 { return DSAStatus.descriptorListAlignment }
        }
        return 0
    }

    /// MEMMOVE through the memory oracle, page chunk by page chunk, ascending, or
    /// descending when source and destination overlap with source below destination.
    private func memmove(_ d: UnsafeRawPointer, flags: UInt32, record: inout RecordFields) {
        let src = d.load(fromByteOffset: 16, as: UInt64.self)
        let dst = d.load(fromByteOffset: 24, as: UInt64.self)
        let size = UInt64(d.load(fromByteOffset: 32, as: UInt32.self))
        let descending = src < dst && dst < src &+ size
        let blockOnFault = flags & DSAFlag.blockOnFault != 0 && configuration.blockOnFault
        let probe = state.withLock { s in
            s.probeCopy(source: src, destination: dst, size: size, descending: descending, blockOnFault: blockOnFault)
        }
        if probe.pageRequests > 0 { wait(nanoseconds: configuration.timing.pageRequestNanoseconds * Double(probe.pageRequests)) }
        let done = probe.completed
        if done > 0, let s = UnsafeRawPointer(bitPattern: UInt(src)), let t = UnsafeMutableRawPointer(bitPattern: UInt(dst)) {
            if descending {
                (t + Int(size - done)).copyMemory(from: s + Int(size - done), byteCount: Int(done))
            } else {
                t.copyMemory(from: s, byteCount: Int(done))
            }
        }
        record.bytesCompleted = UInt32(truncatingIfNeeded: done)
        guard let fault = probe.fault else {
            record.status = DSAStatus.success
            return
        }
        record.status = (probe.unresolvable ? DSAStatus.pageFaultInvalidResponse : DSAStatus.pageFault)
            | (fault.write ? DSAStatus.faultOnWrite : 0)
        record.result = descending ? 1 : 0
        record.faultAddress = fault.address
    }

    /// BATCH: reads members from the list (a list fault ends it with 0x06), runs them in
    /// fence-separated groups, each group in seeded order; a fence after a failure stops.
    private func batch(_ d: UnsafeRawPointer, record: inout RecordFields) -> Int {
        let list = d.load(fromByteOffset: 16, as: UInt64.self)
        let count = Int(d.load(fromByteOffset: 32, as: UInt32.self))
        let readable = state.withLock { $0.readableMembers(list: list, count: count) }
        // Members are read where they are (registered memory, checked above), as the device
        // reads the list; nothing is allocated per batch.
        guard readable > 0, let base = UnsafeMutableRawPointer(bitPattern: UInt(list)) else {
            record.bytesCompleted = 0
            record.status = readable < count ? DSAStatus.batchPageFault : DSAStatus.success
            if readable < count { state.withLock { $0.counters.faults += 1 } }
            return 0
        }
        var bytes = 0
        var failed = false
        var processed = 0
        var groupStart = 0
        while groupStart < readable && !failed {
            var groupEnd = groupStart + 1
            while groupEnd < readable && base.load(fromByteOffset: groupEnd * 64 + 4, as: UInt32.self) & DSAFlag.fence == 0 {
                groupEnd += 1
            }
            let n = groupEnd - groupStart
            let (offset, step) = state.withLock { $0.permutation(n) }
            for j in 0..<n {
                let m = base + (groupStart + (offset + j * step) % n) * 64
                let opcode = m.load(fromByteOffset: 7, as: UInt8.self)
                let status: UInt8
                if opcode == DSAOpcode.batch || opcode == DSAOpcode.drain {
                    status = DSAStatus.badOpcode
                    let flags = m.load(fromByteOffset: 4, as: UInt32.self) & 0x00FF_FFFF
                    if flags & DSAFlag.completionAddressValid != 0 {
                        var r = RecordFields()
                        r.status = status
                        writeRecord(r, at: m.load(fromByteOffset: 8, as: UInt64.self))
                    }
                } else {
                    let r = execute(m, topLevel: false, timing: 0)
                    bytes += r.bytes
                    status = r.status
                }
                if status != DSAStatus.success { failed = true }
            }
            processed = groupEnd
            groupStart = groupEnd
        }
        state.withLock { $0.counters.members += processed }
        record.bytesCompleted = UInt32(processed)
        if readable < count && !failed {
            record.status = DSAStatus.batchPageFault
            state.withLock { $0.counters.faults += 1 }
        } else if failed {
            record.status = DSAStatus.batchFailure
            record.result = 1
        } else {
            record.status = DSAStatus.success
        }
        return bytes
    }

    /// Writes a record: bytes 1..31 first, then the status byte with release. A record
    /// outside registered memory is a SWERR (0x1A) and is not written; so is an injected loss.
    private func writeRecord(_ r: RecordFields, at address: UInt64) {
        let writable = state.withLock { s -> Bool in
            if s.recordsToDrop > 0 {
                s.recordsToDrop -= 1
                s.counters.droppedRecords += 1
                return false
            }
            guard s.isRegistered(address, length: 32) else {
                s.counters.softwareErrors += 1
                return false
            }
            if r.status & DSAStatus.mask == DSAStatus.pageFault || r.status & DSAStatus.mask == DSAStatus.pageFaultInvalidResponse {
                s.counters.faults += 1
            }
            return true
        }
        guard writable, let p = UnsafeMutableRawPointer(bitPattern: UInt(address)) else { return }
        p.storeBytes(of: r.result, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: 0 as UInt16, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: r.bytesCompleted, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: r.faultAddress, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: UInt64(r.invalidFlags), toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: 0 as UInt64, toByteOffset: 24, as: UInt64.self)
        cmemif_cr_status_release(p, r.status)
    }

    // MARK: timing

    private func wait(bytes: Int, members: Int, acceptedAt: Double) {
        let t = configuration.timing
        guard !t.isInstant else { return }
        let threaded = running.load(ordering: .relaxed)
        let done = state.withLock { s -> Double in
            let now = threaded ? Double(cmemif_monotonic_ns()) : s.virtualNow
            let accepted = threaded ? acceptedAt : s.virtualNow
            let parallel = Double(min(members, configuration.engines))
            let busy = Double(bytes) / (t.engineBytesPerSecond * parallel) * 1e9
            let start = max(accepted, s.engineFreeAt.min() ?? accepted)
            if let e = s.engineFreeAt.indices.min(by: { s.engineFreeAt[$0] < s.engineFreeAt[$1] }) {
                s.engineFreeAt[e] = start + busy
            }
            s.deviceFreeAt = max(s.deviceFreeAt, start) + Double(bytes) / t.deviceBytesPerSecond * 1e9
            let done = max(start + busy, s.deviceFreeAt) + t.baseNanoseconds
            if !threaded { s.virtualNow = max(now, done) }
            return done
        }
        if threaded {
            while Double(cmemif_monotonic_ns()) < done { cmemif_cpu_pause() }
        }
    }

    private func wait(nanoseconds: Double) {
        guard nanoseconds > 0 else { return }
        if running.load(ordering: .relaxed) {
            let end = Double(cmemif_monotonic_ns()) + nanoseconds
            while Double(cmemif_monotonic_ns()) < end { cmemif_cpu_pause() }
        } else {
            state.withLock { $0.virtualNow += nanoseconds }
        }
    }
}

/// The model as a portal: the engine cannot tell it from a mapped queue or `write()`.
public struct ModelPortal: DSAPortal, @unchecked Sendable {
    public let model: DSAWorkQueueModel
    public init(model: DSAWorkQueueModel) { self.model = model }

    public var isDedicated: Bool { model.dedicated }

    public func submit(_ descriptors: UnsafeRawPointer, count: Int) -> PortalSubmission {
        if model.usesWrite {
            let n = model.write(descriptors, count: count)
            if n < 0 { return PortalSubmission(accepted: 0, outcome: n == -Int(EAGAIN) ? .retry : .failed(Int32(-n))) }
            return PortalSubmission(accepted: n / 64, outcome: n / 64 == count ? .accepted : .retry)
        }
        for i in 0..<count {
            if model.submit(descriptors + i * 64) == .retry { return PortalSubmission(accepted: i, outcome: .retry) }
        }
        return PortalSubmission(accepted: count, outcome: .accepted)
    }

    public func register(_ memory: UnsafeMutableRawBufferPointer) { model.register(memory) }
}

// MARK: - state under the lock

private struct RecordFields {
    var status: UInt8 = 0
    var result: UInt8 = 0
    var bytesCompleted: UInt32 = 0
    var faultAddress: UInt64 = 0
    var invalidFlags: UInt32 = 0
}

private struct InjectedFault {
    var page: UInt64
    var write: Bool
    var remaining: Int
}

/// A descriptor taken off the queue by an engine.
private struct Picked {
    var descriptor: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    var acceptedAt: Double
}

private struct ProbeResult {
    var completed: UInt64
    var fault: (address: UInt64, write: Bool)?
    var unresolvable = false
    var pageRequests = 0
}

private struct ModelState {
    let configuration: DSAModelConfiguration
    var queue: [Picked] = []
    var inProgress = 0
    var counters = DSAModelCounters()
    var regions: [Range<UInt64>] = []
    var injectedFaults: [InjectedFault] = []
    var recordsToDrop = 0
    var listFaultAfter: Int?
    var rng: UInt64
    var virtualNow: Double = 0
    var engineFreeAt: [Double]
    var deviceFreeAt: Double = 0

    init(configuration: DSAModelConfiguration) {
        self.configuration = configuration
        rng = configuration.seed
        engineFreeAt = Array(repeating: 0, count: configuration.engines)
        queue.reserveCapacity(configuration.size)
    }

    /// Moves what was submitted since the last pick into the engines' view of the queue.
    mutating func collect(_ ring: ModelSubmissionRing) {
        while true {
            var p = Picked(descriptor: (0, 0, 0, 0, 0, 0, 0, 0), acceptedAt: 0)
            guard let at = withUnsafeMutableBytes(of: &p.descriptor, { ring.take(into: $0.baseAddress!) }) else { return }
            p.acceptedAt = at
            queue.append(p)
        }
    }

    /// Chooses what an engine runs next: with a seed, any of the first `engines` queued
    /// (never past a DRAIN); a DRAIN only once everything before it finished.
    mutating func pick(from ring: ModelSubmissionRing) -> Picked? {
        collect(ring)
        guard !queue.isEmpty else { return nil }
        var window = min(configuration.engines, queue.count)
        for i in 0..<window where opcode(queue[i]) == DSAOpcode.drain {
            window = i == 0 ? 1 : i
            break
        }
        var index = 0
        if configuration.seed != 0 && window > 1 { index = Int(next() % UInt64(window)) }
        if opcode(queue[index]) == DSAOpcode.drain && inProgress > 0 { return nil }
        inProgress += 1
        return queue.remove(at: index)
    }

    mutating func finish() {
        inProgress -= 1
        counters.completed += 1
    }

    func opcode(_ p: Picked) -> UInt8 { UInt8(truncatingIfNeeded: p.descriptor.0 >> 56) }

    mutating func next() -> UInt64 {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return rng
    }

    /// Execution order of a group of `n` batch members, as `(offset + j * step) % n`: a
    /// seeded permutation that needs no storage (step coprime with n).
    mutating func permutation(_ n: Int) -> (offset: Int, step: Int) {
        guard configuration.seed != 0 && n > 1 else { return (0, 1) }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        var step = 1 + Int(next() % UInt64(n - 1))
        while gcd(step, n) != 1 { step = step % (n - 1) + 1 }
        return (Int(next() % UInt64(n)), step)
    }

    func isRegistered(_ address: UInt64, length: UInt64) -> Bool {
        regions.contains { $0.lowerBound <= address && address &+ length <= $0.upperBound && address &+ length >= address }
    }

    /// Members of a list the device can read before a fault.
    mutating func readableMembers(list: UInt64, count: Int) -> Int {
        var n = count
        if let k = listFaultAfter {
            listFaultAfter = nil
            n = min(n, k)
        }
        for i in 0..<n where !isRegistered(list &+ UInt64(i * 64), length: 64) || faults(list &+ UInt64(i * 64), write: false) {
            return i
        }
        return n
    }

    /// Whether an injected fault fires on this page now (consuming one occurrence).
    mutating func faults(_ address: UInt64, write: Bool) -> Bool {
        let page = address & ~4095
        guard let i = injectedFaults.firstIndex(where: { $0.page == page && $0.write == write && $0.remaining > 0 }) else {
            return false
        }
        injectedFaults[i].remaining -= 1
        return true
    }

    /// How far a copy gets before a page it cannot touch.
    mutating func probeCopy(source: UInt64, destination: UInt64, size: UInt64, descending: Bool, blockOnFault: Bool)
        -> ProbeResult
    {
        var result = ProbeResult(completed: 0)
        var done: UInt64 = 0
        while done < size {
            // The next chunk stays within one page of both source and destination.
            let chunk: UInt64
            let s: UInt64, d: UInt64
            if descending {
                let end = size - done  // bytes [0, end) are still to copy, from the top down
                let sPage = (source &+ end &- 1) & ~4095
                let dPage = (destination &+ end &- 1) & ~4095
                let low = max(sPage > source ? sPage - source : 0, dPage > destination ? dPage - destination : 0)
                chunk = end - low
                s = source &+ low
                d = destination &+ low
            } else {
                let sLeft = 4096 - ((source &+ done) & 4095)
                let dLeft = 4096 - ((destination &+ done) & 4095)
                chunk = min(sLeft, dLeft, size - done)
                s = source &+ done
                d = destination &+ done
            }
            for (address, write) in [(s, false), (d, true)] {
                let registered = isRegistered(address, length: chunk)
                while !registered || faults(address, write: write) {
                    if blockOnFault && registered {
                        result.pageRequests += 1  // the page request made it present; touch again
                        counters.pageRequests += 1
                        continue
                    }
                    result.completed = done
                    result.fault = (address, write)
                    result.unresolvable = blockOnFault && !registered
                    return result
                }
            }
            done += chunk
        }
        result.completed = size
        return result
    }
}
