import MemifCopy
import Testing

/// The DSA engine's submission, ordering and every recovery path, driven through the
/// work-queue model in step mode (reference 5.2 "Required tests").
@Suite("DSA engine against the work-queue model")
struct EngineRecoveryTests {
    /// Copies `lengths` from `src` to `dst` (back to back, 4 KiB apart) as one burst.
    func enqueueBurst<E: CopyEngine>(_ e: E, _ src: TestMemory, _ dst: TestMemory, lengths: [Int], fenceAt: Int? = nil) {
        for (i, n) in lengths.enumerated() {
            #expect(e.enqueue(destination: dst[i * 4096], source: UnsafeRawPointer(src[i * 4096]), length: n, fence: i == fenceAt))
        }
    }

    func expectCopied(_ src: TestMemory, _ dst: TestMemory, lengths: [Int]) {
        for (i, n) in lengths.enumerated() {
            #expect(dst.bytes(i * 4096, n) == src.bytes(i * 4096, n), "copy \(i)")
        }
    }

    @Test(arguments: [1, 2, 64])
    func copiesInOneBurst(count: Int) {
        let model = DSAWorkQueueModel()
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let src = TestMemory(pages: count, model: model, seed: 1)
        let dst = TestMemory(pages: count, model: model, seed: 2)
        let lengths = (0..<count).map { 64 + ($0 * 977) % 4000 }
        enqueueBurst(engine, src, dst, lengths: lengths)
        #expect(engine.submit(cookie: 7))
        #expect(engine.poll() == nil)  // the device has not run yet
        #expect(drain(engine, model: model, count: 1) == [7])
        expectCopied(src, dst, lengths: lengths)
        let s = engine.statistics
        #expect(s.completed == UInt64(count))
        #expect(s.totalFallbacks == 0)
        #expect(s.batches == (count > 1 ? 1 : 0))
        #expect(model.counters.accepted == 1)  // a batch is one entry; a lone copy is one descriptor
    }

    @Test func belowThresholdRunsInline() {
        let model = DSAWorkQueueModel()
        var c = stepEngine(model)
        c.minimumOffloadBytes = 256
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        let src = TestMemory(pages: 2, model: model, seed: 3)
        let dst = TestMemory(pages: 2, model: model, seed: 4)
        enqueueBurst(engine, src, dst, lengths: [64, 1500])
        #expect(engine.submit(cookie: 1))
        #expect(drain(engine, model: model, count: 1) == [1])
        expectCopied(src, dst, lengths: [64, 1500])
        #expect(engine.statistics.fallbacks(.belowThreshold) == 1)
        #expect(model.counters.accepted == 1)
    }

    /// 0x03 in both directions: the device stops at the faulting page; the CPU finishes.
    @Test(arguments: [false, true])
    func pageFaultAscending(batched: Bool) {
        let model = DSAWorkQueueModel()
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let src = TestMemory(pages: 8, model: model, seed: 5)
        let dst = TestMemory(pages: 8, model: model, seed: 6)
        // A 3-page copy whose destination's second page faults on write.
        model.injectFault(at: dst[4096], access: .write)
        #expect(engine.enqueue(destination: dst[0], source: src[0], length: 3 * 4096))
        if batched { #expect(engine.enqueue(destination: dst[5 * 4096], source: src[5 * 4096], length: 1000)) }
        #expect(engine.submit(cookie: 3))
        #expect(drain(engine, model: model, count: 1) == [3])
        #expect(dst.bytes(0, 3 * 4096) == src.bytes(0, 3 * 4096))
        if batched { #expect(dst.bytes(5 * 4096, 1000) == src.bytes(5 * 4096, 1000)) }
        #expect(engine.statistics.fallbacks(.pageFault) == 1)
        #expect(engine.statistics.faults == 1)
        #expect(model.counters.faults >= 1)
    }

    @Test(arguments: [false, true])
    func pageFaultDescending(batched: Bool) {
        let model = DSAWorkQueueModel()
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let buffer = TestMemory(pages: 4, model: model, seed: 7)
        let other = TestMemory(pages: 2, model: model, seed: 8)
        // Overlapping, source below destination: the device copies from the top down and
        // reports direction 1; it faults reading the source's first page.
        let length = 2 * 4096 + 500
        var expected = buffer.bytes(0, 4 * 4096)
        expected.replaceSubrange(300..<300 + length, with: buffer.bytes(0, length))
        model.injectFault(at: buffer[0], access: .read)
        #expect(engine.enqueue(destination: buffer[300], source: buffer[0], length: length))
        if batched { #expect(engine.enqueue(destination: other[4096], source: other[0], length: 700)) }
        #expect(engine.submit(cookie: 4))
        #expect(drain(engine, model: model, count: 1) == [4])
        #expect(buffer.bytes(0, 4 * 4096) == expected)
        #expect(engine.statistics.fallbacks(.pageFault) == 1)
    }

    /// 0x05: a member faults, the fenced members after it are never attempted; the CPU
    /// redoes exactly the failed remainder and the not-attempted members.
    @Test func batchFailureAfterFence() {
        let model = DSAWorkQueueModel()
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let src = TestMemory(pages: 4, model: model, seed: 9)
        let dst = TestMemory(pages: 4, model: model, seed: 10)
        dst.zero()
        model.injectFault(at: dst[4096], access: .write)
        enqueueBurst(engine, src, dst, lengths: [1000, 2000, 3000, 4000], fenceAt: 2)
        #expect(engine.submit(cookie: 5))
        #expect(drain(engine, model: model, count: 1) == [5])
        expectCopied(src, dst, lengths: [1000, 2000, 3000, 4000])
        let s = engine.statistics
        #expect(s.fallbacks(.pageFault) == 1)  // member 1's remainder
        #expect(s.fallbacks(.batchFailure) == 2)  // members 2 and 3, not attempted
        #expect(model.counters.members == 2)
    }

    /// 0x06: the list cannot be read past k members; the rest goes again as a batch, or
    /// as a single descriptor when fewer than two are left.
    @Test(arguments: [(4, 1), (3, 2), (5, 0)])
    func descriptorListFault(count: Int, readable: Int) {
        let model = DSAWorkQueueModel()
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let src = TestMemory(pages: count, model: model, seed: 11)
        let dst = TestMemory(pages: count, model: model, seed: 12)
        dst.zero()
        let lengths = Array(repeating: 2048, count: count)
        model.injectListFault(afterMembers: readable)
        enqueueBurst(engine, src, dst, lengths: lengths)
        #expect(engine.submit(cookie: 6))
        model.runUntilIdle()
        #expect(engine.poll() == nil)  // resubmitted, not done
        #expect(drain(engine, model: model, count: 1) == [6])
        expectCopied(src, dst, lengths: lengths)
        let s = engine.statistics
        #expect(s.resubmissions == 1)
        #expect(s.totalFallbacks == 0)
        #expect(s.batches == (count - readable >= 2 ? 2 : 1))
        #expect(model.counters.accepted == 2)
    }

    /// A shared queue that keeps refusing: bounded retries, then the CPU.
    @Test func sharedQueueRetryStorm() {
        var mc = DSAModelConfiguration()
        mc.dedicated = false
        let model = DSAWorkQueueModel(configuration: mc)
        var c = stepEngine(model)
        c.retryLimit = 8
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        let src = TestMemory(pages: 2, model: model, seed: 13)
        let dst = TestMemory(pages: 2, model: model, seed: 14)
        model.injectRetries(1000)
        enqueueBurst(engine, src, dst, lengths: [1500, 1500])
        #expect(engine.submit(cookie: 8))
        #expect(drain(engine, model: nil, count: 1) == [8])
        expectCopied(src, dst, lengths: [1500, 1500])
        #expect(engine.statistics.retries == 9)
        #expect(engine.statistics.fallbacks(.retriesExhausted) == 2)
        #expect(model.counters.accepted == 0)
    }

    /// A shared queue at its threshold refuses; once it drains, submissions go through.
    @Test func sharedQueueThreshold() {
        var mc = DSAModelConfiguration()
        mc.dedicated = false
        mc.size = 8
        mc.threshold = 2
        let model = DSAWorkQueueModel(configuration: mc)
        var c = stepEngine(model)
        c.workQueueSize = 8
        c.retryLimit = 4
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        let src = TestMemory(pages: 1, model: model, seed: 15)
        let dst = TestMemory(pages: 1, model: model, seed: 16)
        for i in 0..<3 {
            #expect(engine.enqueue(destination: dst[i * 1024], source: src[i * 1024], length: 512))
            #expect(engine.submit(cookie: UInt64(i)))
        }
        #expect(model.counters.accepted == 2)
        #expect(engine.statistics.fallbacks(.retriesExhausted) == 1)
        #expect(drain(engine, model: model, count: 3) == [0, 1, 2])
    }

    /// A dedicated queue drops silently past its size; the engine must never get there.
    @Test func dedicatedQueueNeverOverflows() {
        var mc = DSAModelConfiguration()
        mc.size = 4
        let model = DSAWorkQueueModel(configuration: mc)
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: stepEngine(model))
        let src = TestMemory(pages: 10, model: model, seed: 17)
        let dst = TestMemory(pages: 10, model: model, seed: 18)
        for b in 0..<10 {
            #expect(engine.enqueue(destination: dst[b * 4096], source: src[b * 4096], length: 3000))
            #expect(engine.enqueue(destination: dst[b * 4096 + 3000], source: src[b * 4096 + 3000], length: 1000))
            #expect(engine.submit(cookie: UInt64(b)))
            #expect(engine.outstandingDescriptors <= 4)
        }
        #expect(model.counters.overflows == 0)
        #expect(model.counters.occupancyHighWater == 4)
        #expect(engine.statistics.fallbacks(.queueFull) == 12)
        #expect(drain(engine, model: model, count: 10) == Array(0..<10))
        for b in 0..<10 { #expect(dst.bytes(b * 4096, 4000) == src.bytes(b * 4096, 4000)) }
        #expect(model.counters.overflows == 0)
    }

    /// The model really drops on overflow: what the engine's accounting prevents.
    @Test func modelDropsOnDedicatedOverflow() {
        var mc = DSAModelConfiguration()
        mc.size = 1
        let model = DSAWorkQueueModel(configuration: mc)
        let d = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { d.deallocate() }
        DSADescriptor.writeControl(d, opcode: DSAOpcode.noop, flags: 0, completion: 0)
        #expect(model.submit(d) == .accepted)
        #expect(model.submit(d) == .accepted)
        #expect(model.counters.overflows == 1)
        #expect(model.counters.accepted == 1)
    }

    /// A lost completion record: the wait's deadline passes, the engine declares itself
    /// wedged, redoes everything in flight on the CPU and stops submitting.
    @Test func lostRecordHitsDeadline() {
        let model = DSAWorkQueueModel()
        var c = stepEngine(model)
        c.deadlineNanoseconds = 10_000_000
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        let src = TestMemory(pages: 3, model: model, seed: 19)
        let dst = TestMemory(pages: 3, model: model, seed: 20)
        dst.zero()
        model.dropRecords(1)
        enqueueBurst(engine, src, dst, lengths: [1000, 1000])
        #expect(engine.submit(cookie: 1))
        #expect(engine.enqueue(destination: dst[2 * 4096], source: src[2 * 4096], length: 900))
        #expect(engine.submit(cookie: 2))
        // Only the first batch runs, and its record is lost.
        #expect(model.step())
        #expect(model.counters.droppedRecords == 1)
        let start = DispatchlessClock.now
        var first: UInt64?
        while first == nil && DispatchlessClock.now - start < 1_000_000_000 { first = engine.poll() }
        #expect(first == 1)
        #expect(DispatchlessClock.now - start >= 10_000_000 / 2)
        #expect(engine.poll() == 2)
        #expect(engine.isWedged)
        expectCopied(src, dst, lengths: [1000, 1000, 900])
        #expect(engine.statistics.fallbacks(.deadline) == 3)
        // Wedged: later bursts never reach the device.
        let accepted = model.counters.accepted
        #expect(engine.enqueue(destination: dst[0], source: src[4096], length: 800))
        #expect(engine.submit(cookie: 3))
        #expect(engine.poll() == 3)
        #expect(model.counters.accepted == accepted)
        #expect(engine.statistics.fallbacks(.wedged) == 1)
        #expect(dst.bytes(0, 800) == src.bytes(4096, 800))
    }

    /// `write()` on DSA 1.0: BATCH is refused (EINVAL), so the engine sends each copy as
    /// its own descriptor; forcing batches falls back to the CPU.
    @Test func writePathOnVersion1() {
        var mc = DSAModelConfiguration()
        mc.version = 0x100
        mc.submission = .write
        let model = DSAWorkQueueModel(configuration: mc)
        #expect(!model.configuration.reportedOperations.contains(DSAOpcode.batch))
        let src = TestMemory(pages: 4, model: model, seed: 21)
        let dst = TestMemory(pages: 4, model: model, seed: 22)

        var c = stepEngine(model)
        c.useBatch = false
        let unbatched = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        enqueueBurst(unbatched, src, dst, lengths: [1000, 2000, 3000])
        #expect(unbatched.submit(cookie: 1))
        #expect(model.counters.accepted == 3)
        #expect(drain(unbatched, model: model, count: 1) == [1])
        expectCopied(src, dst, lengths: [1000, 2000, 3000])
        #expect(unbatched.statistics.totalFallbacks == 0)

        dst.zero()
        c.useBatch = true
        let batched = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        enqueueBurst(batched, src, dst, lengths: [1000, 2000])
        #expect(batched.submit(cookie: 2))
        #expect(drain(batched, model: model, count: 1) == [2])
        expectCopied(src, dst, lengths: [1000, 2000])
        #expect(batched.statistics.fallbacks(.submissionError) == 2)
        #expect(model.counters.writeRejections == 1)
    }

    @Test func writePathPartialCountAndMisalignedRecord() {
        var mc = DSAModelConfiguration()
        mc.submission = .write
        mc.dedicated = false
        mc.size = 4
        mc.threshold = 2
        let model = DSAWorkQueueModel(configuration: mc)
        let ds = UnsafeMutableRawPointer.allocate(byteCount: 4 * 64, alignment: 64)
        defer { ds.deallocate() }
        for i in 0..<4 { DSADescriptor.writeControl(ds + i * 64, opcode: DSAOpcode.noop, flags: 0, completion: 0) }
        #expect(model.write(ds, count: 3) == 128)  // two taken, the third refused: partial
        #expect(model.write(ds, count: 1) == -Int(EAGAIN))
        DSADescriptor.writeControl(ds, opcode: DSAOpcode.noop, flags: DSAFlag.completionAddressValid, completion: 0x1008)
        #expect(model.write(ds, count: 1) == -Int(EINVAL))
    }
}

#if canImport(Glibc)
import Glibc
#endif
