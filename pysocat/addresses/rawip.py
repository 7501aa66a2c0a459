"""Raw IP: IP-SENDTO (IP, IP-SEND), IP-DATAGRAM (IP-DGRAM), IP-RECVFROM and IP-RECV, each also
with 4 and 6 (socat: xio-rawip.c). The second parameter is an IP protocol number, not a port.

What a read delivers follows socat, verified with socat 1.7.4.4 over 127.0.0.1: an IPv4 raw
socket hands the IP header to the application and socat strips it (so a packet without
payload reads as EOF); IPv6 raw sockets deliver the payload only. A write is one packet:
the kernel adds the header, except with protocol 255 or ip-hdrincl, where the data is the
whole packet. IP4-SENDTO only reads packets whose source is the peer's address (and, on
127.0.0.1, its own packets come back that way too, as with socat); IP6-SENDTO reads any.
IP-DATAGRAM reads from anyone in range=; IP-RECVFROM answers the sender of one packet
(with fork, one child per packet). Packet boundaries are kept (sockets.DatagramEndpoint).
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
from ..options import OptionValues, strtoul
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext

BASE = (G.FD, G.SOCKET)
VERSIONS = (("", socket.AF_UNSPEC, (G.IP4, G.IP6)), ("4", socket.AF_INET, (G.IP4,)),
            ("6", socket.AF_INET6, (G.IP6,)))


# ---------------------------------------------------------------- parameters (pure but for the warning)

def parse_protocol(text: str, where: str) -> int:
    """socat's `strtoul(protname, &garbage, 0)` into a C int: 256 and more is an error,
    trailing garbage only a warning (`25x` is 25, `x` is 0), a negative number reaches socket()."""
    value, rest = strtoul(text, 0)
    value &= 0xFFFFFFFF
    number = value - (1 << 32) if value >= 1 << 31 else value
    if number >= 256:
        raise SocatError(f"{where}: protocol number exceeds 255 ({value})")
    if rest:
        LOG.warn(f"{where}: trailing garbage in protocol specification")
    return number


def resolve_host(host: str, family: int, proto: int) -> tuple[int, tuple]:
    """xioresolve(host, NULL, ...): the address only, in socat's error wording; `[v6]` is
    numeric and IPv6. With both families possible socat 1.8's preference decides."""
    flags = socket.AI_PASSIVE
    name = host
    if host.startswith("[") and host.endswith("]"):
        name = host[1:-1]
        flags |= socket.AI_NUMERICHOST
        if family == socket.AF_UNSPEC:
            family = socket.AF_INET6
    call = f'getaddrinfo("{name}", "NULL", {{{flags},{int(family)},{int(socket.SOCK_RAW)},{proto}}}, {{}})'
    try:
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_RAW, proto, flags)
    except socket.gaierror as err:
        raise SocatError(f"{call}: {err.strerror}") from None
    except UnicodeError:  # a name Python cannot even encode: glibc finds nothing for it either
        raise SocatError(f"{call}: Name or service not known") from None
    if family == socket.AF_UNSPEC:
        wanted = S.preferred_family()
        for info in infos:
            if info[0] == wanted:
                return info[0], info[4]
    return infos[0][0], infos[0][4]


def _bind_address(opts: OptionValues, family: int, proto: int) -> tuple | None:
    """bind=<host>: raw sockets have no ports (socat's retropt_bind with feats 1)."""
    if O.BIND not in opts:
        return None
    host, port = S.split_host_port(str(opts.get(O.BIND)))
    if port is not None:
        raise SocatError("port specification not allowed in this bind option")
    return resolve_host(host, family, proto)[1]


# ---------------------------------------------------------------- sockets

def _raw_socket(opts: OptionValues, family: int, proto: int, local: tuple | None) -> socket.socket:
    """socket() (socktype= and protocol= may change it), its options, bound to `local` if given."""
    socktype = int(opts.get(O.SO_TYPE, socket.SOCK_RAW))  # type: ignore[arg-type]
    proto = int(opts.get(O.SO_PROTOCOL, proto))  # type: ignore[arg-type]
    if proto < 0:  # Python reads -1 as "the default protocol"; the kernel refuses any negative one
        raise SocatError(f"socket({int(family)}, {socktype}, {proto}): {os.strerror(errno.EINVAL)}")
    return S.bound_socket(family, socktype, proto, opts, local)


def _listening_family(opts: OptionValues, family: int) -> int:
    """RECV and RECVFROM have no host to choose the family: pf=, else IPv4 unless -6 (as UDP)."""
    family = S.family_from_options(opts, family)
    return S.preferred_family() if family == socket.AF_UNSPEC else family


def _range_check(opts: OptionValues, family: int) -> Callable[[S.Sockaddr], bool] | None:
    """The accept callback for reads under range= or tcpwrap (socat's xiocheckpeer), or None."""
    wrapped = any(opt in opts for opt in O.TCPWRAP_OPTIONS)
    if O.RANGE_OPT not in opts and not wrapped:
        return None
    S.check_unsupported(opts)
    network = S.parse_range(str(opts.get(O.RANGE_OPT))) if O.RANGE_OPT in opts else None

    def accept(sender: S.Sockaddr) -> bool:
        if network is not None and not S.in_range(network, family, sender):
            LOG.warn(f"refusing connection from {S.sockaddr_info(family, sender)} due to range option")
            return False
        if not wrapped:
            return True
        from .tcpwrap import refusal

        local = ("::", 0, 0, 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)  # socat's zeroed one
        reason = refusal(opts, -1, family, sender, local, S.sockaddr_info(family, sender))
        if reason:
            LOG.warn(f"refusing connection from {S.sockaddr_info(family, sender)} {reason}")
        return reason is None

    return accept


def _sending(addr: ResolvedAddress, family: int) -> tuple[socket.socket, tuple]:
    """What SENDTO and DATAGRAM share (socat's _xioopen_rawip_sendto)."""
    opts = addr.options
    host, protocol = addr.params
    proto = parse_protocol(protocol, f'xioopen_rawip_sendto("{host}:{protocol}",,)')
    family, target = resolve_host(host, S.family_from_options(opts, family), proto)
    sock = _raw_socket(opts, family, proto, _bind_address(opts, family, proto))
    S.apply_connected_options(sock, opts)
    LOG.notice(f"successfully prepared local socket {S.sockaddr_info(family, sock.getsockname())}")
    return sock, target


def _sendto(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    sock, target = _sending(addr, family)
    accept = None
    if sock.family == socket.AF_INET:
        def accept(sender: S.Sockaddr) -> bool:  # socat compares the IPv4 address only
            if sender[0] == target[0]:  # type: ignore[index]
                return True
            LOG.info("recvfrom(): wrong peer address, ignoring packet")
            return False

    return S.datagram_endpoint(sock, addr.options, f"IP-SENDTO {S.sockaddr_info(sock.family, target)}", ctx,
                               peer=target, accept=accept, skip_ip_header=sock.family == socket.AF_INET,
                               ancillary=False)  # as socat's SENDTO reads: no ancillary messages logged


def _datagram(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    """Sends to <address> (unicast, broadcast with `broadcast`, multicast) and reads what
    anyone in range= sends with this protocol."""
    opts = addr.options
    sock, target = _sending(addr, family)
    try:
        accept = _range_check(opts, sock.family)
    except SocatError:
        sock.close()
        raise
    return S.datagram_endpoint(sock, opts, f"IP-DATAGRAM {S.sockaddr_info(sock.family, target)}", ctx,
                               peer=target, accept=accept, skip_ip_header=sock.family == socket.AF_INET)


def _recv(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    opts = addr.options
    proto = parse_protocol(addr.params[0], f'xioopen_rawip_recv("{addr.params[0]}",,)')
    family = _listening_family(opts, family)
    accept = _range_check(opts, family)
    sock = _raw_socket(opts, family, proto, _bind_address(opts, family, proto))
    LOG.info("starting recv loop")
    endpoint = S.datagram_endpoint(sock, opts, f"IP-RECV {proto}", ctx, accept=accept,
                                   skip_ip_header=family == socket.AF_INET)
    endpoint.receive_only = True
    return endpoint


def _recvfrom(addr: ResolvedAddress, ctx: OpenContext, family: int) -> Endpoint:
    """Waits for a packet; with fork a child handles each one (the parent waits until the
    child has read it), otherwise this process does. The handler reads that one packet and
    writes its replies to the sender (socat's _xioopen_dgram_recvfrom)."""
    opts = addr.options
    proto = parse_protocol(addr.params[0], f'xioopen_rawip_recvfrom("{addr.params[0]}",,)')
    family = _listening_family(opts, family)
    local = _bind_address(opts, family, proto)
    permitted = S.permitted_by_options(opts, family)
    if O.RANGE_OPT in opts:
        S.parse_range(str(opts.get(O.RANGE_OPT)))  # a bad range= fails before the socket exists
    sock = _raw_socket(opts, family, proto, local)
    skip = family == socket.AF_INET
    label = f"IP-RECVFROM {proto}"
    where = f"on {S.sockaddr_info(family, local)}" if local is not None else f"IP protocol {proto}"

    def handle(sender: S.Sockaddr, consumed: Callable[[], None] | None) -> Endpoint:
        S.set_env(ctx, "PEERADDR", str(sender[0]) if family == socket.AF_INET else f"[{S.ip6_full(sender[0])}]")
        return S.datagram_endpoint(sock, opts, label, ctx, follow_sender=True, oneshot=True, consumed=consumed,
                                   skip_ip_header=skip)

    return S.recvfrom_loop(opts, sock, where, permitted, handle, ctx=ctx)


# ---------------------------------------------------------------- declarations

def _declare(suffix: str, family: int, ip_groups: tuple[G, ...]) -> None:
    v = f" IPv{suffix}" if suffix else ""
    sendto_names = (f"IP{suffix}-SENDTO", f"IP{suffix}", f"IP{suffix}-SEND")
    address(sendto_names, ("<host>", "<protocol>"), BASE + ip_groups, "RAWIP",
            f"raw IP{v}: sends packets of <protocol> to <host>, reads the packets <host> sends")(
        lambda a, c: _sendto(a, c, family))
    address((f"IP{suffix}-DATAGRAM", f"IP{suffix}-DGRAM"), ("<host>", "<protocol>"),
            BASE + (G.RANGE,) + ip_groups, "RAWIP",
            f"raw IP{v}: sends to <host> (broadcast, multicast), reads <protocol> packets from anyone in range")(
        lambda a, c: _datagram(a, c, family))
    address((f"IP{suffix}-RECVFROM",), ("<protocol>",), BASE + (G.CHILD, G.RANGE) + ip_groups, "RAWIP",
            f"raw IP{v}: receives one <protocol> packet and replies to its sender (fork: one child each)")(
        lambda a, c: _recvfrom(a, c, family))
    address((f"IP{suffix}-RECV",), ("<protocol>",), BASE + (G.RANGE,) + ip_groups, "RAWIP",
            f"raw IP{v}: receives <protocol> packets from any sender", direction="r")(
        lambda a, c: _recv(a, c, family))


for _suffix, _family, _groups in VERSIONS:
    _declare(_suffix, _family, _groups)
