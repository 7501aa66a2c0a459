"""TCP: TCP-CONNECT (TCP, INET) and TCP-LISTEN (TCP-L, INET-L, INET-LISTEN), each also
with 4 and 6 (socat: xio-tcp.c, xio-ipapp.c). The shared work is in sockets.py."""
from __future__ import annotations

import socket

from ..endpoint import Endpoint
from ..options import Group as G
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext

CONNECT_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.TCP)
LISTEN_GROUPS = (G.FD, G.SOCKET, G.LISTEN, G.CHILD, G.RETRY, G.RANGE, G.TCP)
VERSIONS = (("", socket.AF_UNSPEC, (G.IP4, G.IP6)), ("4", socket.AF_INET, (G.IP4,)),
            ("6", socket.AF_INET6, (G.IP6,)))


def connect_stream(addr: ResolvedAddress, ctx: OpenContext, family: int, proto: int = socket.IPPROTO_TCP,
                   label: str = "TCP", packets: bool = False) -> Endpoint:
    """TCP-CONNECT, and SCTP-CONNECT with proto 132 (`packets`: each read is one message).
    With fork, connect_ip makes a child per connection and connects again."""
    opts = addr.options
    S.check_unsupported(opts)
    host, port = addr.params
    family = S.family_from_options(opts, family)
    family, target = S.resolve(host, port, family, socket.SOCK_STREAM)
    sock = S.connect_ip(ctx, opts, family, socket.SOCK_STREAM, proto, target)
    return S.stream_endpoint(sock, opts, f"{label} {S.sockaddr_info(family, target)}", ctx,
                             keeps_boundaries=packets)


def accept_stream(addr: ResolvedAddress, ctx: OpenContext, family: int,
                  proto: int = socket.IPPROTO_TCP) -> tuple[int, socket.socket]:
    """Resolves the local side (bind=, the listen family), listens and accepts: the family
    and the connected socket (in the child with fork). TCP-LISTEN, SCTP-LISTEN (proto 132)
    and OPENSSL-LISTEN share it."""
    opts = addr.options
    port = addr.params[0]
    if family == socket.AF_UNSPEC:
        family = S.family_from_options(opts, S.listen_family())
    host = None
    if S.O.BIND in opts:
        host, _ = S.split_host_port(str(opts.get(S.O.BIND)))
    family, local = S.resolve(host, port, family, socket.SOCK_STREAM, passive=True)
    S.default_reuseaddr(opts)
    conn = S.bind_listen_accept(ctx, opts, lambda: S.bound_socket(family, socket.SOCK_STREAM, proto, opts, local))
    return family, conn


def listen_stream(addr: ResolvedAddress, ctx: OpenContext, family: int, proto: int = socket.IPPROTO_TCP,
                  label: str = "TCP", packets: bool = False) -> Endpoint:
    """TCP-LISTEN, and SCTP-LISTEN with proto 132."""
    S.check_unsupported(addr.options)
    family, conn = accept_stream(addr, ctx, family, proto)
    return S.stream_endpoint(conn, addr.options, f"{label} {S.sockaddr_info(family, conn.getpeername())}", ctx,
                             keeps_boundaries=packets)


def _declare(suffix: str, family: int, ip_groups: tuple[G, ...]) -> None:
    connect_names = (f"TCP{suffix}-CONNECT", f"TCP{suffix}", f"INET{suffix}")
    address(connect_names, ("<host>", "<port>"), CONNECT_GROUPS + ip_groups, "TCP",
            f"TCP{' IPv' + suffix if suffix else ''} client: connects to <host>:<port>")(
        lambda addr, ctx: connect_stream(addr, ctx, family))
    listen_names = (f"TCP{suffix}-LISTEN", f"TCP{suffix}-L", f"INET{suffix}-LISTEN", f"INET{suffix}-L")
    address(listen_names, ("<port>",), LISTEN_GROUPS + ip_groups, "TCP",
            f"TCP{' IPv' + suffix if suffix else ''} server: accepts a connection on <port> (fork: one child each)")(
        lambda addr, ctx: listen_stream(addr, ctx, family))


for _suffix, _family, _groups in VERSIONS:
    _declare(_suffix, _family, _groups)
