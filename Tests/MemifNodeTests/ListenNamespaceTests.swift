import Foundation
import Memif
import MemifNode
import Synchronization
import Testing

/// The memif core's `listenNamespace`: one event loop serves the same abstract name in many
/// namespaces, each listener visible in its own namespace only.
@Suite(.serialized, .cleansUp, .timeLimit(.minutes(5)))
struct ListenNamespaceTests {
    @Test func oneLoopServesTheSameNameInTwoNamespaces() throws {
        let a = try TestNamespace("nsa")
        let b = try TestNamespace("nsb")
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        func server(_ ns: TestNamespace, _ name: String) throws -> MemifInterface {
            var c = MemifConfiguration(role: .server, socket: try MemifSocketName("@vpp/memif-eth0"), interfaceName: name)
            c.listenNamespace = ns.path
            let memif = try MemifInterface(c, eventLoop: loop)
            try memif.start()
            return memif
        }
        let serverA = try server(a, "in-a")
        let serverB = try server(b, "in-b")
        #expect(a.unixListeners.contains("@vpp/memif-eth0"))
        #expect(b.unixListeners.contains("@vpp/memif-eth0"))
        // This process's own namespace has no such listener of ours.
        let hostListeners = Tools.run("/bin/ss", ["-xlpH"]).stdout.split(separator: "\n")
        #expect(!hostListeners.contains { $0.contains("@vpp/memif-eth0 ") && $0.contains("pid=\(getpid()),") })
        #expect(a.unixListeners.contains("@vpp/memif-eth0 "))

        let clientA = try GrantTests.PodClient(in: a.path)
        let clientB = try GrantTests.PodClient(in: b.path)
        #expect(clientA.memif.waitForConnection(timeout: .seconds(5))?.peerInterfaceName == "in-a")
        #expect(clientB.memif.waitForConnection(timeout: .seconds(5))?.peerInterfaceName == "in-b")

        // Stopping one leaves the other serving.
        serverA.stop()
        #expect(Wait.until { clientA.memif.connection == nil })
        #expect(a.unixListeners.isEmpty)
        #expect(clientB.memif.connection?.isConnected == true)
        serverB.stop()
        #expect(b.unixListeners.isEmpty)
    }

    @Test func badNamespacesAreErrors() throws {
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        for (path, text) in [("/run/netns/\(Tools.uniqueName("none"))", "No such file"), ("/etc/hostname", "not a network namespace")] {
            var c = MemifConfiguration(role: .server, socket: try MemifSocketName("@x"))
            c.listenNamespace = path
            let memif = try MemifInterface(c, eventLoop: loop)
            #expect { try memif.start() } throws: { "\($0)".contains(text) }
        }
        var client = MemifConfiguration(role: .client, socket: try MemifSocketName("@x"))
        client.listenNamespace = "/proc/self/ns/net"
        #expect(throws: MemifError.self) { try MemifInterface(client, eventLoop: loop) }
        // A taken name in a namespace is refused, not stolen.
        let ns = try TestNamespace()
        var c = MemifConfiguration(role: .server, socket: try MemifSocketName("@taken"))
        c.listenNamespace = ns.path
        let first = try MemifInterface(c, eventLoop: loop)
        try first.start()
        let otherLoop = try MemifEventLoop()
        defer { otherLoop.shutdown() }
        let second = try MemifInterface(c, eventLoop: otherLoop)
        #expect { try second.start() } throws: { "\($0)".contains("already served") }
        first.stop()
    }

    @Test func parallelAddsForDifferentContainers() throws {
        let memifd = try MemifdProcess()
        let pods = try (0..<12).map { _ in try TestNamespace("par") }
        let outcomes = Mutex<[Int32]>([])
        DispatchQueue.concurrentPerform(iterations: pods.count) { i in
            let out = CNICall(command: "ADD", containerID: "par\(i)", netns: pods[i].path, args: CNIConformanceTests.args, config: NetConf.memif(socket: memifd.socket)).run()
            outcomes.withLock { $0.append(out.status) }
        }
        #expect(outcomes.withLock { $0 } == Array(repeating: 0, count: pods.count))
        #expect(memifd.stateAttachmentCount == pods.count)
        #expect(pods.allSatisfy { $0.unixListeners.contains("@vpp/memif-eth0") })
        DispatchQueue.concurrentPerform(iterations: pods.count) { i in
            _ = CNICall(command: "DEL", containerID: "par\(i)", netns: pods[i].path, config: NetConf.memif(socket: memifd.socket)).run()
        }
        #expect(memifd.stateAttachmentCount == 0)
        #expect(pods.allSatisfy { $0.unixListeners.isEmpty })
    }
}
