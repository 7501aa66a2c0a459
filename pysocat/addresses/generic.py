"""socat's generic socket addresses (xio-socket.c): SOCKET-CONNECT, SOCKET-LISTEN,
SOCKET-SENDTO (SENDTO), SOCKET-RECVFROM, SOCKET-RECV and SOCKET-DATAGRAM (DATAGRAM, DGRAM).

Domain, type and protocol are plain numbers (strtoul: garbage is only a warning), the
address is dalan data after sa_family (`x1f90 x7f000001 x0000000000000000` is AF_INET
127.0.0.1:8080); nothing is resolved, so any family the kernel has works. Sockets are
rawsock.RawSocket, whose addresses are raw bytes; the shared socket code (options, the
connect loop with retry and fork, the accept loop with range, fork and max-children,
datagram endpoints) takes them as they are. Packet types (dgram, seqpacket) keep their
message boundaries, connected or not.
"""
from __future__ import annotations

import socket
from collections.abc import Callable

from .. import option_table as O
from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues, strtoul
from ..rawaddr import RawAddress, RawRange, address_from_text
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext
from .rawsock import RawSocket

STREAM_PARAMS = ("<domain>", "<protocol>")
PACKET_PARAMS = ("<domain>", "<type>", "<protocol>")
FEATURE = "GENERICSOCKET"


# ---------------------------------------------------------------- parameters and options

def _number(text: str) -> int:
    """A socket() argument as socat reads it: strtoul(, 0), a warning for what follows."""
    value, rest = strtoul(text, 0)
    if rest:
        LOG.warn(f'garbage in parameter: "{rest}"')
    return _c_int(value)


def _c_int(value: int) -> int:
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _family(opts: OptionValues, family: int) -> int:
    """pf= (socat: retropt_socket_pf): a number, or the name of an IP version."""
    if O.PF not in opts:
        return family
    text = str(opts.get(O.PF))
    if text[:1].isdigit():
        return _c_int(strtoul(text, 0)[0])
    if text.lower() in ("inet", "inet4", "ip4", "ipv4", "2"):
        return socket.AF_INET
    if text.lower() in ("inet6", "ip6", "ipv6", "10"):
        return socket.AF_INET6
    raise SocatError(f'unknown protocol family "{text}"')


def _socket_args(addr: ResolvedAddress, with_type: bool) -> tuple[int, int, int, str]:
    """(domain, type, protocol, address text); so-type and so-protocol override the parameters."""
    params = [_number(text) for text in addr.params[:-1]]
    family = _family(addr.options, params[0])
    socktype = params[1] if with_type else socket.SOCK_STREAM
    protocol = params[-1]
    socktype = int(addr.options.get(O.SO_TYPE, socktype))  # type: ignore[arg-type]
    protocol = int(addr.options.get(O.SO_PROTOCOL, protocol))  # type: ignore[arg-type]
    return family, socktype, protocol, addr.params[-1]


def _bind_address(opts: OptionValues, family: int, protocol: int) -> RawAddress | None:
    if O.BIND not in opts:
        return None
    return address_from_text(family, str(opts.get(O.BIND)), protocol)


def _reject_bind(opts: OptionValues) -> None:
    """The local address is a parameter of LISTEN, RECV and RECVFROM: socat leaves bind= to
    applyopts(), which does not know it."""
    if O.BIND in opts:
        raise SocatError('applyopts(): option "bind" not implemented')


def _check_range(opts: OptionValues) -> None:
    """range= is parsed before anything is opened, so that its errors come first."""
    if O.RANGE_OPT in opts:
        RawRange.parse(str(opts.get(O.RANGE_OPT)))


def _new_socket(family: int, socktype: int, protocol: int) -> RawSocket:
    try:
        sock = RawSocket(family, socktype, protocol)
    except OSError as err:
        raise SocatError(f"socket({family}, {socktype}, {protocol}): {S.strerror(err)}") from None
    LOG.info(f"socket({family}, {socktype}, {protocol}) -> {sock.fileno()}")
    return sock


def _bound_socket(opts: OptionValues, family: int, socktype: int, protocol: int,
                  local: RawAddress | None) -> RawSocket:
    return S.bound_socket(family, socktype, protocol, opts, local, new=_new_socket)  # type: ignore[return-value]


# ---------------------------------------------------------------- SOCKET-CONNECT

def _connect(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    family, socktype, protocol, text = _socket_args(addr, with_type=False)
    target = address_from_text(family, text, protocol)
    local = _bind_address(opts, family, protocol)
    given = opts.get(O.CONNECT_TIMEOUT)
    timeout = float(given) if given is not None else None  # type: ignore[arg-type]
    LOG.notice(f"opening connection to {target.info()}")

    def attempt(level: str) -> socket.socket | None:
        sock = _bound_socket(opts, family, socktype, protocol, local)
        try:
            if _connect_once(sock, target, timeout, level):
                LOG.notice(f"successfully connected from local address {sock.getsockname().info()}")
                S.apply_connected_options(sock, opts)
                return sock
        except BaseException:
            sock.close()
            raise
        sock.close()
        return None

    sock = S.connect_loop(opts, attempt)
    return S.stream_endpoint(sock, opts, f"SOCKET-CONNECT {target.info()}", ctx,
                             keeps_boundaries=socktype != socket.SOCK_STREAM)


def _connect_once(sock: RawSocket, target: RawAddress, timeout: float | None, level: str) -> bool:
    """One connect(); False when it failed below level E. As socat's _xioopen_connect: a
    UNIX socket's failure is only an I message (socat then exits with status -1), other
    families first look into the socket's error queue (the W recvmsg() line)."""
    try:
        if timeout is not None:
            sock.settimeout(timeout)
        sock.connect(target)
        return True
    except OSError as err:
        if isinstance(err, TimeoutError) and err.errno is None:  # connect-timeout expired
            text = f"connecting to {target.info()}: Connection timed out"
        else:
            text = f"connect({sock.fileno()}, {target.info()}, {target.length}): {S.strerror(err)}"
        if sock.family == socket.AF_UNIX and err.errno is not None:
            if level == "E":
                raise SocatError(text, level="I", status=-1) from None
            LOG.info(text)
            return False
        if timeout is None and err.errno is not None:
            _log_error_queue(sock)
    finally:
        if timeout is not None:
            sock.settimeout(None)
    if level == "E":
        raise SocatError(text)
    LOG.log(level, text)
    return False


def _log_error_queue(sock: socket.socket) -> None:
    try:
        sock.recvmsg(1, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except OSError as err:
        LOG.warn(f"recvmsg(): {S.strerror(err)}")


# ---------------------------------------------------------------- SOCKET-LISTEN

def _listen(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    S.check_unsupported(opts)
    family, socktype, protocol, text = _socket_args(addr, with_type=False)
    local = address_from_text(family, text, protocol)
    _check_range(opts)
    if O.MAX_CHILDREN in opts and not opts.flag(O.FORK):
        raise SocatError("option max-children not allowed without option fork")
    _reject_bind(opts)
    if protocol == socket.IPPROTO_TCP:
        S.default_reuseaddr(opts)  # socat 1.8's xiosock_reuseaddr(): for TCP only
    conn = S.bind_listen_accept(ctx, opts, lambda: _bound_socket(opts, family, socktype, protocol, local))
    return S.stream_endpoint(conn, opts, f"SOCKET-LISTEN {conn.getpeername().info()}", ctx,
                             keeps_boundaries=socktype != socket.SOCK_STREAM)


# ---------------------------------------------------------------- datagrams

class GenericDatagramEndpoint(S.DatagramEndpoint):
    """Reports a failed sendto() in socat's words and, as socat's xiowrite() does after
    every datagram sent, the local address it left from."""

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            super().send(data)
        except OSError as err:
            peer = self.peer
            assert isinstance(peer, RawAddress)
            raise SocatError(f"sendto({self.sock.fileno()}, 0x{id(data):x}, {len(data)}, 0, {peer.info()}, "
                             f"{peer.length}): {S.strerror(err)}") from None
        if self.peer is not None:
            LOG.notice(f"local address: {self.sock.getsockname().info()}")


def _datagram_endpoint(sock: RawSocket, opts: OptionValues, label: str, ctx: OpenContext,
                       **fields: object) -> S.DatagramEndpoint:
    return S.datagram_endpoint(sock, opts, label, ctx, endpoint_class=GenericDatagramEndpoint, **fields)


def _sending_socket(addr: ResolvedAddress) -> tuple[RawSocket, RawAddress]:
    """SENDTO and DATAGRAM: the peer from the parameters, the local side from bind=."""
    opts = addr.options
    family, socktype, protocol, text = _socket_args(addr, with_type=True)
    peer = address_from_text(family, text, protocol)
    local = _bind_address(opts, family, protocol)
    sock = _bound_socket(opts, family, socktype, protocol, local)
    LOG.notice(f"successfully prepared local socket {sock.getsockname().info()}")
    S.apply_connected_options(sock, opts)
    return sock, peer


def _sendto(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    sock, peer = _sending_socket(addr)
    return _datagram_endpoint(sock, addr.options, f"SOCKET-SENDTO {peer.info()}", ctx, peer=peer,
                              ancillary=False)  # as socat's SENDTO reads: no ancillary messages logged


def _datagram(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    """Sends to the address and reads what arrives from anyone (in range=, if given)."""
    opts = addr.options
    _check_range(opts)
    sock, peer = _sending_socket(addr)

    def permitted(sender: object) -> bool:
        return S.peer_refusal(opts, sock.family, sender) is None  # type: ignore[arg-type]

    return _datagram_endpoint(sock, opts, f"SOCKET-DATAGRAM {peer.info()}", ctx, peer=peer, accept=permitted)


def _receiving_socket(addr: ResolvedAddress) -> tuple[RawSocket, RawAddress]:
    opts = addr.options
    family, socktype, protocol, text = _socket_args(addr, with_type=True)
    local = address_from_text(family, text, protocol)
    _check_range(opts)
    _reject_bind(opts)
    return _bound_socket(opts, family, socktype, protocol, local), local


def _recv(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    sock, _local = _receiving_socket(addr)

    def permitted(sender: object) -> bool:
        return S.peer_refusal(opts, sock.family, sender) is None  # type: ignore[arg-type]

    endpoint = _datagram_endpoint(sock, opts, "SOCKET-RECV", ctx, accept=permitted)
    endpoint.write_fd = None
    return endpoint


def _recvfrom(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    """Waits for a datagram and replies to its sender; with fork a child handles each one
    (the parent waits until the child has read it), otherwise this process does."""
    opts = addr.options
    sock, local = _receiving_socket(addr)

    def handle(sender: object, consumed: Callable[[], None] | None) -> Endpoint:
        S.set_address_env(ctx, "PEER", sock.family, sender)  # type: ignore[arg-type]
        return _datagram_endpoint(sock, opts, "SOCKET-RECVFROM", ctx, follow_sender=True, oneshot=True,
                                  consumed=consumed, ancillary=not O.ANCILLARY_OPTIONS.isdisjoint(opts.values))

    return S.recvfrom_loop(opts, sock, f"on {local.info()}", S.permitted_by_options(opts, sock.family), handle,
                           ctx=ctx)


# ---------------------------------------------------------------- declarations

_STREAM = (G.FD, G.SOCKET)
address(("SOCKET-CONNECT",), STREAM_PARAMS + ("<remote-address>",), _STREAM + (G.CHILD, G.RETRY), FEATURE,
        "stream socket of any domain and protocol, connected to a dalan sockaddr without its family "
        "(AF_INET 127.0.0.1:8080: x1f90x7f000001x0000000000000000)")(_connect)
address(("SOCKET-LISTEN",), STREAM_PARAMS + ("<local-address>",),
        _STREAM + (G.LISTEN, G.RANGE, G.CHILD, G.RETRY), FEATURE,
        "stream socket of any domain listening on a dalan address (fork: one child each)")(_listen)
address(("SOCKET-SENDTO", "SENDTO"), PACKET_PARAMS + ("<remote-address>",), _STREAM, FEATURE,
        "socket of any domain and type: sends to a dalan address, reads the replies")(_sendto)
address(("SOCKET-DATAGRAM", "DATAGRAM", "DGRAM"), PACKET_PARAMS + ("<remote-address>",), _STREAM + (G.RANGE,),
        FEATURE, "datagram socket of any domain: sends to a dalan address, receives from anyone in range")(
    _datagram)
address(("SOCKET-RECVFROM",), PACKET_PARAMS + ("<local-address>",), _STREAM + (G.CHILD, G.RANGE), FEATURE,
        "socket bound to a dalan address: one datagram, replies to its sender (fork: one child each)")(_recvfrom)
address(("SOCKET-RECV",), PACKET_PARAMS + ("<local-address>",), _STREAM + (G.RANGE,), FEATURE,
        "socket bound to a dalan address: receives datagrams from anyone", direction="r")(_recv)
