"""socat's reading of ancillary messages (pure: cmsg bytes -> log texts and variables).

socat (xiodopacketinfo, xiolog_ancillary_socket/_ip/_ip6) turns every control message
that recvmsg() delivers with a datagram into "type: name=value" items: it logs each at
info level, some IPv4 ones also as a notice of their own, and on the first packet of a
RECVFROM it exports each as SOCAT_<variable> for the programs it starts (SOCAT_IP_TTL,
SOCAT_IP_DSTADDR, SOCAT_TIMESTAMP, SOCAT_IPV6_HOPLIMIT, ...). Scripts and socat's own
test suite grep those lines and read those variables, so the texts follow socat 1.7.4.4
as measured on Linux over loopback. The table KINDS maps (level, type) to how one
message reads; anything not in it is dumped in hex under socat's fallback names.
"""
from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

from ..record import dataclass

IfName = Callable[[int], str]

SOL_SOCKET = socket.SOL_SOCKET
SOL_IP = socket.IPPROTO_IP
SOL_IPV6 = socket.IPPROTO_IPV6
SCM_TIMESTAMP = 29  # = SO_TIMESTAMP on Linux
IP_TOS, IP_TTL, IP_OPTIONS, IP_RECVOPTS, IP_PKTINFO = 1, 2, 4, 6, 8
IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_HOPOPTS, IPV6_RTHDR, IPV6_DSTOPTS, IPV6_TCLASS = 50, 52, 54, 57, 59, 67

CMSG_HEADER = 16  # sizeof(struct cmsghdr) on 64-bit Linux: cmsg_len in socat's debug line counts it
VALUE_SPACE = 255  # socat's value buffer (256 - 1): a longer hex dump is cut


@dataclass(frozen=True)
class Item:
    """One "type: name=value" of a control message and the variable it sets."""

    kind: str  # IP_TTL, IP_PKTINFO, SCM_TIMESTAMP ...
    name: str  # ttl, dstaddr, timestamp ...
    value: str
    variable: str  # without the SOCAT_ prefix: IP_TTL, IP_DSTADDR, TIMESTAMP ...

    @property
    def info_line(self) -> str:
        return f"ancillary message: {self.kind}: {self.name}={self.value}"


@dataclass(frozen=True)
class Decoded:
    items: tuple[Item, ...]
    notice: str | None = None  # socat's own "Ancillary message: ..." notice, IPv4 only


def hex_dump(data: bytes, space: int = VALUE_SPACE) -> str:
    """socat's xiodump(): "x" and two hex digits a byte, cut to fit its buffer; nothing for no data."""
    if not data:
        return ""
    if 3 * len(data) + 1 > space:
        data = data[: (space - 1) // 3]
    return "x" + data.hex()


def variable_name(kind: str, name: str, explicit: str = "") -> str:
    """socat's choice: the explicit name; else the type when it ends with the item's name
    (IP_TTL for ttl); else TYPE_NAME upper-cased (xiosetenv2)."""
    if explicit:
        return explicit
    if kind.lower().endswith(name.lower()):
        return kind
    return f"{kind}_{name}".upper()


def _items(kind: str, fields: tuple[tuple[str, str, str], ...]) -> tuple[Item, ...]:
    """(name, value, explicit variable) triples of one message."""
    return tuple(Item(kind, name, value, variable_name(kind, name, env)) for name, value, env in fields)


def _ip4(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET, raw)


def _ip6(raw: bytes) -> str:
    return "[" + ":".join(f"{g:04x}" for g in struct.unpack("!8H", raw)) + "]"


# ---------------------------------------------------------------- decoders, one per message type

def _timestamp(data: bytes, _ifname: IfName) -> Decoded:
    """struct timeval as ctime() and microseconds, local time."""
    seconds, micros = struct.unpack_from("=qq", data.ljust(16, b"\0"))
    value = f"{time.ctime(seconds)}, {micros:06d} usecs"
    return Decoded(_items("SCM_TIMESTAMP", (("timestamp", value, "TIMESTAMP"),)))


def _ip_pktinfo(data: bytes, ifname: IfName) -> Decoded:
    """struct in_pktinfo: interface index, local (spec_dst) and destination address."""
    index, spec_dst, addr = struct.unpack_from("=i4s4s", data.ljust(12, b"\0"))
    interface, locaddr, dstaddr = ifname(index), _ip4(spec_dst), _ip4(addr)
    return Decoded(_items("IP_PKTINFO", (("if", interface, "IP_IF"), ("locaddr", locaddr, "IP_LOCADDR"),
                                         ("dstaddr", dstaddr, "IP_DSTADDR"))),
                   f'Ancillary message: interface "{interface}", locaddr={locaddr}, dstaddr={dstaddr}')


def _ip_number(kind: str, name: str) -> Callable[[bytes, IfName], Decoded]:
    """IP_TTL (an int) and IP_TOS (a byte): a number and socat's notice; other sizes a dump."""

    def decode(data: bytes, _ifname: IfName) -> Decoded:
        if len(data) in (1, 4):
            number = data[0] if len(data) == 1 else struct.unpack("=I", data)[0]
            return Decoded(_items(kind, ((name, str(number), ""),)), f"Ancillary message: {name}={number}")
        return Decoded(_items(kind, ((name, hex_dump(data), ""),)))

    return decode


def _dump(kind: str, name: str) -> Callable[[bytes, IfName], Decoded]:
    def decode(data: bytes, _ifname: IfName) -> Decoded:
        return Decoded(_items(kind, ((name, hex_dump(data), ""),)))

    return decode


def _ip6_pktinfo(data: bytes, ifname: IfName) -> Decoded:
    """struct in6_pktinfo: destination address, then the interface (socat's order)."""
    addr, index = struct.unpack_from("=16sI", data.ljust(20, b"\0"))
    return Decoded(_items("IPV6_PKTINFO", (("dstaddr", _ip6(addr), "IPV6_DSTADDR"),
                                           ("if", ifname(index), "IPV6_IF"))))


def _hoplimit(data: bytes, _ifname: IfName) -> Decoded:
    (hops,) = struct.unpack_from("=i", data.ljust(4, b"\0"))
    return Decoded(_items("IPV6_HOPLIMIT", (("hoplimit", str(hops), ""),)))


def _tclass(data: bytes, _ifname: IfName) -> Decoded:
    """socat dumps ntohl() of the int: 0xaa reads x000000aa."""
    (value,) = struct.unpack_from("=I", data.ljust(4, b"\0"))
    return Decoded(_items("IPV6_TCLASS", (("tclass", hex_dump(struct.pack(">I", value)[: len(data)]), ""),)))


KINDS: dict[tuple[int, int], Callable[[bytes, IfName], Decoded]] = {
    (SOL_SOCKET, SCM_TIMESTAMP): _timestamp,
    (SOL_IP, IP_PKTINFO): _ip_pktinfo,
    (SOL_IP, IP_OPTIONS): _dump("IP_OPTIONS", "options"),
    (SOL_IP, IP_RECVOPTS): _dump("IP_OPTIONS", "options"),
    (SOL_IP, IP_TOS): _ip_number("IP_TOS", "tos"),
    (SOL_IP, IP_TTL): _ip_number("IP_TTL", "ttl"),
    (SOL_IPV6, IPV6_PKTINFO): _ip6_pktinfo,
    (SOL_IPV6, IPV6_HOPLIMIT): _hoplimit,
    (SOL_IPV6, IPV6_RTHDR): _dump("IPV6_RTHDR", "rthdr"),
    (SOL_IPV6, IPV6_DSTOPTS): _dump("IPV6_DSTOPTS", "dstopts"),
    (SOL_IPV6, IPV6_HOPOPTS): _dump("IPV6_HOPOPTS", "hopopts"),
    (SOL_IPV6, IPV6_TCLASS): _tclass,
}


def _fallback(level: int, kind: int, data: bytes) -> Decoded:
    """What socat calls a message it does not know, per level."""
    if level == SOL_SOCKET:
        return Decoded(_items(f"SOCKET.{kind}", (("data", hex_dump(data), ""),)))
    if level == SOL_IP:
        return Decoded(_items("IP", ((f"type_{kind}", hex_dump(data), ""),)))
    if level == SOL_IPV6:
        return Decoded(_items(f"IPV6.{kind}", (("data", hex_dump(data), ""),)))
    return Decoded(_items(f"LEVEL{level}", ((f"type{kind}", hex_dump(data), ""),)))


def interface_name(index: int) -> str:
    """socat's xiogetifname(); a failed lookup prints as glibc prints a NULL string."""
    try:
        return socket.if_indextoname(index)
    except (OSError, OverflowError):
        return "(null)"


def decode(level: int, kind: int, data: bytes, ifname: IfName = interface_name) -> Decoded:
    decoder = KINDS.get((level, kind))
    if decoder is None:
        return _fallback(level, kind, data)
    return decoder(data, ifname)


def debug_line(level: int, kind: int, data: bytes) -> str:
    """socat's debug line for every message, before it is decoded."""
    return f"ancillary message: len={CMSG_HEADER + len(data)}, level={level}, type={kind}, data={hex_dump(data)}"
