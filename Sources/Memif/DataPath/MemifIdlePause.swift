import CMemifLinux

/// How long a polling loop waits after a round that moved nothing before it polls again.
///
/// A receiver that polls back-to-back reads each frame the moment the sender publishes it,
/// while the frame's lines still sit in the sender's private caches; taking them from there
/// slows a sender that is the bottleneck. A pause of a few microseconds lets a batch build
/// up and age first (docs/performance.md, "Idle pause", measures it). The cost: the first
/// packet after an idle stretch may wait up to the pause. Zero, the default, polls
/// back-to-back, as DPDK does.
///
/// The wait spins (x86 `pause`) on the monotonic clock: it never sleeps, yields or makes a
/// system call (the clock is read through the vDSO), and it runs only when a round was empty.
public struct MemifIdlePause: Sendable, Equatable {
    /// The longest pause: beyond a millisecond, interrupt or adaptive mode suits better.
    public static let maximumNanoseconds = 1_000_000

    /// Back-to-back polling.
    public static let none = MemifIdlePause(checked: 0)

    public let nanoseconds: Int

    /// Refuses a pause below zero or above ``maximumNanoseconds``.
    public init(nanoseconds: Int) throws(MemifError) {
        guard (0...Self.maximumNanoseconds).contains(nanoseconds) else {
            throw MemifError(
                .invalidConfiguration, "idle pause \(nanoseconds) ns is outside 0...\(Self.maximumNanoseconds) ns")
        }
        self.init(checked: nanoseconds)
    }

    private init(checked nanoseconds: Int) { self.nanoseconds = nanoseconds }

    /// Spins for the pause; with none, one `pause` instruction (what an empty poll does).
    @inlinable
    public func wait() {
        guard nanoseconds > 0 else {
            cmemif_cpu_relax()
            return
        }
        let end = MonotonicClock.nanoseconds() &+ UInt64(nanoseconds)
        repeat { cmemif_cpu_relax() } while MonotonicClock.nanoseconds() < end
    }
}
