import MemifKit
import Synchronization

/// l3fwd's counters, added once per burst by every worker, read by the stats printer.
public final class L3Statistics: Sendable {
    let received = Atomic<Int>(0)
    let expired = Atomic<Int>(0)
    let unroutable = Atomic<Int>(0)
    let malformed = Atomic<Int>(0)
    let notIP = Atomic<Int>(0)
    let neighborAnswers = Atomic<Int>(0)
    /// Which path forwarded packets took (and transmit-side drops).
    public let forwarding = ForwardingCounters()

    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var received, expired, unroutable, malformed, notIP, neighborAnswers: Int
        public var forwarding: ForwardingCounters.Snapshot

        /// One JSON object on one line, for scripts and tests.
        public var json: String {
            "{\"received\":\(received),\"zeroCopy\":\(forwarding.zeroCopy),\"copied\":\(forwarding.copied),"
                + "\"txDropped\":\(forwarding.dropped),\"expired\":\(expired),\"unroutable\":\(unroutable),"
                + "\"malformed\":\(malformed),\"notIP\":\(notIP),\"neighborAnswers\":\(neighborAnswers)}"
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            received: received.load(ordering: .relaxed), expired: expired.load(ordering: .relaxed),
            unroutable: unroutable.load(ordering: .relaxed), malformed: malformed.load(ordering: .relaxed),
            notIP: notIP.load(ordering: .relaxed), neighborAnswers: neighborAnswers.load(ordering: .relaxed),
            forwarding: forwarding.snapshot)
    }
}
