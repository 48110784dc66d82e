import ArgumentParser
import CMallocCounter
import CMemifDSA
import CMemifLinux
import Memif
import MemifCopy

#if canImport(Glibc)
import Glibc
#endif

/// The shape of Intel's frame-size experiment (Calico/VPP memif with DSA): a memif server
/// whose worker core copies frames from its own buffers into the client's, either inline
/// (CPU engine) or by offloading to a DSA work queue, here the model on the second core.
/// Reports the worker thread's CPU time per packet (on loop turns that moved something;
/// empty polls excluded; the calibrated cost of the clock read itself subtracted) and the
/// throughput the client received.
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worker CPU time per packet and throughput: CPU copy vs copy offloaded to the DSA model.",
        discussion: """
            One JSON line per run. The client (the pod) drains its ring on the device core; with
            --engine model the model's engine thread shares that core. Driven by
            Benchmarks/copy_bench.py.
            """)

    enum EngineKind: String, ExpressibleByArgument { case cpu, model }
    enum Timing: String, ExpressibleByArgument { case instant, spr }

    @Option(help: "cpu: copy inline on the worker; model: offload to the DSA work-queue model.")
    var engine = EngineKind.cpu
    @Option(help: "Frame size in bytes.")
    var size = 1500
    @Option(help: "Seconds to measure after a 0.5 s warm-up.")
    var seconds = 2.0
    @Option(help: "Model timing: instant, or spr (Sapphire Rapids-like estimates).")
    var timing = Timing.spr
    @Option(help: "Frames per burst.")
    var burst = 32
    @Option(help: "Copies shorter than this stay on the worker CPU even with --engine model.")
    var minimumOffload = 0
    @Option(help: "The worker core.")
    var workerCPU = 0
    @Option(help: "The device core: the model's engine thread and the client's drain loop.")
    var deviceCPU = 1
    @Flag(help: "Exit with failure unless the measured run made no heap allocation (worker, model and client).")
    var requireZeroAllocations = false

    func run() throws {
        let socket = try MemifSocketName("@memif-bench-copy-\(UInt32.random(in: 0...UInt32.max))")
        let loop = try MemifEventLoop()
        var serverConfig = MemifConfiguration(role: .server, socket: socket)
        serverConfig.interfaceName = "bench-server"
        var clientConfig = MemifConfiguration(role: .client, socket: socket)
        clientConfig.log2RingSize = 11
        clientConfig.bufferSize = 2048
        let server = try MemifInterface(serverConfig, eventLoop: loop)
        let client = try MemifInterface(clientConfig, eventLoop: loop)
        try server.start()
        try client.start()
        defer {
            client.stop()
            server.stop()
            loop.shutdown()
        }
        guard let c = client.waitForConnection(timeout: .seconds(30)), let s = server.waitForConnection(timeout: .seconds(30))
        else { throw MemifError(.disconnected, "loopback did not connect") }

        // The worker's own frames (an uplink's buffers): 1024 slots, 64-byte aligned.
        let stride = (size + 63) & ~63
        let pool = UnsafeMutableRawPointer.allocate(byteCount: 1024 * stride, alignment: 4096)
        defer { pool.deallocate() }
        for i in 0..<(1024 * stride) { pool.storeBytes(of: UInt8(truncatingIfNeeded: i &* 7), toByteOffset: i, as: UInt8.self) }

        let drain = Drainer(rx: c.receiveQueue(0), cpu: deviceCPU)
        drain.start()
        defer { drain.stop() }
        let result: Measurement
        switch engine {
        case .cpu:
            result = measure(CPUCopyEngine(maxCopiesPerBurst: 256, maxBurstsInFlight: 64), s, pool, stride)
        case .model:
            var mc = DSAModelConfiguration()
            mc.size = 128
            mc.timing = timing == .spr ? .sprLike : .instant
            let model = DSAWorkQueueModel(configuration: mc)
            for r in s.mappedRegions { model.register(r) }
            model.register(UnsafeMutableRawBufferPointer(start: pool, count: 1024 * stride))
            model.start(threads: 1, cpus: [deviceCPU])
            defer { model.stop() }
            var ec = DSAEngineConfiguration()
            ec.workQueueSize = mc.size
            ec.maxCopiesPerBurst = 256
            ec.ringSlots = 2048
            ec.maxBurstsInFlight = 64
            ec.minimumOffloadBytes = minimumOffload
            result = measure(DSACopyEngine(portal: ModelPortal(model: model), configuration: ec), s, pool, stride)
        }
        let received = c.receiveQueue(0).statistics.packets
        let st = result.statistics
        print(
            """
            {"engine":"\(engine.rawValue)","timing":"\(timing.rawValue)","size":\(size),"burst":\(burst),\
            "seconds":\(result.seconds),"packets":\(result.packets),"received":\(received),\
            "mpps":\(Double(result.packets) / result.seconds / 1e6),\
            "gbps":\(Double(result.packets) * Double(size) * 8 / result.seconds / 1e9),\
            "worker_ns_per_packet":\(result.busyNanoseconds / Double(max(result.packets, 1))),\
            "worker_busy_fraction":\(result.busyNanoseconds / (result.seconds * 1e9)),\
            "descriptors":\(st.descriptors),"batches":\(st.batches),"cpu_fallbacks":\(st.totalFallbacks),"wedged":\(st.wedged),\
            "allocations":\(result.allocations),"productive_calls":\(result.productiveCalls)}
            """)
        if requireZeroAllocations && (result.allocations != 0 || result.packets == 0) { throw ExitCode.failure }
    }

    struct Measurement {
        var packets: Int
        var seconds: Double
        var busyNanoseconds: Double
        var statistics: CopyEngineStatistics
        /// Heap allocations in the whole process during the measured run (worker, model, client).
        var allocations: UInt64
        /// Loop turns that moved something (each costs one thread-clock read).
        var productiveCalls: Int
    }

    /// The worker loop, specialised for the engine: send a burst, retire what finished;
    /// time spent in calls that moved nothing counts as idle.
    func measure<E: CopyEngine>(_ engine: E, _ s: MemifConnection, _ pool: UnsafeMutableRawPointer, _ stride: Int) -> Measurement {
        _ = cmemif_pin_current_thread(Int32(workerCPU))
        let queue = s.transmitQueue(0)
        let tx = MemifCopyTransmitter(queue: queue, engine: engine, maxBurstsInFlight: 64)
        let frames = MemifBurst(capacity: burst)
        var next = 0
        // Packets are counted as the queue published them: only completed copies.
        func run(for nanoseconds: UInt64) -> (packets: Int, busy: UInt64, elapsed: UInt64, calls: Int) {
            let published = queue.statistics.packets
            var busy: UInt64 = 0
            var calls = 0
            let start = cmemif_monotonic_ns()
            var now = start
            // The worker's own CPU time (not wall time: other processes preempting it on a
            // shared machine do not count), for calls that moved something.
            var cpu = cmemif_thread_cpu_ns()
            while now &- start < nanoseconds {
                for i in 0..<burst {
                    frames[i].data = pool + ((next &+ i) & 1023) &* stride
                    frames[i].length = UInt32(truncatingIfNeeded: size)
                }
                let sent = tx.send(frames.buffers, count: burst)
                let done = tx.complete()
                let cpuAfter = cmemif_thread_cpu_ns()
                if sent | done != 0 {
                    busy &+= cpuAfter &- cpu
                    calls &+= 1
                }
                cpu = cpuAfter
                next &+= sent
                now = cmemif_monotonic_ns()
            }
            return (Int(queue.statistics.packets - published), busy, now &- start, calls)
        }
        _ = run(for: 500_000_000)
        // What one thread-clock read costs (a system call on some VMs): subtracted per turn.
        let calibrationStart = cmemif_thread_cpu_ns()
        for _ in 0..<10_000 { _ = cmemif_thread_cpu_ns() }
        let clockCost = (cmemif_thread_cpu_ns() &- calibrationStart) / 10_001
        let before = engine.statistics
        let allocationsBefore = cmalloc_allocations()
        let r = run(for: UInt64(seconds * 1e9))
        let allocations = cmalloc_allocations() - allocationsBefore
        var st = engine.statistics
        // Nothing may be in flight when the engine (and the memory the model reads) goes away.
        let deadline = cmemif_monotonic_ns() + 5_000_000_000
        while engine.burstsInFlight > 0 && cmemif_monotonic_ns() < deadline { tx.complete() }
        st.descriptors -= before.descriptors
        st.batches -= before.batches
        let busy = r.busy > clockCost &* UInt64(r.calls) ? r.busy &- clockCost &* UInt64(r.calls) : 0
        return Measurement(packets: r.packets, seconds: Double(r.elapsed) / 1e9, busyNanoseconds: Double(busy), statistics: st,
            allocations: allocations, productiveCalls: r.calls)
    }
}

/// The client (pod) side: drains its receive ring on the device core until stopped.
final class Drainer: @unchecked Sendable {
    let rx: MemifRxQueue
    let cpu: Int
    private var thread = pthread_t()
    private let stopFlag = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private let count = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    init(rx: MemifRxQueue, cpu: Int) {
        self.rx = rx
        self.cpu = cpu
        stopFlag.initialize(to: 0)
        count.initialize(to: 0)
    }

    deinit {
        stopFlag.deallocate()
        count.deallocate()
    }

    var packets: UInt64 { cmemif_load_relaxed_u64(count) }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<Drainer>.fromOpaque(raw!).takeRetainedValue()
            me.loop()
            return nil
        }, context)
    }

    func stop() {
        cmemif_store_relaxed_u32(stopFlag, 1)
        pthread_join(thread, nil)
    }

    private func loop() {
        _ = cmemif_pin_current_thread(Int32(cpu))
        let burst = MemifBurst(capacity: 256)
        var total: UInt64 = 0
        while cmemif_load_relaxed_u32(stopFlag) == 0 {
            let n = MemifTraffic.sink(rx, burst: burst.buffers)
            if n == 0 {
                sched_yield()  // leave the shared core to the model's engine thread
            } else {
                total &+= UInt64(n)
                cmemif_store_relaxed_u64(count, total)
            }
        }
    }
}
