import ArgumentParser
import Memif

struct Reflect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send every packet back, MAC addresses swapped.")
    @OptionGroup var options: InterfaceOptions

    func run() throws {
        try TrafficRunner(options: options, action: .reflect).run()
    }
}

struct Sink: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Count packets, reading each one's first cache line (or all).")
    @OptionGroup var options: InterfaceOptions

    enum Read: String, ExpressibleByArgument, CaseIterable {
        case firstLine = "first-line"
        case everyLine = "every-line"
    }

    @Option(help: "What to read of each frame: first-line (as testpmd rxonly reads an mbuf) or every-line.")
    var read: Read = .firstLine

    func run() throws {
        try TrafficRunner(options: options, action: .sink(read == .firstLine ? .firstCacheLine : .everyCacheLine)).run()
    }
}

struct Source: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send frames of one size at full speed.")
    @OptionGroup var options: InterfaceOptions

    @Option(help: "Frame size in bytes (chained when larger than a buffer).")
    var size: Int = 64

    @Option(help: "Stop after this many packets (0: no limit).")
    var count: UInt64 = 0

    @Option(help: ArgumentHelp(
        "Flows to send in turn, one frame each (UDP source ports 9, 10, ...).",
        discussion: "Each flow's frame has its own 2048-byte slot, so 1024 flows of 1500 B are read from a 2 MiB pool (the read pattern of the benchmark's memcpy ceiling); 1 sends one template, which stays in cache."))
    var flows: Int = 1

    func validate() throws {
        guard (42...65535).contains(size) else { throw ValidationError("--size must be 42...65535 bytes") }
        guard (1...65536).contains(flows) else { throw ValidationError("--flows must be 1...65536") }
        guard flows == 1 || flows * TestFrame.slotStride(size: size) <= 256 << 20 else {
            throw ValidationError("--flows \(flows) of \(size) B would take more than 256 MiB of frames")
        }
    }

    func run() throws {
        try TrafficRunner(options: options, action: .source(size: size, count: count, flows: flows)).run()
    }
}
