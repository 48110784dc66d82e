import Foundation
import Memif
import MemifPacket
import MemifSteering
import Testing

@testable import MemifNode

/// Kernel-mode steering end to end in real namespaces (root only): nftables marks, `ip rule`,
/// a tun, the pump and a real memif client; traffic from a source namespace through a node
/// namespace to a pod namespace, as a CNI ptp pod is wired.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct KernelSteeringTests {
    static let steered = PortRuleSet([PortRange(.udp, 5000), PortRange(.tcp, 5000), PortRange(.udp, 7000, 7010)])

    func makePath(_ topology: SteeringTopology, id: UInt16, mode: MemifSpec.Mode, fallback: MemifSpec.Fallback) throws
        -> KernelSteeringPath
    {
        try KernelSteeringPath(
            .init(
                id: id, podIPv4: [SteeringTopology.podIPv4], podIPv6: [SteeringTopology.podIPv6], ports: Self.steered,
                mode: mode, fallback: fallback, namespacePath: topology.nodePath))
    }

    @Test func steeredPortsReachTheMemifEverythingElseThePodKernelAndDropWhileDetached() throws {
        let topology = try SteeringTopology()
        try topology.startPodServer(ports: [5000, 6000])
        let path = try makePath(topology, id: 101, mode: .ethernet, fallback: .drop)
        try path.install()
        let pod = try PodMemifClient(mode: .ethernet)
        try path.attach(try pod.connect())

        // UDP to a steered port: through the memif, answered by the pod's memif client.
        #expect(try topology.udp("10.91.2.2", port: 5000, count: 3) == ["probe-0", "probe-1", "probe-2"])
        #expect(try topology.udp("10.91.2.2", port: 7005) == ["probe-0"])
        #expect(try topology.udp("fd91:2::2", port: 5000) == ["probe-0"])
        // Another port and ICMP: the pod's kernel.
        #expect(try topology.udp("10.91.2.2", port: 6000) == ["kernel:probe-0"])
        #expect(try topology.udp("fd91:2::2", port: 6000) == ["kernel:probe-0"])
        #expect(try topology.traffic(["icmp", "10.91.2.2", "2"]) == "reply")
        // TCP to a steered port: the SYN arrives on the memif (nobody answers it there).
        #expect(try topology.traffic(["tcp", "10.91.2.2", "5000", "0.5"]) == "timeout")
        let seen = pod.packetsSeen
        #expect(seen.contains { $0.ipProtocol == 6 && $0.destinationPort == 5000 && $0.tcpFlags & 0x02 != 0 })
        #expect(!seen.contains { $0.destinationPort == 6000 })
        #expect(seen.allSatisfy { $0.destinationMAC == MACAddress(0x02, 0, 0, 0, 0, 1) && $0.sourceMAC == KernelSteeringPath.nodeMAC })

        // The pod asks for its gateway's MAC: the node side answers for it.
        pod.send(arpRequest(for: IPv4Address(10, 91, 0, 1)))
        let deadline = Date().addingTimeInterval(3)
        let isARP = { (f: [UInt8]) in f.count >= 14 && f[12] == 0x08 && f[13] == 0x06 }
        while !pod.otherFrames.contains(where: isARP) && Date() < deadline { usleep(1000) }
        let answer = try #require(pod.otherFrames.first(where: isARP))
        #expect(pod.otherFrames.count == 1, "only the ARP answer: no multicast noise from the tun")
        // The same for IPv6: a neighbor solicitation for the node side gets an advertisement.
        pod.send(try neighborSolicitation(for: IPv6Address("fd91:2::1")!))
        let isNA = { (f: [UInt8]) in f.count >= 78 && f[12] == 0x86 && f[13] == 0xDD && f[54] == 136 }
        while !pod.otherFrames.contains(where: isNA) && Date() < deadline.addingTimeInterval(3) { usleep(1000) }
        let advertisement = try #require(pod.otherFrames.first(where: isNA))
        #expect(advertisement.withUnsafeBytes { MACAddress(loadingFrom: $0.baseAddress!, at: 6) } == KernelSteeringPath.nodeMAC)
        #expect(advertisement.withUnsafeBytes { IPv6Address(loadingFrom: $0.baseAddress!, at: 62) } == IPv6Address("fd91:2::1")!)
        // A question for the pod's own address (duplicate address detection) is not answered.
        pod.send(try neighborSolicitation(for: SteeringTopology.podIPv6))
        usleep(200_000)
        #expect(pod.otherFrames.count == 2)
        #expect(answer.count >= 42)
        #expect(Array(answer[12..<14]) == [0x08, 0x06] && Array(answer[20..<22]) == [0, 2])
        #expect(answer.withUnsafeBytes { MACAddress(loadingFrom: $0.baseAddress!, at: 22) } == KernelSteeringPath.nodeMAC)

        // Hostile frames from the pod: counted and dropped, and the path keeps working.
        let eth = [UInt8](repeating: 0x02, count: 12)
        for junk: [UInt8] in [
            [1, 2, 3], eth + [0x08, 0x00], eth + [0x08, 0x00, 0x60, 0, 0, 0], eth + [0x08, 0x06] + [UInt8](repeating: 0, count: 6),
            eth + [0x88, 0xCC] + [UInt8](repeating: 0xFF, count: 40),
        ] {
            pod.send(junk)
        }
        usleep(200_000)
        #expect(path.statistics.dropsNotIP == 6)
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["probe-0"])

        let attached = path.statistics
        #expect(attached.steeringHits >= 7)
        #expect(attached.toMemifPackets == attached.steeringHits, "\(attached)")
        #expect(attached.fromMemifPackets >= 5)
        #expect(attached.neighborAnswers == 2)
        #expect(attached.dropsNotIP == 6, "the unanswered solicitation and the junk")

        // Client gone, fallback drop: steered traffic is dropped and counted, the rest flows.
        pod.disconnect()
        try path.detach()
        #expect(try topology.udp("10.91.2.2", port: 5000, count: 2, timeout: 1) == [])
        #expect(try topology.udp("10.91.2.2", port: 6000) == ["kernel:probe-0"])
        #expect(path.statistics.dropsDetached >= 2)

        try path.remove()
        #expect(try topology.leftovers() == [])
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["kernel:probe-0"])
    }

    @Test func kernelFallbackDeliversToThePodWhileTheClientIsAway() throws {
        let topology = try SteeringTopology()
        try topology.startPodServer(ports: [5000])
        let path = try makePath(topology, id: 102, mode: .ip, fallback: .kernel)
        try path.install()
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["kernel:probe-0"])

        let pod = try PodMemifClient(mode: .ip)
        try path.attach(try pod.connect())
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["probe-0"])
        #expect(try topology.udp("fd91:2::2", port: 5000) == ["probe-0"])

        pod.disconnect()
        try path.detach()
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["kernel:probe-0"])
        #expect(try topology.udp("fd91:2::2", port: 5000) == ["kernel:probe-0"])

        try path.attach(try pod.connect())
        #expect(try topology.udp("10.91.2.2", port: 5000) == ["probe-0"])
        #expect(path.statistics.dropsDetached == 0)
        try path.remove()
        #expect(try topology.leftovers() == [])
    }

    /// 1024-byte pod buffers (Calico's default `rxqsz`, used as the buffer size): frames above
    /// that are chained into the memif by the pump and gathered out of it with `writev`.
    @Test func largePacketsAreChainedOverSmallPodBuffers() throws {
        let topology = try SteeringTopology()
        let path = try makePath(topology, id: 106, mode: .ethernet, fallback: .drop)
        try path.install()
        let pod = try PodMemifClient(mode: .ethernet, bufferSize: 1024)
        try path.attach(try pod.connect())
        for size in [100, 1400, 1472] {
            let text = try topology.traffic(["flood", "10.91.2.2", "5000", "50", String(size), "8", "10"])
            #expect(text.contains("\"received\": 50"), "\(size)-byte payloads: \(text)")
        }
        let text = try topology.traffic(["flood", "fd91:2::2", "7001", "20", "1400", "4", "10"])
        #expect(text.contains("\"received\": 20"), "IPv6: \(text)")
        let stats = path.statistics
        #expect(stats.toMemifPackets == 170 && stats.fromMemifPackets == 170 && stats.drops == 0, "\(stats)")
        try path.remove()
    }

    @Test func removeStaleCleansUpWhatACrashedRunLeft() throws {
        let topology = try SteeringTopology()
        let crashed = try makePath(topology, id: 103, mode: .ethernet, fallback: .drop)
        let live = try makePath(topology, id: 104, mode: .ethernet, fallback: .drop)
        try crashed.install()
        try live.install()
        crashed.simulateCrash()
        let before = try topology.leftovers().joined(separator: "\n")
        #expect(before.contains("pre-103") && before.contains("0x4d4b0067"))

        let removed = try KernelSteeringPath.removeStale(keeping: [104], namespacePath: topology.nodePath)
        #expect(removed == [103])
        let after = try topology.leftovers().joined(separator: "\n")
        #expect(!after.contains("103") && !after.contains("0x4d4b0067"))
        #expect(after.contains("pre-104") && after.contains("mksteer104"))

        // A restarted memifd re-installs the live attachment over what is there.
        try live.remove()
        let again = try makePath(topology, id: 104, mode: .ethernet, fallback: .drop)
        try again.install()
        #expect(throws: KernelSteeringError.self) { try again.install() }
        try again.remove()
        #expect(try topology.leftovers() == [])
    }

    /// Steered UDP request/reply rate: source namespace -> node kernel -> tun -> pump -> memif
    /// -> pod client (swaps) -> memif -> pump -> tun -> node kernel -> source. One Python sender
    /// with 256 datagrams in flight; the numbers are printed for the record.
    @Test func steeredUDPThroughput() throws {
        let topology = try SteeringTopology()
        let path = try makePath(topology, id: 105, mode: .ethernet, fallback: .drop)
        try path.install()
        let pod = try PodMemifClient(mode: .ethernet)
        try path.attach(try pod.connect())
        let count = 200_000, size = 1000
        let text = try topology.traffic(["flood", "10.91.2.2", "5000", String(count), String(size), "256", "20"])
        struct Flood: Decodable { var sent: Int; var received: Int; var seconds: Double }
        let flood = try JSONDecoder().decode(Flood.self, from: Data(text.utf8))
        let rate = Double(flood.received) / flood.seconds
        let ipBytes = size + 28
        print(
            "steered UDP request/reply, \(size)-byte payloads: \(flood.received)/\(flood.sent) replies in "
                + String(format: "%.2f s: %.0f replies/s, %.1f Mbit/s of IP each way", flood.seconds, rate, rate * Double(ipBytes * 8) / 1e6))
        print("pump: \(path.statistics)")
        #expect(flood.received >= flood.sent * 9 / 10)
        #expect(path.statistics.steeringHits == UInt64(flood.sent), "only steered packets enter the tun")
        let small = try JSONDecoder().decode(
            Flood.self, from: Data(try topology.traffic(["flood", "10.91.2.2", "5000", String(count), "18", "256", "20"]).utf8))
        let smallRate = Double(small.received) / small.seconds
        print(
            "steered UDP request/reply, 18-byte payloads (64-byte frames): \(small.received)/\(small.sent) replies in "
                + String(format: "%.2f s: %.0f replies/s", small.seconds, smallRate))
        try path.remove()
    }

    func neighborSolicitation(for target: IPv6Address) throws -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 14 + 40 + 24 + 8)
        let source = SteeringTopology.podIPv6
        let group = target.solicitedNodeMulticast
        let podMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
        try f.withUnsafeMutableBytes { b in
            let p = b.baseAddress!
            _ = try EthernetHeader.build(
                at: p, capacity: b.count, destination: MACAddress(ipv6Multicast: group), source: podMAC, etherType: EtherType.ipv6
            ).get()
            _ = try IPv6Header.build(
                at: p + 14, capacity: b.count - 14, source: source, destination: group, nextHeader: IPProtocol.icmpv6,
                payloadLength: 32, hopLimit: 255
            ).get()
            _ = try ICMPv6Header.buildNeighborMessage(
                at: p + 54, capacity: b.count - 54, type: ICMPv6Header.neighborSolicitation, target: target, linkLayerAddress: podMAC,
                pseudoHeader: .ipv6(source: source, destination: group)
            ).get()
        }
        return f
    }

    func arpRequest(for target: IPv4Address) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 42)
        for i in 0..<6 { f[i] = 0xFF }
        f[6...11] = [0x02, 0, 0, 0, 0, 0x01]
        f[12] = 0x08; f[13] = 0x06
        f[14...21] = [0, 1, 0x08, 0, 6, 4, 0, 1]
        f[22...27] = [0x02, 0, 0, 0, 0, 0x01]
        f[28...31] = [10, 91, 2, 2]
        withUnsafeBytes(of: target.rawValue.bigEndian) { f[38...41] = ArraySlice($0) }
        return f
    }
}
