"""One-shot probes the lab tests run inside a pod's namespace; each prints one word.

    probe.py unix NAME        connect to the abstract SOCK_SEQPACKET socket @NAME: connected | refused
    probe.py tcp IP PORT      open a TCP connection: connected | refused | timeout
"""
import errno
import socket
import sys

if sys.argv[1] == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect("\0" + sys.argv[2])
        print("connected")
    except OSError as e:
        print("refused" if e.errno in (errno.ECONNREFUSED, errno.ENOENT) else f"error {e.errno}")
elif sys.argv[1] == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect((sys.argv[2], int(sys.argv[3])))
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except (socket.timeout, OSError):
        print("timeout")
