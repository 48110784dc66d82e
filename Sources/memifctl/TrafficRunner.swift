import CMemifLinux
import Memif
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM; the data loop checks it between bursts.
let stopRequested = Atomic<Bool>(false)

/// Runs one memif side with one traffic action, printing rates every `--interval` seconds.
struct TrafficRunner {
    enum Action {
        case reflect
        case sink(MemifTraffic.SinkRead)
        case source(size: Int, count: UInt64, flows: Int)
    }

    let options: InterfaceOptions
    let action: Action

    /// Prefix of every line, so two instances sharing a terminal stay readable.
    var label: String {
        switch action {
        case .reflect: "\(options.role) reflect"
        case .sink: "\(options.role) sink"
        case .source: "\(options.role) source"
        }
    }

    func run() throws {
        cmemif_line_buffer_stdout()  // rates appear as they happen, also in a pipe or file
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        // A parent may have left them blocked (the mask survives exec); we want them.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        sigaddset(&wanted, SIGINT)
        sigaddset(&wanted, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        if let cpu = options.cpu {
            let rc = cmemif_pin_current_thread(Int32(cpu))
            guard rc == 0 else { throw MemifError(.invalidConfiguration, "cannot pin to CPU \(cpu): errno \(rc)") }
        }
        let configuration = try options.configuration()
        let pause = try options.pause()
        let loop = try MemifEventLoop()
        defer { loop.shutdown() }
        let memif = try MemifInterface(configuration, eventLoop: loop)
        try memif.start()
        defer { memif.stop() }
        print("\(label): \(configuration.socket) id \(configuration.id), waiting for a peer")
        let start = Clock.seconds()
        let end = options.duration > 0 ? start + options.duration : Double.infinity
        var totals = Totals()
        while !stopRequested.load(ordering: .relaxed) && Clock.seconds() < end {
            guard let connection = memif.waitForConnection(timeout: .milliseconds(100)) else { continue }
            print(
                "\(label): connected to peer \"\(connection.peerApplicationName)\" interface \"\(connection.peerInterfaceName)\","
                    + " \(connection.receiveQueueCount) rx / \(connection.transmitQueueCount) tx queues,"
                    + " peer \(connection.transmitQueue(0).peerWantsInterrupts ? "wants interrupts" : "polls")")
            drive(connection, until: end, pause: pause, totals: &totals)
            if !connection.isConnected {
                print("\(label): disconnected: \(memif.lastDisconnectReason ?? "unknown reason")")
            }
        }
        print(
            "\(label): total rx-packets=\(totals.rx.packets) rx-bytes=\(totals.rx.bytes) tx-packets=\(totals.tx.packets)"
                + " tx-bytes=\(totals.tx.bytes) rx-drops=\(totals.rx.drops) tx-drops=\(totals.tx.drops)"
                + " bad-descriptors=\(totals.rx.badDescriptors + totals.tx.badDescriptors) chains=\(totals.rx.chains)")
    }

    struct Totals {
        var rx = MemifQueueStatistics()
        var tx = MemifQueueStatistics()
    }

    private func drive(_ connection: MemifConnection, until end: Double, pause: MemifIdlePause, totals: inout Totals) {
        let rxQueues = (0..<connection.receiveQueueCount).map(connection.receiveQueue)
        let txQueues = (0..<connection.transmitQueueCount).map(connection.transmitQueue)
        if options.interrupt { rxQueues.forEach { $0.setInterruptMode(true) } }
        let rxBurst = MemifBurst(capacity: options.burst)
        let txBurst = MemifBurst(capacity: options.burst)
        var frames = TestFrame.Pool.unused
        var limit = UInt64.max
        if case .source(let size, let count, let flows) = action {
            frames = TestFrame.pool(size: size, flows: flows, mode: connection.mode)
            if count > 0 { limit = count }
        }
        var meter = RateMeter(label: label, interval: options.interval, rx: rxQueues, tx: txQueues)
        // Queue pair q: its rx queue, and the tx queue its action uses (a reflector sends
        // back on q modulo the tx queues).
        func pair(_ q: Int) -> (MemifRxQueue?, MemifTxQueue?) {
            let rx = q < rxQueues.count ? rxQueues[q] : nil
            guard !txQueues.isEmpty else { return (rx, nil) }
            if case .reflect = action { return (rx, txQueues[q % txQueues.count]) }
            return (rx, q < txQueues.count ? txQueues[q] : nil)
        }
        let (rx0, tx0) = pair(0)
        frames.bytes.withUnsafeBytes { bytes in
            let pool = MemifFramePool(bytes, length: frames.length, stride: frames.stride)
            var loop = Loop(end: end, limit: limit, pause: pause, rxBurst: rxBurst.buffers, txBurst: txBurst.buffers, frames: pool)
            let pairs = max(rxQueues.count, txQueues.count)
            run(connection, rx0, tx0, &loop, meter: &meter, more: pairs <= 1 ? nil : { loop in
                (1..<pairs).reduce(0) { moved, q in
                    let (rx, tx) = pair(q)
                    return moved + step(rx, tx, &loop)
                }
            })
        }
        meter.tick(force: true)
        for q in rxQueues { totals.rx.add(q.statistics) }
        for q in txQueues { totals.tx.add(q.statistics) }
    }
}

/// What the data loop carries from burst to burst.
private struct Loop {
    let end: Double
    let limit: UInt64
    /// What an empty round waits before the next.
    let pause: MemifIdlePause
    let rxBurst: UnsafeMutableBufferPointer<MemifBuffer>
    let txBurst: UnsafeMutableBufferPointer<MemifBuffer>
    /// What a source sends: one template, or one frame per flow, sent in turn.
    let frames: MemifFramePool
    var next = 0
    var sent: UInt64 = 0
}

extension TrafficRunner {
    /// The data loop. Queue pair 0 comes in as parameters, so each burst uses the handles in
    /// place: a handle read out of an array (or a closure's capture) is a copy, which retains
    /// its connection once per burst. Further pairs (`more`, rare) pay that copy. Kept out
    /// of line so Benchmarks/hot_path_calls.py can find it under callgrind.
    @inline(never)
    fileprivate func run(
        _ connection: MemifConnection, _ rx: MemifRxQueue?, _ tx: MemifTxQueue?, _ loop: inout Loop,
        meter: inout RateMeter, more: ((inout Loop) -> Int)?
    ) {
        var iterations = 0
        let interrupt = options.interrupt  // an ArgumentParser getter: not once per idle poll
        while connection.isConnected {
            var moved = step(rx, tx, &loop)
            if let more { moved += more(&loop) }
            iterations &+= 1
            if iterations & 1023 == 0 || moved == 0 {
                if stopRequested.load(ordering: .relaxed) || Clock.seconds() >= loop.end { break }
                meter.tick()
            }
            if moved == 0 {
                if interrupt {
                    _ = connection.waitForReceiveSignal(timeoutMilliseconds: 100)
                } else {
                    loop.pause.wait()  // nothing moved: poll gently, or let a batch build up
                }
            }
        }
    }

    /// One burst of the action on one queue pair; returns the segments or packets moved.
    /// Handles are unwrapped in place (`rx!`): `if let` would copy them.
    @inline(__always)
    fileprivate func step(_ rx: MemifRxQueue?, _ tx: MemifTxQueue?, _ loop: inout Loop) -> Int {
        switch action {
        case .sink(let read):
            return rx == nil ? 0 : MemifTraffic.sink(rx!, burst: loop.rxBurst, read: read)
        case .reflect:
            guard rx != nil, tx != nil else { return 0 }
            return MemifTraffic.reflect(from: rx!, to: tx!, rxBurst: loop.rxBurst, txBurst: loop.txBurst)
        case .source:
            // Count what comes back (a reflecting peer) so the peer never stalls.
            var moved = rx == nil ? 0 : MemifTraffic.sink(rx!, burst: loop.rxBurst)
            if tx != nil && loop.sent < loop.limit {
                let n = loop.frames.count == 1
                    ? MemifTraffic.source(tx!, frame: loop.frames[0], burst: loop.txBurst, limit: loop.limit - loop.sent)
                    : MemifTraffic.source(
                        tx!, frames: loop.frames, next: &loop.next, burst: loop.txBurst, limit: loop.limit - loop.sent)
                loop.sent += UInt64(n)
                moved += n
            }
            return moved
        }
    }
}

extension MemifQueueStatistics {
    mutating func add(_ other: MemifQueueStatistics) {
        packets += other.packets
        bytes += other.bytes
        drops += other.drops
        badDescriptors += other.badDescriptors
        chains += other.chains
    }
}

enum Clock {
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Prints receive and transmit rates every `interval` seconds from the queues' counters.
struct RateMeter {
    let label: String
    let interval: Double
    let rx: [MemifRxQueue]
    let tx: [MemifTxQueue]
    var last = Clock.seconds()
    var lastRx = MemifQueueStatistics()
    var lastTx = MemifQueueStatistics()

    init(label: String, interval: Double, rx: [MemifRxQueue], tx: [MemifTxQueue]) {
        self.label = label
        self.interval = interval
        self.rx = rx
        self.tx = tx
    }

    mutating func tick(force: Bool = false) {
        let now = Clock.seconds()
        let elapsed = now - last
        guard elapsed >= interval || (force && elapsed > min(0.05, interval)) else { return }
        var r = MemifQueueStatistics(), t = MemifQueueStatistics()
        for q in rx { r.add(q.statistics) }
        for q in tx { t.add(q.statistics) }
        func rate(_ now: MemifQueueStatistics, _ before: MemifQueueStatistics) -> String {
            let pps = Double(now.packets - before.packets) / elapsed
            let bits = Double(now.bytes - before.bytes) * 8 / elapsed
            return "\(format(pps / 1e6)) Mpps \(format(bits / 1e9)) Gbit/s"
        }
        print("\(label): rx \(rate(r, lastRx)) | tx \(rate(t, lastTx))")
        last = now
        lastRx = r
        lastTx = t
    }

    private func format(_ v: Double) -> String {
        let scaled = Int((v * 1000).rounded())
        let frac = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
