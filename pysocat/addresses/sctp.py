"""SCTP: SCTP-CONNECT (SCTP) and SCTP-LISTEN (SCTP-L), each also with 4 and 6 (socat: xio-sctp.c).

socat opens these exactly like TCP, with protocol 132 (IPPROTO_SCTP) on a SOCK_STREAM
socket (one-to-one style), so tcp.py's openers serve them; sctp-nodelay and sctp-maxseg
are rows of option_table.SOCKOPTS. Each read of such a socket returns data of one SCTP
message, so the endpoints keep message boundaries.

A kernel without SCTP refuses the socket() call; the error is socat's own
(`E socket(2, 1, 132): Protocol not supported`, exit 1), and -V says `#undef WITH_SCTP`
there: the feature is probed when -V asks, not assumed.
"""
from __future__ import annotations

import socket

from ..options import Group as G
from ..registry import address
from .tcp import connect_stream, listen_stream

IPPROTO_SCTP = 132
CONNECT_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.SCTP)
LISTEN_GROUPS = (G.FD, G.SOCKET, G.LISTEN, G.CHILD, G.RETRY, G.RANGE, G.SCTP)
VERSIONS = (("", socket.AF_UNSPEC, (G.IP4, G.IP6)), ("4", socket.AF_INET, (G.IP4,)),
            ("6", socket.AF_INET6, (G.IP6,)))


def kernel_has_sctp() -> bool:
    """Whether this kernel creates SCTP sockets (it lacks them without the sctp module)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM, IPPROTO_SCTP).close()
            return True
        except OSError:
            continue
    return False


def _declare(suffix: str, family: int, ip_groups: tuple[G, ...]) -> None:
    version = f" IPv{suffix}" if suffix else ""
    address((f"SCTP{suffix}-CONNECT", f"SCTP{suffix}"), ("<host>", "<port>"), CONNECT_GROUPS + ip_groups, "SCTP",
            f"SCTP{version} client: connects a stream association to <host>:<port> (fork: a child per "
            f"connection)", available=kernel_has_sctp)(
        lambda addr, ctx: connect_stream(addr, ctx, family, IPPROTO_SCTP, "SCTP", packets=True))
    address((f"SCTP{suffix}-LISTEN", f"SCTP{suffix}-L"), ("<port>",), LISTEN_GROUPS + ip_groups, "SCTP",
            f"SCTP{version} server: accepts an association on <port> (fork: one child each)",
            available=kernel_has_sctp)(
        lambda addr, ctx: listen_stream(addr, ctx, family, IPPROTO_SCTP, "SCTP", packets=True))


for _suffix, _family, _groups in VERSIONS:
    _declare(_suffix, _family, _groups)
