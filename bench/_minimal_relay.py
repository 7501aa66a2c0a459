"""The smallest Python TUN relay there is, for bench/tun_latency.py: what any CPython relay
pays per packet before it does anything pysocat does (options, logging, statistics,
error reports in socat's words, backlogs, offload). It is a yardstick, not a tool: no error
handling, no EOF, no framing checks, run only inside the benchmark's own namespaces.

    _minimal_relay.py udp|framed LOCAL-TUNNEL-ADDRESS listen|PEER-UNDERLAY-ADDRESS PORT
"""
from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import sys

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def main() -> None:
    transport, address, peer, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tun = os.open("/dev/net/tun", os.O_RDWR)
    name = fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", b"", IFF_TUN | IFF_NO_PI))[:16].rstrip(b"\0").decode()
    mtu = "1472" if transport == "udp" else "65000"
    for argv in (["link", "set", name, "mtu", mtu], ["addr", "add", address + "/24", "dev", name],
                 ["link", "set", name, "up"]):
        subprocess.run(["ip", *argv], check=True)
    if transport == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if peer == "listen":
            sock.bind(("0.0.0.0", port))
            first, sender = sock.recvfrom(65536)
            sock.connect(sender)
            os.write(tun, first)
        else:
            sock.connect((peer, port))
    else:
        if peer == "listen":
            listener = socket.create_server(("0.0.0.0", port))
            sock, _ = listener.accept()
        else:
            sock = socket.create_connection((peer, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    relay(tun, sock, framed=transport == "framed")


def relay(tun: int, sock: socket.socket, framed: bool) -> None:
    stream = sock.fileno()
    poller = select.poll()
    poller.register(tun, select.POLLIN)
    poller.register(stream, select.POLLIN)
    read, write, pack = os.read, os.write, struct.Struct(">H").pack
    pending = b""
    while True:
        for fd, _mask in poller.poll():
            if fd == tun:
                packet = read(tun, 65536)
                if framed:
                    sock.sendmsg([pack(len(packet)), packet])
                else:
                    write(stream, packet)
            elif not framed:
                write(tun, read(stream, 65536))
            else:
                pending += read(stream, 65536)  # below glibc's mmap threshold: no mmap per read
                while len(pending) >= 2 and len(pending) >= 2 + (length := pending[0] << 8 | pending[1]):
                    write(tun, pending[2:2 + length])
                    pending = pending[2 + length:]


if __name__ == "__main__":
    main()
