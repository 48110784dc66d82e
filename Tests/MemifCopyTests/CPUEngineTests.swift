import MemifCopy
import Testing

@Suite("CPU copy engine")
struct CPUEngineTests {
    @Test func burstsCompleteInOrderWithTheirCounts() {
        let engine = CPUCopyEngine(maxCopiesPerBurst: 4, maxBurstsInFlight: 2)
        let src = TestMemory(pages: 1, seed: 51)
        let dst = TestMemory(pages: 1, seed: 52)
        for i in 0..<4 { #expect(engine.enqueue(destination: dst[i * 100], source: src[i * 100], length: 100)) }
        #expect(!engine.enqueue(destination: dst[900], source: src[900], length: 10))  // burst full
        #expect(engine.copyCapacity == 0)
        #expect(engine.submit(cookie: 10))
        #expect(engine.enqueue(destination: dst[1000], source: src[1000], length: 50))
        #expect(engine.submit(cookie: 11))
        #expect(!engine.canStartBurst)  // two in flight, the limit
        #expect(!engine.submit(cookie: 12))
        #expect(engine.statistics.completed == 0)
        #expect(engine.poll() == 10)
        #expect(engine.statistics.completed == 4)
        #expect(engine.poll() == 11)
        #expect(engine.poll() == nil)
        #expect(dst.bytes(0, 400) == src.bytes(0, 400))
        #expect(dst.bytes(1000, 50) == src.bytes(1000, 50))
        #expect(engine.statistics.submitted == 5 && engine.statistics.completed == 5 && engine.statistics.bursts == 2)
    }

    /// The per-queue switch: one `run` call, then code specialised for the engine found.
    @Test func choiceRunsGenericCodeOnce() {
        let (choice, why) = CopyEngineChoice.best(near: nil, discovery: StaticDiscovery([]))
        #expect(why.hasPrefix("CPU"))
        let (ok, stats) = choice.run(HardwareTests.CopyAll(lengths: [64, 1500, 4096]))
        #expect(ok)
        #expect(stats.completed == 3)
    }
}
