import Memif
import MemifKit

/// The SDK's data path in one process: `measuredChannelTransmit` writes frames into channel
/// `source`; on alternate bursts `measuredChannelForward` moves them from channel `input`
/// (its peer) into channel `output` (a client), where a core server sinks them, and
/// `measuredChannelSendBack` returns them to `source`, which drains them. What a CNF built
/// on MemifKit does per burst.
///
/// Copying (`pooled` false): `source` is a client, `input` its server, and `input` and
/// `output` share no memory, so both calls copy. By descriptor (`pooled` true): `source` is
/// the server, and `input` and `output` are clients on one ``MemifBufferPool``, so neither
/// call copies.
final class ChannelLoopback {
    static let burstSize = 32

    private let loop: MemifEventLoop
    private let sink: MemifInterface
    private let sourceChannel: MemifChannel
    private let inputChannel: MemifChannel
    private let outputChannel: MemifChannel
    private var source: MemifChannelQueue
    private var input: MemifChannelQueue
    private var output: MemifChannelQueue
    private let rx: MemifRxQueue
    private let counters = ForwardingCounters()
    private let txBurst = MemifBurst(capacity: ChannelLoopback.burstSize)
    private let views = MemifBurst(capacity: ChannelLoopback.burstSize)
    private let scratch = MemifBurst(capacity: ChannelLoopback.burstSize * 8)
    private let rxBurst = MemifBurst(capacity: ChannelLoopback.burstSize)
    private let returned = MemifBurst(capacity: ChannelLoopback.burstSize)
    private let frame: [UInt8]

    init(frameSize: Int, pooled: Bool) throws {
        let id = UInt32.random(in: 0...UInt32.max)
        let inputSocket = try MemifSocketName("@memif-bench-in-\(id)")
        let outputSocket = try MemifSocketName("@memif-bench-out-\(id)")
        loop = try MemifEventLoop()
        sink = try MemifInterface(MemifConfiguration(role: .server, socket: outputSocket), eventLoop: loop)
        let pool = pooled ? try MemifBufferPool(channels: 2) : nil
        var sourceOptions = MemifChannelOptions()
        sourceOptions.socket = inputSocket.description
        sourceOptions.role = pooled ? .server : .client
        var inputOptions = sourceOptions
        inputOptions.role = pooled ? .client : .server
        inputOptions.pool = pool
        var outputOptions = MemifChannelOptions()
        outputOptions.socket = outputSocket.description
        outputOptions.pool = pool
        sourceChannel = try MemifChannel(sourceOptions, eventLoop: loop)
        inputChannel = try MemifChannel(inputOptions, eventLoop: loop)
        outputChannel = try MemifChannel(outputOptions, eventLoop: loop)
        try sink.start()
        try inputChannel.start()
        try sourceChannel.start()
        try outputChannel.start()
        let channels = [sourceChannel, inputChannel, outputChannel]
        guard let k = sink.waitForConnection(timeout: .seconds(30)),
            channels.allSatisfy({ $0.waitUntilConnected(timeout: .seconds(30)) })
        else { throw MemifError(.disconnected, "channel loopback did not connect") }
        rx = k.receiveQueue(0)
        source = sourceChannel.queue(0)
        input = inputChannel.queue(0)
        output = outputChannel.queue(0)
        frame = (0..<frameSize).map { UInt8(truncatingIfNeeded: $0) }
    }

    var detail: String { ", forwarded and sent back: \(counters.snapshot)" }

    func close() {
        sink.stop()
        sourceChannel.stop()
        inputChannel.stop()
        outputChannel.stop()
        loop.shutdown()
    }

    /// Moves frames until `packets` whole packets have arrived back (at the sink or at
    /// `source`); returns that count.
    func move(packets: Int) -> Int {
        let start = arrived
        var received = 0
        var forward = true
        frame.withUnsafeBytes { frame in
            while received < packets {
                _ = measuredChannelTransmit(&source, frame, txBurst.buffers)
                if forward {
                    _ = measuredChannelForward(&input, &output, views.buffers, scratch.buffers, counters)
                } else {
                    _ = measuredChannelSendBack(&input, views.buffers, scratch.buffers, counters)
                }
                forward.toggle()
                _ = MemifTraffic.sink(rx, burst: rxBurst.buffers)
                _ = source.receive(into: returned.buffers)
                source.release()
                received = arrived - start
            }
        }
        return received
    }

    /// Whole packets received so far at the sink and back at `source`.
    private var arrived: Int {
        Int(rx.statistics.packets + (source.receiveQueue?.statistics.packets ?? 0))
    }
}

/// One burst of a forwarding CNF on MemifKit: receive on one channel queue, forward to
/// another, release. Not inlined, so callgrind can count what runs inside it alone.
@inline(never)
func measuredChannelForward(
    _ input: inout MemifChannelQueue, _ output: inout MemifChannelQueue, _ views: UnsafeMutableBufferPointer<MemifBuffer>,
    _ scratch: UnsafeMutableBufferPointer<MemifBuffer>, _ counters: ForwardingCounters
) -> Int {
    let n = input.receive(into: views)
    guard n > 0 else { return 0 }
    let sent = output.forward(views, count: n, from: input, scratch: scratch, counters: counters)
    input.release()
    return sent
}

/// One burst of a reflecting CNF on MemifKit: receive, send back out of the same queue
/// pair, release.
@inline(never)
func measuredChannelSendBack(
    _ queue: inout MemifChannelQueue, _ views: UnsafeMutableBufferPointer<MemifBuffer>,
    _ scratch: UnsafeMutableBufferPointer<MemifBuffer>, _ counters: ForwardingCounters
) -> Int {
    let n = queue.receive(into: views)
    guard n > 0 else { return 0 }
    let sent = queue.sendBack(views, count: n, scratch: scratch, counters: counters)
    queue.release()
    return sent
}

/// One burst of a CNF that builds packets on MemifKit: reserve free buffers on a channel
/// queue, write whole frames into them (chaining large ones), publish.
@inline(never)
func measuredChannelTransmit(
    _ queue: inout MemifChannelQueue, _ frame: UnsafeRawBufferPointer, _ burst: UnsafeMutableBufferPointer<MemifBuffer>
) -> Int {
    let free = queue.reserve(into: burst)
    var used = 0
    while used < free {
        let k = MemifTxQueue.copy(frame, into: burst, from: used, to: free)
        if k == 0 { break }
        used &+= k
    }
    return used > 0 ? queue.publish(burst, count: used) : 0
}
