import MemifCopy

/// Page-aligned test memory, registered with a model when given one, filled with a
/// pattern that differs per byte so a misplaced or missing copy shows.
final class TestMemory {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(pages: Int, model: DSAWorkQueueModel? = nil, seed: UInt8 = 1) {
        count = pages * 4096
        base = .allocate(byteCount: count, alignment: 4096)
        for i in 0..<count { base.storeBytes(of: UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed) &* 7), toByteOffset: i, as: UInt8.self) }
        model?.register(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    deinit { base.deallocate() }

    subscript(_ offset: Int) -> UnsafeMutableRawPointer { base + offset }

    func bytes(_ offset: Int, _ length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base + offset, count: length))
    }

    func zero() { base.initializeMemory(as: UInt8.self, repeating: 0, count: count) }
}

func stepEngine(_ model: DSAWorkQueueModel) -> DSAEngineConfiguration {
    var c = DSAEngineConfiguration()
    c.workQueueSize = model.configuration.size
    c.maxBatchSize = model.configuration.maxBatchSize
    c.cacheControl = model.configuration.cacheControl
    c.minimumOffloadBytes = 0
    c.deadlineNanoseconds = 5_000_000_000  // only the deadline test wants it short
    return c
}

/// Polls until `count` bursts came back (running the model in step mode between polls),
/// returning the cookies in the order seen.
func drain<E: CopyEngine>(_ engine: E, model: DSAWorkQueueModel?, count: Int, limitNanoseconds: UInt64 = 2_000_000_000)
    -> [UInt64]
{
    var cookies: [UInt64] = []
    let start = DispatchlessClock.now
    while cookies.count < count && DispatchlessClock.now - start < limitNanoseconds {
        model?.runUntilIdle()
        if let c = engine.poll() { cookies.append(c) }
    }
    return cookies
}

enum DispatchlessClock {
    static var now: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
