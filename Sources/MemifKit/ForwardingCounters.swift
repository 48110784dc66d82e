import Synchronization

/// Which path forwarded packets took: moved by descriptor, copied once, or dropped for
/// want of transmit buffers. Written by one data-path thread, once per burst; read by any.
public final class ForwardingCounters: Sendable {
    private let zeroCopyPackets = Atomic<Int>(0)
    private let copiedPackets = Atomic<Int>(0)
    private let droppedPackets = Atomic<Int>(0)

    public init() {}

    public struct Snapshot: Sendable, Equatable, CustomStringConvertible {
        public var zeroCopy: Int
        public var copied: Int
        public var dropped: Int

        public init(zeroCopy: Int, copied: Int, dropped: Int) {
            self.zeroCopy = zeroCopy
            self.copied = copied
            self.dropped = dropped
        }

        public var description: String { "zero-copy \(zeroCopy), copied \(copied), dropped \(dropped)" }
    }

    public var snapshot: Snapshot {
        Snapshot(
            zeroCopy: zeroCopyPackets.load(ordering: .relaxed), copied: copiedPackets.load(ordering: .relaxed),
            dropped: droppedPackets.load(ordering: .relaxed))
    }

    @usableFromInline
    func add(zeroCopy: Int, copied: Int, dropped: Int) {
        if zeroCopy != 0 { zeroCopyPackets.add(zeroCopy, ordering: .relaxed) }
        if copied != 0 { copiedPackets.add(copied, ordering: .relaxed) }
        if dropped != 0 { droppedPackets.add(dropped, ordering: .relaxed) }
    }
}
