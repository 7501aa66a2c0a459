"""UNIX domain sockets: UNIX-CONNECT (LOCAL), UNIX-LISTEN (UNIX-L), UNIX-SENDTO (UNIX-SEND),
UNIX-RECVFROM, UNIX-RECV, UNIX-CLIENT (UNIX), and the Linux abstract-namespace forms
ABSTRACT-* (no file system entry, hence no NAMED options). socat: xio-unix.c.

Stream is the default; a connect that meets a datagram or seqpacket socket (EPROTOTYPE)
is retried with that type, as socat does, and packet types keep message boundaries.
"""
from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable

from .. import option_table as O
from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from . import sockets as S
from . import unixnames as N
from .common import OpenContext, apply_named_early, apply_named_owner, unlink_on_close

FILE_GROUPS = (G.FD, G.SOCKET, G.NAMED, G.RETRY, G.UNIX)
ABSTRACT_GROUPS = (G.FD, G.SOCKET, G.RETRY, G.UNIX)
TYPES = {1: socket.SOCK_STREAM, 2: socket.SOCK_DGRAM, 5: socket.SOCK_SEQPACKET}


def _name(addr: ResolvedAddress, abstract: bool) -> str | bytes:
    return N.unix_address(addr.params[0], abstract, N.is_tight(addr.options))


def _socktype(addr: ResolvedAddress, default: int) -> int:
    if O.SO_TYPE in addr.options:
        value = int(addr.options.get(O.SO_TYPE))  # type: ignore[arg-type]
        return TYPES.get(value, value)
    return default


def _connect(addr: ResolvedAddress, ctx: OpenContext, abstract: bool, fallback_dgram: bool) -> Endpoint:
    """UNIX-CONNECT: a stream (or socktype=) socket; UNIX-CLIENT also seqpacket or dgram when
    the server's socket is one (EPROTOTYPE), as in socat 1.7.4."""
    opts = addr.options
    N.check_bind_options(opts, "do not use both options bind and "
                         + ("unix-bind-tempname" if fallback_dgram else "unix-bind-tempnam"))
    path = _name(addr, abstract)
    LOG.notice(f"opening connection to {S.sockaddr_info(socket.AF_UNIX, path)}")
    retry = S.Retry.from_options(opts)
    tried = [_socktype(addr, socket.SOCK_STREAM)]
    if O.SO_TYPE not in opts and fallback_dgram:
        tried += [socket.SOCK_SEQPACKET, socket.SOCK_DGRAM]  # UNIX-CLIENT only: UNIX-CONNECT fails as socat's
    attempt = 0
    while True:
        attempt += 1
        last_error: SocatError | None = None
        for kind in tried:
            sock = S.new_socket(socket.AF_UNIX, kind, 0)
            local = None
            try:
                S.apply_socket_options(sock, opts)
                local = N.bind_client(sock, opts, abstract)
                sock.connect(path)
            except OSError as err:
                shown = (f"connect(, {S.sockaddr_info(socket.AF_UNIX, path)}, "
                         f"{N.address_length(path, N.is_tight(opts))})")
                last_error = SocatError(f"{shown}: {S.strerror(err)}")
                sock.close()
                N.unlink_bound(local)  # the next attempt binds the same name again
                if err.errno == errno.EPROTOTYPE:
                    continue
                break
            except BaseException:
                sock.close()
                raise
            else:
                LOG.notice(f"successfully connected from local address "
                           f"{S.sockaddr_info(socket.AF_UNIX, sock.getsockname())}")
                S.apply_connected_options(sock, opts)
                endpoint = S.stream_endpoint(sock, opts, f"UNIX {path!r}", ctx,
                                             keeps_boundaries=kind != socket.SOCK_STREAM)
                temporary = O.BIND_TEMPNAME in opts
                if isinstance(local, str) and not abstract and (not fallback_dgram or temporary):
                    # UNIX-CONNECT removes its bound name at close (unlink-close=0 keeps it), and
                    # so does pysocat's UNIX-CLIENT for a temporary name (socat 1.8 leaves it)
                    endpoint.on_close.extend(unlink_on_close(local, opts, default=True))
                return endpoint
        assert last_error is not None
        if not retry.more(attempt):
            raise last_error
        LOG.info(last_error.text)
        S.time.sleep(retry.interval)


def _bound(addr: ResolvedAddress, abstract: bool, kind: int) -> tuple[socket.socket, str, list]:
    """A socket bound to the address's name: unlink-early first, removed again on close."""
    opts = addr.options
    path = _name(addr, abstract)
    on_close: list = []
    if not abstract:
        apply_named_early(path, opts)
        if os.path.lexists(path):
            raise SocatError(f'"{path}" exists')  # socat checks before bind(); unlink-early removes it
    sock = S.bound_socket(socket.AF_UNIX, kind, 0, opts, path)
    if not abstract:
        on_close = unlink_on_close(path, opts, default=True)
        try:
            apply_named_owner(path, opts)  # user=, group=, perm= of the socket's file entry
        except BaseException:
            for hook in on_close:
                hook()
            sock.close()
            raise
    return sock, path, on_close


def _cleaned_up_on_failure(on_close: list, wait: Callable[[], Endpoint]) -> Endpoint:
    """Waiting for a peer (listen, recvfrom) may end in an error or a signal: the bound
    name is removed then too, by the process that made it (not by a forked child)."""
    parent_pid = os.getpid()
    try:
        return wait()
    except BaseException:
        if os.getpid() == parent_pid:
            for hook in on_close:
                hook()
        raise


def _listen(addr: ResolvedAddress, ctx: OpenContext, abstract: bool) -> Endpoint:
    opts = addr.options
    kind = _socktype(addr, socket.SOCK_STREAM)
    sock, path, on_close = _bound(addr, abstract, kind)
    conn = _cleaned_up_on_failure(on_close, lambda: S.listen_and_accept(ctx, opts, sock, on_close))
    S.apply_connected_options(conn, opts)
    endpoint = S.stream_endpoint(conn, opts, f"UNIX {path!r}", ctx, keeps_boundaries=kind != socket.SOCK_STREAM)
    endpoint.on_close.extend(on_close)
    return endpoint


def _sendto(addr: ResolvedAddress, ctx: OpenContext, abstract: bool) -> Endpoint:
    opts = addr.options
    N.check_bind_options(opts, "do not use both options bind and bind-tempnam")
    path = _name(addr, abstract)
    sock = S.new_socket(socket.AF_UNIX, _socktype(addr, socket.SOCK_DGRAM), 0)
    try:
        S.apply_socket_options(sock, opts)
        local = N.bind_client(sock, opts, abstract)
    except BaseException:
        sock.close()
        raise
    S.apply_connected_options(sock, opts)
    endpoint = S.datagram_endpoint(sock, opts, f"UNIX-SENDTO {path!r}", ctx, peer=path,
                                   ancillary=False)  # as socat's SENDTO reads: no ancillary messages logged
    if isinstance(local, str) and not abstract:
        endpoint.on_close.extend(unlink_on_close(local, opts, default=True))  # socat: unlink-close default
    return endpoint


def _recvfrom(addr: ResolvedAddress, ctx: OpenContext, abstract: bool) -> Endpoint:
    opts = addr.options
    sock, path, on_close = _bound(addr, abstract, _socktype(addr, socket.SOCK_DGRAM))
    endpoint = _cleaned_up_on_failure(on_close, lambda: recvfrom_endpoint(ctx, opts, sock, on_close))
    endpoint.on_close.extend(on_close)
    return endpoint


def recvfrom_endpoint(ctx: OpenContext, opts: OptionValues, sock: socket.socket, on_close: list) -> Endpoint:
    """UNIX and UDP RECVFROM: one datagram per handler (a child each with fork), whose
    sender gets the replies; SOCAT_PEERADDR (and PEERPORT) name it."""
    local = sock.getsockname()

    def handle(sender: S.Sockaddr, consumed: Callable[[], None] | None) -> Endpoint:
        S.set_address_env(ctx, "PEER", sock.family, sender)
        return S.datagram_endpoint(sock, opts, "recvfrom", ctx, follow_sender=True, oneshot=True, consumed=consumed)

    return S.recvfrom_loop(opts, sock, f"on {S.sockaddr_info(sock.family, local)}",
                           S.permitted_by_options(opts, sock.family, sock.fileno()), handle, on_close, ctx=ctx)


def _recv(addr: ResolvedAddress, ctx: OpenContext, abstract: bool) -> Endpoint:
    opts = addr.options
    sock, path, on_close = _bound(addr, abstract, _socktype(addr, socket.SOCK_DGRAM))
    LOG.notice(f"receiving on {S.sockaddr_info(socket.AF_UNIX, path)}")
    endpoint = S.datagram_endpoint(sock, opts, f"UNIX-RECV {path!r}", ctx)
    endpoint.receive_only = True
    endpoint.on_close.extend(on_close)
    return endpoint


def _declare(prefix: str, abstract: bool, groups: tuple[G, ...], feature: str) -> None:
    param = ("<filename>",)
    what = "abstract UNIX socket named <filename>" if abstract else "UNIX socket <filename>"
    connect_aliases = () if abstract else ("LOCAL",)
    address((f"{prefix}-CONNECT", *connect_aliases), param, groups, feature,
            f"connects to the {what} (stream; seqpacket when the server uses it)")(
        lambda a, c: _connect(a, c, abstract, fallback_dgram=False))
    address((f"{prefix}-LISTEN", f"{prefix}-L"), param, groups + (G.LISTEN, G.CHILD), feature,
            f"listens on the {what}; removes it again on close")(lambda a, c: _listen(a, c, abstract))
    address((f"{prefix}-SENDTO", f"{prefix}-SEND"), param, groups, feature,
            f"sends datagrams to the {what}")(lambda a, c: _sendto(a, c, abstract))
    address((f"{prefix}-RECVFROM",), param, groups + (G.CHILD,), feature,
            f"receives one datagram on the {what} and replies to its sender")(lambda a, c: _recvfrom(a, c, abstract))
    address((f"{prefix}-RECV",), param, groups, feature, f"receives datagrams on the {what}", direction="r")(
        lambda a, c: _recv(a, c, abstract))
    address((f"{prefix}-CLIENT", prefix), param, groups, feature,
            f"connects to the {what}, stream or datagram, whichever it is")(
        lambda a, c: _connect(a, c, abstract, fallback_dgram=True))


_declare("UNIX", False, FILE_GROUPS, "UNIX")
_declare("ABSTRACT", True, ABSTRACT_GROUPS, "ABSTRACT_UNIXSOCKET")
