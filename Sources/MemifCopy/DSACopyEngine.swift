import CMemifDSA

/// What a ``DSACopyEngine`` needs to know about its work queue, and its policy knobs.
public struct DSAEngineConfiguration: Sendable {
    /// Descriptor ring slots N (power of two); 2N are allocated so a burst never wraps.
    public var ringSlots: Int = 256
    /// Copies per burst; also capped by the ring and the queue's `max_batch_size`.
    public var maxCopiesPerBurst: Int = 64
    /// Bursts tracked in flight (power of two), CPU-completed ones included.
    public var maxBurstsInFlight: Int = 32
    /// The queue's `size`: descriptors outstanding never exceed it (a batch counts once).
    public var workQueueSize: Int = 128
    public var maxBatchSize: Int = 1024
    public var maxTransferSize: Int = 2 << 20
    /// One BATCH per burst. False where BATCH is unavailable (`write()` on DSA 1.0): each
    /// copy then goes as its own descriptor with its own completion record.
    public var useBatch: Bool = true
    /// Destination writes allocate into the LLC (CC); only where `gen_cap` has it.
    public var cacheControl: Bool = true
    /// Copies shorter than this run inline at enqueue (descriptor overhead dominates).
    public var minimumOffloadBytes: Int = 256
    /// ENQCMD / EAGAIN refusals retried per submission before the CPU takes over.
    public var retryLimit: Int = 32
    /// A burst not complete this long after submission wedges the engine.
    public var deadlineNanoseconds: UInt64 = 200_000_000

    public init() {}
}

/// Copies through an Intel DSA work queue: descriptors built in a pinned ring, one BATCH
/// per burst (or a single descriptor for one copy), completion records polled in
/// submission order, every error recovered on the CPU (reference/dsa.md 2, 5.3, 7).
///
/// Generic over the portal, so the same code drives MOVDIR64B, ENQCMD, `write()` and the
/// work-queue model. Batch members carry CRAV without RCR and point their completion
/// record at their own slot, so success writes nothing and a failure overwrites the
/// consumed descriptor (as DPDK does); the batch's own record sits in a separate 32-byte
/// aligned ring. One thread drives an engine.
public struct DSACopyEngine<Portal: DSAPortal>: CopyEngine, @unchecked Sendable {
    @usableFromInline let state: UnsafeMutablePointer<DSAEngineState>
    @usableFromInline let portal: Portal
    @usableFromInline let owner: DSAEngineStorage
    /// What the portal lives in (an opened work queue's mapping), kept as long as the engine.
    let portalOwner: AnyObject?

    /// `portalOwner` keeps the portal's mapping (or file) alive as long as any copy of
    /// the engine exists.
    public init(portal: Portal, configuration c: DSAEngineConfiguration, portalOwner: AnyObject? = nil) {
        precondition(c.ringSlots > 1 && c.ringSlots & (c.ringSlots - 1) == 0, "ringSlots is a power of two")
        precondition(c.maxBurstsInFlight > 0 && c.maxBurstsInFlight & (c.maxBurstsInFlight - 1) == 0)
        precondition(c.workQueueSize > 0)
        let storage = DSAEngineStorage(configuration: c)
        self.owner = storage
        self.state = storage.state
        self.portal = portal
        self.portalOwner = portalOwner
        portal.register(storage.descriptorMemory.buffer)
        portal.register(storage.recordMemory.buffer)
    }

    @inlinable public var maxCopiesPerBurst: Int { state.pointee.maxCopies }
    @inlinable public var canStartBurst: Bool { state.pointee.burstTail &- state.pointee.burstHead <= state.pointee.burstMask }
    @inlinable public var copyCapacity: Int {
        let s = state
        guard canStartBurst else { return 0 }
        let building = s.pointee.building
        return min(s.pointee.maxCopies &- building, s.pointee.slotCount &- (s.pointee.slotTail &+ building &- s.pointee.slotHead))
    }
    @inlinable public var burstsInFlight: Int { state.pointee.burstTail &- state.pointee.burstHead }
    /// Descriptors (a batch counts once) the device holds by our count.
    public var outstandingDescriptors: Int { state.pointee.wqOutstanding }
    public var isWedged: Bool { state.pointee.counters.wedged }
    public var statistics: CopyEngineStatistics { state.pointee.counters.snapshot }

    @inlinable @inline(__always)
    public func enqueue(destination: UnsafeMutableRawPointer, source: UnsafeRawPointer, length: Int, fence: Bool) -> Bool {
        let s = state
        let building = s.pointee.building
        guard length >= 0, building < s.pointee.maxCopies, canStartBurst,
            s.pointee.slotTail &+ building &- s.pointee.slotHead < s.pointee.slotCount
        else { return false }
        s.pointee.copies &+= 1
        if length < s.pointee.minimumOffload || length > s.pointee.maxTransfer || s.pointee.counters.wedged {
            // Inline. A wedged engine also leaves its descriptor ring untouched from now on:
            // a device that is late rather than dead may still read it.
            destination.copyMemory(from: source, byteCount: length)
            s.pointee.counters.fallback(
                s.pointee.counters.wedged ? .wedged : length < s.pointee.minimumOffload ? .belowThreshold : .oversize)
            return true
        }
        let physical = (s.pointee.slotTail & s.pointee.slotMask) &+ building
        let slot = s.pointee.descriptors + physical &* 64
        var flags = s.pointee.memberFlags
        if fence { flags |= DSAFlag.fence }
        DSADescriptor.writeMemmove(
            slot, flags: flags, completion: UInt64(UInt(bitPattern: slot)),
            source: UInt64(UInt(bitPattern: source)), destination: UInt64(UInt(bitPattern: destination)),
            size: UInt32(truncatingIfNeeded: length))
        s.pointee.items[physical] = CopyItem(destination: destination, source: source, length: length)
        s.pointee.building = building &+ 1
        return true
    }

    @inlinable
    public func submit(cookie: UInt64) -> Bool {
        let s = state
        guard canStartBurst else { return false }
        let n = s.pointee.building
        let index = s.pointee.burstTail & s.pointee.burstMask
        let first = s.pointee.slotTail & s.pointee.slotMask
        var entry = BurstEntry(cookie: cookie, firstSlot: first, count: n, copies: s.pointee.copies)
        s.pointee.building = 0
        s.pointee.copies = 0
        s.pointee.slotTail &+= n
        s.pointee.burstTail &+= 1
        s.pointee.counters.bursts &+= 1
        s.pointee.counters.submitted &+= UInt64(entry.copies)
        if n != 0 { start(&entry, index: index) }
        s.pointee.bursts[index] = entry
        return true
    }

    /// Hands a built burst to the device, or to the CPU when the device cannot take it.
    @usableFromInline
    func start(_ entry: inout BurstEntry, index: Int) {
        let s = state
        let n = entry.count
        if s.pointee.counters.wedged {
            redoOnCPU(entry, from: 0, reason: .wedged)
            return
        }
        let useBatch = s.pointee.useBatch
        let needed = useBatch ? 1 : n
        guard s.pointee.wqOutstanding &+ needed <= s.pointee.wqSize else {
            redoOnCPU(entry, from: 0, reason: .queueFull)
            return
        }
        let record = s.pointee.record(index)
        let descriptors: UnsafeRawPointer
        if !useBatch {
            entry.kind = .unbatched
            descriptors = UnsafeRawPointer(s.pointee.slot(entry.firstSlot))
        } else if n == 1 {
            entry.kind = .single
            let slot = s.pointee.slot(entry.firstSlot)
            makeSingle(slot, record: record)
            descriptors = UnsafeRawPointer(slot)
        } else {
            entry.kind = .batch
            prepareBatch(record: record, list: s.pointee.slot(entry.firstSlot), count: n)
            descriptors = UnsafeRawPointer(s.pointee.batchDescriptor)
        }
        cmemif_sfence()
        let pushed = push(descriptors, count: needed)
        s.pointee.wqOutstanding &+= pushed.accepted
        entry.entries = pushed.accepted
        entry.deadline = cmemif_monotonic_ns() &+ s.pointee.deadline
        if pushed.accepted == needed {
            if useBatch && n > 1 { s.pointee.counters.batches &+= 1 }
            return
        }
        if entry.kind == .unbatched {
            // Members the queue took stay with the device; the rest run here and are marked
            // done in their own records so retiring sees one uniform picture.
            for i in pushed.accepted..<n {
                let physical = entry.firstSlot &+ i
                cpuCopy(physical)
                cmemif_cr_status_release(s.pointee.slot(physical), DSAStatus.success)
            }
            s.pointee.counters.fallback(pushed.reason, UInt64(n &- pushed.accepted))
        } else {
            redoOnCPU(entry, from: 0, reason: pushed.reason)
            entry.kind = .done
        }
    }

    /// A lone copy: it requests its record, in the burst's record slot.
    @inlinable @inline(__always)
    func makeSingle(_ slot: UnsafeMutableRawPointer, record: UnsafeMutableRawPointer) {
        DSADescriptor.setFlags(slot, DSADescriptor.flags(slot) | DSAFlag.requestCompletionRecord)
        slot.storeBytes(of: UInt64(UInt(bitPattern: record)), toByteOffset: DSALayout.completionOffset, as: UInt64.self)
        record.storeBytes(of: 0 as UInt64, as: UInt64.self)
    }

    @inlinable @inline(__always)
    func prepareBatch(record: UnsafeMutableRawPointer, list: UnsafeMutableRawPointer, count: Int) {
        let s = state
        record.storeBytes(of: 0 as UInt64, as: UInt64.self)
        DSADescriptor.writeBatch(
            s.pointee.batchDescriptor, flags: DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord,
            completion: UInt64(UInt(bitPattern: record)), list: UInt64(UInt(bitPattern: list)),
            count: UInt32(truncatingIfNeeded: count))
    }

    /// Portal submission with the bounded retry of a shared queue.
    @usableFromInline
    func push(_ descriptors: UnsafeRawPointer, count: Int) -> (accepted: Int, reason: CopyFallbackReason) {
        let s = state
        var done = 0
        var refusals = 0
        while done < count {
            let r = portal.submit(descriptors + done &* 64, count: count &- done)
            done &+= r.accepted
            s.pointee.counters.descriptors &+= UInt64(r.accepted)
            switch r.outcome {
            case .accepted:
                continue
            case .retry:
                guard done < count else { continue }
                s.pointee.counters.retries &+= 1
                refusals &+= 1
                if refusals > s.pointee.retryLimit { return (done, .retriesExhausted) }
                cmemif_cpu_pause()
            case .failed:
                return (done, .submissionError)
            }
        }
        return (done, .submissionError)
    }

    @inlinable
    public func poll() -> UInt64? {
        let s = state
        guard s.pointee.burstHead != s.pointee.burstTail else { return nil }
        let index = s.pointee.burstHead & s.pointee.burstMask
        switch s.pointee.bursts[index].kind {
        case .done:
            break
        case .single, .batch:
            let status = cmemif_cr_status_acquire(s.pointee.record(index))
            if status == 0 {
                guard cmemif_monotonic_ns() > s.pointee.bursts[index].deadline else { return nil }
                wedge()
            } else if !settle(index, status: status) {
                return nil
            }
        case .unbatched:
            if !unbatchedDone(index) {
                guard cmemif_monotonic_ns() > s.pointee.bursts[index].deadline else { return nil }
                wedge()
            } else {
                settleUnbatched(index)
            }
        }
        let entry = s.pointee.bursts[index]
        s.pointee.slotHead &+= entry.count
        s.pointee.wqOutstanding &-= entry.entries
        s.pointee.burstHead &+= 1
        s.pointee.counters.completed &+= UInt64(entry.copies)
        return entry.cookie
    }

    @inlinable @inline(__always)
    func unbatchedDone(_ index: Int) -> Bool {
        let s = state
        let entry = s.pointee.bursts[index]
        var i = entry.checked
        while i < entry.count {
            if cmemif_cr_status_acquire(s.pointee.slot(entry.firstSlot &+ i)) == 0 {
                s.pointee.bursts[index].checked = i
                return false
            }
            i &+= 1
        }
        return true
    }

    /// Acts on a single or batch record. Returns false when the burst was resubmitted.
    @usableFromInline
    func settle(_ index: Int, status: UInt8) -> Bool {
        let s = state
        var entry = s.pointee.bursts[index]
        defer { s.pointee.bursts[index] = entry }
        let record = DSACompletionRecord(s.pointee.record(index))
        if status == DSAStatus.success { return true }
        switch record.code {
        case DSAStatus.pageFault where entry.kind == .single:
            s.pointee.counters.faults &+= 1
            finishRemainder(entry.firstSlot &+ entry.listDone, record)
        case DSAStatus.batchFailure where entry.kind == .batch:
            let processed = Int(record.bytesCompleted)
            for i in entry.listDone..<entry.count {
                let physical = entry.firstSlot &+ i
                settleMember(physical, attempted: i &- entry.listDone < processed, failedBatch: true)
            }
        case DSAStatus.batchPageFault where entry.kind == .batch:
            // The list could not be read past `descs_completed`: those members ran; send
            // the rest again, singly when fewer than two are left (reference 1.6, 0x06).
            s.pointee.counters.faults &+= 1
            let read = min(Int(record.bytesCompleted), entry.count &- entry.listDone)
            for i in entry.listDone..<entry.listDone &+ read {
                settleMember(entry.firstSlot &+ i, attempted: true, failedBatch: false)
            }
            entry.listDone &+= read
            let left = entry.count &- entry.listDone
            guard left > 0 else { return true }
            let recordPointer = s.pointee.record(index)
            let list = s.pointee.slot(entry.firstSlot &+ entry.listDone)
            let descriptor: UnsafeRawPointer
            if left == 1 {
                makeSingle(list, record: recordPointer)
                entry.kind = .single
                descriptor = UnsafeRawPointer(list)
            } else {
                prepareBatch(record: recordPointer, list: list, count: left)
                descriptor = UnsafeRawPointer(s.pointee.batchDescriptor)
            }
            cmemif_sfence()
            // The faulted batch left the queue, so its entry is free for this one.
            let pushed = push(descriptor, count: 1)
            if pushed.accepted == 1 {
                s.pointee.counters.resubmissions &+= 1
                if left > 1 { s.pointee.counters.batches &+= 1 }
                entry.deadline = cmemif_monotonic_ns() &+ s.pointee.deadline
                return false
            }
            redoOnCPU(entry, from: entry.listDone, reason: pushed.reason)
        default:
            if record.code == DSAStatus.pageFaultInvalidResponse { s.pointee.counters.faults &+= 1 }
            redoOnCPU(entry, from: entry.listDone, reason: .otherError)
        }
        entry.kind = .done
        return true
    }

    @usableFromInline
    func settleUnbatched(_ index: Int) {
        let s = state
        let entry = s.pointee.bursts[index]
        for i in 0..<entry.count {
            let physical = entry.firstSlot &+ i
            if cmemif_cr_status_acquire(s.pointee.slot(physical)) != DSAStatus.success {
                settleMember(physical, attempted: true, failedBatch: false)
            }
        }
    }

    /// One member after its batch failed (or was cut short): a record in its own slot
    /// means it failed; no record means it succeeded if attempted, else it never ran.
    @usableFromInline
    func settleMember(_ physical: Int, attempted: Bool, failedBatch: Bool) {
        let s = state
        let record = DSACompletionRecord(s.pointee.slot(physical))
        switch record.code {
        case DSAStatus.none:
            if !attempted {
                cpuCopy(physical)
                s.pointee.counters.fallback(.batchFailure)
            }
        case DSAStatus.success:
            break
        case DSAStatus.pageFault:
            s.pointee.counters.faults &+= 1
            finishRemainder(physical, record)
        default:
            if record.code == DSAStatus.pageFaultInvalidResponse { s.pointee.counters.faults &+= 1 }
            cpuCopy(physical)
            s.pointee.counters.fallback(failedBatch ? .batchFailure : .otherError)
        }
    }

    /// After 0x03: the device copied `bytes_completed` bytes, from the start (ascending)
    /// or from the end (descending); the CPU copies the rest, which also faults it in.
    @usableFromInline
    func finishRemainder(_ physical: Int, _ record: DSACompletionRecord) {
        let s = state
        let item = s.pointee.items[physical]
        let done = min(Int(record.bytesCompleted), item.length)
        let left = item.length &- done
        if left > 0 {
            if record.descending {
                item.destination.copyMemory(from: item.source, byteCount: left)
            } else {
                (item.destination + done).copyMemory(from: item.source + done, byteCount: left)
            }
        }
        s.pointee.counters.fallback(.pageFault)
    }

    @inlinable @inline(__always)
    func cpuCopy(_ physical: Int) {
        let item = state.pointee.items[physical]
        item.destination.copyMemory(from: item.source, byteCount: item.length)
    }

    @usableFromInline
    func redoOnCPU(_ entry: BurstEntry, from first: Int, reason: CopyFallbackReason) {
        guard first < entry.count else { return }
        for i in first..<entry.count { cpuCopy(entry.firstSlot &+ i) }
        state.pointee.counters.fallback(reason, UInt64(entry.count &- first))
    }

    /// A wait passed its deadline: stop using the device for good and redo every burst
    /// still in flight on the CPU, so the caller's in-order retirement carries on.
    @usableFromInline
    func wedge() {
        let s = state
        s.pointee.counters.wedged = true
        var b = s.pointee.burstHead
        while b != s.pointee.burstTail {
            let index = b & s.pointee.burstMask
            if s.pointee.bursts[index].kind != .done {
                redoOnCPU(s.pointee.bursts[index], from: 0, reason: .deadline)
                s.pointee.bursts[index].kind = .done
            }
            s.pointee.bursts[index].entries = 0
            b &+= 1
        }
        s.pointee.wqOutstanding = 0
    }
}

/// One copy as the engine needs it to redo or finish it on the CPU.
@usableFromInline
struct CopyItem {
    @usableFromInline var destination: UnsafeMutableRawPointer
    @usableFromInline var source: UnsafeRawPointer
    @usableFromInline var length: Int

    @inlinable init(destination: UnsafeMutableRawPointer, source: UnsafeRawPointer, length: Int) {
        self.destination = destination
        self.source = source
        self.length = length
    }
}

/// One submitted burst, oldest first in the engine's FIFO.
@usableFromInline
struct BurstEntry {
    @usableFromInline enum Kind: UInt8 { case done, single, batch, unbatched }

    @usableFromInline var cookie: UInt64
    /// Physical slot of the first device copy; the burst's copies are contiguous from it.
    @usableFromInline var firstSlot: Int
    /// Device copies (descriptor slots held).
    @usableFromInline var count: Int
    /// All copies, inline ones included.
    @usableFromInline var copies: Int
    @usableFromInline var kind: Kind = .done
    /// Work-queue entries held.
    @usableFromInline var entries = 0
    @usableFromInline var deadline: UInt64 = 0
    /// Members already settled after descriptor-list faults (0x06).
    @usableFromInline var listDone = 0
    /// Unbatched: members already seen complete.
    @usableFromInline var checked = 0

    @inlinable init(cookie: UInt64, firstSlot: Int, count: Int, copies: Int) {
        self.cookie = cookie
        self.firstSlot = firstSlot
        self.count = count
        self.copies = copies
    }
}

@usableFromInline
struct DSAEngineState {
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    @usableFromInline let records: UnsafeMutableRawPointer
    @usableFromInline let batchDescriptor: UnsafeMutableRawPointer
    @usableFromInline let items: UnsafeMutablePointer<CopyItem>
    @usableFromInline let bursts: UnsafeMutablePointer<BurstEntry>
    @usableFromInline let slotCount: Int
    @usableFromInline let slotMask: Int
    @usableFromInline let burstMask: Int
    @usableFromInline let maxCopies: Int
    @usableFromInline let wqSize: Int
    @usableFromInline let useBatch: Bool
    @usableFromInline let memberFlags: UInt32
    @usableFromInline let minimumOffload: Int
    @usableFromInline let maxTransfer: Int
    @usableFromInline let retryLimit: Int
    @usableFromInline let deadline: UInt64
    @usableFromInline var slotHead = 0
    @usableFromInline var slotTail = 0
    @usableFromInline var building = 0
    @usableFromInline var copies = 0
    @usableFromInline var burstHead = 0
    @usableFromInline var burstTail = 0
    @usableFromInline var wqOutstanding = 0
    @usableFromInline var counters = EngineCounters()

    @inlinable @inline(__always)
    func slot(_ physical: Int) -> UnsafeMutableRawPointer { descriptors + physical &* 64 }
    @inlinable @inline(__always)
    func record(_ index: Int) -> UnsafeMutableRawPointer { records + index &* DSALayout.recordSize }

    init(
        descriptors: UnsafeMutableRawPointer, records: UnsafeMutableRawPointer, batchDescriptor: UnsafeMutableRawPointer,
        items: UnsafeMutablePointer<CopyItem>, bursts: UnsafeMutablePointer<BurstEntry>, c: DSAEngineConfiguration
    ) {
        self.descriptors = descriptors
        self.records = records
        self.batchDescriptor = batchDescriptor
        self.items = items
        self.bursts = bursts
        slotCount = c.ringSlots
        slotMask = c.ringSlots - 1
        burstMask = c.maxBurstsInFlight - 1
        maxCopies = max(1, min(c.maxCopiesPerBurst, c.ringSlots, c.useBatch ? c.maxBatchSize : c.workQueueSize))
        wqSize = c.workQueueSize
        useBatch = c.useBatch
        var flags = DSAFlag.completionAddressValid
        if c.cacheControl { flags |= DSAFlag.cacheControl }
        if !c.useBatch { flags |= DSAFlag.requestCompletionRecord }
        memberFlags = flags
        minimumOffload = c.minimumOffloadBytes
        maxTransfer = c.maxTransferSize
        retryLimit = c.retryLimit
        deadline = c.deadlineNanoseconds
    }
}

/// Owns the engine's pinned memory; engines are cheap handles onto it.
@usableFromInline
final class DSAEngineStorage {
    let state: UnsafeMutablePointer<DSAEngineState>
    /// 2N descriptor slots plus one for the batch descriptor being submitted.
    let descriptorMemory: PinnedMemory
    let recordMemory: PinnedMemory

    init(configuration c: DSAEngineConfiguration) {
        descriptorMemory = PinnedMemory(byteCount: (2 * c.ringSlots + 1) * 64, alignment: 64)
        recordMemory = PinnedMemory(byteCount: c.maxBurstsInFlight * DSALayout.recordSize, alignment: 64)
        let items = UnsafeMutablePointer<CopyItem>.allocate(capacity: 2 * c.ringSlots)
        let bursts = UnsafeMutablePointer<BurstEntry>.allocate(capacity: c.maxBurstsInFlight)
        bursts.initialize(repeating: BurstEntry(cookie: 0, firstSlot: 0, count: 0, copies: 0), count: c.maxBurstsInFlight)
        state = .allocate(capacity: 1)
        state.initialize(
            to: DSAEngineState(
                descriptors: descriptorMemory.base, records: recordMemory.base,
                batchDescriptor: descriptorMemory.base + 2 * c.ringSlots * 64, items: items, bursts: bursts, c: c))
    }

    deinit {
        state.pointee.items.deallocate()
        state.pointee.bursts.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
