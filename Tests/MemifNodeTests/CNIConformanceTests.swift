import Foundation
import MemifCNI
import Testing

/// memif-cni as a runtime drives it: the real binary, `CNI_*` variables and stdin, against a
/// real memifd process, chained after Debian's real `ptp` + `host-local`.
@Suite(.serialized, .cleansUp, .timeLimit(.minutes(5)))
struct CNIConformanceTests {
    static let args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=x;K8S_POD_UID=1234"

    @Test func versionListsBothSpecVersions() throws {
        for stdin in ["", #"{"cniVersion":"1.0.0"}"#, #"{"cniVersion":"0.1.0"}"#] {
            let out = CNICall(command: "VERSION", ifname: nil, path: nil, config: stdin).run()
            #expect(out.status == 0)
            let json = try #require(out.json)
            #expect(json["supportedVersions"] == .array([.string("1.0.0"), .string("1.1.0")]))
            #expect(json["cniVersion"]?.stringValue == (stdin.contains("1.0.0") ? "1.0.0" : "1.1.0"))
        }
    }

    @Test func requiredEnvironmentPerCommand() throws {
        let memifd = try MemifdProcess()
        let ns = try TestNamespace()
        let conf = NetConf.memif(socket: memifd.socket)
        let cases: [(CNICall, String)] = [
            (CNICall(command: "ADD", containerID: "c1", netns: nil, config: conf), "CNI_NETNS"),
            (CNICall(command: "ADD", containerID: nil, netns: ns.path, config: conf), "CNI_CONTAINERID"),
            (CNICall(command: "ADD", containerID: "c1", netns: ns.path, ifname: nil, config: conf), "CNI_IFNAME"),
            (CNICall(command: "CHECK", containerID: "c1", netns: nil, config: conf), "CNI_NETNS"),
            (CNICall(command: "DEL", containerID: nil, netns: ns.path, config: conf), "CNI_CONTAINERID"),
            (CNICall(command: "DEL", containerID: "c1", netns: ns.path, ifname: nil, config: conf), "CNI_IFNAME"),
            (CNICall(command: "GC", ifname: nil, path: nil, config: conf), "CNI_PATH"),
            (CNICall(command: "", config: conf), "CNI_COMMAND"),
            (CNICall(command: "RESET", config: conf), "RESET"),
            (CNICall(command: "ADD", containerID: "-starts-with-dash", netns: ns.path, config: conf), "CNI_CONTAINERID"),
            (CNICall(command: "ADD", containerID: "has space", netns: ns.path, config: conf), "CNI_CONTAINERID"),
            (CNICall(command: "ADD", containerID: "c1", netns: ns.path, ifname: "much-too-long-ifname", config: conf), "CNI_IFNAME"),
            (CNICall(command: "ADD", containerID: "c1", netns: ns.path, args: "K8S_POD_NAME=a;FOO=1", config: conf), "FOO"),
            (CNICall(command: "ADD", containerID: "c1", netns: ns.path, args: "novalue", config: conf), "KEY=VALUE"),
        ]
        for (call, named) in cases {
            let out = call.run()
            #expect(out.status != 0, "\(call.environment)")
            #expect(out.errorCode == 4, "\(call.environment): \(out.stdout)")
            #expect(out.errorMessage.contains(named), "\(out.errorMessage) should name \(named)")
            #expect(out.json?["cniVersion"]?.stringValue == "1.1.0")
        }
        // DEL needs no netns; STATUS and VERSION need nothing but the command.
        #expect(CNICall(command: "DEL", containerID: "c1", netns: nil, config: conf).run().status == 0)
        #expect(CNICall(command: "STATUS", ifname: nil, path: nil, config: conf).run().status == 0)
        // Unknown CNI_ARGS keys are fine with IgnoreUnknown.
        let add = CNICall(command: "ADD", containerID: "c1", netns: ns.path, args: "IgnoreUnknown=true;FOO=1", config: conf).run()
        #expect(add.status == 0, "\(add.stdout)")
        #expect(CNICall(command: "DEL", containerID: "c1", netns: ns.path, config: conf).run().status == 0)
        #expect(memifd.isRunning)
    }

    @Test func badConfigurationDocuments() throws {
        let memifd = try MemifdProcess()
        let ns = try TestNamespace()
        func add(_ config: String) -> CNICall.Outcome {
            CNICall(command: "ADD", containerID: "c2", netns: ns.path, args: Self.args, config: config).run()
        }
        let old = add(NetConf.memif(version: "0.3.1", socket: memifd.socket))
        #expect(old.errorCode == 1)
        #expect(old.json?["details"]?.stringValue?.contains("1.0.0") == true)
        #expect(add("this is not json").errorCode == 6)
        #expect(add("[1,2]").errorCode == 6)
        #expect(add(#"{"name":"x"}"#).errorCode == 7)
        #expect(add(NetConf.memif(socket: memifd.socket, extra: [("prevResult", .string("x"))])).errorCode == 7)
        #expect(add(NetConf.memif(socket: "relative.sock")).errorCode == 7)
        // Every error document has exactly the spec's fields and a non-zero exit.
        let shape = add("{")
        #expect(shape.status == 1)
        let keys = Set(try #require(shape.json?.objectValue).map(\.key))
        #expect(keys.isSubset(of: ["cniVersion", "code", "msg", "details"]) && keys.isSuperset(of: ["cniVersion", "code", "msg"]))
        #expect(memifd.stateAttachmentCount == 0)
    }

    @Test func badAnnotationIsError7NamingKeyAndToken() throws {
        let memifd = try MemifdProcess(extraArguments: ["--maximum-queues", "2"])
        let ns = try TestNamespace()
        // Refused by memif-cni itself (the runtime passed the annotations).
        let bad = NetConf.memif(socket: memifd.socket, annotations: [NetConf.portsKey: "tcp:80,bogus:53"])
        let out = CNICall(command: "ADD", containerID: "c3", netns: ns.path, args: Self.args, config: bad).run()
        #expect(out.status == 1)
        #expect(out.errorCode == 7)
        #expect(out.errorMessage.contains(NetConf.portsKey))
        #expect(out.errorMessage.contains("bogus"))
        // Valid grammar, but over this node's limit: refused by memifd with the same shape.
        let big = NetConf.memif(
            socket: memifd.socket, annotations: [NetConf.portsKey: "udp:53", "memifkit.io/spec": #"{"queues":4}"#])
        let node = CNICall(command: "ADD", containerID: "c3", netns: ns.path, args: Self.args, config: big).run()
        #expect(node.errorCode == 7, "\(node.stdout)")
        #expect(node.errorMessage.contains("memifkit.io/spec"))
        #expect(node.errorMessage.contains("4"))
        // A filesystem socket cannot live in the pod's namespace.
        let path = NetConf.memif(socket: memifd.socket, annotations: [NetConf.portsKey: "udp:53", "memifkit.io/socket": "/tmp/x.sock"])
        let refused = CNICall(command: "ADD", containerID: "c3", netns: ns.path, args: Self.args, config: path).run()
        #expect(refused.errorCode == 7)
        #expect(refused.errorMessage.contains("memifkit.io/socket"))
        #expect(memifd.stateAttachmentCount == 0)
        #expect(ns.unixListeners.isEmpty)
    }

    @Test func memifdDownIsError11OnAddAnd50OnStatus() throws {
        let ns = try TestNamespace()
        let missing = "/tmp/\(Tools.uniqueName("nosuch")).sock"
        let conf = NetConf.memif(socket: missing)
        let add = CNICall(command: "ADD", containerID: "c4", netns: ns.path, args: Self.args, config: conf).run()
        #expect(add.errorCode == 11)
        #expect(add.errorMessage.contains(missing))
        let status = CNICall(command: "STATUS", ifname: nil, path: nil, config: conf).run()
        #expect(status.status != 0)
        #expect(status.errorCode == 50)
        // DEL with no memifd running succeeds: nothing is held (see GrantTests for the restart).
        let del = CNICall(command: "DEL", containerID: "c4", netns: ns.path, config: conf).run()
        #expect(del.status == 0 && del.stdout.isEmpty)
        #expect(CNICall(command: "GC", config: NetConf.memif(socket: missing, extra: [("cni.dev/valid-attachments", .array([]))])).run().errorCode == 11)
        // A pod that asks for no memif needs no memifd: its result passes through.
        let prev = try JSON.parse(#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"\#(ns.path)"}],"ips":[{"address":"10.9.0.2/24","interface":0}]}"#)
        let plain = NetConf.memif(version: "1.0.0", socket: missing, annotations: ["other": "x"], prevResult: prev)
        let passed = CNICall(command: "ADD", containerID: "c4", netns: ns.path, args: Self.args, config: plain).run()
        #expect(passed.status == 0)
        #expect(passed.json == prev)
        // And memifd answering STATUS: exit 0, nothing printed.
        let memifd = try MemifdProcess()
        let up = CNICall(command: "STATUS", ifname: nil, path: nil, config: NetConf.memif(socket: memifd.socket)).run()
        #expect(up.status == 0)
        #expect(up.stdout.isEmpty)
    }

    @Test func noAnnotationsAndNoPodLookupIsError11() throws {
        let memifd = try MemifdProcess()
        let ns = try TestNamespace()
        let conf = NetConf.memif(socket: memifd.socket, annotations: nil)
        let out = CNICall(command: "ADD", containerID: "c5", netns: ns.path, args: Self.args, config: conf).run()
        #expect(out.errorCode == 11)
        #expect(out.errorMessage.contains("io.kubernetes.cri.pod-annotations"))
        #expect(out.errorMessage.contains("pod lookup"))
        #expect(memifd.stateAttachmentCount == 0)
    }

    @Test func chainedAfterPtpAndHostLocal() throws {
        let memifd = try MemifdProcess()
        let ns = try TestNamespace()
        let dataDir = memifd.directory.appendingPathComponent("ipam").path
        let id = "ctr\(getpid())"
        let ptpConf = NetConf.ptp(dataDir: dataDir, subnet: "10.77.\(getpid() % 200).0/24")
        let ptp = CNICall(command: "ADD", containerID: id, netns: ns.path, args: Self.args, config: ptpConf).run("/usr/lib/cni/ptp")
        #expect(ptp.status == 0, "\(ptp.stdout) \(ptp.stderr)")
        let prev = try #require(ptp.json)
        #expect(prev["ips"]?.arrayValue?.count == 1)
        defer { _ = CNICall(command: "DEL", containerID: id, netns: ns.path, args: Self.args, config: ptpConf).run("/usr/lib/cni/ptp") }

        // 1.0.0 conflist: the result is ptp's, unchanged, still valid 1.0.0.
        let conf10 = NetConf.memif(version: "1.0.0", socket: memifd.socket, prevResult: prev)
        let add10 = CNICall(command: "ADD", containerID: id, netns: ns.path, args: Self.args, config: conf10).run()
        #expect(add10.status == 0, "\(add10.stdout)")
        #expect(add10.json == prev)
        #expect(ns.unixListeners.contains("@vpp/memif-eth0"))
        // ADD again for the same container and interface: refused, nothing changes.
        let again = CNICall(command: "ADD", containerID: id, netns: ns.path, args: Self.args, config: conf10).run()
        #expect(again.errorCode == 100)
        #expect(again.json?["cniVersion"]?.stringValue == "1.0.0")
        #expect(memifd.stateAttachmentCount == 1)
        // CHECK with the final result; CHECK without prevResult is refused.
        let check10 = CNICall(command: "CHECK", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(version: "1.0.0", socket: memifd.socket, prevResult: add10.json)).run()
        #expect(check10.status == 0, "\(check10.stdout)")
        #expect(CNICall(command: "CHECK", containerID: id, netns: ns.path, config: NetConf.memif(socket: memifd.socket)).run().errorCode == 7)
        // DEL, twice: both succeed, the listener and state entry are gone.
        for _ in 0..<2 {
            let del = CNICall(command: "DEL", containerID: id, netns: ns.path, args: Self.args, config: conf10).run()
            #expect(del.status == 0, "\(del.stdout)")
            #expect(del.stdout.isEmpty)
        }
        #expect(!ns.unixListeners.contains("memif"))
        #expect(memifd.stateAttachmentCount == 0)

        // 1.1.0: ptp's result (a valid 1.1.0 result too) gains the memif with its socketPath.
        var prev11 = prev
        prev11.set("cniVersion", .string("1.1.0"))
        let conf11 = NetConf.memif(version: "1.1.0", socket: memifd.socket, prevResult: prev11)
        let add11 = CNICall(command: "ADD", containerID: id, netns: ns.path, args: Self.args, config: conf11).run()
        #expect(add11.status == 0, "\(add11.stdout)")
        let result = try #require(add11.json)
        #expect(result["cniVersion"]?.stringValue == "1.1.0")
        #expect(result["ips"] == prev["ips"])
        #expect(result["routes"] == prev["routes"])
        let interfaces = try #require(result["interfaces"]?.arrayValue)
        #expect(Array(interfaces.dropLast()) == prev["interfaces"]?.arrayValue)
        #expect(interfaces.last?["name"]?.stringValue == "memif-eth0")
        #expect(interfaces.last?["socketPath"]?.stringValue == "@vpp/memif-eth0")
        #expect(interfaces.last?["sandbox"]?.stringValue == ns.path)
        let check11 = CNICall(command: "CHECK", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket, prevResult: result)).run()
        #expect(check11.status == 0, "\(check11.stdout)")
        // CHECK notices a result whose memif memifd does not hold.
        var forged = result
        var forgedInterfaces = interfaces
        forgedInterfaces[forgedInterfaces.count - 1].set("socketPath", .string("@elsewhere"))
        forged.set("interfaces", .array(forgedInterfaces))
        let mismatch = CNICall(command: "CHECK", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket, prevResult: forged)).run()
        #expect(mismatch.errorCode == 102)
        #expect(CNICall(command: "DEL", containerID: id, netns: ns.path, args: Self.args, config: conf11).run().status == 0)
        let afterDel = CNICall(command: "CHECK", containerID: id, netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket, prevResult: result)).run()
        #expect(afterDel.errorCode == 102)
        #expect(memifd.stateAttachmentCount == 0)
    }

    @Test func gcRemovesEverythingNotValid() throws {
        let memifd = try MemifdProcess()
        let namespaces = try (0..<3).map { _ in try TestNamespace() }
        for (i, ns) in namespaces.enumerated() {
            let out = CNICall(command: "ADD", containerID: "gc\(i)", netns: ns.path, args: Self.args, config: NetConf.memif(socket: memifd.socket)).run()
            #expect(out.status == 0, "\(out.stdout)")
        }
        // An attachment of another network that uses the same memifd: GC of this network keeps it.
        let otherNet = try TestNamespace()
        let other = CNICall(command: "ADD", containerID: "gc-other", netns: otherNet.path, args: Self.args, config: NetConf.memif(name: "other-net", socket: memifd.socket)).run()
        #expect(other.status == 0)
        #expect(memifd.stateAttachmentCount == 4)
        let valid = JSON.array([AttachmentKey(containerID: "gc1", ifname: "eth0").json])
        let gc = CNICall(command: "GC", ifname: nil, config: NetConf.memif(socket: memifd.socket, extra: [("cni.dev/valid-attachments", valid)])).run()
        #expect(gc.status == 0, "\(gc.stdout)")
        #expect(memifd.stateAttachmentCount == 2)
        #expect(memifd.state?["attachments"]?.arrayValue?.compactMap { $0["containerID"]?.stringValue } == ["gc-other", "gc1"])
        #expect(otherNet.unixListeners.contains("@vpp/memif-eth0"))
        #expect(namespaces[0].unixListeners.isEmpty)
        #expect(namespaces[1].unixListeners.contains("@vpp/memif-eth0"))
        #expect(namespaces[2].unixListeners.isEmpty)
        #expect(CNICall(command: "GC", ifname: nil, config: NetConf.memif(socket: memifd.socket)).run().errorCode == 7)
        let empty = CNICall(command: "GC", ifname: nil, config: NetConf.memif(socket: memifd.socket, extra: [("cni.dev/valid-attachments", .array([]))])).run()
        #expect(empty.status == 0)
        #expect(memifd.stateAttachmentCount == 1)
        #expect(namespaces[1].unixListeners.isEmpty)
    }

    @Test func missingNamespaceIsAClearErrorAndMemifdSurvivesHostileClients() throws {
        let memifd = try MemifdProcess()
        let gone = CNICall(command: "ADD", containerID: "c6", netns: "/run/netns/\(Tools.uniqueName("absent"))", args: Self.args, config: NetConf.memif(socket: memifd.socket)).run()
        #expect(gone.errorCode == 101)
        #expect(gone.errorMessage.contains("No such file"))
        let notNetns = CNICall(command: "ADD", containerID: "c6", netns: "/etc/hostname", args: Self.args, config: NetConf.memif(socket: memifd.socket)).run()
        #expect(notNetns.errorCode == 101)
        #expect(notNetns.errorMessage.contains("not a network namespace"))

        // Raw clients: junk, wrong versions, huge documents, silence.
        let payloads: [[UInt8]] = [
            Array("junk".utf8), Array("{}".utf8), Array(#"{"memifkit":2,"op":"add"}"#.utf8),
            Array(#"{"memifkit":1,"op":"add"}"#.utf8), Array(#"{"memifkit":1,"op":"fly"}"#.utf8),
            Array(#"{"memifkit":1,"op":"add","containerID":"x","ifname":"eth0","netns":7}"#.utf8),
            Array(#"{"memifkit":1,"op":"gc","validAttachments":[1]}"#.utf8),
            Array(repeating: UInt8(ascii: "["), count: 100_000), Array(repeating: 0xFF, count: 5 << 20), [],
        ]
        for payload in payloads {
            let reply = try rawExchange(memifd.socket, payload)
            if payload.count <= 1 << 20 {
                #expect(reply.contains("\"error\""), "\(String(decoding: payload.prefix(40), as: UTF8.self)) -> \(reply)")
            }
        }
        // A client that connects and never writes does not stall the others.
        let silent = try connectRaw(memifd.socket)
        defer { close(silent) }
        let status = CNICall(command: "STATUS", ifname: nil, path: nil, config: NetConf.memif(socket: memifd.socket)).run()
        #expect(status.status == 0)
        #expect(memifd.isRunning)
        #expect(memifd.stateAttachmentCount == 0)
    }

    private func connectRaw(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard UnixStream.connect(fd, path: path) else { throw FixtureError("connect \(path)") }
        return fd
    }

    private func rawExchange(_ path: String, _ bytes: [UInt8]) throws -> String {
        let fd = try connectRaw(path)
        defer { close(fd) }
        UnixStream.setTimeouts(fd, seconds: 15)
        _ = UnixStream.writeAll(fd, bytes)
        shutdown(fd, Int32(SHUT_WR))
        guard case .success(let reply) = UnixStream.readAll(fd, limit: 1 << 20) else { return "" }
        return String(decoding: reply, as: UTF8.self)
    }
}
