import CMemifLinux
import Memif
import MemifPacket
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Moves packets between one tun and one pod memif (server side), on a thread of its own
/// that sleeps in `poll` on the tun, the memif receive eventfds and a wake-up eventfd.
///
/// tun -> memif: each packet is read straight into a reserved memif buffer, behind an
/// Ethernet header (dst = Calico's pod MAC, src = the node-side MAC) in Ethernet mode.
/// memif -> tun: the Ethernet header is stripped and the IP packet written to the tun
/// (`writev` for chains); ARP requests and neighbor solicitations are answered with the
/// node-side MAC, other non-IP frames dropped. Nothing on these paths allocates, locks or
/// retains: buffers, bursts and the scratch frame exist from the start, the connection is
/// swapped only when the control side asks (through ``request(_:)`` and the wake-up fd).
final class SteeringPump: @unchecked Sendable {
    enum Change {
        case attach(MemifConnection)
        case detach
        case stop
    }

    static let burstSize = 64
    /// The most bytes one tun read may return: the largest IP packet.
    static let scratchSize = 65536 + EthernetHeader.size

    let tunFD: Int32
    let ethernet: Bool
    let podMAC: MACAddress
    let nodeMAC: MACAddress
    let counters: KernelSteeringCounters
    /// The tun's MTU: a memif buffer of at least this (plus the header) is read into directly.
    let mtu: Int
    private let podIPv4: [IPv4Address]
    private let podIPv6: [IPv6Address]

    private let wakeFD: Int32
    private let pending = Mutex<[Change]>([])
    private var thread: pthread_t?

    // Pump-thread state. The queue handles live in raw slots, so using them per burst never
    // copies them (a copy would retain the connection they keep alive).
    private var connection: MemifConnection?
    private let transmitSlot = UnsafeMutablePointer<MemifTxQueue>.allocate(capacity: 1)
    private var hasTransmit = false
    private let receiveSlots: UnsafeMutablePointer<MemifRxQueue>
    private var receiveCount = 0
    private var pollSet: UnsafeMutablePointer<pollfd>
    private var pollCount = 2
    private let txBurst = MemifBurst(capacity: SteeringPump.burstSize)
    private let rxBurst = MemifBurst(capacity: SteeringPump.burstSize)
    private let answerBurst = MemifBurst(capacity: 1)
    private let scratch = UnsafeMutableRawPointer.allocate(byteCount: SteeringPump.scratchSize, alignment: 16)
    private let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: SteeringPump.burstSize)
    private let maximumQueues = 256

    init(
        tunFD: Int32, ethernet: Bool, podMAC: MACAddress, nodeMAC: MACAddress, mtu: Int, podIPv4: [IPv4Address],
        podIPv6: [IPv6Address], counters: KernelSteeringCounters
    ) throws(KernelSteeringError) {
        let fd = cmemif_eventfd(0, 1)
        guard fd >= 0 else { throw KernelSteeringError(.system, "eventfd failed: errno \(errno)") }
        wakeFD = fd
        self.tunFD = tunFD
        self.ethernet = ethernet
        self.podMAC = podMAC
        self.nodeMAC = nodeMAC
        self.mtu = mtu
        self.podIPv4 = podIPv4
        self.podIPv6 = podIPv6
        self.counters = counters
        pollSet = .allocate(capacity: 2 + maximumQueues)
        receiveSlots = .allocate(capacity: maximumQueues)
        pollSet[0] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        pollSet[1] = pollfd(fd: tunFD, events: Int16(POLLIN), revents: 0)
    }

    deinit {
        dropConnection()
        transmitSlot.deallocate()
        receiveSlots.deallocate()
        close(wakeFD)
        pollSet.deallocate()
        scratch.deallocate()
        vectors.deallocate()
    }

    func start() throws(KernelSteeringError) {
        var t = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &t, nil,
            { arg in
                let pump = Unmanaged<SteeringPump>.fromOpaque(arg!).takeRetainedValue()
                pump.run()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<SteeringPump>.fromOpaque(context).release()
            throw KernelSteeringError(.system, "cannot start the steering pump thread: errno \(rc)")
        }
        thread = t
    }

    /// Hands a change to the pump thread and wakes it.
    func request(_ change: Change) {
        pending.withLock { $0.append(change) }
        cmemif_eventfd_signal(wakeFD)
    }

    /// Stops the thread and waits for it; the tun and memif are no longer touched afterwards.
    func stop() {
        guard let t = thread else { return }
        thread = nil
        request(.stop)
        pthread_join(t, nil)
    }

    // MARK: - pump thread

    private func run() {
        var busy = false
        while true {
            let ready = poll(pollSet, nfds_t(pollCount), busy ? 0 : -1)
            if ready < 0 && errno != EINTR { break }
            if pollSet[0].revents != 0 {
                _ = cmemif_eventfd_wait(wakeFD, 0)
                if !applyChanges() { break }
            }
            for i in 2..<pollCount where pollSet[i].revents != 0 { _ = cmemif_eventfd_wait(pollSet[i].fd, 0) }
            let moreFromTun = tunToMemif()
            let moreFromMemif = memifToTun()
            busy = moreFromTun || moreFromMemif
        }
        dropConnection()
    }

    /// Returns false when asked to stop.
    private func applyChanges() -> Bool {
        let changes = pending.withLock { p -> [Change] in
            defer { p.removeAll() }
            return p
        }
        for change in changes {
            switch change {
            case .stop: return false
            case .detach: dropConnection()
            case .attach(let c):
                dropConnection()
                guard c.isConnected, c.transmitQueueCount > 0 else { continue }
                connection = c
                transmitSlot.initialize(to: c.transmitQueue(0))
                hasTransmit = true
                receiveCount = min(c.receiveQueueCount, maximumQueues)
                for i in 0..<receiveCount {
                    let q = c.receiveQueue(i)
                    q.setInterruptMode(true)
                    (receiveSlots + i).initialize(to: q)
                    pollSet[2 + i] = pollfd(fd: q.eventFileDescriptor, events: Int16(POLLIN), revents: 0)
                }
                pollCount = 2 + receiveCount
            }
        }
        return true
    }

    private func dropConnection() {
        pollCount = 2
        receiveSlots.deinitialize(count: receiveCount)
        receiveCount = 0
        if hasTransmit { transmitSlot.deinitialize(count: 1) }
        hasTransmit = false
        connection = nil
    }

    /// Reads up to a burst from the tun. Returns true when the burst was full (more may wait).
    private func tunToMemif() -> Bool {
        let header = ethernet ? EthernetHeader.size : 0
        guard hasTransmit, transmitSlot.pointee.isActive else { return drainTun(into: counters.dropsDetached) }
        let buffers = txBurst.buffers
        let free = transmitSlot.pointee.reserve(into: buffers)
        guard free > 0 else { return drainTun(into: counters.dropsMemifFull) }
        var used = 0, reads = 0, bytes = 0, tooBig = 0
        var more = false
        while used < free {
            let b = buffers[used]
            let n: Int
            let direct = Int(b.capacity) >= mtu + header
            if direct {
                n = cmemif_tun_read(tunFD, b.data + header, Int(b.capacity) - header)
            } else {
                n = cmemif_tun_read(tunFD, scratch + header, SteeringPump.scratchSize - header)
            }
            if n <= 0 { break }
            reads &+= 1
            let frame = n + header
            if !direct {
                // A pod with small buffers: chain the packet over as many as it needs.
                if ethernet { writeEthernetHeader(scratch, ipVersion: scratch.load(fromByteOffset: header, as: UInt8.self) >> 4) }
                let k = MemifTxQueue.copy(
                    UnsafeRawBufferPointer(start: scratch, count: frame), into: buffers, from: used, to: free)
                if k == 0 {  // more than all the reserved buffers hold
                    tooBig &+= 1
                    continue
                }
                used &+= k
            } else {
                if ethernet { writeEthernetHeader(b.data, ipVersion: b.data.load(fromByteOffset: header, as: UInt8.self) >> 4) }
                buffers[used].length = UInt32(truncatingIfNeeded: frame)
                buffers[used].flags = 0
                used &+= 1
            }
            bytes &+= frame
            if reads == SteeringPump.burstSize {
                more = true
                break
            }
        }
        if used > 0 {
            let sent = transmitSlot.pointee.publish(buffers, count: used)
            if sent < used { counters.dropsMemifFull.add(UInt64(used - sent), ordering: .relaxed) }
        }
        if reads > 0 {
            counters.steeringHits.add(UInt64(reads), ordering: .relaxed)
            counters.toMemifPackets.add(UInt64(reads &- tooBig), ordering: .relaxed)
            counters.toMemifBytes.add(UInt64(bytes), ordering: .relaxed)
        }
        if tooBig > 0 { counters.dropsTooBig.add(UInt64(tooBig), ordering: .relaxed) }
        return more || (used == free && used > 0)
    }

    /// Reads and drops up to a burst from the tun, counting the drops on `reason`.
    private func drainTun(into reason: borrowing Atomic<UInt64>) -> Bool {
        var n = 0
        while n < SteeringPump.burstSize, cmemif_tun_read(tunFD, scratch, SteeringPump.scratchSize) > 0 { n &+= 1 }
        if n > 0 {
            counters.steeringHits.add(UInt64(n), ordering: .relaxed)
            reason.add(UInt64(n), ordering: .relaxed)
        }
        return n == SteeringPump.burstSize
    }

    @inline(__always)
    private func writeEthernetHeader(_ frame: UnsafeMutableRawPointer, ipVersion: UInt8) {
        podMAC.store(to: frame, at: 0)
        nodeMAC.store(to: frame, at: 6)
        let type: UInt16 = ipVersion == 6 ? EtherType.ipv6 : EtherType.ipv4
        frame.storeBytes(of: type.bigEndian, toByteOffset: 12, as: UInt16.self)
    }

    /// Hands what the pod sent back to the kernel. Returns true when a queue had a full burst.
    private func memifToTun() -> Bool {
        var more = false
        for qi in 0..<receiveCount {
            let n = receiveSlots[qi].receive(into: rxBurst.buffers)
            guard n > 0 else { continue }
            if n == SteeringPump.burstSize { more = true }
            var packets = 0, bytes = 0, notIP = 0, writeFailures = 0, answers = 0, tooBig = 0
            var i = 0
            let segments = rxBurst.buffers
            while i < n {
                var last = i
                while segments[last].hasNext && last + 1 < n { last &+= 1 }
                switch forward(segments, from: i, through: last) {
                case .sent(let b):
                    packets &+= 1
                    bytes &+= b
                case .notIP: notIP &+= 1
                case .writeFailed: writeFailures &+= 1
                case .answered: answers &+= 1
                case .tooBig: tooBig &+= 1
                }
                i = last &+ 1
            }
            receiveSlots[qi].release()
            if packets > 0 {
                counters.fromMemifPackets.add(UInt64(packets), ordering: .relaxed)
                counters.fromMemifBytes.add(UInt64(bytes), ordering: .relaxed)
            }
            if notIP > 0 { counters.dropsNotIP.add(UInt64(notIP), ordering: .relaxed) }
            if writeFailures > 0 { counters.dropsTunWrite.add(UInt64(writeFailures), ordering: .relaxed) }
            if answers > 0 { counters.neighborAnswers.add(UInt64(answers), ordering: .relaxed) }
            if tooBig > 0 { counters.dropsTooBig.add(UInt64(tooBig), ordering: .relaxed) }
        }
        return more
    }

    private enum Outcome {
        case sent(Int)
        case notIP
        case writeFailed
        case answered
        case tooBig
    }

    /// One packet (segments `first...last`) from the pod.
    @inline(__always)
    private func forward(_ s: UnsafeMutableBufferPointer<MemifBuffer>, from first: Int, through last: Int) -> Outcome {
        let head = s[first]
        var skip = 0
        if ethernet {
            guard Int(head.length) >= EthernetHeader.size + 1 else { return .notIP }
            let type = UInt16(bigEndian: head.data.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
            let version = head.data.load(fromByteOffset: EthernetHeader.size, as: UInt8.self) >> 4
            switch type {
            case EtherType.ipv4 where version == 4: break
            case EtherType.ipv6 where version == 6:
                if first == last, isNeighborSolicitation(head) { return answerNeighbor(head) }
            case EtherType.arp:
                return first == last ? answerNeighbor(head) : .notIP
            default: return .notIP
            }
            skip = EthernetHeader.size
        } else {
            guard head.length > 0 else { return .notIP }
            let version = head.data.load(as: UInt8.self) >> 4
            guard version == 4 || version == 6 else { return .notIP }
        }
        if first == last {
            let length = Int(head.length) - skip
            return cmemif_tun_write(tunFD, head.data + skip, length) == length ? .sent(length) : .writeFailed
        }
        var total = 0
        for k in first...last {
            let offset = k == first ? skip : 0
            vectors[k - first] = iovec(iov_base: s[k].data + offset, iov_len: Int(s[k].length) - offset)
            total &+= Int(s[k].length) - offset
        }
        guard total <= 65535 else { return .tooBig }
        return writev(tunFD, vectors, Int32(last - first + 1)) == total ? .sent(total) : .writeFailed
    }

    /// IPv6 with no extension header, ICMPv6 type 135 (the form every stack sends).
    @inline(__always)
    private func isNeighborSolicitation(_ b: MemifBuffer) -> Bool {
        let icmp = EthernetHeader.size + IPv6Header.size
        guard Int(b.length) >= icmp + 24 else { return false }
        return b.data.load(fromByteOffset: EthernetHeader.size + 6, as: UInt8.self) == IPProtocol.icmpv6
            && b.data.load(fromByteOffset: icmp, as: UInt8.self) == ICMPv6Header.neighborSolicitation
    }

    /// Answers an ARP request or a neighbor solicitation for any address but the pod's own
    /// (those are duplicate-address probes) with the node-side MAC, as a proxy: the node is
    /// the pod's next hop for everything. Rare traffic: the answer takes one buffer of its own.
    private func answerNeighbor(_ question: MemifBuffer) -> Outcome {
        let length = Int(question.length)
        let l3 = question.data + EthernetHeader.size
        let isARP = UInt16(bigEndian: question.data.loadUnaligned(fromByteOffset: 12, as: UInt16.self)) == EtherType.arp
        if isARP {
            guard case .success(let arp) = ARPHeader.parse(l3, length: length - EthernetHeader.size),
                arp.operation == ARPHeader.request, !podIPv4.contains(arp.targetProtocolAddress)
            else { return .notIP }
        } else {
            let target = IPv6Address(loadingFrom: l3, at: IPv6Header.size + 8)
            guard !podIPv6.contains(target) else { return .notIP }
        }
        guard hasTransmit, transmitSlot.pointee.reserve(into: answerBurst.buffers) > 0 else { return .notIP }
        let out = answerBurst.buffers[0]
        let room = Int(out.capacity)
        guard room >= length else { return .tooBig }
        out.data.copyMemory(from: question.data, byteCount: length)
        var answer = 0
        if isARP {
            if case .success = InPlaceReply.arp(frame: out.data, length: length, hardwareAddress: nodeMAC) { answer = length }
        } else if case .success(let n) = InPlaceReply.neighborAdvertisement(
            frame: out.data, length: length, capacity: room, hardwareAddress: nodeMAC, router: true)
        {
            answer = n
        }
        guard answer > 0 else { return .notIP }
        answerBurst.buffers[0].length = UInt32(truncatingIfNeeded: answer)
        answerBurst.buffers[0].flags = 0
        return transmitSlot.pointee.publish(answerBurst.buffers, count: 1) == 1 ? .answered : .notIP
    }
}
