import ArgumentParser
import CMemifLinux
import Foundation
import L3Forwarding
import MemifKit
import Synchronization

/// Set by SIGINT/SIGTERM.
private let stopRequested = Atomic<Bool>(false)

@main
struct L3Fwd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "l3fwd",
        abstract: "Routes IPv4 and IPv6 between memif channels by longest-prefix match (samples/l3fwd/README.md).")

    @Option(help: "Configuration file (channels and routes).")
    var config: String

    @Option(help: "Receive mode: polling, interrupt or adaptive.")
    var mode: String = "polling"

    @Option(help: "CPUs to pin workers to, comma-separated (worker i on the i-th).")
    var cpus: String = ""

    @Option(help: "Seconds between statistics lines (JSON); 0 prints only the last.")
    var statsInterval: Double = 1

    @Option(help: "Stop after this many seconds (0: run until SIGINT/SIGTERM).")
    var duration: Double = 0

    func run() throws {
        let text: String
        do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
            throw ValidationError("cannot read \(config): \(error.localizedDescription)")
        }
        let configuration: L3Configuration
        do { configuration = try L3Configuration(parsing: text) } catch { throw ValidationError("\(config): \(error)") }
        let receiveMode: MemifReceiveMode
        switch mode {
        case "polling": receiveMode = .polling
        case "interrupt": receiveMode = .interrupt
        case "adaptive": receiveMode = .adaptive()
        default: throw ValidationError("--mode is polling, interrupt or adaptive")
        }
        let cpuList = try cpus.split(separator: ",").map { s -> Int in
            guard let n = Int(s) else { throw ValidationError("--cpus: '\(s)' is not a CPU number") }
            return n
        }
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        cmemif_line_buffer_stdout()
        let router = try L3Router(configuration, receiveMode: receiveMode, cpus: cpuList)
        print("l3fwd: \(configuration.channels.count) channels, \(configuration.routes.count) routes, \(configuration.queues) queue(s)")
        let start = Date()
        var lastPrint = start
        while !stopRequested.load(ordering: .relaxed) {
            usleep(10_000)
            let now = Date()
            if duration > 0 && now.timeIntervalSince(start) >= duration { break }
            if statsInterval > 0 && now.timeIntervalSince(lastPrint) >= statsInterval {
                lastPrint = now
                print("stats: \(router.statistics.snapshot.json)")
            }
        }
        router.stop()
        print("final: \(router.statistics.snapshot.json)")
    }
}
