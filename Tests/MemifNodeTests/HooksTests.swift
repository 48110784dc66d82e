import Foundation
import Logging
import Memif
import MemifCNI
import MemifNode
import MemifSteering
import Synchronization
import Testing

/// NodeService in-process: the lifecycle hooks steering will plug into, and pod lookup.
@Suite(.serialized, .cleansUp, .timeLimit(.minutes(5)))
struct HooksTests {
    final class RecordingHooks: AttachmentHooks {
        let events = Mutex<[String]>([])
        let failGrant: Bool
        init(failGrant: Bool = false) { self.failGrant = failGrant }

        struct Refused: Error {}

        func granted(_ a: GrantedAttachment) throws {
            events.withLock { $0.append("granted \(a.record.key) \(a.reason) \(a.steering.rules) \(a.steering.spec.mode) \(a.interface.configuration.listenNamespace ?? "-")") }
            if failGrant { throw Refused() }
        }
        func clientConnected(_ a: GrantedAttachment, connection: MemifConnection) {
            events.withLock { $0.append("connected \(a.record.key) \(connection.peerApplicationName)") }
        }
        func clientDisconnected(_ a: GrantedAttachment, reason: String) {
            events.withLock { $0.append("disconnected \(a.record.key)") }
        }
        func removed(_ a: GrantedAttachment) { events.withLock { $0.append("removed \(a.record.key)") } }
        func restored(keeping: [GrantedAttachment]) { events.withLock { $0.append("restored \(keeping.count)") } }
        func metrics(for a: GrantedAttachment) -> [AttachmentMetric] { [AttachmentMetric(name: "steered_packets_total", help: "h", value: 42)] }
    }

    struct FixedPods: PodAnnotationSource {
        func annotations(namespace: String, name: String, uid: String?) throws -> [String: String] {
            guard name == "known" else { throw FixtureError("pod \(namespace)/\(name) not found") }
            return ["memifkit.io/ports": "tcp:8080", "memifkit.io/spec": #"{"mode":"ip"}"#, "memifkit.io/socket": "@cnf/data"]
        }
    }

    private func service(_ dir: URL, hooks: RecordingHooks?, pods: (any PodAnnotationSource)? = nil) throws -> (NodeService, MemifEventLoop) {
        let loop = try MemifEventLoop()
        let config = NodeConfiguration(socketPath: dir.appendingPathComponent("s").path, stateFile: dir.appendingPathComponent("state.json").path)
        return (NodeService(configuration: config, eventLoop: loop, hooks: hooks, annotationSource: pods, logger: Logger(label: "test")), loop)
    }

    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(Tools.uniqueName("hooks"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func lifecycleReachesTheHooks() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pod = try TestNamespace()
        let hooks = RecordingHooks()
        let (node, loop) = try service(dir, hooks: hooks, pods: FixedPods())
        defer { loop.shutdown() }
        let key = AttachmentKey(containerID: "h1", ifname: "eth0")
        // Annotations from the pod source (the runtime passed none).
        let reply = node.handle(NodeRequest(.add, key: key, netns: pod.path, podNamespace: "lab", podName: "known"))
        guard case .done(let status?) = reply else { Issue.record("\(reply)"); return }
        #expect(status.socket == "@cnf/data")
        #expect(status.mode == "ip")
        #expect(pod.unixListeners.contains("@cnf/data"))
        #expect(node.handle(NodeRequest(.add, key: AttachmentKey(containerID: "h2", ifname: "eth0"), netns: pod.path, podNamespace: "lab", podName: "unknown")) == .failed(CNIError(.tryAgainLater, "looking up pod lab/unknown failed: pod lab/unknown not found")))

        let client = try GrantTests.PodClient(in: pod.path, socket: "@cnf/data", mode: .ip)
        #expect(client.memif.waitForConnection(timeout: .seconds(5)) != nil)
        client.memif.stop()
        #expect(Wait.until { hooks.events.withLock { $0.contains("disconnected h1/eth0") } })
        #expect(node.handle(NodeRequest(.del, key: key, netns: pod.path)) == .done(nil))
        #expect(hooks.events.withLock { $0 } == [
            "granted h1/eth0 added tcp:8080 ip \(pod.path)", "connected h1/eth0 pod", "disconnected h1/eth0", "removed h1/eth0",
        ])

        // Restart from the state file: granted again as restored, then restored(keeping:).
        guard case .done(_?) = node.handle(NodeRequest(.add, key: key, netns: pod.path, podNamespace: "lab", podName: "known")) else {
            Issue.record("second ADD failed")
            return
        }
        node.shutdown()
        let hooks2 = RecordingHooks()
        let (node2, loop2) = try service(dir, hooks: hooks2)
        defer { loop2.shutdown() }
        node2.restore()
        #expect(hooks2.events.withLock { $0 } == ["granted h1/eth0 restored tcp:8080 ip \(pod.path)", "restored 1"])
        #expect(node2.attachments().map(\.socket) == ["@cnf/data"])
        _ = node2.handle(NodeRequest(.del, key: key))
    }

    /// What the steering pump will do, played by the test: counters of the server end show up
    /// in the attachment's status and in /metrics, with the hooks' own counters.
    @Test func trafficCountersAndHookMetricsReachMetrics() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pod = try TestNamespace()
        let hooks = RecordingHooks()
        let (node, loop) = try service(dir, hooks: hooks)
        defer { loop.shutdown() }
        let key = AttachmentKey(containerID: "t1", ifname: "eth0")
        let reply = node.handle(NodeRequest(.add, key: key, netns: pod.path, podNamespace: "lab", podName: "cnf", annotations: [NetConf.portsKey: "udp:53"]))
        guard case .done(_?) = reply else { Issue.record("\(reply)"); return }
        let metrics = try MetricsServer(host: "127.0.0.1", port: 0, service: node, logger: Logger(label: "test"))
        metrics.start()
        defer { metrics.stop() }

        let client = try GrantTests.PodClient(in: pod.path)
        let podSide = try #require(client.memif.waitForConnection(timeout: .seconds(5)))
        #expect(Wait.until { node.attachments().first?.linkUp == true })
        let interface = try #require(node.attachmentInterface(key))
        let nodeSide = try #require(interface.connection)

        let burst = MemifBurst(capacity: 64)
        // Pod -> node: 10 frames of 100 bytes.
        let tx = podSide.transmitQueue(0)
        let reserved = tx.reserve(into: burst.buffers)
        #expect(reserved >= 10)
        let frame = [UInt8](repeating: 0xAB, count: 100)
        for i in 0..<10 { _ = frame.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: i, to: reserved) } }
        #expect(tx.publish(burst.buffers, count: 10) == 10)
        let rx = nodeSide.receiveQueue(0)
        var received = 0
        #expect(Wait.until {
            received += rx.receive(into: burst.buffers)
            rx.release()
            return received == 10
        })
        // Node -> pod: 4 frames of 60 bytes.
        let back = nodeSide.transmitQueue(0)
        let free = back.reserve(into: burst.buffers)
        let small = [UInt8](repeating: 1, count: 60)
        for i in 0..<4 { _ = small.withUnsafeBytes { MemifTxQueue.copy($0, into: burst.buffers, from: i, to: free) } }
        #expect(back.publish(burst.buffers, count: 4) == 4)

        let status = try #require(node.attachments().first)
        #expect(status.rxPackets == 10 && status.rxBytes == 1000)
        #expect(status.txPackets == 4 && status.txBytes == 240)
        let body = try #require(httpGet(port: metrics.port, "/metrics"))
        let labels = #"{container="t1",interface="eth0",socket="@vpp/memif-eth0",namespace="lab",pod="cnf"}"#
        for line in [
            "memifd_attachment_rx_packets_total\(labels) 10", "memifd_attachment_rx_bytes_total\(labels) 1000",
            "memifd_attachment_tx_packets_total\(labels) 4", "memifd_attachment_tx_bytes_total\(labels) 240",
            "memifd_attachment_link_up\(labels) 1", "memifd_attachment_steered_packets_total\(labels) 42",
            "# TYPE memifd_attachment_steered_packets_total counter",
        ] {
            #expect(body.contains(line), "\(line)")
        }
        // Counters survive the client going away (they are the attachment's, not the connection's).
        client.memif.stop()
        #expect(Wait.until { node.attachments().first?.linkUp == false })
        #expect(node.attachments().first?.rxPackets == 10)
        _ = node.handle(NodeRequest(.del, key: key))
    }

    private func httpGet(port: UInt16, _ path: String) -> String? {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { return nil }
        _ = UnixStream.writeAll(fd, Array("GET \(path) HTTP/1.1\r\n\r\n".utf8))
        guard case .success(let b) = UnixStream.readAll(fd, limit: 1 << 22) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    @Test func aFailingGrantHookFailsTheAddAndLeavesNothing() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pod = try TestNamespace()
        let (node, loop) = try service(dir, hooks: RecordingHooks(failGrant: true))
        defer { loop.shutdown() }
        let reply = node.handle(NodeRequest(.add, key: AttachmentKey(containerID: "f1", ifname: "eth0"), netns: pod.path, annotations: ["memifkit.io/ports": "udp:53"]))
        guard case .failed(let error) = reply else { Issue.record("\(reply)"); return }
        #expect(error.code == 101)
        #expect(error.msg.contains("steering"))
        #expect(pod.unixListeners.isEmpty)
        #expect(node.attachments().isEmpty)
    }
}
