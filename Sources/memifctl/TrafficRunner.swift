import CMemifLinux
import Memif
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM; the data loop checks it between bursts.
let stopRequested = Atomic<Bool>(false)

/// Runs one memif side with one traffic action, printing rates once a second.
struct TrafficRunner {
    enum Action {
        case reflect
        case sink
        case source(size: Int, count: UInt64)
    }

    let options: InterfaceOptions
    let action: Action
    static let burstSize = 256

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
                    + " \(connection.receiveQueueCount) rx / \(connection.transmitQueueCount) tx queues")
            drive(connection, until: end, totals: &totals)
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

    private func drive(_ connection: MemifConnection, until end: Double, totals: inout Totals) {
        let rxQueues = (0..<connection.receiveQueueCount).map(connection.receiveQueue)
        let txQueues = (0..<connection.transmitQueueCount).map(connection.transmitQueue)
        if options.interrupt { rxQueues.forEach { $0.setInterruptMode(true) } }
        let rxBurst = MemifBurst(capacity: Self.burstSize)
        let txBurst = MemifBurst(capacity: Self.burstSize)
        var frame: [UInt8] = []
        var limit = UInt64.max
        if case .source(let size, let count) = action {
            frame = TestFrame.make(size: size, mode: connection.mode)
            if count > 0 { limit = count }
        }
        var meter = RateMeter(label: label, rx: rxQueues, tx: txQueues)
        var sent: UInt64 = 0
        var iterations = 0
        frame.withUnsafeBytes { template in
            while connection.isConnected {
                var moved = 0
                for q in 0..<max(rxQueues.count, txQueues.count) {
                    switch action {
                    case .sink:
                        if q < rxQueues.count { moved += sink(rxQueues[q], rxBurst) }
                    case .reflect:
                        if q < rxQueues.count { moved += reflect(rxQueues[q], txQueues[q % txQueues.count], rxBurst, txBurst) }
                    case .source:
                        // Count what comes back (a reflecting peer) so the peer never stalls.
                        if q < rxQueues.count { moved += sink(rxQueues[q], rxBurst) }
                        if q < txQueues.count && sent < limit {
                            let n = source(txQueues[q], txBurst, template, limit - sent)
                            sent += UInt64(n)
                            moved += n
                        }
                    }
                }
                iterations &+= 1
                if iterations & 1023 == 0 || moved == 0 {
                    if stopRequested.load(ordering: .relaxed) || Clock.seconds() >= end { break }
                    meter.tick()
                }
                if moved == 0 && options.interrupt {
                    _ = connection.waitForReceiveSignal(timeoutMilliseconds: 100)
                }
            }
        }
        meter.tick(force: true)
        for q in rxQueues { totals.rx.add(q.statistics) }
        for q in txQueues { totals.tx.add(q.statistics) }
    }

    /// Counts packets; reads each one's first cache line, as testpmd rxonly touches the mbuf.
    private func sink(_ rx: MemifRxQueue, _ burst: borrowing MemifBurst) -> Int {
        let n = rx.receive(into: burst.buffers)
        guard n > 0 else { return 0 }
        var touch: UInt64 = 0
        for i in 0..<n { touch &+= burst[i].data.loadUnaligned(as: UInt64.self) }
        blackHole(touch)
        rx.release()
        return n
    }

    private func reflect(_ rx: MemifRxQueue, _ tx: MemifTxQueue, _ rxBurst: borrowing MemifBurst, _ txBurst: borrowing MemifBurst) -> Int {
        let n = rx.receive(into: rxBurst.buffers)
        guard n > 0 else { return 0 }
        let free = tx.reserve(into: txBurst.buffers)
        var used = 0
        var dropped = 0
        var first = 0
        while first < n {
            var last = first
            while rxBurst[last].hasNext { last += 1 }
            let segments = UnsafeMutableBufferPointer(rebasing: rxBurst.buffers[first...last])
            let k = MemifTxQueue.copy(segments: segments, into: txBurst.buffers, from: used, to: free)
            if k == 0 {
                dropped += 1
            } else {
                swapMACs(txBurst[used])
                used += k
            }
            first = last + 1
        }
        tx.publish(txBurst.buffers, count: used)
        if dropped > 0 { tx.recordDrops(dropped) }
        rx.release()
        return n
    }

    private func source(_ tx: MemifTxQueue, _ burst: borrowing MemifBurst, _ frame: UnsafeRawBufferPointer, _ left: UInt64)
        -> Int
    {
        let free = tx.reserve(into: burst.buffers)
        var used = 0
        var packets = 0
        while used < free && UInt64(packets) < left {
            let k = MemifTxQueue.copy(frame, into: burst.buffers, from: used, to: free)
            if k == 0 { break }
            used += k
            packets += 1
        }
        return used == 0 ? 0 : tx.publish(burst.buffers, count: used) > 0 ? packets : 0
    }

    private func swapMACs(_ b: MemifBuffer) {
        guard b.length >= 12 else { return }
        let p = b.data
        let d0 = p.loadUnaligned(as: UInt32.self), d1 = p.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        let s0 = p.loadUnaligned(fromByteOffset: 6, as: UInt32.self), s1 = p.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        p.storeBytes(of: s0, as: UInt32.self)
        p.storeBytes(of: s1, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: d0, toByteOffset: 6, as: UInt32.self)
        p.storeBytes(of: d1, toByteOffset: 10, as: UInt16.self)
    }
}

@inline(never) func blackHole(_ value: UInt64) { _ = value }

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

/// Prints receive and transmit rates once a second from the queues' counters.
struct RateMeter {
    let label: String
    let rx: [MemifRxQueue]
    let tx: [MemifTxQueue]
    var last = Clock.seconds()
    var lastRx = MemifQueueStatistics()
    var lastTx = MemifQueueStatistics()

    init(label: String, rx: [MemifRxQueue], tx: [MemifTxQueue]) {
        self.label = label
        self.rx = rx
        self.tx = tx
    }

    mutating func tick(force: Bool = false) {
        let now = Clock.seconds()
        let elapsed = now - last
        guard elapsed >= 1 || (force && elapsed > 0.05) else { return }
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
