"""PROXY (PROXY-CONNECT): a TCP stream to <host>:<port> through an HTTP proxy's CONNECT
method (socat: xio-proxy.c). The handshake is proxy_protocols.HttpConnect; connecting,
retry and fork are tunnel.py's. What socat does before connecting is done in its order,
so that its errors come in its order too: the authorization (option or file), the target
name (proxy-resolve), the target port, then the proxy's own address.
"""
from __future__ import annotations

import os
import socket

from .. import option_table as O
from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..proxy_protocols import HttpConnect
from ..registry import ResolvedAddress, address
from .common import OpenContext
from .tunnel import open_tunnel, parse_port, resolve_name

GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.IP4, G.IP6, G.TCP, G.HTTP)
DEFAULT_PROXY_PORT = "8080"


def _authorization(opts: OptionValues) -> bytes | None:
    """proxy-authorization's text, or every byte of proxy-authorization-file (a final
    newline included, as socat sends it)."""
    text = opts.get(O.PROXY_AUTHORIZATION)
    path = opts.get(O.PROXY_AUTHORIZATION_FILE)
    if path is None:
        return None if text is None else os.fsencode(str(text))
    if text is not None:
        raise SocatError("Only one of options proxy-authorization and proxy-authorization-file allowed")
    try:
        with open(str(path), "rb") as handle:
            return handle.read()
    except OSError as err:
        raise SocatError(f'open("{path}", O_RDONLY): {os.strerror(err.errno or 0)}') from None


def _resolved(host: str) -> str:
    """proxy-resolve: the target's first IPv4 address (a name with IPv6 addresses only is
    sent as written; socat 1.7.4.4 would send the garbage 0.0.0.0 there)."""
    for family, _type, _proto, _name, sockaddr in resolve_name(host, socket.AF_UNSPEC):
        if family == socket.AF_INET:
            return str(sockaddr[0])
    return host


@address(("PROXY", "PROXY-CONNECT"), ("<proxy-server>", "<host>", "<port>"), GROUPS, "PROXY",
         "TCP to <host>:<port> through an HTTP proxy's CONNECT (proxyport=, default 8080)",
         count_error_1_7="{keyword}: 3 parameters required")
def open_proxy(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    server, host, port_text = addr.params
    proxy_port = str(opts.get(O.PROXYPORT, DEFAULT_PROXY_PORT))
    authorization = _authorization(opts)
    target = _resolved(host) if opts.flag(O.PROXY_RESOLVE) else host
    port = parse_port(port_text)
    version = str(opts.get(O.HTTP_VERSION, "1.0"))
    ignorecr = opts.flag(O.IGNORECR)
    via = f"{target}:{port} via proxy {server}:{proxy_port}"
    endpoint = open_tunnel(addr, ctx, server, proxy_port,
                           lambda: HttpConnect(target, port, authorization, version, ignorecr), f"PROXY {via}",
                           before_connecting=lambda: LOG.notice(f"opening connection to {via}"))
    LOG.notice(f"successfully connected to {via}")
    return endpoint
