import Foundation
import MemifKit
import Reflector
import Testing

/// The guide's example CNF (samples/reflector), against a Swift memif server in this process.
@Suite(.serialized) struct ReflectorTests {
    static let peer = MACAddress("52:54:00:00:00:07")!

    @Test func echoesWithMACsSwappedAndAnswersARPWithoutCopying() throws {
        let socket = "@reflector-\(getpid())-\(UUID().uuidString.prefix(8))"
        var s = MemifChannelOptions()
        s.socket = socket
        s.role = .server
        let server = try MemifChannel(s)
        try server.start()
        var c = MemifChannelOptions()
        c.socket = socket
        c.pool = try MemifBufferPool(channels: 1)
        let client = try MemifChannel(c)
        try client.start()
        #expect(client.waitUntilConnected(timeout: .seconds(5)) && server.waitUntilConnected(timeout: .seconds(5)))
        var reflector = Reflector(client.queue(0), addresses: NeighborResponder(ipv4: [IPv4Address(10, 0, 0, 2)]))

        let (sender, pod) = (IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2))
        var frames: [[UInt8]] = (0..<20).map { i in
            var f = [UInt8](repeating: UInt8(i), count: 42 + i * 50)
            f.withUnsafeMutableBytes { b in
                let p = b.baseAddress!
                _ = EthernetHeader.build(at: p, capacity: b.count, destination: CalicoConvention.podMAC, source: Self.peer, etherType: EtherType.ipv4)
                _ = IPv4Header.build(at: p + 14, capacity: b.count - 14, source: sender, destination: pod, protocolNumber: IPProtocol.udp, payloadLength: b.count - 34)
                _ = UDPHeader.build(at: p + 34, capacity: b.count - 34, sourcePort: 40000, destinationPort: 7, payloadLength: b.count - 42, pseudoHeader: .ipv4(source: sender, destination: pod))
            }
            return f
        }
        var arp = [UInt8](repeating: 0, count: 42)
        arp.withUnsafeMutableBytes { b in
            _ = EthernetHeader.build(at: b.baseAddress!, capacity: 42, destination: .broadcast, source: Self.peer, etherType: EtherType.arp)
            _ = ARPHeader.build(
                at: b.baseAddress! + 14, capacity: 28, operation: ARPHeader.request, senderHardwareAddress: Self.peer,
                senderProtocolAddress: IPv4Address(10, 0, 0, 1), targetHardwareAddress: .zero, targetProtocolAddress: IPv4Address(10, 0, 0, 2))
        }
        frames.append(arp)

        var tx = server.queue(0)
        let burst = MemifBurst(capacity: 64)
        #expect(reflector.poll() == 0, "the first poll posts the pooled receive buffers")
        let free = tx.reserve(into: burst.buffers)
        var used = 0
        for f in frames { used += f.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: used, to: free) } }
        #expect(tx.publish(burst.buffers, count: used) == used)
        var echoed: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(5)
        while echoed.count < frames.count && Date() < deadline {
            _ = reflector.poll()
            let n = tx.receive(into: burst.buffers)
            for i in 0..<n { echoed.append(Array(UnsafeRawBufferPointer(burst[i].bytes))) }
            tx.release()
        }
        #expect(echoed.count == frames.count)
        for (sent, back) in zip(frames.dropLast(), echoed) {
            #expect(Array(back[0..<6]) == Array(sent[6..<12]) && Array(back[6..<12]) == Array(sent[0..<6]), "MACs swapped")
            #expect(Array(back[26..<30]) == Array(sent[30..<34]) && Array(back[30..<34]) == Array(sent[26..<30]), "IPs swapped")
            #expect(Array(back[34..<36]) == Array(sent[36..<38]) && Array(back[36..<38]) == Array(sent[34..<36]), "ports swapped")
            #expect(Array(back[38...]) == Array(sent[38...]), "checksum and payload unchanged")
            back.withUnsafeBytes { b in
                let p = UnsafeMutableRawPointer(mutating: b.baseAddress!)
                let ip = try! IPv4Header.parse(p + 14, length: b.count - 14).get()
                #expect(InternetChecksum.checksum(p + 14, count: 20) == 0)
                #expect(try! UDPHeader.parse(p + 34, length: b.count - 34).get().isChecksumValid(ip.pseudoHeader))
            }
        }
        if let reply = echoed.last {
            reply.withUnsafeBytes { b in
                let a = try! ARPHeader.parse(UnsafeMutableRawPointer(mutating: b.baseAddress! + 14), length: 28).get()
                #expect(a.operation == ARPHeader.reply && a.senderHardwareAddress == CalicoConvention.podMAC)
            }
        }
        #expect(reflector.counters.snapshot == .init(zeroCopy: 21, copied: 0, dropped: 0))
    }

    /// docs/sdk.md shows samples/reflector/Sources/Reflector/Reflector.swift verbatim.
    @Test func theGuideShowsTheExampleThatCompiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("samples/reflector/Sources/Reflector/Reflector.swift"), encoding: .utf8)
        let guide = try String(contentsOf: root.appendingPathComponent("docs/sdk.md"), encoding: .utf8)
        let block = try #require(guide.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        #expect(block == source)
        #expect(source.split(separator: "\n").count <= 35)
    }
}
