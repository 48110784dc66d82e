import Foundation
import Memif
import MemifCNI
import MemifNode
import Testing

/// Grants: the memif socket lives in the pod's network namespace only, survives a memifd
/// crash through the state file, and 50 pods leave nothing behind.
@Suite(.serialized, .cleansUp, .timeLimit(.minutes(5)))
struct GrantTests {
    static let args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=lab;K8S_POD_NAME=cnf;K8S_POD_UID=u1"

    /// A memif client whose event loop thread lives in `namespace` (it connects from there).
    final class PodClient {
        let loop: MemifEventLoop
        let memif: MemifInterface

        init(in namespace: String, socket: String = "@vpp/memif-eth0", mode: MemifMode = .ethernet) throws {
            guard let loop = try NetworkNamespace.run(in: namespace, { try? MemifEventLoop() }) else {
                throw FixtureError("no event loop in \(namespace)")
            }
            self.loop = loop
            var c = MemifConfiguration(role: .client, socket: try MemifSocketName(socket), mode: mode, applicationName: "pod")
            c.reconnectDelay = .milliseconds(50)
            c.maximumReconnectDelay = .milliseconds(400)
            memif = try MemifInterface(c, eventLoop: loop)
            try memif.start()
        }

        deinit {
            memif.stop()
            loop.shutdown()
        }
    }

    private func add(_ memifd: MemifdProcess, _ ns: TestNamespace, id: String) -> CNICall.Outcome {
        CNICall(command: "ADD", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket)).run()
    }

    private func del(_ memifd: MemifdProcess, _ ns: TestNamespace, id: String) -> CNICall.Outcome {
        CNICall(command: "DEL", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket)).run()
    }

    @Test func socketExistsInThePodNamespaceOnly() throws {
        let memifd = try MemifdProcess()
        let pod = try TestNamespace("pod")
        let other = try TestNamespace("other")
        #expect(add(memifd, pod, id: "g1").status == 0)
        #expect(pod.unixListeners.contains("@vpp/memif-eth0"))
        #expect(other.unixListeners.isEmpty)

        let inside = try PodClient(in: pod.path)
        let connection = inside.memif.waitForConnection(timeout: .seconds(5))
        #expect(connection != nil, "\(inside.memif.lastDisconnectReason ?? "")")
        #expect(connection?.peerApplicationName == "memifd")

        let outside = try PodClient(in: other.path)
        #expect(outside.memif.waitForConnection(timeout: .milliseconds(600)) == nil)
        #expect(outside.memif.connectionCount == 0)
        #expect(outside.memif.lastDisconnectReason?.contains("refused") == true, "\(outside.memif.lastDisconnectReason ?? "-")")

        // Observability: link state in /metrics and in memifctl status.
        #expect(memifd.http("/healthz")?.status == 200)
        #expect(Wait.until { memifd.http("/metrics")?.body.contains(#"memifd_attachment_link_up{container="g1",interface="eth0",socket="@vpp/memif-eth0",namespace="lab",pod="cnf"} 1"#) == true })
        let metrics = memifd.http("/metrics")?.body ?? ""
        #expect(metrics.contains("memifd_attachments 1"))
        #expect(metrics.contains(#"memifd_cni_requests_total{op="add",result="ok"} 1"#))
        #expect(memifd.http("/nope")?.status == 404)
        let status = Tools.run(Tools.memifctl, ["status", "--socket", memifd.socket, "--json"])
        #expect(status.status == 0)
        let listed = try #require(try? JSON.parse(status.stdout))
        #expect(listed["attachments"]?.arrayValue?.first?["linkUp"] == .bool(true))
        let table = Tools.run(Tools.memifctl, ["status", "--socket", memifd.socket])
        #expect(table.stdout.contains("lab/cnf") && table.stdout.contains("up") && table.stdout.contains("1 attachment"))

        // DEL disconnects the pod's client and removes the listener.
        #expect(del(memifd, pod, id: "g1").status == 0)
        #expect(Wait.until { inside.memif.connection == nil })
        #expect(pod.unixListeners.isEmpty)
        #expect(memifd.http("/metrics")?.body.contains("memifd_attachments 0") == true)
    }

    @Test func restartedMemifdRecreatesListenersAndClientsReconnect() throws {
        let memifd = try MemifdProcess()
        let pod = try TestNamespace("pod")
        let doomed = try TestNamespace("doomed")
        #expect(add(memifd, pod, id: "r1").status == 0)
        #expect(add(memifd, doomed, id: "r2").status == 0)
        let client = try PodClient(in: pod.path)
        #expect(client.memif.waitForConnection(timeout: .seconds(5)) != nil)

        memifd.stop(signal: SIGKILL)
        #expect(Wait.until { client.memif.connection == nil })
        #expect(pod.unixListeners.isEmpty)
        // The second pod goes away while memifd is down: DEL succeeds, the runtime removes the
        // namespace, and the restarted memifd drops the attachment.
        let delWhileDown = del(memifd, doomed, id: "r2")
        #expect(delWhileDown.status == 0, "\(delWhileDown.stdout)")
        doomed.delete()

        try memifd.start()
        #expect(pod.unixListeners.contains("@vpp/memif-eth0"))
        #expect(Wait.until(timeout: 10) { client.memif.connectionCount == 2 && client.memif.connection != nil })
        #expect(memifd.stateAttachmentCount == 1)
        #expect(memifd.log.contains("msg=\"dropped on restore\" attachment=r2/eth0"))
        #expect(memifd.log.contains("msg=restored attachment=r1/eth0"))

        // A graceful stop keeps the state too.
        memifd.stop()
        try memifd.start()
        #expect(Wait.until(timeout: 10) { client.memif.connectionCount == 3 && client.memif.connection != nil })
        #expect(del(memifd, pod, id: "r1").status == 0)
        #expect(memifd.stateAttachmentCount == 0)
    }

    @Test func aSecondMemifdOnTheSameSocketLeavesTheFirstAlone() throws {
        let memifd = try MemifdProcess()
        let pod = try TestNamespace()
        #expect(add(memifd, pod, id: "d1").status == 0)
        let second = Tools.run(Tools.memifd, ["--socket", memifd.socket, "--state-file", memifd.stateFile, "--metrics", "127.0.0.1:0"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("another memifd serves"))
        #expect(memifd.stateAttachmentCount == 1)
        #expect(pod.unixListeners.contains("@vpp/memif-eth0"))
        #expect(del(memifd, pod, id: "d1").status == 0)
    }

    @Test func corruptStateFileIsSetAsideNotFatal() throws {
        let memifd = try MemifdProcess()
        memifd.stop()
        try Data("{\"memifkit-state\":1,\"attachments\":[{\"containerID\":".utf8).write(to: URL(fileURLWithPath: memifd.stateFile))
        try memifd.start()
        #expect(memifd.isRunning)
        #expect(memifd.log.contains("state file unreadable"))
        let aside = try FileManager.default.contentsOfDirectory(atPath: memifd.directory.path).filter { $0.contains(".corrupt-") }
        #expect(aside.count == 1)
        let ns = try TestNamespace()
        #expect(add(memifd, ns, id: "s1").status == 0)
        #expect(memifd.stateAttachmentCount == 1)
    }

    @Test func fiftyPodsLeaveNothingBehind() throws {
        let memifd = try MemifdProcess()
        // Warm up (first-use allocations, event loop), then take the baseline.
        let warm = try TestNamespace()
        #expect(add(memifd, warm, id: "warm").status == 0)
        #expect(del(memifd, warm, id: "warm").status == 0)
        warm.delete()
        let baseline = memifd.openDescriptors
        #expect(baseline > 0)

        var pods: [TestNamespace] = []
        defer { for p in pods { p.delete() } }
        for _ in 0..<50 { pods.append(try TestNamespace("p50")) }
        var latencies: [Double] = []
        for (i, pod) in pods.enumerated() {
            let out = add(memifd, pod, id: "pod\(i)")
            #expect(out.status == 0, "\(out.stdout)")
            latencies.append(out.seconds)
        }
        #expect(memifd.stateAttachmentCount == 50)
        #expect(pods.allSatisfy { $0.unixListeners.contains("@vpp/memif-eth0") })
        #expect(memifd.openDescriptors == baseline + 50)
        let listed = Tools.run(Tools.memifctl, ["status", "--socket", memifd.socket, "--json"])
        #expect((try? JSON.parse(listed.stdout))?["attachments"]?.arrayValue?.count == 50)

        for (i, pod) in pods.enumerated() { #expect(del(memifd, pod, id: "pod\(i)").status == 0) }
        #expect(memifd.stateAttachmentCount == 0)
        #expect(pods.allSatisfy { $0.unixListeners.isEmpty })
        #expect(Wait.until { memifd.openDescriptors == baseline }, "fds \(memifd.openDescriptors) vs baseline \(baseline)")
        // memifd holds no reference to any pod namespace: none is among its fds or threads' namespaces.
        let fdTargets = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(memifd.pid)/fd")) ?? []
        let netnsFDs = fdTargets.filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(memifd.pid)/fd/\($0)")) ?? "").hasPrefix("net:")
        }
        #expect(netnsFDs.isEmpty)
        let hostNetns = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(memifd.pid)/ns/net")
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(memifd.pid)/task")
        for task in tasks {
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(memifd.pid)/task/\(task)/ns/net")) == hostNetns)
        }
        for pod in pods { pod.delete() }
        #expect(pods.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
        #expect(memifd.http("/metrics")?.body.contains("memifd_attachments 0") == true)

        let sorted = latencies.sorted()
        let median = sorted[sorted.count / 2] * 1000
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)] * 1000
        print(String(format: "memif-cni ADD latency over %d pods (process spawn to exit, memifd granting in the pod netns): median %.2f ms, p99 %.2f ms", sorted.count, median, p99))
    }
}
