import ArgumentParser
import Memif

/// The options every traffic subcommand shares: which memif, which side, which sizes.
struct InterfaceOptions: ParsableArguments {
    @Option(help: "server (listen) or client (connect).")
    var role: MemifConfiguration.Role = .server

    @Option(help: "Socket: a path, or @name / abstract:name for an abstract socket.")
    var socket: String = "/run/memif.sock"

    @Option(help: "Interface id.")
    var id: UInt32 = 0

    @Option(help: "ethernet or ip.")
    var mode: MemifMode = .ethernet

    @Option(help: "Shared secret (at most 23 bytes).")
    var secret: String = ""

    @Option(help: "Queues per direction (1-255).")
    var queues: Int = 1

    @Option(help: "Ring size as log2 (1-14).")
    var ringSize: UInt8 = 10

    @Option(help: "Buffer size in bytes (client; 1-65535).")
    var bufferSize: Int = 2048

    @Option(help: "Buffers behind each ring slot (client; 1, 2, 4 or 8): above 1, each lap of a ring uses the next set.")
    var buffersPerSlot: Int = 2

    @Option(help: "Seconds to run; 0 runs until interrupted.")
    var duration: Double = 0

    @Option(help: "Seconds between rate lines (0.01-60); short intervals show rate changes within a second.")
    var interval: Double = 1

    @Option(help: "CPU to pin the data-path thread to.")
    var cpu: Int?

    @Option(help: "Most descriptors moved per receive or transmit call (1-4096).")
    var burst: Int = 32

    @Option(help: "Microseconds to spin after a round that moved nothing, before polling again (0-1000; 0: back-to-back).")
    var idlePause: Double = 0

    @Flag(help: "Wait on the queues' eventfds instead of busy polling.")
    var interrupt = false

    func validate() throws {
        guard (1...4096).contains(burst) else { throw ValidationError("--burst must be 1...4096") }
        guard (0.01...60).contains(interval) else { throw ValidationError("--interval must be 0.01...60 seconds") }
        guard (0...1000).contains(idlePause) else { throw ValidationError("--idle-pause must be 0...1000 microseconds") }
        guard [1, 2, 4, 8].contains(buffersPerSlot) else { throw ValidationError("--buffers-per-slot must be 1, 2, 4 or 8") }
    }

    /// `--idle-pause` in nanoseconds, checked again by the type.
    func pause() throws -> MemifIdlePause { try MemifIdlePause(nanoseconds: Int((idlePause * 1000).rounded())) }

    func configuration() throws -> MemifConfiguration {
        var c = MemifConfiguration(
            role: role, socket: try MemifSocketName(socket), id: id, mode: mode, secret: secret,
            applicationName: "memifctl", interfaceName: "memifctl", queues: queues, log2RingSize: ringSize,
            bufferSize: bufferSize)
        c.buffersPerSlot = buffersPerSlot
        try c.validate()
        c.applicationName = "memifctl"
        return c
    }
}

extension MemifConfiguration.Role: ExpressibleByArgument {}

extension MemifMode: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "ethernet", "eth": self = .ethernet
        case "ip": self = .ip
        default: return nil
        }
    }
}
