"""SOCKS clients: SOCKS4 (SOCKS), SOCKS4A (socat: xio-socks.c), and socat 1.8's
SOCKS5-CONNECT (SOCKS5) and SOCKS5-LISTEN (SOCKS5-BIND) (xio-socks5.c), with socat
1.8.1's additions: the server port may be left out (socksport=, default 1080) and
sockspass= (with socksuser=) authenticates with username and password (RFC 1929).

pysocat does not ask for --experimental before SOCKS5 as socat 1.8.0.1 does: the
addresses are tested against a real SOCKS server (Dante) here, and --experimental is
still accepted. The handshakes are proxy_protocols.Socks4 and Socks5; connecting, retry
and fork are tunnel.py's.
"""
from __future__ import annotations

import socket

from .. import option_table as O
from ..endpoint import Endpoint
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..proxy_protocols import SOCKS5_BIND, SOCKS5_CONNECT, Socks4, Socks5
from ..registry import ResolvedAddress, address
from .common import OpenContext
from .tunnel import default_user, open_tunnel, parse_port, resolve_name

SOCKS4_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.IP4, G.IP6, G.TCP, G.SOCKS4)
SOCKS5_GROUPS = SOCKS4_GROUPS
DEFAULT_SOCKS_PORT = "1080"


def socks_port(opts: OptionValues) -> str:
    """socksport=, else the socks/tcp service, else 1080 (socat's order)."""
    if O.SOCKSPORT in opts:
        return str(opts.get(O.SOCKSPORT))
    try:
        port = str(socket.getservbyname("socks", "tcp"))
        LOG.debug(f'"socks/tcp" resolves to {port}')
        return port
    except OSError:
        LOG.debug(f'cannot resolve service "socks/tcp", using {DEFAULT_SOCKS_PORT}')
        return DEFAULT_SOCKS_PORT


def _ipv4_of(host: str) -> bytes:
    """SOCKS4 carries an IPv4 address: the client resolves the target."""
    return socket.inet_aton(str(resolve_name(host, socket.AF_INET)[0][4][0]))


def _open_socks4(addr: ResolvedAddress, ctx: OpenContext, with_name: bool) -> Endpoint:
    opts = addr.options
    server, host, port_text = addr.params
    port = parse_port(port_text)
    server_port = socks_port(opts)
    user = str(opts.get(O.SOCKSUSER)) if O.SOCKSUSER in opts else default_user()
    target: list[bytes | None] = [None]

    def announce_and_resolve() -> None:
        LOG.notice(f'opening connection to {host}:{port} via socks4 server {server}:{server_port} as user "{user}"')
        if not with_name:  # after the notice, before connecting (socat's order)
            target[0] = _ipv4_of(host)

    return open_tunnel(addr, ctx, server, server_port,
                       lambda: Socks4(port, target[0], user, host if with_name else None),
                       f"SOCKS4 {host}:{port} via {server}:{server_port}", before_connecting=announce_and_resolve)


@address(("SOCKS4", "SOCKS"), ("<socks-server>", "<host>", "<port>"), SOCKS4_GROUPS, "SOCKS4",
         "TCP to <host>:<port> through a SOCKS4 server (socksport=, default 1080; socksuser=)",
         count_error_1_7="{keyword}: 3 parameters required")
def open_socks4(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return _open_socks4(addr, ctx, with_name=False)


@address(("SOCKS4A",), ("<socks-server>", "<host>", "<port>"), SOCKS4_GROUPS, "SOCKS4A",
         "TCP to <host>:<port> through a SOCKS4a server, which resolves <host>",
         count_error_1_7="{keyword}: 3 parameters required")
def open_socks4a(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return _open_socks4(addr, ctx, with_name=True)


def _open_socks5(addr: ResolvedAddress, ctx: OpenContext, command: int) -> Endpoint:
    opts = addr.options
    if len(addr.params) == 4:
        server, server_port, host, port_text = addr.params
    else:
        (server, host, port_text), server_port = addr.params, socks_port(opts)
    port = parse_port(port_text)
    credentials = None
    if O.SOCKSPASS in opts:
        user = str(opts.get(O.SOCKSUSER)) if O.SOCKSUSER in opts else default_user()
        credentials = (user, str(opts.get(O.SOCKSPASS)))
    kind = "CONNECT" if command == SOCKS5_CONNECT else "LISTEN"
    return open_tunnel(addr, ctx, server, server_port, lambda: Socks5(command, host, port, credentials),
                       f"SOCKS5-{kind} {host}:{port} via {server}:{server_port}",
                       after_resolving=lambda: LOG.notice(f"connecting to socks5 server {server}:{server_port}"))


_SOCKS5_PARAMS = ("<socks-server>", "<socks-port>", "<target-host>", "<target-port>")


@address(("SOCKS5-CONNECT", "SOCKS5"), _SOCKS5_PARAMS, SOCKS5_GROUPS, "SOCKS5",
         "TCP to <target-host>:<target-port> through a SOCKS5 server (sockspass=: user/password)",
         optional_params=1, usage="SOCKS5-CONNECT:<socks-server>[:<socks-port>]:<target-host>:<target-port>")
def open_socks5_connect(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return _open_socks5(addr, ctx, SOCKS5_CONNECT)


@address(("SOCKS5-LISTEN", "SOCKS5-BIND"), ("<socks-server>", "<socks-port>", "<listen-host>", "<listen-port>"),
         SOCKS5_GROUPS, "SOCKS5",
         "SOCKS5 BIND: the server listens, the stream is the first peer that connects there",
         optional_params=1, usage="SOCKS5-LISTEN:<socks-server>[:<socks-port>]:<listen-host>:<listen-port>")
def open_socks5_listen(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return _open_socks5(addr, ctx, SOCKS5_BIND)
