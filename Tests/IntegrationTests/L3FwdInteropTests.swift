import Foundation
import Memif
import MemifPacket
import Testing

/// The l3fwd sample between two dpdk-testpmd servers: testpmd `txonly` sends UDP from
/// 198.18.0.1 to 198.18.0.2 into l3fwd's west channel; l3fwd routes 198.18.0.0/24 out of
/// its east channel, by descriptor, to testpmd `rxonly` (or to a Swift server that checks
/// every header). Both channels are clients on one buffer pool.
@Suite(
    .serialized,
    .enabled(if: TestPMD.isAvailable, "dpdk-testpmd is not installed (set MEMIFKIT_REQUIRE_DPDK=1 to fail instead)"))
struct L3FwdInteropTests {
    static let eastMAC = "02:00:00:00:00:02"
    static let nextHop = "02:00:00:00:00:10"

    /// Writes the configuration and starts l3fwd on it.
    static func startL3fwd(west: String, east: String) throws -> ChildProcess {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(TestPaths.uniqueName("l3fwd") + ".conf")
        try """
        channel west socket=\(west) mac=02:00:00:00:00:01 ipv4=198.18.0.254
        channel east socket=\(east) mac=\(eastMAC)
        route 198.18.0.0/24 east \(nextHop)
        """.write(to: config, atomically: true, encoding: .utf8)
        return try ChildProcess(TestPaths.l3fwd, ["--config", config.path, "--stats-interval", "0.1"])
    }

    /// The counters of l3fwd's last statistics line.
    static func counters(_ output: String) -> [String: Int] {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("stats: ") || $0.hasPrefix("final: ") }),
            let json = try? JSONSerialization.jsonObject(with: Data(line.drop { $0 != "{" }.utf8)) as? [String: Int]
        else { return [:] }
        return json
    }

    @Test func everyPacketFromTxonlyIsAccountedForAtRxonly() throws {
        let west = TestSocket.unique(.abstract)
        let east = TestSocket.unique(.abstract)
        let source = try TestPMD(role: .server, socket: west, forwardMode: "txonly", interactive: true)
        // `start` makes testpmd drain (and not count) what its rx queue holds first; the sink's
        // `start` can reach it after l3fwd has begun filling the east ring, so that drain would
        // swallow up to two rings' worth of counted packets.
        let sink = try TestPMD(role: .server, socket: east, forwardMode: "rxonly", interactive: true, extra: ["--no-flush-rx"])
        #expect(source.waitUntilListening() && sink.waitUntilListening(), "\(source.outputTail)\n\(sink.outputTail)")
        let l3fwd = try Self.startL3fwd(west: west.description, east: east.description)
        defer { l3fwd.stop() }
        #expect(Resources.eventually(timeout: 10) { l3fwd.output.components(separatedBy: "] connected").count == 3 }, "\(l3fwd.output)")
        sink.command("start")
        source.command("start")
        usleep(2_000_000)
        let sent = try #require(source.stopForwarding(), "\(source.outputTail)")
        // l3fwd drains what testpmd put on the ring, then rxonly drains l3fwd's output.
        #expect(Resources.eventually(timeout: 10) { Self.counters(l3fwd.output)["received"] == Int(sent.tx) })
        usleep(1_000_000)  // rxonly empties the ring l3fwd filled (at most one ring's worth)
        let received = try #require(sink.stopForwarding(settle: 0.3), "\(sink.outputTail)")
        l3fwd.stop(signal: SIGTERM)
        let c = Self.counters(l3fwd.output)
        #expect(sent.tx > 10_000, "txonly sent \(sent.tx)")
        #expect(c["received"] == Int(sent.tx), "l3fwd received what txonly sent: \(c)")
        #expect(c["zeroCopy"] == Int(received.rx), "rxonly received what l3fwd forwarded: \(c), rxonly \(received.rx)\n\(sink.outputTail)\n--- l3fwd:\n\(l3fwd.output.split(separator: "\n").suffix(15).joined(separator: "\n"))")
        #expect(c["copied"] == 0, "one pool: no copies")
        let dropped = ["txDropped", "expired", "unroutable", "malformed", "notIP"].reduce(0) { $0 + (c[$1] ?? 0) }
        #expect(c["received"] == (c["zeroCopy"] ?? 0) + dropped, "every packet forwarded or counted as dropped: \(c)")
        #expect(c["expired"] == 0 && c["unroutable"] == 0 && c["malformed"] == 0)
    }

    @Test func forwardedPacketsCarryADecrementedTTLAndValidChecksums() throws {
        let west = TestSocket.unique(.abstract)
        let source = try TestPMD(role: .server, socket: west, forwardMode: "txonly", interactive: true)
        #expect(source.waitUntilListening(), "\(source.outputTail)")
        let eastName = "@" + TestPaths.uniqueName("l3fwd-east")
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        var c = MemifConfiguration(role: .server, socket: try MemifSocketName(eastName))
        c.interfaceName = "checker"
        let checker = try MemifInterface(c, eventLoop: loop)
        try checker.start()
        defer { checker.stop() }
        let l3fwd = try Self.startL3fwd(west: west.description, east: eastName)
        defer { l3fwd.stop() }
        let connection = try #require(checker.waitForConnection(timeout: .seconds(10)), "\(l3fwd.output)")
        #expect(Resources.eventually(timeout: 10) { l3fwd.output.components(separatedBy: "] connected").count == 3 })
        source.command("start")
        defer { _ = source.stopForwarding() }
        let rx = connection.receiveQueue(0)
        let burst = MemifBurst(capacity: 64)
        var checked = 0
        let deadline = Date().addingTimeInterval(10)
        var nudge = Date().addingTimeInterval(3)
        while checked < 500 && Date() < deadline {
            if checked == 0 && Date() > nudge {
                // Seen once in many runs under load: nothing arrives. A second `start` is harmless
                // ("already started") and tells a lost command from a stalled path (output below).
                source.command("start")
                nudge = deadline
            }
            let n = rx.receive(into: burst.buffers)
            for i in 0..<n where checked < 500 {
                let b = burst[i]
                #expect(!b.hasNext)
                #expect(MACAddress(loadingFrom: b.data) == MACAddress(Self.nextHop) && MACAddress(loadingFrom: b.data, at: 6) == MACAddress(Self.eastMAC))
                guard case .success(let ip) = IPv4Header.parse(b.data + 14, length: Int(b.length) - 14) else {
                    Issue.record("not IPv4")
                    continue
                }
                #expect(ip.timeToLive == 63, "testpmd sends TTL 64")
                #expect(ip.destination == IPv4Address(198, 18, 0, 2))
                #expect(InternetChecksum.checksum(b.data + 14, count: ip.headerLength) == 0, "IPv4 header checksum")
                if case .success(let udp) = UDPHeader.parse(b.data + 14 + ip.headerLength, length: Int(ip.totalLength) - ip.headerLength) {
                    #expect(udp.isChecksumValid(ip.pseudoHeader), "UDP checksum (0 = none is valid too)")
                } else {
                    Issue.record("no UDP header")
                }
                checked += 1
            }
            rx.release()
            if n == 0 { usleep(100) }
        }
        #expect(checked == 500, "\(source.outputTail)\n--- l3fwd:\n\(l3fwd.output)")
    }
}
