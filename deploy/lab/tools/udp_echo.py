"""A pod's kernel-side UDP echo: answers every datagram on the given port (the lab's proof that
unsteered traffic still reaches the pod's own network stack)."""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
