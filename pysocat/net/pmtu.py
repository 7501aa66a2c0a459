"""The path MTU of a connected socket (IP_MTU / IPV6_MTU), the input auto-MTU needs over UDP.

Kept apart from mtu.py, which is pure: this one asks the kernel. Only meaningful on a
connected socket (UDP-CONNECT, or UDP-LISTEN after its first datagram)."""
from __future__ import annotations

import socket

IP_MTU = 14  # linux/in.h
IPV6_MTU = 24  # linux/in6.h


def path_mtu(fd: int) -> tuple[int, int] | None:
    """(path MTU, IP version) of the connected socket `fd`, or None when not known."""
    sock = socket.socket(fileno=fd)
    try:
        family = sock.family
        if family == socket.AF_INET:
            return sock.getsockopt(socket.IPPROTO_IP, IP_MTU), 4
        if family == socket.AF_INET6:
            return sock.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU), 6
        return None
    except OSError:
        return None
    finally:
        sock.detach()


__all__ = ["path_mtu"]
