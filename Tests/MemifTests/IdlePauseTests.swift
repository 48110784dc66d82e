import Testing

@testable import Memif

/// ``MemifIdlePause``: bounded at construction, and a wait lasts at least the pause.
@Suite struct IdlePauseTests {
    @Test(arguments: [-1, MemifIdlePause.maximumNanoseconds + 1])
    func refusesAPauseOutsideItsRange(_ nanoseconds: Int) {
        #expect(throws: MemifError.self) { try MemifIdlePause(nanoseconds: nanoseconds) }
    }

    @Test func acceptsTheBounds() throws {
        #expect(try MemifIdlePause(nanoseconds: 0) == .none)
        #expect(try MemifIdlePause(nanoseconds: MemifIdlePause.maximumNanoseconds).nanoseconds == 1_000_000)
    }

    /// A lower bound only (a busy machine may stretch it): the wait must not end early.
    @Test(arguments: [1_000, 50_000, 300_000])
    func aWaitLastsAtLeastThePause(_ nanoseconds: Int) throws {
        let pause = try MemifIdlePause(nanoseconds: nanoseconds)
        for _ in 0..<5 {
            let start = MonotonicClock.nanoseconds()
            pause.wait()
            #expect(MonotonicClock.nanoseconds() - start >= UInt64(nanoseconds))
        }
    }
}
