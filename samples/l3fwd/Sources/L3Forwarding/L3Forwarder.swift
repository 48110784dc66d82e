import MemifKit
import Synchronization

/// Where a route sends packets: the output channel and, on Ethernet, the next hop's MAC.
public struct NextHop: Sendable, Equatable {
    public let channel: Int
    public let mac: MACAddress
}

/// The routes of a configuration, as the forwarders look them up.
public struct RouteTables: Sendable {
    public let ipv4: PrefixTable<NextHop>
    public let ipv6: PrefixTable<NextHop>

    public init(_ configuration: L3Configuration) {
        var v4 = PrefixTable<NextHop>.Builder(addressBytes: 4)
        var v6 = PrefixTable<NextHop>.Builder(addressBytes: 16)
        for r in configuration.routes {
            let hop = NextHop(channel: r.channel, mac: r.nextHop)
            if r.address.count == 4 {
                v4.insert(r.address, prefixLength: r.prefixLength, value: hop)
            } else {
                v6.insert(r.address, prefixLength: r.prefixLength, value: hop)
            }
        }
        ipv4 = v4.build()
        ipv6 = v6.build()
    }
}

/// One worker's forwarding loop over queue `index` of every channel: receive a burst,
/// route each packet (LPM), decrement TTL / hop limit with an incremental checksum update,
/// rewrite the MACs, answer ARP/ND for the channel's own addresses, then hand each output
/// channel its packets by descriptor (or one copy when buffers are not shared).
/// Nothing here allocates after init.
public struct L3Forwarder: ~Copyable {
    struct Port {
        var queue: MemifChannelQueue
        let framing: MemifFraming
        let mac: MACAddress
    }

    let ports: UnsafeMutableBufferPointer<Port>
    let responders: UnsafeMutablePointer<NeighborResponder>
    let routes: RouteTables
    let statistics: L3Statistics
    /// `statistics.forwarding`, held here so a burst passes it on without a retain.
    let forwarding: ForwardingCounters
    let burst: Int
    /// Received views, then per output channel a run of `burst` views and its count.
    let received: MemifBurst
    let outgoing: MemifBurst
    let outgoingCounts: UnsafeMutableBufferPointer<Int>
    let scratch: MemifBurst

    public init(
        channels: [MemifChannel], configuration: L3Configuration, queue index: Int, routes: RouteTables,
        statistics: L3Statistics, burst: Int = 32
    ) {
        precondition(channels.count == configuration.channels.count)
        ports = .allocate(capacity: channels.count)
        responders = .allocate(capacity: channels.count)
        for (i, c) in configuration.channels.enumerated() {
            (ports.baseAddress! + i).initialize(to: Port(queue: channels[i].queue(index), framing: c.framing, mac: c.mac))
            (responders + i).initialize(to: NeighborResponder(mac: c.mac, ipv4: c.ipv4, ipv6: c.ipv6))
        }
        self.routes = routes
        self.statistics = statistics
        forwarding = statistics.forwarding
        self.burst = burst
        received = MemifBurst(capacity: burst)
        outgoing = MemifBurst(capacity: burst * channels.count)
        outgoingCounts = .allocate(capacity: channels.count)
        outgoingCounts.initialize(repeating: 0)
        scratch = MemifBurst(capacity: burst * 8)
    }

    deinit {
        ports.deinitialize().deallocate()
        responders.deinitialize(count: ports.count)
        responders.deallocate()
        outgoingCounts.deallocate()
    }

    /// Port `i` in place: reading a field through `ports[i]` copies the whole port, and with
    /// it retains its queue's channel and connection.
    @inline(__always)
    func port(_ i: Int) -> UnsafeMutablePointer<Port> { ports.baseAddress.unsafelyUnwrapped + i }

    /// The channel queues this worker polls, for interrupt-mode wakeups.
    public var queues: [MemifChannelQueue] { ports.map(\.queue) }

    /// One round: every channel's queue once. Returns the packets received.
    public mutating func poll() -> Int {
        var total = 0
        for input in 0..<ports.count { total &+= serve(input) }
        return total
    }

    /// Forwards between two ports' queues. Both come in `inout`, so the compiler knows that
    /// nothing else changes them during the call and uses the input's handles as they are;
    /// read through a pointer, it would copy them, retaining their connection per burst.
    @inline(never)
    static func forward(
        _ run: UnsafeMutableBufferPointer<MemifBuffer>, count: Int, from input: inout MemifChannelQueue,
        to output: inout MemifChannelQueue, scratch: UnsafeMutableBufferPointer<MemifBuffer>, counters: ForwardingCounters
    ) {
        output.forward(run, count: count, from: input, scratch: scratch, counters: counters)
    }

    /// What to do with one received packet.
    enum Verdict {
        case forward(Int)
        case answer
        case expired, unroutable, malformed, notIP
    }

    mutating func serve(_ input: Int) -> Int {
        let views = received.buffers
        let n = port(input).pointee.queue.receive(into: views)
        guard n > 0 else { return 0 }
        let framing = port(input).pointee.framing
        var packets = 0, expired = 0, unroutable = 0, malformed = 0, notIP = 0, answers = 0
        var first = 0
        while first < n {
            var last = first
            while last < n &- 1 && views[last].hasNext { last &+= 1 }
            packets &+= 1
            switch route(views.baseAddress! + first, single: first == last, framing: framing, input: input) {
            case .forward(let output):
                enqueue(views, first...last, to: output)
            case .answer:
                answers &+= 1
                enqueue(views, first...last, to: input)
            case .expired: expired &+= 1
            case .unroutable: unroutable &+= 1
            case .malformed: malformed &+= 1
            case .notIP: notIP &+= 1
            }
            first = last &+ 1
        }
        for output in 0..<ports.count where outgoingCounts[output] > 0 {
            let run = UnsafeMutableBufferPointer(rebasing: outgoing.buffers[(output &* burst)..<(output &* burst &+ burst)])
            // Queues are used in place: a copy of a queue handle retains its connection.
            if output == input {
                port(input).pointee.queue.sendBack(
                    run, count: outgoingCounts[output], scratch: scratch.buffers, counters: forwarding)
            } else {
                Self.forward(
                    run, count: outgoingCounts[output], from: &port(input).pointee.queue, to: &port(output).pointee.queue,
                    scratch: scratch.buffers, counters: forwarding)
            }
            outgoingCounts[output] = 0
        }
        port(input).pointee.queue.release()
        statistics.received.add(packets, ordering: .relaxed)
        if expired | unroutable | malformed | notIP | answers != 0 {
            statistics.expired.add(expired, ordering: .relaxed)
            statistics.unroutable.add(unroutable, ordering: .relaxed)
            statistics.malformed.add(malformed, ordering: .relaxed)
            statistics.notIP.add(notIP, ordering: .relaxed)
            statistics.neighborAnswers.add(answers, ordering: .relaxed)
        }
        return n
    }

    @inline(__always)
    func enqueue(_ views: UnsafeMutableBufferPointer<MemifBuffer>, _ range: ClosedRange<Int>, to output: Int) {
        var k = outgoingCounts[output]
        let base = output &* burst
        for i in range where k < burst {
            outgoing[base &+ k] = views[i]
            k &+= 1
        }
        outgoingCounts[output] = k
    }

    /// Routes the packet whose first segment is `head`, rewriting it in place.
    @inline(__always)
    mutating func route(_ head: UnsafeMutablePointer<MemifBuffer>, single: Bool, framing: MemifFraming, input: Int) -> Verdict {
        let data = head.pointee.data
        let length = Int(head.pointee.length)
        var offset = 0
        var etherType: UInt16
        if framing == .ethernet {
            guard case .success(let l2) = PacketWalk.ethernet(data, length: length) else { return .malformed }
            offset = l2.offset
            etherType = l2.etherType
            if etherType == EtherType.arp || (etherType == EtherType.ipv6 && isNeighborDiscovery(data, length, offset)) {
                guard single else { return .malformed }
                switch responders[input].handle(frame: data, length: length, capacity: Int(head.pointee.capacity)) {
                case .answered(let n):
                    head.pointee.length = UInt32(n)
                    return .answer
                case .malformed: return .malformed
                case .learned, .notNeighborTraffic: return .notIP
                }
            }
        } else {
            guard length > 0 else { return .malformed }
            etherType = data.load(as: UInt8.self) >> 4 == 6 ? EtherType.ipv6 : EtherType.ipv4
        }
        let ip = data + offset
        let room = length &- offset
        let hop: NextHop
        if etherType == EtherType.ipv4 {
            guard case .success(let h) = IPv4Header.parse(ip, length: room) else { return .malformed }
            guard h.timeToLive > 1 else { return .expired }
            guard let found = routes.ipv4.lookup(at: ip + 16) else { return .unroutable }
            _ = h.decrementTimeToLive()
            hop = found
        } else if etherType == EtherType.ipv6 {
            guard case .success(let h) = IPv6Header.parse(ip, length: room) else { return .malformed }
            guard h.hopLimit > 1 else { return .expired }
            guard let found = routes.ipv6.lookup(at: ip + 24) else { return .unroutable }
            _ = h.decrementHopLimit()
            hop = found
        } else {
            return .notIP
        }
        if framing == .ethernet && port(hop.channel).pointee.framing == .ethernet {
            hop.mac.store(to: data, at: 0)
            port(hop.channel).pointee.mac.store(to: data, at: 6)
        } else if framing != port(hop.channel).pointee.framing {
            return .unroutable  // re-framing between L2 and L3 channels is not done here
        }
        return .forward(hop.channel)
    }

    /// An ICMPv6 neighbor solicitation or advertisement, found without extension headers
    /// (RFC 4861 messages carry none in practice; one that does is routed like any packet).
    @inline(__always)
    func isNeighborDiscovery(_ data: UnsafeMutableRawPointer, _ length: Int, _ offset: Int) -> Bool {
        guard length >= offset + 41, data.load(fromByteOffset: offset + 6, as: UInt8.self) == IPProtocol.icmpv6 else { return false }
        let type = data.load(fromByteOffset: offset + 40, as: UInt8.self)
        return type == ICMPv6Header.neighborSolicitation || type == ICMPv6Header.neighborAdvertisement
    }
}
