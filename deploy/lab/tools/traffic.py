"""The lab's traffic: from a client pod, UDP to a steered port (answered through the target pod's
memif), UDP to an unsteered port (answered by its kernel), and ICMP echo (answered by its kernel).
Prints one JSON object: what was sent and what came back, per kind."""
import json
import os
import socket
import struct
import sys
import time


def udp(target, port, count, size=64, timeout=0.5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    back = 0
    for i in range(count):
        payload = struct.pack("!I", i) + os.urandom(size - 4)
        s.sendto(payload, (target, port))
        try:
            data, _ = s.recvfrom(65535)
            back += data == payload
        except socket.timeout:
            pass
    return {"sent": count, "answered": back}


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp(target, count, timeout=0.5):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(timeout)
    back = 0
    ident = os.getpid() & 0xFFFF
    for seq in range(count):
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"memifkit-lab"
        packet = struct.pack("!BBHHH", 8, 0, checksum(header), ident, seq) + b"memifkit-lab"
        s.sendto(packet, (target, 0))
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            t, _, _, i, q = struct.unpack("!BBHHH", data[20:28])
            if t == 0 and i == ident and q == seq:
                back += 1
                break
    return {"sent": count, "answered": back}


if __name__ == "__main__":
    target, steered, unsteered, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps({"steered_udp": udp(target, steered, count), "unsteered_udp": udp(target, unsteered, count),
                      "icmp": icmp(target, count)}))
