// Per-packet cost of MemifPacket's hot operations, for callgrind (instructions) and the clock.
// Built by run.sh as a separate module against an optimised MemifPacket, as a CNF links it.
import Glibc
import MemifPacket

/// 64 frames of one shape, so the loop is not a single cached path through constant data.
func frames(_ make: (Int, UnsafeMutableRawPointer) -> Int) -> [(UnsafeMutableRawPointer, Int)] {
    (0..<64).map { i in
        let p = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 2048)
        return (p, make(i, p))
    }
}

func tcp4(_ i: Int, _ p: UnsafeMutableRawPointer) -> Int {
    let l2 = try! EthernetHeader.build(at: p, capacity: 2048, destination: .broadcast, source: MACAddress(rawValue: UInt64(i)),
                                       etherType: EtherType.ipv4, tags: [VLANTag(vlanID: 100)]).get()
    let pseudo = PseudoHeader.ipv4(source: IPv4Address(rawValue: UInt32(i)), destination: IPv4Address(10, 0, 0, 1))
    _ = try! TCPHeader.build(at: p + l2 + 20, capacity: 2000, sourcePort: UInt16(i), destinationPort: 443, sequenceNumber: 1,
                             acknowledgmentNumber: 2, flags: TCPFlags.ack, window: 100, payloadLength: 1400, pseudoHeader: pseudo).get()
    _ = try! IPv4Header.build(at: p + l2, capacity: 2000, source: IPv4Address(rawValue: UInt32(i)), destination: IPv4Address(10, 0, 0, 1),
                              protocolNumber: IPProtocol.tcp, payloadLength: 1420).get()
    return l2 + 20 + 1420
}

func udp6(_ i: Int, _ p: UnsafeMutableRawPointer) -> Int {
    let l2 = try! EthernetHeader.build(at: p, capacity: 2048, destination: .broadcast, source: .zero, etherType: EtherType.ipv6).get()
    // Hop-by-hop and destination options (8 bytes each) before UDP.
    let src = IPv6Address(high: 0xFD00 << 48, low: UInt64(i)), dst = IPv6Address(high: 0xFD00 << 48, low: 1)
    _ = try! IPv6Header.build(at: p + l2, capacity: 2000, source: src, destination: dst, nextHeader: 0, payloadLength: 16 + 8 + 64).get()
    let ext = p + l2 + 40
    ext.storeBytes(of: UInt8(60), as: UInt8.self)
    ext.storeBytes(of: UInt8(17), toByteOffset: 8, as: UInt8.self)
    _ = try! UDPHeader.build(at: ext + 16, capacity: 100, sourcePort: UInt16(i), destinationPort: 53, payloadLength: 64,
                             pseudoHeader: .ipv6(source: src, destination: dst)).get()
    return l2 + 40 + 16 + 8 + 64
}

@inline(never)
func run(_ mode: String, _ n: Int) -> UInt64 {
    var acc: UInt64 = 0
    switch mode {
    case "walk-tcp4":  // Ethernet + one VLAN tag + IPv4 + ports
        let fs = frames(tcp4)
        for k in 0..<n {
            let (p, len) = fs[k & 63]
            if case .success(let t) = PacketWalk.frame(p, length: len), let ports = PacketWalk.ports(p, at: t.offset, end: t.end) {
                acc &+= UInt64(ports.destination) &+ UInt64(t.fragment.rawValue)
            }
        }
    case "walk-udp6-ext":  // Ethernet + IPv6 + hop-by-hop + destination options + ports
        let fs = frames(udp6)
        for k in 0..<n {
            let (p, len) = fs[k & 63]
            if case .success(let t) = PacketWalk.frame(p, length: len), let ports = PacketWalk.ports(p, at: t.offset, end: t.end) {
                acc &+= UInt64(ports.destination) &+ UInt64(t.offset)
            }
        }
    case "checksum-1500":  // RFC 1071 over 1500 bytes
        let fs = frames(tcp4)
        for k in 0..<n { acc &+= UInt64(InternetChecksum.sum(fs[k & 63].0, count: 1500)) }
    case "ttl-and-rewrite":  // l3fwd + NAT: TTL decrement, destination address and port rewrite
        let fs = frames(tcp4)
        for k in 0..<n {
            let (p, len) = fs[k & 63]
            let ip = try! IPv4Header.parse(p + 18, length: len - 18).get()
            _ = ip.decrementTimeToLive()
            ip.timeToLive = 64
            ip.rewriteDestination(IPv4Address(rawValue: UInt32(truncatingIfNeeded: k)))
            let tcp = try! TCPHeader.parse(p + 38, length: len - 38).get()
            tcp.rewriteDestinationPort(UInt16(truncatingIfNeeded: k))
            acc &+= UInt64(tcp.checksum)
        }
    default:
        fatalError("unknown mode \(mode)")
    }
    return acc
}

let args = CommandLine.arguments
let mode = args[1], n = Int(args[2])!
var t0 = timespec(), t1 = timespec()
clock_gettime(CLOCK_MONOTONIC, &t0)
let result = run(mode, n)
clock_gettime(CLOCK_MONOTONIC, &t1)
let ns = Double(t1.tv_sec - t0.tv_sec) * 1e9 + Double(t1.tv_nsec - t0.tv_nsec)
print("\(mode) n=\(n) ns/op=\((ns / Double(n) * 100).rounded() / 100) result=\(result)")
