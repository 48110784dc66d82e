import CMemifDSA

/// The model's submission side, lock-free like a real portal: a submitter never waits for
/// the model's engine threads (which may be descheduled on a shared core). Admission is an
/// atomic occupancy count (released when an engine finishes a descriptor); accepted
/// descriptors go through a bounded multi-producer ring (per-cell sequence numbers), which
/// never fills because occupancy never exceeds its capacity.
final class ModelSubmissionRing: @unchecked Sendable {
    /// Cell: sequence (8), accepted-at (8), descriptor (64), padding to 128.
    private static let cellBytes = 128
    private let cells: UnsafeMutableRawPointer
    private let capacity: Int
    private let mask: UInt64
    /// Words, each on its own cache line: tail, head, occupancy, accepted, retried,
    /// overflows, high water, injected retries.
    private let words: UnsafeMutableRawPointer

    private enum Word: Int { case tail, head, occupancy, accepted, retried, overflows, highWater, retryBudget }

    init(capacity requested: Int) {
        var c = 1
        while c < requested { c <<= 1 }
        capacity = c
        mask = UInt64(c - 1)
        cells = .allocate(byteCount: c * Self.cellBytes, alignment: 64)
        cells.initializeMemory(as: UInt8.self, repeating: 0, count: c * Self.cellBytes)
        for i in 0..<c { cells.storeBytes(of: UInt64(i), toByteOffset: i * Self.cellBytes, as: UInt64.self) }
        words = .allocate(byteCount: 8 * 64, alignment: 64)
        words.initializeMemory(as: UInt8.self, repeating: 0, count: 8 * 64)
    }

    deinit {
        cells.deallocate()
        words.deallocate()
    }

    private func word(_ w: Word) -> UnsafeMutableRawPointer { words + w.rawValue * 64 }
    private func load(_ w: Word) -> UInt64 { cmemif_dsa_load_acquire_u64(word(w)) }
    private func add(_ w: Word, _ v: Int) { _ = cmemif_dsa_fetch_add_u64(word(w), UInt64(bitPattern: Int64(v))) }

    var occupancy: Int { Int(load(.occupancy)) }
    var accepted: Int { Int(load(.accepted)) }
    var retried: Int { Int(load(.retried)) }
    var overflows: Int { Int(load(.overflows)) }
    var highWater: Int { Int(load(.highWater)) }

    func injectRetries(_ n: Int) { add(.retryBudget, n) }

    enum Admission { case accepted, retry, dropped }

    /// Admits one descriptor under dedicated (drop when full) or shared (refuse at the
    /// threshold) rules and, when admitted, queues a copy of its 64 bytes.
    func submit(_ d: UnsafeRawPointer, dedicated: Bool, limit: Int, acceptedAt: Double) -> Admission {
        if !dedicated {
            var budget = load(.retryBudget)
            while budget > 0 {
                if cmemif_dsa_cas_u64(word(.retryBudget), budget, budget - 1) != 0 {
                    add(.retried, 1)
                    return .retry
                }
                budget = load(.retryBudget)
            }
        }
        let before = Int(cmemif_dsa_fetch_add_u64(word(.occupancy), 1))
        if before >= limit {
            add(.occupancy, -1)
            if dedicated {
                add(.overflows, 1)
                return .dropped
            }
            add(.retried, 1)
            return .retry
        }
        var high = load(.highWater)
        while UInt64(before + 1) > high {
            if cmemif_dsa_cas_u64(word(.highWater), high, UInt64(before + 1)) != 0 { break }
            high = load(.highWater)
        }
        add(.accepted, 1)
        // Claim a cell (Vyukov's bounded queue); admission guarantees one is free.
        var position = load(.tail)
        while true {
            let cell = cells + Int(position & mask) * Self.cellBytes
            let sequence = cmemif_dsa_load_acquire_u64(cell)
            if sequence == position {
                if cmemif_dsa_cas_u64(word(.tail), position, position &+ 1) != 0 {
                    cell.storeBytes(of: acceptedAt, toByteOffset: 8, as: Double.self)
                    (cell + 16).copyMemory(from: d, byteCount: 64)
                    cmemif_dsa_store_release_u64(cell, position &+ 1)
                    return .accepted
                }
            }
            position = load(.tail)
        }
    }

    /// Takes the oldest queued descriptor, if any (one consumer at a time: the model's lock).
    func take(into descriptor: UnsafeMutableRawPointer) -> Double? {
        let position = load(.head)
        let cell = cells + Int(position & mask) * Self.cellBytes
        guard cmemif_dsa_load_acquire_u64(cell) == position &+ 1 else { return nil }
        let acceptedAt = cell.load(fromByteOffset: 8, as: Double.self)
        descriptor.copyMemory(from: cell + 16, byteCount: 64)
        cmemif_dsa_store_release_u64(cell, position &+ UInt64(capacity))
        cmemif_dsa_store_release_u64(word(.head), position &+ 1)
        return acceptedAt
    }

    /// An engine finished a descriptor: its queue entry is free again.
    func release() { add(.occupancy, -1) }
}
