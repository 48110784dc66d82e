/// Copies inline on the calling core, behind the same burst interface as the DSA engine:
/// a burst is complete the moment it is submitted. The baseline, and the engine of choice
/// wherever no work queue is usable.
public struct CPUCopyEngine: CopyEngine, @unchecked Sendable {
    @usableFromInline let state: UnsafeMutablePointer<State>
    @usableFromInline let owner: Storage

    @usableFromInline
    struct State {
        @usableFromInline var cookies: UnsafeMutablePointer<UInt64>
        /// Copies of each burst in flight, for the completed count.
        @usableFromInline var counts: UnsafeMutablePointer<Int>
        @usableFromInline var mask: Int
        @usableFromInline var head = 0
        @usableFromInline var tail = 0
        @usableFromInline var building = 0
        @usableFromInline let maxCopies: Int
        @usableFromInline var counters = EngineCounters()

        init(cookies: UnsafeMutablePointer<UInt64>, counts: UnsafeMutablePointer<Int>, mask: Int, maxCopies: Int) {
            self.cookies = cookies
            self.counts = counts
            self.mask = mask
            self.maxCopies = maxCopies
        }
    }

    @usableFromInline
    final class Storage {
        let state: UnsafeMutablePointer<State>
        init(_ s: UnsafeMutablePointer<State>) { state = s }
        deinit {
            state.pointee.cookies.deallocate()
            state.pointee.counts.deallocate()
            state.deinitialize(count: 1)
            state.deallocate()
        }
    }

    /// `maxBurstsInFlight` is rounded up to a power of two.
    public init(maxCopiesPerBurst: Int = 256, maxBurstsInFlight: Int = 64) {
        precondition(maxCopiesPerBurst > 0 && maxBurstsInFlight > 0)
        var slots = 1
        while slots < maxBurstsInFlight { slots <<= 1 }
        let cookies = UnsafeMutablePointer<UInt64>.allocate(capacity: slots)
        cookies.initialize(repeating: 0, count: slots)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        counts.initialize(repeating: 0, count: slots)
        state = .allocate(capacity: 1)
        state.initialize(to: State(cookies: cookies, counts: counts, mask: slots - 1, maxCopies: maxCopiesPerBurst))
        owner = Storage(state)
    }

    @inlinable public var maxCopiesPerBurst: Int { state.pointee.maxCopies }
    @inlinable public var canStartBurst: Bool { state.pointee.tail &- state.pointee.head <= state.pointee.mask }
    @inlinable public var copyCapacity: Int { canStartBurst ? state.pointee.maxCopies &- state.pointee.building : 0 }
    @inlinable public var burstsInFlight: Int { state.pointee.tail &- state.pointee.head }

    @inlinable @inline(__always)
    public func enqueue(destination: UnsafeMutableRawPointer, source: UnsafeRawPointer, length: Int, fence: Bool) -> Bool {
        let s = state
        guard length >= 0, s.pointee.building < s.pointee.maxCopies, canStartBurst else { return false }
        destination.copyMemory(from: source, byteCount: length)
        s.pointee.building &+= 1
        return true
    }

    @inlinable @inline(__always)
    public func submit(cookie: UInt64) -> Bool {
        let s = state
        guard canStartBurst else { return false }
        s.pointee.cookies[s.pointee.tail & s.pointee.mask] = cookie
        s.pointee.counts[s.pointee.tail & s.pointee.mask] = s.pointee.building
        s.pointee.tail &+= 1
        s.pointee.counters.submitted &+= UInt64(s.pointee.building)
        s.pointee.counters.bursts &+= 1
        s.pointee.building = 0
        return true
    }

    @inlinable @inline(__always)
    public func poll() -> UInt64? {
        let s = state
        guard s.pointee.head != s.pointee.tail else { return nil }
        let cookie = s.pointee.cookies[s.pointee.head & s.pointee.mask]
        s.pointee.counters.completed &+= UInt64(s.pointee.counts[s.pointee.head & s.pointee.mask])
        s.pointee.head &+= 1
        return cookie
    }

    public var statistics: CopyEngineStatistics { state.pointee.counters.snapshot }
}
