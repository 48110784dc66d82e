import Foundation
import Testing

/// Issue 6 end to end, in the lab of deploy/lab (two node namespaces, memifd on each, the real
/// CNI chain ptp + host-local then memif-cni, Pod YAMLs with Calico/VPP's annotations), with
/// this build's binaries and a name prefix of its own so it never meets another lab.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: getuid() == 0, "the lab needs root (network namespaces, nftables)"))
struct LabTests {
    final class Lab: @unchecked Sendable {
        let prefix = "mkt\(getpid() % 100_000)"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(TestPaths.uniqueName("lab")).path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        var environment: [String: String] {
            var e = ProcessInfo.processInfo.environment
            e["MEMIFKIT_LAB_PREFIX"] = prefix
            e["MEMIFKIT_LAB_DIR"] = dir
            e["MEMIFKIT_BIN"] = URL(fileURLWithPath: TestPaths.builtTool("memifd")).deletingLastPathComponent().path
            return e
        }

        /// Runs `lab.py ARGS`; returns its output and exit status.
        @discardableResult
        func lab(_ args: String...) -> (output: String, status: Int32) {
            run(["/usr/bin/python3", root.appendingPathComponent("deploy/lab/lab.py").path] + args)
        }

        /// Runs a command inside a namespace of this lab (`pod-NAME` or `node1`).
        func inside(_ namespace: String, _ args: [String]) -> String {
            run(["/usr/bin/env", "ip", "netns", "exec", "\(prefix)-\(namespace)"] + args).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func probe(_ namespace: String, _ args: String...) -> String {
            inside(namespace, ["/usr/bin/python3", root.appendingPathComponent("deploy/lab/tools/probe.py").path] + args)
        }

        func run(_ args: [String]) -> (output: String, status: Int32) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: args[0])
            p.arguments = Array(args.dropFirst())
            p.environment = environment
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            do { try p.run() } catch { return ("cannot run \(args[0]): \(error)", -1) }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (String(decoding: data, as: UTF8.self), p.terminationStatus)
        }

        func traffic(target: String = "reflector", count: Int = 20) -> [String: Any] {
            let r = lab("traffic", "--json", "--count", "\(count)", "--target", target)
            let line = r.output.split(separator: "\n").last.map(String.init) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["error": r.output]
        }

        deinit { lab("down") }
    }

    static func answered(_ t: [String: Any], _ kind: String) -> Int { (t[kind] as? [String: Any])?["answered"] as? Int ?? -1 }

    @Test func steeredTrafficTakesThePodsMemifAndEverythingElseItsKernel() throws {
        let lab = Lab()
        let up = lab.lab("up")
        #expect(up.status == 0, "\(up.output)")
        #expect(up.output.contains("pod reflector on node1") && up.output.contains("pod client on node2"), "\(up.output)")
        // The pod with a typo fails with Calico's key and the bad token in the CNI error.
        #expect(up.output.contains("pod typo: ADD failed: memif-cni: CNI error 7: annotation cni.projectcalico.org/vppExtraMemifPorts"))
        #expect(up.output.contains("\" tcp\" at column 10"), "\(up.output)")

        // UDP to the steered port is answered by the reflector CNF over the memif; another UDP
        // port and ICMP by the pod's kernel.
        var t = lab.traffic()
        for _ in 0..<20 where Self.answered(t, "steered_udp") < 20 {  // the CNF may still be connecting
            usleep(250_000)
            t = lab.traffic()
        }
        #expect(Self.answered(t, "steered_udp") == 20, "\(t)")
        #expect(Self.answered(t, "unsteered_udp") == 20 && Self.answered(t, "icmp") == 20, "\(t)")
        let hits = t["steering_hits"] as? Double ?? 0
        #expect(hits >= 20, "memifd counted the steered packets: \(t)")

        // TCP: a SYN to a steered port goes to the memif (memifd counts it); an unsteered closed
        // port is refused by the pod's kernel.
        #expect(lab.probe("pod-client", "tcp", "10.244.1.2", "8081") == "refused")
        _ = lab.probe("pod-client", "tcp", "10.244.1.2", "8000")
        let afterSYN = lab.traffic(count: 1)["steering_hits"] as? Double ?? 0
        #expect(afterSYN >= hits + 2, "the SYN was steered (+1 for the UDP probe): \(hits) -> \(afterSYN)")

        // The abstract socket lives in the annotated pod's namespace only.
        #expect(lab.probe("pod-reflector", "unix", "vpp/memif-eth0") == "connected")
        #expect(lab.probe("pod-client", "unix", "vpp/memif-eth0") == "refused")

        // memifd killed and restarted: listeners and steering come back, and the CNF reconnects
        // on its own (same process).
        let reflectorPID = lab.inside("pod-reflector", ["pgrep", "-f", "reflector --ip"])
        #expect(lab.lab("restart-memifd", "node1").status == 0)
        var again = lab.traffic()
        for _ in 0..<40 where Self.answered(again, "steered_udp") < 20 {
            usleep(250_000)
            again = lab.traffic()
        }
        #expect(Self.answered(again, "steered_udp") == 20, "after memifd restarted: \(again)")
        #expect(lab.inside("pod-reflector", ["pgrep", "-f", "reflector --ip"]) == reflectorPID, "the CNF was not restarted")

        // Calico/VPP compatibility: dpdk-testpmd in a pod, started as Calico/VPP documents
        // (socket=vpp/memif-eth0, 5tswap), echoes the steered traffic.
        let added = lab.lab("add", lab.root.appendingPathComponent("deploy/lab/pods/testpmd.yaml").path)
        #expect(added.status == 0, "\(added.output)")
        var pmd = lab.traffic(target: "testpmd")
        for _ in 0..<40 where Self.answered(pmd, "steered_udp") < 20 {
            usleep(250_000)
            pmd = lab.traffic(target: "testpmd")
        }
        #expect(Self.answered(pmd, "steered_udp") == 20, "testpmd 5tswap over the pod's memif: \(pmd)")
        #expect(lab.lab("delete", "testpmd").status == 0)
    }

    @Test func fiftyPodsAddedAndDeletedLeaveNothingBehind() throws {
        let lab = Lab()
        #expect(lab.lab("up", lab.root.appendingPathComponent("deploy/lab/pods/client.yaml").path).status == 0)
        let memifd = lab.inside("node1", ["pgrep", "-n", "memifd"])
        let fdsBefore = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(memifd)/fd").count) ?? -1
        let yamlDir = URL(fileURLWithPath: lab.dir).appendingPathComponent("pods")
        try FileManager.default.createDirectory(at: yamlDir, withIntermediateDirectories: true)
        var latencies: [Double] = []
        for i in 0..<50 {
            let file = yamlDir.appendingPathComponent("pod\(i).yaml")
            try """
            apiVersion: v1
            kind: Pod
            metadata:
              name: churn\(i)
              namespace: default
              uid: 00000000-0000-4000-8000-\(String(format: "%012d", i))
              annotations:
                cni.projectcalico.org/vppExtraMemifPorts: "udp:\(5000 + i),tcp:\(6000 + i)-\(6010 + i)"
            spec:
              nodeName: node1
              containers: []
            """.write(to: file, atomically: true, encoding: .utf8)
            let r = lab.lab("add", file.path)
            #expect(r.status == 0, "\(r.output)")
            if let ms = r.output.split(separator: " ").firstIndex(of: "ADD").map({ r.output.split(separator: " ")[$0 + 1] }), let v = Double(ms) {
                latencies.append(v)
            }
        }
        #expect(lab.inside("node1", ["ip", "link", "show"]).components(separatedBy: "mksteer").count - 1 == 50)
        for i in 0..<50 { #expect(lab.lab("delete", "churn\(i)").status == 0) }
        latencies.sort()
        if !latencies.isEmpty {
            print("lab pod ADD latency with kernel-mode steering, 50 pods (ptp + host-local + memif-cni, lab.py add): median \(latencies[latencies.count / 2]) ms, p99 \(latencies[min(latencies.count - 1, latencies.count * 99 / 100)]) ms")
        }
        // Nothing left on the node: no tun, no steering chains, no fwmark rules or routes,
        // no attachment, no extra fd in memifd; no pod namespace.
        #expect(!lab.inside("node1", ["ip", "link", "show"]).contains("mksteer"))
        #expect(!lab.inside("node1", ["nft", "list", "ruleset"]).contains("pre-"), "steering chains left")
        #expect(!lab.inside("node1", ["ip", "rule", "show"]).contains("fwmark"))
        #expect(!lab.inside("node1", ["ip", "route", "show", "table", "all"]).contains("mksteer"))
        let status = lab.inside("node1", [TestPaths.builtTool("memifctl"), "status", "--socket", "\(lab.dir)/node1/memifd.sock"])
        #expect(status.contains("0 attachments"), "\(status)")
        let fdsAfter = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(memifd)/fd").count) ?? -2
        #expect(fdsAfter <= fdsBefore, "memifd fds \(fdsBefore) -> \(fdsAfter)")
        let namespaces = lab.run(["/usr/bin/env", "ip", "netns", "list"]).output
        #expect(!namespaces.contains("\(lab.prefix)-pod-churn"))
        lab.lab("down")
        #expect(!lab.run(["/usr/bin/env", "ip", "netns", "list"]).output.contains(lab.prefix + "-"))
        #expect(!FileManager.default.fileExists(atPath: lab.dir))
    }
}
