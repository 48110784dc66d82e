import MemifCopy
import Testing

/// The engine against the model's engine threads: shuffled completion, bursts still
/// retired strictly in order, every byte where it belongs.
@Suite("DSA engine with a threaded model")
struct ThreadedEngineTests {
    @Test(arguments: [(true, DSAModelTiming.instant), (false, DSAModelTiming.instant), (true, DSAModelTiming.sprLike)])
    func burstsRetireInOrder(dedicated: Bool, timing: DSAModelTiming) {
        var mc = DSAModelConfiguration()
        mc.seed = 0xC0FFEE
        mc.dedicated = dedicated
        mc.size = 16
        mc.threshold = 12
        mc.timing = timing
        let model = DSAWorkQueueModel(configuration: mc)
        model.start(threads: 2)
        defer { model.stop() }
        var c = stepEngine(model)
        c.maxCopiesPerBurst = 32
        c.maxBurstsInFlight = 16
        c.ringSlots = 512
        c.deadlineNanoseconds = 20_000_000_000  // generous: the model's threads share 2 busy cores
        let engine = DSACopyEngine(portal: ModelPortal(model: model), configuration: c)
        // Burst b uses area b % 16 of source and destination (16 bursts in flight at most),
        // copy k at page k of its area; the source is stamped with b before the copy.
        let areas = 16, copiesMax = 31
        let src = TestMemory(pages: areas * copiesMax, model: model, seed: 31)
        let dst = TestMemory(pages: areas * copiesMax, model: model, seed: 32)
        func length(_ b: UInt64, _ k: Int) -> Int { 300 + (k * 113 + Int(b) * 29) % 3700 }
        func offset(_ b: UInt64, _ k: Int) -> Int { (Int(b) % areas * copiesMax + k) * 4096 }
        var next: UInt64 = 0
        var retired: [UInt64] = []
        var wrong = 0
        let bursts: UInt64 = 400
        while retired.count < Int(bursts) {
            if next < bursts && engine.copyCapacity >= copiesMax {
                for k in 0..<Int(next % UInt64(copiesMax)) + 1 {
                    src[offset(next, k)].storeBytes(of: next &* 1000 &+ UInt64(k), as: UInt64.self)
                    #expect(engine.enqueue(destination: dst[offset(next, k)], source: src[offset(next, k)], length: length(next, k)))
                }
                #expect(engine.submit(cookie: next))
                next += 1
            }
            while let b = engine.poll() {
                retired.append(b)
                for k in 0..<Int(b % UInt64(copiesMax)) + 1 where dst.bytes(offset(b, k), length(b, k)) != src.bytes(offset(b, k), length(b, k)) {
                    wrong += 1
                }
            }
        }
        #expect(retired == Array(0..<bursts))
        #expect(wrong == 0)
        let st = engine.statistics
        #expect(st.completed == st.submitted)
        #expect(model.counters.overflows == 0)
        #expect(!st.wedged)
    }
}
