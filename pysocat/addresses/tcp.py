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


def listen_stream(addr: ResolvedAddress, ctx: OpenContext, family: int, proto: int = socket.IPPROTO_TCP,
                  label: str = "TCP", packets: bool = False) -> Endpoint:
    """TCP-LISTEN, and SCTP-LISTEN with proto 132."""
    opts = addr.options
    S.check_unsupported(opts)
    port = addr.params[0]
    if family == socket.AF_UNSPEC:
        family = S.family_from_options(opts, S.listen_family())
    host = None
    if S.O.BIND in opts:
        host, _ = S.split_host_port(str(opts.get(S.O.BIND)))
    family, local = S.resolve(host, port, family, socket.SOCK_STREAM, passive=True)
    S.default_reuseaddr(opts)
    retry = S.Retry.from_options(opts)
    attempt = 0
    while True:
        attempt += 1
        sock = S.new_socket(family, socket.SOCK_STREAM, proto)
        try:
            S.apply_socket_options(sock, opts)
            S.bind_socket(sock, local)
            break
        except S.SocatError as err:
            sock.close()
            if not retry.more(attempt):
                raise
            S.LOG.info(err.text)
            S.time.sleep(retry.interval)
    conn = S.listen_and_accept(ctx, opts, sock, [])
    S.apply_socket_options(conn, opts, prebind=False)
    S.apply_connected_options(conn, opts)
    return S.stream_endpoint(conn, opts, f"{label} {S.sockaddr_info(family, conn.getpeername())}", ctx,
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
