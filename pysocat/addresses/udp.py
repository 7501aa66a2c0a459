"""UDP: UDP-CONNECT (UDP), UDP-LISTEN (UDP-L), UDP-SENDTO (UDP-SEND), UDP-RECVFROM, UDP-RECV
and UDP-DATAGRAM (UDP-DGRAM), each also with 4 and 6 (socat: xio-udp.c).

Every UDP address keeps datagram boundaries: one datagram read is one write. Connected
forms (CONNECT, LISTEN after the first datagram) are plain descriptors; SENDTO, RECVFROM and
DATAGRAM use sockets.DatagramEndpoint (recvfrom/sendto) so that replies reach the sender.
"""
from __future__ import annotations

import socket

from .. import option_table as O
from ..endpoint import Endpoint
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext
from .unix import recvfrom_endpoint

BASE = (G.FD, G.SOCKET)
VERSIONS = (("", socket.AF_UNSPEC, (G.IP4, G.IP6)), ("4", socket.AF_INET, (G.IP4,)),
            ("6", socket.AF_INET6, (G.IP6,)))


def _pick_family(opts: OptionValues, family: int) -> int:
    if family == socket.AF_UNSPEC:
        return S.family_from_options(opts, S.preferred_family())
    return family


def _bound_socket(opts: OptionValues, family: int, port: str) -> tuple[socket.socket, tuple]:
    host = None
    if O.BIND in opts:
        host, _ = S.split_host_port(str(opts.get(O.BIND)))
    if family == socket.AF_UNSPEC:
        family = S.family_from_options(opts, S.listen_family())
    family, local = S.resolve(host, port, family, socket.SOCK_DGRAM, passive=True)
    return S.bound_socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP, opts, local), local


def _unbound_socket(opts: OptionValues, family: int, host: str, port: str) -> tuple[socket.socket, tuple]:
    """A socket for sending to host:port, bound when bind=/sourceport= ask for it."""
    family, target = S.resolve(host, port, S.family_from_options(opts, family), socket.SOCK_DGRAM)
    sock = S.new_socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        S.apply_socket_options(sock, opts)
        S.bind_ip_client(sock, opts, family, socket.SOCK_DGRAM)
    except BaseException:
        sock.close()
        raise
    return sock, target


def _connect(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    opts = addr.options
    host, port = addr.params
    family, target = S.resolve(host, port, S.family_from_options(opts, family), socket.SOCK_DGRAM)
    sock = S.connect_ip(ctx, opts, family, socket.SOCK_DGRAM, socket.IPPROTO_UDP, target)
    return S.stream_endpoint(sock, opts, f"UDP {S.sockaddr_info(family, target)}", ctx, keeps_boundaries=True)


def _listen(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    """Waits for the first datagram, then connect()s to its sender (socat's pseudo listen);
    with fork the connected socket goes to a child and the parent binds a fresh one."""
    opts = addr.options
    S.check_unsupported(opts)
    S.default_reuseaddr(opts)
    while True:
        sock, local = _bound_socket(opts, family, addr.params[0])
        LOG.notice(f"listening on UDP {S.sockaddr_info(sock.family, sock.getsockname())}")
        if opts.flag(O.FORK):
            S.wait_for_child_slot(opts)
        timeout = opts.get(O.ACCEPT_TIMEOUT)
        if not S.wait_readable(sock.fileno(), float(timeout) if timeout is not None else None):  # type: ignore[arg-type]
            sock.close()
            S.accept_timeout_exit()
        peer = S.recvfrom_peek(sock)
        LOG.notice(f"accepting UDP connection from {S.sockaddr_info(sock.family, peer)}")
        refusal = S.peer_refusal(opts, sock.family, peer, sock.fileno(), None)  # socat: no local address
        if refusal:
            LOG.warn(f"refusing connection from {S.sockaddr_info(sock.family, peer)} {refusal}")
            sock.recvfrom(1)
            sock.close()
            continue
        try:
            sock.connect(peer)
        except OSError as err:
            raise S.SocatError(f"connect({sock.fileno()}, {S.sockaddr_info(sock.family, peer)}, "
                               f"{S.socklen(sock.family, peer)}): {S.strerror(err)}") from None
        if opts.flag(O.FORK) and S.fork_child() != 0:
            sock.close()
            continue
        S.set_address_env(ctx, "PEER", sock.family, peer)
        S.set_address_env(ctx, "SOCK", sock.family, sock.getsockname())
        S.apply_connected_options(sock, opts)
        return S.stream_endpoint(sock, opts, f"UDP {S.sockaddr_info(sock.family, peer)}", ctx,
                                 keeps_boundaries=True)


def _sendto(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    opts = addr.options
    sock, target = _unbound_socket(opts, family, *addr.params)
    S.apply_connected_options(sock, opts)
    # socat's SENDTO reads log no ancillary messages (DATAGRAM and RECV ones do)
    return S.datagram_endpoint(sock, opts, f"UDP-SENDTO {S.sockaddr_info(sock.family, target)}", ctx, peer=target,
                               ancillary=False)


def _datagram(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    """Sends to <address>:<port> (unicast, broadcast or multicast) and receives datagrams
    on the socket from anyone in range= (bind=:<port> to receive on a fixed port)."""
    opts = addr.options
    S.check_unsupported(opts)
    sock, target = _unbound_socket(opts, family, *addr.params)
    S.apply_connected_options(sock, opts)

    def accept(sender: object) -> bool:
        return S.permitted_sender(opts, sock, sender)  # type: ignore[arg-type]

    return S.datagram_endpoint(sock, opts, f"UDP-DATAGRAM {S.sockaddr_info(sock.family, target)}", ctx,
                               peer=target, accept=accept)


def _recvfrom(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    opts = addr.options
    S.check_unsupported(opts)
    sock, _local = _bound_socket(opts, family, addr.params[0])
    return recvfrom_endpoint(ctx, opts, sock, [])


def _recv(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    opts = addr.options
    S.check_unsupported(opts)
    sock, _local = _bound_socket(opts, family, addr.params[0])
    LOG.notice(f"receiving on {S.sockaddr_info(sock.family, sock.getsockname())}")

    def accept(sender: object) -> bool:
        return S.permitted_sender(opts, sock, sender)  # type: ignore[arg-type]

    endpoint = S.datagram_endpoint(sock, opts, "UDP-RECV", ctx, accept=accept)
    endpoint.receive_only = True
    return endpoint


def _declare(suffix: str, family: int, ip_groups: tuple[G, ...]) -> None:
    udp = (G.UDP,)
    v = f" IPv{suffix}" if suffix else ""
    hp = ("<host>", "<port>")
    address((f"UDP{suffix}-CONNECT", f"UDP{suffix}"), hp, BASE + ip_groups + udp, "UDP",
            f"UDP{v} client: a connected socket to <host>:<port>")(lambda a, c: _connect(a, c, family))
    address((f"UDP{suffix}-LISTEN", f"UDP{suffix}-L"), ("<port>",),
            BASE + (G.LISTEN, G.CHILD, G.RANGE) + ip_groups + udp, "UDP",
            f"UDP{v} server: waits for a datagram, then talks to its sender only")(lambda a, c: _listen(a, c, family))
    address((f"UDP{suffix}-SENDTO", f"UDP{suffix}-SEND"), hp, BASE + ip_groups + udp, "UDP",
            f"UDP{v}: sends datagrams to <host>:<port>, reads replies")(lambda a, c: _sendto(a, c, family))
    address((f"UDP{suffix}-RECVFROM",), ("<port>",), BASE + (G.CHILD, G.RANGE) + ip_groups + udp, "UDP",
            f"UDP{v}: receives one datagram and replies to its sender (fork: one child each)")(
        lambda a, c: _recvfrom(a, c, family))
    address((f"UDP{suffix}-RECV",), ("<port>",), BASE + (G.RANGE,) + ip_groups + udp, "UDP",
            f"UDP{v}: receives datagrams from any sender", direction="r")(lambda a, c: _recv(a, c, family))
    address((f"UDP{suffix}-DATAGRAM", f"UDP{suffix}-DGRAM"), ("<host>", "<port>"),
            BASE + (G.RANGE,) + ip_groups + udp, "UDP",
            f"UDP{v}: sends to <host>:<port> (broadcast, multicast), receives from anyone")(
        lambda a, c: _datagram(a, c, family))


for _suffix, _family, _groups in VERSIONS:
    _declare(_suffix, _family, _groups)

