"""The I/O shell around the proxy handshakes of proxy_protocols.py (PROXY, SOCKS4, SOCKS4A,
SOCKS5-CONNECT, SOCKS5-LISTEN): connect to the proxy as TCP-CONNECT does (options, bind,
connect-timeout, retry, fork: sockets.connect_ip), run the handshake on the connection,
and hand the socket on as an ordinary TCP stream endpoint, so that the splice fast path
and `framed` work on it as on TCP.

The proxy's reply is peeked at (MSG_PEEK) and only the bytes the handshake took are read
off the socket: whatever the proxy sent behind its reply (the tunnelled peer's first
bytes) stays queued for the engine. socat reads its HTTP answer one byte at a time for
the same reason.
"""
from __future__ import annotations

import _socket
import os
import socket
from collections.abc import Callable

from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import OptionValues, strtoul
from ..proxy_protocols import ATTEMPT, Handshake, ProxyError
from ..registry import ResolvedAddress
from . import sockets as S
from .common import OpenContext


def parse_port(text: str) -> int:
    """socat's parseport() for a target port: a number (strtoul base 0, cut to 16 bits) or a
    service name from /etc/services, with socat's errors."""
    if text[:1].isdigit():
        value, rest = strtoul(text, 0)
        if rest:
            raise SocatError(f'parseport("{text}", 6): extra trailing data "{rest}"')
        return value & 0xFFFF
    try:
        return socket.getservbyname(text, "tcp")
    except OSError:
        raise SocatError(f'cannot resolve service "{text}/6"') from None


def resolve_name(host: str, family: int) -> list[tuple]:
    """A target name as socat's xioresolve() looks it up (no port; brackets mean a numeric
    IPv6 address), with its error text."""
    flags = int(socket.AI_PASSIVE)
    name = host
    if host.startswith("[") and host.endswith("]"):
        name, flags = host[1:-1], flags | int(socket.AI_NUMERICHOST)
    try:
        return _socket.getaddrinfo(os.fsencode(name), None, family, socket.SOCK_STREAM, socket.IPPROTO_TCP, flags)
    except socket.gaierror as err:
        raise SocatError(f'getaddrinfo("{name}", "NULL", {{{flags},{int(family)},{int(socket.SOCK_STREAM)},'
                         f'{int(socket.IPPROTO_TCP)}}}, {{}}): {err.strerror}') from None


def server_address(opts: OptionValues, host: str, port: str) -> tuple[int, tuple]:
    """The proxy server's address as TCP-CONNECT resolves its host (pf=, -4/-6)."""
    if port == "":
        raise SocatError("empty port/service")
    family = S.family_from_options(opts, socket.AF_UNSPEC)
    return S.resolve(host, port, family, socket.SOCK_STREAM)


def _flush(handshake: Handshake, level: str) -> None:
    """Logs what the handshake said; a line at the attempt's level that is an error ends
    the open unless -s (socat exits at any E line)."""
    lines, handshake.log[:] = list(handshake.log), []
    for line_level, text in lines:
        line_level = level if line_level == ATTEMPT else line_level
        if line_level == "E" and not LOG.sloppy:
            raise SocatError(text)
        LOG.log(line_level, text)


def _fail(text: str, level: str, retry: bool = True) -> bool:
    if level == "E" or not retry:
        raise SocatError(text)
    LOG.info(text)
    return False


def run_handshake(sock: socket.socket, handshake: Handshake, level: str) -> bool:
    """Drives the handshake on a connected socket. True: the tunnel stands. False: this
    attempt failed (logged at I; retry= may make another); at level E it raises."""
    fd = sock.fileno()
    try:
        while True:
            data = handshake.outgoing()
            _flush(handshake, level)
            if data:
                try:
                    sock.sendall(data)
                except OSError as err:
                    return _fail(f"write({fd}, 0x{id(data):x}, {len(data)}): {S.strerror(err)}", level)
            if handshake.done:
                return True
            wanted = handshake.wanted()
            try:
                seen = sock.recv(wanted, socket.MSG_PEEK)
            except OSError as err:
                return _fail(f"read({fd}, 0x{id(handshake):x}, {wanted}): {S.strerror(err)}", level)
            if not seen:
                handshake.eof()
            taken = handshake.receive(seen)
            _consume(sock, taken)
            _flush(handshake, level)
    except ProxyError as err:
        _flush(handshake, level)
        return _fail(err.text, level, err.retry)


def _consume(sock: socket.socket, count: int) -> None:
    """Reads the `count` bytes already peeked at (they are queued: no wait)."""
    while count > 0:
        count -= len(sock.recv(count, socket.MSG_WAITALL))


def open_tunnel(addr: ResolvedAddress, ctx: OpenContext, server: str, server_port: str,
                make_handshake: Callable[[], Handshake], label: str,
                before_connecting: Callable[[], None] | None = None,
                after_resolving: Callable[[], None] | None = None) -> Endpoint:
    """Connects to the proxy `server`:`server_port` with the address's socket options,
    runs a fresh handshake on every connection (retry, fork), returns the stream. The
    two hooks put the address's notices where socat logs them: after the server's name
    is resolved, and after the `opening connection to` notice."""
    opts = addr.options
    S.check_unsupported(opts)
    family, target = server_address(opts, server, server_port)
    if after_resolving is not None:
        after_resolving()
    sock = S.connect_ip(ctx, opts, family, socket.SOCK_STREAM, socket.IPPROTO_TCP, target,
                        before_connecting=before_connecting,
                        handshake=lambda conn, level: run_handshake(conn, make_handshake(), level))
    return S.stream_endpoint(sock, opts, label, ctx)


def default_user() -> str:
    """socat's SOCKS user when socksuser= is not given."""
    for name in ("LOGNAME", "USER"):  # set but empty counts, as socat's getenv() test
        if name in os.environ:
            return os.environ[name]
    return "anonymous"
