import Foundation

/// Packets crafted by scapy (Debian's python3-scapy, run by /usr/bin/python3), each with the
/// path the steering policy gives it under `ScapyCases.rules`. scapy builds the bytes, so the
/// classifier is checked against an implementation of the headers other than our own.
struct ScapyCase: Sendable, CustomStringConvertible {
    var name: String
    var expected: String
    /// The Ethernet frame.
    var frame: [UInt8]
    /// The IP packet inside it, or nil when it carries none.
    var ipPacket: [UInt8]?
    /// Whether the frame ends in link padding (so its prefixes are not all truncated packets).
    var padded: Bool

    var description: String { name }
}

enum ScapyCases {
    /// The rule set every case is judged against.
    static let rules = "tcp:80,tcp:4444-20000,udp:53,udp:6081"

    /// Empty when scapy could not run; `scapyMadeEveryCase` then fails with `loadError`.
    static let all: [ScapyCase] = (try? load().get()) ?? []
    static var loadError: String? {
        if case .failure(let e) = load() { return e.description }
        return nil
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Result<[ScapyCase], LoadError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let out = Pipe()
        let errors = Pipe()
        process.standardOutput = out
        process.standardError = errors
        do { try process.run() } catch { return .failure(LoadError(description: "cannot run /usr/bin/python3: \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(LoadError(description: "the scapy case script failed (python3-scapy installed?):\n\(errorText)"))
        }
        var cases: [ScapyCase] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 5 else { return .failure(LoadError(description: "bad case line: \(line)")) }
            cases.append(ScapyCase(name: f[0], expected: f[1], frame: bytes(f[2]), ipPacket: f[3] == "-" ? nil : bytes(f[3]), padded: f[4] == "1"))
        }
        return .success(cases)
    }

    private static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    private static let script = #"""
        import logging
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy.all import (Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ARP, IPOption,
            IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment, AH, ESP, SCTP,
            Raw, PadN)

        E = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
        v4 = IP(src="10.0.0.1", dst="10.0.0.2")
        v6 = IPv6(src="fd00::1", dst="fd00::2")
        E4 = bytes(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01", type=0x0800))
        cases = []

        def case(name, expected, l3, tags=(), padded=False):
            frame = E
            for t in tags:
                frame = frame / t
            frame = frame / l3
            raw = bytes(frame)
            ip = bytes(l3) if (IP in l3 or IPv6 in l3) else None
            if padded:
                raw += b"\0" * 12
            cases.append((name, expected, raw.hex(), ip.hex() if ip is not None else "-", "1" if padded else "0"))

        # Destination ports, ranges, protocols.
        case("v4-tcp-80", "memif", v4 / TCP(sport=40000, dport=80))
        case("v4-tcp-81", "normal", v4 / TCP(sport=40000, dport=81))
        case("v4-tcp-range-low", "memif", v4 / TCP(dport=4444))
        case("v4-tcp-range-high", "memif", v4 / TCP(dport=20000))
        case("v4-tcp-above-range", "normal", v4 / TCP(dport=20001))
        case("v4-udp-53", "memif", v4 / UDP(sport=1000, dport=53) / Raw(b"query"))
        case("v4-udp-source-53-only", "normal", v4 / UDP(sport=53, dport=1000))
        case("v4-udp-80-is-not-tcp-80", "normal", v4 / UDP(dport=80))
        case("v4-tcp-53-is-not-udp-53", "normal", v4 / TCP(dport=53))
        case("v4-sctp-80", "normal", v4 / SCTP(dport=80))
        case("v4-df-tcp-80", "memif", IP(src="10.0.0.1", dst="10.0.0.2", flags="DF") / TCP(dport=80))
        case("v4-padded-udp-53", "memif", v4 / UDP(dport=53), padded=True)
        # IPv4 options: bytes right after a 20-byte header would read as port 80 (stream id 0x0050).
        case("v4-options-real-81-fake-80", "normal", IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x88\x04\x00\x50")]) / TCP(dport=81))
        case("v4-options-real-80-fake-81", "memif", IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x88\x04\x00\x51")]) / TCP(dport=80))
        case("v4-40-bytes-of-options", "memif", IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x01" * 40)]) / UDP(dport=6081))
        # IPv4 fragments: the first carries the ports, the next ones carry payload that looks like port 53.
        first4, second4 = (v4 / UDP(sport=1000, dport=53) / Raw(b"\x03\xe8\x00\x35" * 8)).fragment(24)[:2]
        case("v4-first-fragment-udp-53", "normal", first4)
        case("v4-non-first-fragment-looks-like-53", "normal", second4)
        case("v4-non-first-fragment-last", "normal", IP(src="10.0.0.1", dst="10.0.0.2", proto=17, frag=3) / Raw(b"\x03\xe8\x00\x35\x00\x10\x00\x00"))
        # IPv6 and its extension headers.
        case("v6-tcp-80", "memif", v6 / TCP(dport=80))
        case("v6-udp-54", "normal", v6 / UDP(dport=54))
        case("v6-hbh-dest-routing-udp-53", "memif", v6 / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() / UDP(dport=53))
        case("v6-hbh-tcp-81", "normal", v6 / IPv6ExtHdrHopByHop() / TCP(dport=81))
        case("v6-long-destopt-tcp-5000", "memif", v6 / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 30)]) / TCP(dport=5000))
        case("v6-nine-ext-headers", "normal", v6 / IPv6ExtHdrHopByHop() / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) / TCP(dport=80))
        case("v6-ah-tcp-80", "normal", v6 / AH(spi=1, icv=b"\0" * 12) / TCP(dport=80))
        case("v6-esp", "normal", v6 / ESP(spi=1, seq=1) / Raw(b"\0" * 16))
        case("v6-no-next-header", "normal", IPv6(src="fd00::1", dst="fd00::2", nh=59))
        case("v6-atomic-fragment-udp-53", "memif", v6 / IPv6ExtHdrFragment(offset=0, m=0, id=7) / UDP(dport=53))
        case("v6-first-fragment-udp-53", "normal", v6 / IPv6ExtHdrFragment(offset=0, m=1, id=7) / UDP(dport=53) / Raw(b"x" * 16))
        case("v6-non-first-fragment-looks-like-53", "normal", v6 / IPv6ExtHdrFragment(nh=17, offset=3, m=0, id=7) / Raw(b"\x03\xe8\x00\x35\x00\x10\x00\x00"))
        case("v6-hbh-then-first-fragment", "normal", v6 / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(offset=0, m=1) / TCP(dport=80))
        # ICMP, including an error that quotes a steered flow: it stays on the normal path.
        case("v4-icmp-echo", "normal", v4 / ICMP())
        case("v4-icmp-unreachable-quoting-tcp-80", "normal", v4 / ICMP(type=3, code=4) / IP(src="10.0.0.2", dst="10.0.0.9") / TCP(dport=80))
        case("v6-icmp-echo", "normal", v6 / ICMPv6EchoRequest())
        # Non-IP, VLAN tags.
        case("arp", "normal", ARP(psrc="10.0.0.1", pdst="10.0.0.2"))
        case("vlan-v4-tcp-80", "memif", v4 / TCP(dport=80), tags=[Dot1Q(vlan=100)])
        case("vlan-v4-tcp-81", "normal", v4 / TCP(dport=81), tags=[Dot1Q(vlan=100)])
        case("qinq-v6-udp-53", "memif", v6 / UDP(dport=53), tags=[Dot1AD(vlan=10), Dot1Q(vlan=20)])
        case("qinq-v4-options-udp-6081", "memif", IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x01" * 4)]) / UDP(dport=6081), tags=[Dot1AD(vlan=10), Dot1Q(vlan=20)])
        case("vlan-arp", "normal", ARP(), tags=[Dot1Q(vlan=5)])
        # Malformed: the Ethernet type says IPv4, the packet is IPv6; an IHL below 5; a UDP header cut short.
        raw6 = bytes(v6 / UDP(dport=53))
        cases.append(("ipv4-type-carrying-ipv6", "normal", (E4 + raw6).hex(), "-", "0"))
        bad_ihl = bytearray(bytes(v4 / UDP(dport=53))); bad_ihl[0] = 0x44
        case("v4-ihl-4", "normal", IP(bytes(bad_ihl)))
        short_udp = bytearray(bytes(v4 / UDP(dport=53))[:24]); short_udp[2:4] = (24).to_bytes(2, "big")
        cases.append(("v4-udp-header-cut-to-4", "normal", (E4 + bytes(short_udp)).hex(), bytes(short_udp).hex(), "0"))
        long_total = bytearray(bytes(v4 / TCP(dport=80))); long_total[2:4] = (41).to_bytes(2, "big")
        cases.append(("v4-total-length-past-buffer", "normal", (E4 + bytes(long_total)).hex(), bytes(long_total).hex(), "0"))

        for c in cases:
            print(" ".join(c))
        """#
}
