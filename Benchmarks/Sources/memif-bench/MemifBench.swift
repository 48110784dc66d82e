import ArgumentParser
import CMallocCounter
import Memif

/// Per-packet measurements of the data path that need no peer: a server and a client in
/// this process over a real socket and memfds, moving bursts of `--size` frames.
@main
struct MemifBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memif-bench",
        abstract: "Measure the memif data path per packet: heap allocations, instructions (under callgrind).",
        subcommands: [Allocations.self, Instructions.self, Classify.self, Copy.self]
    )
}

struct Allocations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count heap allocations while moving packets after a warm-up; fail unless zero.")

    @Option(help: "Packets to move after the warm-up.")
    var packets = 1_000_000

    @Option(help: "Frame size in bytes (above 2048 the frames are chained).")
    var size = 64

    @Option(help: "core: the Memif queues (memifctl's path); channel, pooled: MemifKit's channel queues (a CNF's path), copying or on one buffer pool.")
    var path = DataPath.core

    func run() throws {
        // The counter must see this process's allocations, or a zero below proves nothing.
        let probeStart = cmalloc_allocations()
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        probe.deallocate()
        guard cmalloc_allocations() > probeStart else {
            throw MemifError(.invalidConfiguration, "the allocation counter does not see Swift's allocations")
        }
        let loopback = try path.loopback(frameSize: size)
        defer { loopback.close() }
        _ = loopback.move(packets: 100_000)  // warm-up: first-touch of every slot and code path
        let before = cmalloc_allocations()
        let moved = loopback.move(packets: packets)
        let allocations = cmalloc_allocations() - before
        print("moved \(moved) packets of \(size) B (\(path.rawValue) path, tx and rx\(loopback.detail)): \(allocations) heap allocations")
        if allocations != 0 { throw ExitCode.failure }
    }
}

struct Instructions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move packets for callgrind: transmit work runs in measuredTransmit, receive work in measuredReceive;"
            + " with --path channel or pooled, in measuredChannelTransmit, measuredChannelForward and measuredChannelSendBack.",
        discussion: """
            valgrind --tool=callgrind --toggle-collect='*measuredTransmit*' memif-bench instructions --packets N
            counts only the transmit path; run it with N and 2N packets and divide the difference by N.
            Benchmarks/hot_path_calls.py reads the same runs for calls into the Swift runtime.
            """)

    @Option(help: "Packets to move.")
    var packets = 100_000

    @Option(help: "Frame size in bytes.")
    var size = 64

    @Option(help: "core: the Memif queues; channel, pooled: MemifKit's channel queues, copying or on one buffer pool.")
    var path = DataPath.core

    func run() throws {
        let loopback = try path.loopback(frameSize: size)
        defer { loopback.close() }
        print("moved \(loopback.move(packets: packets)) packets")
    }
}

/// Which data path a measurement drives.
enum DataPath: String, ExpressibleByArgument, CaseIterable {
    /// The Memif queues: what memifctl runs.
    case core
    /// MemifKit channel queues on separate memory: forwarding copies.
    case channel
    /// MemifKit channel queues on one buffer pool: forwarding moves descriptors.
    case pooled

    func loopback(frameSize: Int) throws -> any PacketLoopback {
        switch self {
        case .core: try Loopback(frameSize: frameSize)
        case .channel: try ChannelLoopback(frameSize: frameSize, pooled: false)
        case .pooled: try ChannelLoopback(frameSize: frameSize, pooled: true)
        }
    }
}

/// Moves packets through one data path in this process.
protocol PacketLoopback: AnyObject {
    func move(packets: Int) -> Int
    func close()
    /// What else the run did, for its report line ("" or ", ...").
    var detail: String { get }
}

extension Loopback: PacketLoopback {
    var detail: String { "" }
}
extension ChannelLoopback: PacketLoopback {}
