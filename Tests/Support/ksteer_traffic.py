#!/usr/bin/python3
"""Traffic for the kernel steering tests, run inside a test namespace (ip netns exec).

  udp DST PORT COUNT TIMEOUT       send COUNT datagrams, print one JSON line: replies and their texts
  server PORT...                   echo UDP and accept TCP on each PORT, replying b"kernel:" + data
  tcp DST PORT TIMEOUT             one TCP connect attempt; prints "connected", "refused" or "timeout"
  icmp DST TIMEOUT                 one ICMP echo request (raw socket); prints "reply" or "timeout"
  flood DST PORT COUNT SIZE WINDOW SECONDS
                                   windowed UDP request/reply; prints JSON with sent, received, seconds
"""
import json, select, socket, struct, sys, time


def family(dst):
    return socket.AF_INET6 if ":" in dst else socket.AF_INET


def udp(dst, port, count, timeout):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(b"probe-%d" % i, (dst, port))
    replies = []
    deadline = time.time() + timeout
    while len(replies) < count:
        left = deadline - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        data, _ = s.recvfrom(65535)
        replies.append(data.decode(errors="replace"))
    print(json.dumps({"replies": replies}))


def server(ports):
    socks = []
    for p in ports:
        for fam, any_addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            u = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind((any_addr, p))
            t = socket.socket(fam, socket.SOCK_STREAM)
            if fam == socket.AF_INET6:
                t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((any_addr, p))
            t.listen(16)
            socks += [u, t]
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [], 1)[0]:
            if s.type == socket.SOCK_DGRAM:
                data, peer = s.recvfrom(65535)
                s.sendto(b"kernel:" + data, peer)
            else:
                c, _ = s.accept()
                c.close()


def tcp(dst, port, timeout):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((dst, port))
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except (socket.timeout, OSError):
        print("timeout")


def icmp(dst, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = 0x4D4B
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"memifkit"
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    packet = struct.pack("!BBHHH", 8, 0, ~total & 0xFFFF, ident, 1) + b"memifkit"
    s.sendto(packet, (dst, 0))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not select.select([s], [], [], max(0, deadline - time.time()))[0]:
            break
        data, _ = s.recvfrom(2048)
        ihl = (data[0] & 0xF) * 4
        if data[ihl] == 0 and struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident:
            print("reply")
            return
    print("timeout")


def flood(dst, port, count, size, window, seconds):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    payload = b"x" * size
    sent = received = lost = 0
    start = time.time()
    deadline = start + seconds
    target = (dst, port)
    while received + lost < count and time.time() < deadline:
        while sent < count and sent - received - lost < window:
            try:
                s.sendto(payload, target)
            except BlockingIOError:
                break
            sent += 1
        if not select.select([s], [], [], 0.2)[0]:
            lost = sent - received  # nothing for 200 ms: what is out is lost
            continue
        while True:
            try:
                s.recv(65535)
            except BlockingIOError:
                break
            received += 1
    elapsed = time.time() - start
    print(json.dumps({"sent": sent, "received": received, "seconds": elapsed}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "udp":
        udp(args[0], int(args[1]), int(args[2]), float(args[3]))
    elif cmd == "server":
        server([int(p) for p in args])
    elif cmd == "tcp":
        tcp(args[0], int(args[1]), float(args[2]))
    elif cmd == "icmp":
        icmp(args[0], float(args[1]))
    elif cmd == "flood":
        flood(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]), float(args[5]))
    else:
        sys.exit("unknown command " + cmd)
