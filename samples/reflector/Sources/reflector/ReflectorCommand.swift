import ArgumentParser
import CMemifLinux
import Foundation
import MemifKit
import Reflector
import Synchronization

/// Set by SIGINT/SIGTERM.
private let stopRequested = Atomic<Bool>(false)

@main
struct ReflectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflector",
        abstract: "Echoes every packet on a memif back to its sender, answering ARP/ND for --ip (samples/reflector/README.md).")

    @Option(help: "memif socket (default: MEMIF_SOCKET, else @vpp/memif-eth0).")
    var socket: String?

    @Option(help: "Addresses to answer ARP/ND for (the pod IP), comma-separated.")
    var ip: String = ""

    @Option(help: "Framing: ethernet or ip.")
    var framing: String = "ethernet"

    @Option(help: "Seconds between statistics lines; 0: only the last.")
    var statsInterval: Double = 1

    func run() throws {
        guard let framing = MemifFraming(rawValue: framing) else { throw ValidationError("--framing is ethernet or ip") }
        var v4: [IPv4Address] = []
        var v6: [IPv6Address] = []
        for a in ip.split(separator: ",").map(String.init) {
            if let x = IPv4Address(a) { v4.append(x) } else if let x = IPv6Address(a) { v6.append(x) } else {
                throw ValidationError("--ip: '\(a)' is not an address")
            }
        }
        let (ipv4, ipv6) = (v4, v6)
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        cmemif_line_buffer_stdout()
        var options = MemifChannelOptions()
        options.socket = socket
        options.framing = framing
        options.pool = try MemifBufferPool(channels: 1)
        options.receiveMode = .adaptive()
        options.name = "reflector"
        let channel = try MemifChannel(options)
        try channel.start()
        print("reflector: \(channel.socket), answering for \((v4.map(\.description) + v6.map(\.description)).joined(separator: ", "))")
        let counters = Mutex<ForwardingCounters?>(nil)
        let worker = MemifWorker.start(
            name: "reflector", receiveMode: options.receiveMode, wakeOn: [channel.queue(0)],
            makeState: {
                let r = Reflector(channel.queue(0), addresses: NeighborResponder(ipv4: ipv4, ipv6: ipv6))
                counters.withLock { $0 = r.counters }
                return r
            },
            body: { $0.poll() })
        var last = Date()
        while !stopRequested.load(ordering: .relaxed) {
            usleep(20_000)
            if statsInterval > 0 && Date().timeIntervalSince(last) >= statsInterval, let c = counters.withLock({ $0 }) {
                last = Date()
                print("stats: connected=\(channel.isConnected) \(c.snapshot)")
            }
        }
        worker.stop()
        channel.stop()
        if let c = counters.withLock({ $0 }) { print("final: \(c.snapshot)") }
    }
}
