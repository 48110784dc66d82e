import MemifKit

/// A whole CNF: answers ARP and neighbor solicitations for the pod's addresses and sends every
/// other packet back to its sender (addresses and ports swapped), by descriptor: no copy.
public struct Reflector: ~Copyable {
    var queue: MemifChannelQueue
    let framing: MemifFraming
    var neighbors: NeighborResponder
    let burst = MemifBurst(capacity: 32), scratch = MemifBurst(capacity: 32)
    public let counters = ForwardingCounters()

    public init(_ queue: MemifChannelQueue, addresses: consuming NeighborResponder) {
        self.queue = queue
        framing = queue.channel.options.framing
        neighbors = addresses
    }

    public mutating func poll() -> Int {
        let n = queue.receive(into: burst.buffers)
        var packetStart = true
        for i in 0..<n {
            let b = burst[i]
            if packetStart, framing == .ethernet,
                case .answered(let length) = neighbors.handle(frame: b.data, length: Int(b.length), capacity: Int(b.capacity))
            {
                burst[i].length = UInt32(length)
            } else if packetStart {
                b.swapFiveTuple(framing)
            }
            packetStart = !b.hasNext
        }
        queue.sendBack(burst.buffers, count: n, scratch: scratch.buffers, counters: counters)
        queue.release()
        return n
    }
}
