import CMemifDSA
import MemifCopy
import Testing

/// The model's own semantics, descriptor by descriptor (reference 5.2 validation order,
/// batches, records), independent of the engine.
@Suite("DSA work-queue model")
struct ModelTests {
    /// A ring of descriptor slots and records in registered memory.
    final class Bench {
        let model: DSAWorkQueueModel
        let memory: TestMemory
        init(_ c: DSAModelConfiguration = DSAModelConfiguration()) {
            model = DSAWorkQueueModel(configuration: c)
            memory = TestMemory(pages: 4, model: model)
            memory.zero()
        }
        func slot(_ i: Int) -> UnsafeMutableRawPointer { memory[i * 64] }
        /// Records live in the last page.
        func record(_ i: Int) -> UnsafeMutableRawPointer { memory[3 * 4096 + i * 32] }
        var recordAddress: UInt64 { UInt64(UInt(bitPattern: record(0))) }
        func status(_ i: Int) -> UInt8 { cmemif_cr_status_acquire(record(i)) }
    }

    func memmove(_ b: Bench, slot: Int, flags: UInt32, record: Int, size: UInt32 = 64) {
        let src = UInt64(UInt(bitPattern: b.memory[2 * 4096]))
        let dst = UInt64(UInt(bitPattern: b.memory[2 * 4096 + 2048]))
        DSADescriptor.writeMemmove(
            b.slot(slot), flags: flags, completion: UInt64(UInt(bitPattern: b.record(record))), source: src,
            destination: dst, size: size)
    }

    static let crav = DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord

    /// One bad field at a time, each with the status the validation order gives it.
    @Test(arguments: [
        ("opcode", DSAStatus.badOpcode), ("reserved", DSAStatus.reservedNonZero), ("priv", DSAStatus.privilegeBad),
        ("flags", DSAStatus.invalidFlags), ("size0", DSAStatus.transferSizeRange), ("sizeMax", DSAStatus.transferSizeRange),
    ])
    func validation(field: String, expected: UInt8) {
        var c = DSAModelConfiguration()
        c.cacheControl = false
        c.maxTransferSize = 4096
        let b = Bench(c)
        memmove(b, slot: 0, flags: Self.crav, record: 0)
        let d = b.slot(0)
        switch field {
        case "opcode": d.storeBytes(of: 0x05, toByteOffset: 7, as: UInt8.self)  // COMPARE, not in op_cap
        case "reserved": d.storeBytes(of: 1, toByteOffset: 38, as: UInt16.self)
        case "priv": d.storeBytes(of: 0x8000_0000, as: UInt32.self)
        case "flags": DSADescriptor.setFlags(d, Self.crav | DSAFlag.cacheControl)  // no CC in gen_cap
        case "size0": d.storeBytes(of: 0, toByteOffset: 32, as: UInt32.self)
        default: d.storeBytes(of: 8192, toByteOffset: 32, as: UInt32.self)
        }
        #expect(b.model.submit(d) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(0) == expected)
        if field == "flags" { #expect(DSACompletionRecord(b.record(0)).invalidFlags == DSAFlag.cacheControl) }
    }

    @Test func successWritesRecordOnlyWhenRequested() {
        let b = Bench()
        memmove(b, slot: 0, flags: DSAFlag.completionAddressValid, record: 0)
        memmove(b, slot: 1, flags: Self.crav, record: 1)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        #expect(b.model.submit(b.slot(1)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(0) == 0)  // CRAV without RCR: only errors write
        #expect(b.status(1) == DSAStatus.success)
        #expect(DSACompletionRecord(b.record(1)).bytesCompleted == 64)
        #expect(b.memory.bytes(2 * 4096 + 2048, 64) == b.memory.bytes(2 * 4096, 64))
    }

    @Test func misalignedRecordIsASoftwareErrorWithoutRecord() {
        let b = Bench()
        memmove(b, slot: 0, flags: Self.crav, record: 0)
        b.slot(0).storeBytes(of: b.recordAddress + 8, toByteOffset: 8, as: UInt64.self)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.model.counters.softwareErrors == 1)
        #expect(b.status(0) == 0)
    }

    @Test func recordOutsideRegisteredMemoryIsNeverWritten() {
        let b = Bench()
        let outside = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { outside.deallocate() }
        outside.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        memmove(b, slot: 0, flags: Self.crav, record: 0)
        b.slot(0).storeBytes(of: UInt64(UInt(bitPattern: outside)), toByteOffset: 8, as: UInt64.self)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        #expect(outside.load(as: UInt8.self) == 0)
        #expect(b.model.counters.softwareErrors == 1)
    }

    /// Per-member statuses after a fence: member 0 faults (0x03 with the write bit), member
    /// 1 succeeds silently, the fenced member 2 and member 3 never run; batch 0x05, dc = 2.
    @Test func batchMemberStatusesAfterFence() {
        let b = Bench()
        let target = b.memory[4096]
        b.model.injectFault(at: target, access: .write)
        let src = UInt64(UInt(bitPattern: b.memory[2 * 4096]))
        for i in 0..<4 {
            let own = UInt64(UInt(bitPattern: b.slot(8 + i)))
            DSADescriptor.writeMemmove(
                b.slot(8 + i), flags: DSAFlag.completionAddressValid | (i == 2 ? DSAFlag.fence : 0), completion: own,
                source: src, destination: UInt64(UInt(bitPattern: target)) + UInt64(i * 512), size: 256)
        }
        DSADescriptor.writeBatch(
            b.slot(0), flags: Self.crav, completion: b.recordAddress, list: UInt64(UInt(bitPattern: b.slot(8))), count: 4)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        let batch = DSACompletionRecord(b.record(0))
        #expect(batch.code == DSAStatus.batchFailure)
        #expect(batch.result == 1)
        #expect(batch.bytesCompleted == 2)
        let m0 = DSACompletionRecord(b.slot(8))
        #expect(m0.code == DSAStatus.pageFault)
        #expect(m0.faultWasWrite)
        #expect(m0.bytesCompleted == 0)
        #expect(m0.faultAddress == UInt64(UInt(bitPattern: target)))
        #expect(cmemif_cr_status_acquire(b.slot(9)) == 0)
        #expect(cmemif_cr_status_acquire(b.slot(10)) == 0)
        #expect(cmemif_cr_status_acquire(b.slot(11)) == 0)
        #expect(b.memory.bytes(4096 + 512, 256) == b.memory.bytes(2 * 4096, 256))  // member 1 ran
    }

    @Test(arguments: [(UInt32(1), DSAStatus.descriptorCountRange), (UInt32(2000), DSAStatus.descriptorCountRange)])
    func batchCountRange(count: UInt32, expected: UInt8) {
        let b = Bench()
        DSADescriptor.writeBatch(
            b.slot(0), flags: Self.crav, completion: b.recordAddress, list: UInt64(UInt(bitPattern: b.slot(8))), count: count)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(0) == expected)
    }

    @Test func misalignedListAndNestedBatch() {
        let b = Bench()
        DSADescriptor.writeBatch(
            b.slot(0), flags: Self.crav, completion: b.recordAddress, list: UInt64(UInt(bitPattern: b.slot(8))) + 32, count: 2)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(0) == DSAStatus.descriptorListAlignment)

        // A BATCH member inside a batch: the member gets 0x10, the batch 0x05.
        DSADescriptor.writeBatch(
            b.slot(8), flags: DSAFlag.completionAddressValid, completion: UInt64(UInt(bitPattern: b.slot(8))),
            list: UInt64(UInt(bitPattern: b.slot(16))), count: 2)
        memmove(b, slot: 9, flags: DSAFlag.completionAddressValid, record: 5)
        DSADescriptor.writeBatch(
            b.slot(1), flags: Self.crav, completion: UInt64(UInt(bitPattern: b.record(1))),
            list: UInt64(UInt(bitPattern: b.slot(8))), count: 2)
        #expect(b.model.submit(b.slot(1)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(1) == DSAStatus.batchFailure)
        #expect(cmemif_cr_status_acquire(b.slot(8)) == DSAStatus.badOpcode)
    }

    /// Block-on-fault on a WQ that allows it: the page request resolves, the copy finishes.
    @Test func blockOnFaultResolves() {
        var c = DSAModelConfiguration()
        c.blockOnFault = true
        let b = Bench(c)
        b.model.injectFault(at: b.memory[2 * 4096 + 2048], access: .write, times: 2)
        memmove(b, slot: 0, flags: Self.crav | DSAFlag.blockOnFault, record: 0)
        #expect(b.model.submit(b.slot(0)) == .accepted)
        b.model.runUntilIdle()
        #expect(b.status(0) == DSAStatus.success)
        #expect(b.model.counters.pageRequests == 2)
    }

    /// DRAIN completes only after everything accepted before it, whatever the shuffle.
    @Test func drainWaitsForEarlierDescriptors() {
        var c = DSAModelConfiguration()
        c.seed = 0x9E37_79B9
        let b = Bench(c)
        for i in 0..<6 { memmove(b, slot: i, flags: Self.crav, record: i) }
        DSADescriptor.writeControl(b.slot(6), opcode: DSAOpcode.drain, flags: Self.crav, completion: UInt64(UInt(bitPattern: b.record(6))))
        for i in 0..<7 { #expect(b.model.submit(b.slot(i)) == .accepted) }
        var seenDrainEarly = false
        while b.model.step() {
            if b.status(6) != 0 && (0..<6).contains(where: { b.status($0) == 0 }) { seenDrainEarly = true }
        }
        #expect(!seenDrainEarly)
        #expect(b.status(6) == DSAStatus.success)
    }

    /// With a seed, completions come back out of submission order (what the engine's
    /// in-order retirement must absorb).
    @Test func seededCompletionOrderIsShuffled() {
        var c = DSAModelConfiguration()
        c.seed = 12345
        let b = Bench(c)
        for i in 0..<8 { memmove(b, slot: i, flags: Self.crav, record: i) }
        for i in 0..<8 { #expect(b.model.submit(b.slot(i)) == .accepted) }
        var order: [Int] = []
        while b.model.step() {
            for i in 0..<8 where b.status(i) != 0 && !order.contains(i) { order.append(i) }
        }
        #expect(order.count == 8)
        #expect(order != Array(0..<8))
    }
}
