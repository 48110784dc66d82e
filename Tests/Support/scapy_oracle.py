#!/usr/bin/python3
"""scapy as the reference for MemifPacket's parsers and builders (run by MemifPacketTests).

  scapy_oracle.py corpus   prints a JSON list of packets built with scapy: hex bytes, scapy's view
                           of their fields, and the errors the parsers must return for the
                           malformed and truncated ones.
  scapy_oracle.py check    reads a JSON list of hex frames (built by MemifPacket) on stdin and
                           prints scapy's view of each: fields, and whether each checksum equals
                           the one scapy computes when the field is deleted and the packet rebuilt.

A view is a dict of layers (l2, ipv4, ipv6, walk, udp, tcp, icmp, icmpv6, arp, esp); keys are
camelCase so the Swift side decodes them directly. Needs Debian's python3-scapy.
"""
import json
import logging
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import IP, TCP, UDP, ICMP, IPOption_RR, IPOption_Router_Alert, fragment  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, fragment6,
    ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
)
from scapy.layers.l2 import Ether, Dot1Q, Dot1AD, ARP  # noqa: E402
from scapy.layers.ipsec import ESP  # noqa: E402
from scapy.packet import Raw, Padding  # noqa: E402

EXTENSIONS = (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment)
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def offset_of(frame_len, layer):
    """Offset of a dissected layer in the frame: what follows it is exactly its own bytes."""
    return frame_len - len(bytes(layer))


def checksum_ok(pkt, layer_class, field):
    """Deletes the checksum field, rebuilds, and compares with the stored value."""
    stored = getattr(pkt[layer_class], field)
    if layer_class is UDP and stored == 0 and pkt.haslayer(IP) and not pkt.haslayer(IPv6):
        return True  # zero means "no checksum" over IPv4
    clone = pkt.copy()
    delattr(clone[layer_class], field)
    return Ether(bytes(clone))[layer_class].getfieldval(field) == stored


def describe(raw):
    pkt = Ether(raw)
    n = len(raw)
    view = {"length": n}
    tags = []
    layer = pkt.payload
    while isinstance(layer, (Dot1Q, Dot1AD)):
        tpid = 0x88A8 if isinstance(layer, Dot1AD) else 0x8100
        tags.append([tpid, layer.vlan, layer.prio])
        last_type = layer.type
        layer = layer.payload
    ethertype = last_type if tags else pkt.type
    view["l2"] = {"dst": pkt.dst, "src": pkt.src, "etherType": ethertype, "l3Offset": 14 + 4 * len(tags), "tags": tags}
    if pkt.haslayer(ARP):
        a = pkt[ARP]
        if (a.hwtype, a.ptype, a.hwlen, a.plen) != (1, 0x0800, 6, 4):
            return view
        view["arp"] = {"op": a.op, "hwsrc": a.hwsrc, "psrc": a.psrc, "hwdst": a.hwdst, "pdst": a.pdst}
        return view
    l3_offset = view["l2"]["l3Offset"]
    last = None
    if pkt.haslayer(IP) and isinstance(layer, IP):
        ip = pkt[IP]
        view["ipv4"] = {"src": ip.src, "dst": ip.dst, "ttl": ip.ttl, "proto": ip.proto, "ihl": ip.ihl,
                        "totalLength": ip.len, "id": ip.id, "flags": int(ip.flags), "frag": ip.frag, "tos": ip.tos,
                        "checksum": ip.chksum, "checksumOK": checksum_ok(pkt, IP, "chksum")}
        status = "nonFirst" if ip.frag else ("first" if int(ip.flags) & 1 else "unfragmented")
        view["walk"] = {"proto": ip.proto, "l4Offset": l3_offset + ip.ihl * 4, "end": l3_offset + ip.len,
                        "fragment": status}
        if ip.frag:
            return view
    elif pkt.haslayer(IPv6) and isinstance(layer, IPv6):
        ip6 = pkt[IPv6]
        view["ipv6"] = {"src": ip6.src, "dst": ip6.dst, "hlim": ip6.hlim, "nh": ip6.nh, "plen": ip6.plen,
                        "tc": ip6.tc, "fl": ip6.fl}
        proto, last, status = ip6.nh, ip6, "unfragmented"
        h = ip6.payload
        while isinstance(h, EXTENSIONS):
            proto, last = h.nh, h
            if isinstance(h, IPv6ExtHdrFragment):
                if h.offset:
                    status = "nonFirst"
                    break
                if h.m:
                    status = "first"
            h = h.payload
        l4 = n - len(bytes(last.payload))
        view["walk"] = {"proto": proto, "l4Offset": l4, "end": l3_offset + 40 + ip6.plen, "fragment": status}
        if status == "nonFirst":
            return view
    else:
        return view
    if pkt.haslayer(UDP):
        u = pkt[UDP]
        view["udp"] = {"sport": u.sport, "dport": u.dport, "len": u.len, "checksum": u.chksum,
                       "checksumOK": checksum_ok(pkt, UDP, "chksum")}
    elif pkt.haslayer(TCP):
        t = pkt[TCP]
        view["tcp"] = {"sport": t.sport, "dport": t.dport, "seq": t.seq, "ack": t.ack, "dataofs": t.dataofs,
                       "flags": int(t.flags), "window": t.window, "checksum": t.chksum, "urgptr": t.urgptr,
                       "checksumOK": checksum_ok(pkt, TCP, "chksum")}
    elif pkt.haslayer(ICMP):
        c = pkt[ICMP]
        view["icmp"] = {"type": c.type, "code": c.code, "id": c.id, "seq": c.seq, "checksum": c.chksum,
                        "checksumOK": checksum_ok(pkt, ICMP, "chksum")}
    elif pkt.haslayer(ESP):
        e = pkt[ESP]
        view["esp"] = {"spi": e.spi, "seq": e.seq}
    else:
        for cls in (ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA):
            if pkt.haslayer(cls):
                c = pkt[cls]
                v = {"type": c.type, "code": c.code, "checksum": c.cksum, "checksumOK": checksum_ok(pkt, cls, "cksum")}
                if cls in (ICMPv6EchoRequest, ICMPv6EchoReply):
                    v.update({"id": c.id, "seq": c.seq})
                else:
                    v["target"] = c.tgt
                    if cls is ICMPv6ND_NA:
                        v["flags"] = c.R << 7 | c.S << 6 | c.O << 5
                    if pkt.haslayer(ICMPv6NDOptSrcLLAddr):
                        v["sourceLinkLayer"] = pkt[ICMPv6NDOptSrcLLAddr].lladdr
                    if pkt.haslayer(ICMPv6NDOptDstLLAddr):
                        v["targetLinkLayer"] = pkt[ICMPv6NDOptDstLLAddr].lladdr
                view["icmpv6"] = v
    return view


def ether(*tags):
    e = Ether(dst=MAC_B, src=MAC_A)
    for t in tags:
        e = e / t
    return e


def v4(**kw):
    return IP(**{"src": "10.0.0.1", "dst": "192.0.2.7", **kw})


def v6(**kw):
    return IPv6(**{"src": "fd00::1", "dst": "2001:db8::7", **kw})


def entry(name, pkt, l2_error=None, walk_error=None, l4_error=None, cut=None):
    raw = bytes(pkt)
    if cut is not None:
        raw = raw[:cut]
    view = describe(raw) if not (l2_error or walk_error) else None
    return {"name": name, "hex": raw.hex(), "l2Error": l2_error, "walkError": walk_error, "l4Error": l4_error,
            "view": view}


def corpus():
    out = []
    payload = b"memif says hello"
    # Well-formed packets, parsed and compared field by field.
    out.append(entry("udp4", ether() / v4() / UDP(sport=1234, dport=53) / payload))
    out.append(entry("udp4 zero checksum", ether() / v4() / UDP(sport=1, dport=2, chksum=0) / payload))
    out.append(entry("udp4 link padding", ether() / v4() / UDP(sport=7, dport=9) / b"x" / Padding(load=b"\0" * 17)))
    out.append(entry("tcp4 options", ether() / v4() / TCP(sport=40000, dport=443, seq=0xDEADBEEF, ack=7, flags="PA",
                     window=1024, urgptr=3, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 2)),
                                                     ("WScale", 7), ("NOP", None)]) / payload))
    out.append(entry("ipv4 options", ether() / v4(options=[IPOption_RR(routers=["1.2.3.4", "5.6.7.8"]),
                                                          IPOption_Router_Alert()]) / TCP(sport=5, dport=6)))
    out.append(entry("ipv4 ttl 1 tos", ether() / v4(ttl=1, tos=0xB8, id=4242) / UDP(sport=5, dport=6)))
    out.append(entry("dot1q udp4", ether(Dot1Q(vlan=100, prio=5)) / v4() / UDP(sport=68, dport=67) / payload))
    out.append(entry("qinq tcp6", ether(Dot1AD(vlan=10), Dot1Q(vlan=20, prio=3)) / v6() / TCP(sport=22, dport=2222)))
    out.append(entry("icmp echo request", ether() / v4() / ICMP(type=8, id=0x1234, seq=7) / payload))
    out.append(entry("icmp echo reply", ether() / v4() / ICMP(type=0, id=0x4321, seq=8) / b"pong"))
    frags = fragment(v4(id=99) / UDP(sport=1000, dport=2000) / (b"F" * 64), fragsize=24)
    out.append(entry("ipv4 first fragment", ether() / frags[0]))
    out.append(entry("ipv4 middle fragment", ether() / frags[1]))
    out.append(entry("ipv4 last fragment", ether() / frags[-1]))
    out.append(entry("udp6", ether() / v6(hlim=3, tc=0x28, fl=0xBEEF) / UDP(sport=546, dport=547) / payload))
    out.append(entry("tcp6", ether() / v6() / TCP(sport=1, dport=80, flags="S", options=[("MSS", 1220)])))
    out.append(entry("ipv6 extension chain", ether() / v6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
                     / IPv6ExtHdrRouting(addresses=["fd00::5"], segleft=0) / IPv6ExtHdrDestOpt() / UDP(sport=9, dport=4789) / payload))
    frags6 = fragment6(v6() / IPv6ExtHdrFragment(id=7) / UDP(sport=3, dport=4) / (b"G" * 200), 120)
    for i, f in enumerate(frags6):
        out.append(entry("ipv6 fragment %d" % i, ether() / f))
    out.append(entry("ipv6 atomic fragment", ether() / v6() / IPv6ExtHdrFragment(offset=0, m=0) / UDP(sport=1, dport=2)))
    out.append(entry("icmpv6 echo request", ether() / v6() / ICMPv6EchoRequest(id=5, seq=6, data=payload)))
    out.append(entry("icmpv6 echo reply", ether() / v6() / ICMPv6EchoReply(id=5, seq=6, data=b"")))
    out.append(entry("neighbor solicitation", ether() / v6(hlim=255, dst="ff02::1:ff00:9")
                     / ICMPv6ND_NS(tgt="fd00::9") / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A)))
    out.append(entry("neighbor solicitation dad", ether() / IPv6(src="::", dst="ff02::1:ff00:9", hlim=255)
                     / ICMPv6ND_NS(tgt="fd00::9")))
    out.append(entry("neighbor advertisement", ether() / v6(hlim=255) / ICMPv6ND_NA(tgt="fd00::9", R=1, S=1, O=0)
                     / ICMPv6NDOptDstLLAddr(lladdr=MAC_B)))
    out.append(entry("esp4", ether() / v4() / ESP(spi=0x1001, seq=77, data=b"\x01" * 32)))
    out.append(entry("esp6", ether(Dot1Q(vlan=3)) / v6() / ESP(spi=0xFFFFFFFF, seq=1, data=b"\x02" * 24)))
    out.append(entry("arp request", ether() / ARP(op=1, hwsrc=MAC_A, psrc="10.0.0.1", pdst="10.0.0.2")))
    out.append(entry("arp reply tagged", ether(Dot1Q(vlan=7)) / ARP(op=2, hwsrc=MAC_B, psrc="10.0.0.2", hwdst=MAC_A,
                                                                    pdst="10.0.0.1")))
    # Well-formed headers with wrong checksums: parsed, and the checksum reported invalid.
    out.append(entry("ipv4 bad checksum", ether() / v4(chksum=0x1234) / UDP(sport=1, dport=2)))
    out.append(entry("udp4 bad checksum", ether() / v4() / UDP(sport=1, dport=2, chksum=0x1234) / payload))
    out.append(entry("tcp6 bad checksum", ether() / v6() / TCP(sport=1, dport=2, chksum=0x1234)))
    out.append(entry("icmpv6 bad checksum", ether() / v6() / ICMPv6EchoRequest(id=1, seq=1, cksum=0x1234)))
    # Malformed: the error each parser must return.
    out.append(entry("ipv4 ihl 4", ether() / v4(ihl=4) / UDP(), walk_error="badHeaderLength"))
    out.append(entry("ipv4 ihl 15 short", ether() / v4(ihl=15) / UDP(), walk_error="truncated"))
    out.append(entry("ipv4 total length below header", ether() / v4(len=10) / UDP(), walk_error="badTotalLength"))
    out.append(entry("ipv4 total length beyond frame", ether() / v4(len=200) / UDP(), walk_error="truncated"))
    out.append(entry("ipv4 version 5", ether() / v4(version=5) / UDP(), walk_error="badVersion"))
    out.append(entry("ipv6 ethertype with ipv4 inside", Ether(dst=MAC_B, src=MAC_A, type=0x86DD) / v4() / UDP(),
                     walk_error="badVersion"))
    out.append(entry("ipv6 payload length beyond frame", ether() / v6(plen=100) / UDP(), walk_error="truncated"))
    chain = v6()
    for _ in range(9):
        chain = chain / IPv6ExtHdrDestOpt()
    out.append(entry("ipv6 nine extension headers", ether() / chain / UDP(), walk_error="tooManyExtensionHeaders"))
    long_opt = bytes(v6() / IPv6ExtHdrDestOpt() / UDP(sport=1, dport=2))
    long_opt = bytearray(long_opt)
    long_opt[41] = 5  # header claims 48 bytes, the packet holds 16 after the fixed header
    out.append({"name": "ipv6 extension header past the end", "hex": (bytes(Ether(dst=MAC_B, src=MAC_A, type=0x86DD)) + bytes(long_opt)).hex(),
                "l2Error": None, "walkError": "truncated", "l4Error": None, "view": None})
    out.append(entry("five vlan tags", ether(*[Dot1Q(vlan=i) for i in range(1, 6)]) / v4() / UDP(),
                     l2_error="tooManyTags", walk_error="tooManyTags"))
    out.append(entry("lldp ethertype", Ether(dst=MAC_B, src=MAC_A, type=0x88CC) / Raw(b"\0" * 32),
                     walk_error="unsupported"))
    out.append(entry("tcp data offset 3", ether() / v4() / TCP(sport=1, dport=2, dataofs=3), l4_error="badHeaderLength"))
    out.append(entry("tcp data offset 15 short", ether() / v4() / TCP(sport=1, dport=2, dataofs=15), l4_error="truncated"))
    out.append(entry("udp length 7", ether() / v4() / UDP(sport=1, dport=2, len=7) / payload, l4_error="badTotalLength"))
    out.append(entry("udp length beyond ip", ether() / v6() / UDP(sport=1, dport=2, len=300) / payload,
                     l4_error="truncated"))
    ns_bad = bytearray(bytes(ether() / v6(hlim=255) / ICMPv6ND_NS(tgt="fd00::9") / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A)))
    ns_bad[14 + 40 + 25] = 0  # option length zero: a receiver would loop forever
    out.append({"name": "nd option length zero", "hex": bytes(ns_bad).hex(), "l2Error": None, "walkError": None,
                "l4Error": "malformed", "view": describe(bytes(ns_bad))})
    out.append(entry("arp hardware length 8", ether() / ARP(hwlen=8, op=1) / Raw(b"\0" * 4), l4_error="malformed"))
    out.append(entry("arp for ipv6", ether() / ARP(ptype=0x86DD, plen=16, op=1) / Raw(b"\0" * 24),
                     l4_error="unsupported"))
    # Truncated copies of well-formed packets, cut in every header.
    bases = [
        ("tcp4 options", ether() / v4(options=[IPOption_Router_Alert()]) / TCP(sport=1, dport=2, options=[("MSS", 1460)]) / b"data"),
        ("qinq udp6 chain", ether(Dot1AD(vlan=1), Dot1Q(vlan=2)) / v6() / IPv6ExtHdrHopByHop()
         / IPv6ExtHdrFragment(m=1) / UDP(sport=1, dport=2) / b"data"),
        ("arp", ether(Dot1Q(vlan=5)) / ARP(op=1, hwsrc=MAC_A, psrc="10.0.0.1", pdst="10.0.0.2")),
        ("neighbor solicitation", ether() / v6(hlim=255) / ICMPv6ND_NS(tgt="fd00::9") / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A)),
    ]
    for name, pkt in bases:
        raw = bytes(pkt)
        tags = 0
        layer = pkt.payload
        while isinstance(layer, (Dot1Q, Dot1AD)):
            tags += 1
            layer = layer.payload
        l2_len = 14 + 4 * tags
        is_arp = isinstance(layer, ARP)
        for cut in sorted({0, 1, 6, 12, 13, l2_len - 1, l2_len, l2_len + 1, l2_len + 19, l2_len + 20, l2_len + 27,
                           l2_len + 39, l2_len + 40, len(raw) - 5, len(raw) - 1}):
            if cut < 0 or cut >= len(raw):
                continue
            if cut < l2_len:
                out.append(entry("%s cut at %d" % (name, cut), pkt, l2_error="truncated", walk_error="truncated", cut=cut))
            elif is_arp:
                e = entry("%s cut at %d" % (name, cut), pkt, walk_error="unsupported", l4_error="truncated", cut=cut)
                e["view"] = None
                out.append(e)
            else:
                out.append(entry("%s cut at %d" % (name, cut), pkt, walk_error="truncated", cut=cut))
    return out


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("corpus", "check"):
        sys.exit("usage: scapy_oracle.py corpus|check")
    if sys.argv[1] == "corpus":
        json.dump(corpus(), sys.stdout)
    else:
        frames = json.load(sys.stdin)
        json.dump([describe(bytes.fromhex(h)) for h in frames], sys.stdout)


if __name__ == "__main__":
    main()
