import CMemifDSA
import Foundation
import MemifCopy
import Testing

@Suite("DSA discovery and queue selection")
struct DiscoveryTests {
    /// Both sysfs formats of `op_cap` (reference 2.1: EMR on 6.17 shows the bitmap format
    /// with BATCH, bit 1, hidden).
    @Test func opCapBitmapFormat() throws {
        let ops = try #require(DSAOperationCapabilities(sysfs: "00000000,00000000,00000000,00000000,00000000,00000000,00000001,003f027d\n"))
        #expect(ops.supports(DSAOpcode.noop))
        #expect(!ops.supports(DSAOpcode.batch))
        #expect(ops.supports(DSAOpcode.drain))
        #expect(ops.supports(DSAOpcode.memmove))
        #expect(ops.supports(0x10))  // CRCGEN
        #expect(!ops.supports(0x21))
        #expect(ops.supports(0x20))  // CFLUSH: the low bit of the second 32-bit word
        #expect(ops.words == [0x0000_0001_003f_027d, 0, 0, 0])
    }

    @Test func opCapWordFormat() throws {
        let ops = try #require(DSAOperationCapabilities(sysfs: "0x3f027f 0x0 0x0 0x0"))
        #expect(ops.supports(DSAOpcode.batch))
        #expect(ops.supports(DSAOpcode.memmove))
        #expect(!ops.supports(0x07))
        #expect(DSAOperationCapabilities(sysfs: "") == nil)
        #expect(DSAOperationCapabilities(sysfs: "zz,00") == nil)
        #expect(DSAOperationCapabilities(sysfs: "1ffffffff,0") == nil)  // a 32-bit word too wide
    }

    func queue(_ name: String, node: Int, dedicated: Bool, enabled: Bool = true, user: Bool = true, version: UInt32 = 0x100)
        -> DSAWorkQueueInfo
    {
        DSAWorkQueueInfo(
            device: "dsa0", name: name, devicePath: "/dev/dsa/\(name)", numaNode: node, version: version, enabled: enabled,
            isUser: user, dedicated: dedicated, size: 32, threshold: 24, maxBatchSize: 32, maxTransferSize: 2 << 20,
            blockOnFault: false, genCap: 0x40_915f_0107,
            operations: DSAOperationCapabilities(sysfs: "00000000,003f027d")!)
    }

    @Test func rankingPrefersLocalDedicatedEnabledUserQueues() {
        let qs = [
            queue("wq0.0", node: 1, dedicated: true), queue("wq0.1", node: 0, dedicated: false),
            queue("wq0.2", node: 0, dedicated: true), queue("wq0.3", node: 0, dedicated: true, enabled: false),
            queue("wq0.4", node: 0, dedicated: true, user: false),
        ]
        #expect(DSAWorkQueueSelection.rank(qs, node: 0).map(\.name) == ["wq0.2", "wq0.1", "wq0.0"])
        #expect(DSAWorkQueueSelection.rank(qs, node: 1).map(\.name) == ["wq0.0", "wq0.2", "wq0.1"])
    }

    /// The engine follows the queue: size, batch limits, CC from gen_cap, and no BATCH where
    /// op_cap hides it or write() on DSA 1.0 refuses it.
    @Test func engineConfigurationFollowsQueue() {
        var q = queue("wq0.0", node: 0, dedicated: true)
        var c = DSAWorkQueueSelection.configuration(for: q, path: .movdir64b)
        #expect(c.workQueueSize == 32 && c.maxBatchSize == 32 && c.cacheControl)
        #expect(!c.useBatch)  // BATCH hidden in this op_cap
        q.operations = DSAOperationCapabilities(words: [0x3f027f])
        c = DSAWorkQueueSelection.configuration(for: q, path: .movdir64b)
        #expect(c.useBatch)
        #expect(!DSAWorkQueueSelection.configuration(for: q, path: .write).useBatch)  // DSA 1.0
        q.version = 0x200
        #expect(DSAWorkQueueSelection.configuration(for: q, path: .write).useBatch)
        q.dedicated = false
        #expect(DSAWorkQueueSelection.configuration(for: q, path: .enqcmd).workQueueSize == 24)  // threshold
    }

    /// libaccel-config is loaded at run time; on a node without DSA it finds nothing, and
    /// a missing library is an error value, not a failure to start.
    @Test func accelConfigDiscoveryOnThisHost() throws {
        let queues = try AccelConfigDiscovery().workQueues().get()
        if !FileManager.default.fileExists(atPath: "/sys/bus/dsa/devices") { #expect(queues.isEmpty) }
        guard case .failure(.libraryUnavailable) = AccelConfigDiscovery(library: "libaccel-config-absent.so.9").workQueues()
        else {
            Issue.record("a missing library must be reported")
            return
        }
    }

    @Test func choiceFallsBackToCPUWithAReason() {
        let empty = CopyEngineChoice.best(near: nil, discovery: StaticDiscovery([]))
        guard case .cpu = empty.choice else {
            Issue.record("expected the CPU engine")
            return
        }
        #expect(empty.why.contains("no DSA work queue"))
        // A queue whose device node does not exist cannot open: CPU, and the reason names it.
        var q = queue("wq9.9", node: 0, dedicated: true)
        q.devicePath = "/nonexistent/dsa/wq9.9"
        let missing = CopyEngineChoice.best(near: nil, discovery: StaticDiscovery([q]))
        guard case .cpu = missing.choice else {
            Issue.record("expected the CPU engine")
            return
        }
        #expect(missing.why.contains("wq9.9"))
    }

    @Test func numaNodeOfMemoryIsANode() {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { p.deallocate() }
        p.storeBytes(of: 1, as: UInt8.self)
        #expect(DSAWorkQueueSelection.numaNode(of: p) >= 0)
    }
}

/// Real hardware: only where the CPU has MOVDIR64B or ENQCMD and `/dev/dsa` has a queue.
enum DSAHardware {
    static var present: Bool {
        let cpu = cmemif_cpu_has_movdir64b() != 0 || cmemif_cpu_has_enqcmd() != 0
        let queues = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/dsa"))?.contains { $0.hasPrefix("wq") } ?? false
        return cpu && queues
    }
    static var reason: Comment {
        let devices = FileManager.default.fileExists(atPath: "/dev/dsa") ? "present" : "absent"
        return Comment(
            rawValue: "no DSA here (CPUID MOVDIR64B \(cmemif_cpu_has_movdir64b()), ENQCMD \(cmemif_cpu_has_enqcmd()); /dev/dsa \(devices))")
    }
}

@Suite("DSA hardware", .enabled(if: DSAHardware.present, DSAHardware.reason))
struct HardwareTests {
    struct CopyAll: CopyEngineUser {
        let lengths: [Int]
        func run<E: CopyEngine>(_ engine: E) -> (Bool, CopyEngineStatistics) {
            let src = TestMemory(pages: lengths.count, seed: 41)
            let dst = TestMemory(pages: lengths.count, seed: 42)
            for (i, n) in lengths.enumerated() {
                _ = engine.enqueue(destination: dst[i * 4096], source: src[i * 4096], length: n)
            }
            _ = engine.submit(cookie: 1)
            let cookies = drain(engine, model: nil, count: 1)
            let ok = cookies == [1] && lengths.enumerated().allSatisfy { dst.bytes($0 * 4096, $1) == src.bytes($0 * 4096, $1) }
            return (ok, engine.statistics)
        }
    }

    @Test(arguments: [[1500], [64, 1500, 4000, 4096, 9000 % 4096, 2048]])
    func copiesOnRealHardware(lengths: [Int]) {
        let (choice, why) = CopyEngineChoice.best(near: nil) { $0.minimumOffloadBytes = 0 }
        if case .cpu = choice { Issue.record("DSA present but not usable: \(why)") }
        let (ok, stats) = choice.run(CopyAll(lengths: lengths))
        #expect(ok, "\(why): \(stats)")
        #expect(stats.descriptors > 0, "\(why): \(stats)")
    }
}
