"""Socket addresses as socat's generic sockets see them: a family number and the bytes of
the sockaddr after sa_family, whatever the family (pure).

socat formats them with one function (sysutils.c sockaddr_info) for its notices and
errors, and exports the peer's and the local one to children (xiosetsockaddrenv); both
are here, with socat's quirks: an unknown family is named twice (`AF=99 AF=99 0x...`,
14 bytes of sa_data), AF_UNIX (and 0) paths go through sanitize_string(), whose hex
digits above 9 are off by one (0x1b is `\\x1A`, 0xff `\\xEE`), and a port is exported only
for TCP, UDP and SCTP. The range= of a generic address is `<dalan addr>:<dalan mask>`.
"""
from __future__ import annotations

import socket
import struct

from . import dalan
from .errors import SocatError
from .record import dataclass

FAMILY_SIZE = struct.calcsize("H")  # sa_family_t, in host byte order before the data
SA_DATA = 14  # bytes of struct sockaddr's sa_data
UNIX_PATH_MAX = 108
PORT_PROTOCOLS = frozenset({socket.IPPROTO_TCP, socket.IPPROTO_UDP, 132})  # 132: SCTP
SOCKADDR_BUFFER = 112  # what socat's dalan() may fill of a union sockaddr_union (measured, 1.7.4.4)


@dataclass(frozen=True)
class RawAddress:
    """One socket address: `data` is everything after sa_family; `protocol` (the third
    socket() argument) decides whether the environment gets a port."""

    family: int
    data: bytes
    protocol: int = 0

    @classmethod
    def unpack(cls, packed: bytes, protocol: int = 0) -> "RawAddress":
        family = struct.unpack("H", packed[:FAMILY_SIZE])[0] if len(packed) >= FAMILY_SIZE else 0
        return cls(family, bytes(packed[FAMILY_SIZE:]), protocol)

    def pack(self) -> bytes:
        return struct.pack("H", self.family & 0xFFFF) + self.data

    @property
    def length(self) -> int:
        """The socklen passed to bind()/connect()/sendto()."""
        return FAMILY_SIZE + len(self.data)

    def _padded(self, size: int) -> bytes:
        return self.data.ljust(size, b"\0")

    def info(self) -> str:
        """socat's sockaddr_info(): `AF=2 127.0.0.1:80`, `AF=1 "/path"`, `AF=99 AF=99 0x...`."""
        family = self.family
        if family in (0, socket.AF_UNIX):
            return f'AF={family} "{self.unix_text()}"'
        if family == socket.AF_INET:
            data = self._padded(6)
            return f"AF=2 {socket.inet_ntoa(data[2:6])}:{struct.unpack('!H', data[:2])[0]}"
        if family == socket.AF_INET6:
            return f"AF=10 [{self.ip6_text()}]:{struct.unpack('!H', self._padded(2)[:2])[0]}"
        return f"AF={family} AF={family} 0x{self._padded(SA_DATA)[:SA_DATA].hex()}"

    def unix_text(self) -> str:
        """The name of a UNIX address (sockaddr_unix_info): abstract names in full, paths up
        to their first NUL, `<anon>` for an unnamed socket."""
        if not self.data:
            return "<anon>"
        if self.data[0] == 0:
            return sanitize(self.data)
        return sanitize(self.data[:UNIX_PATH_MAX].split(b"\0", 1)[0])

    def ip6_text(self) -> str:
        groups = struct.unpack("!8H", self._padded(22)[6:22])
        return ":".join(f"{group:04x}" for group in groups)

    def environment(self, which: str) -> list[tuple[str, str]]:
        """socat's xiosetsockaddrenv(which, ...): (name, value) pairs without the SOCAT_ prefix."""
        if self.family == socket.AF_UNIX:
            return [(f"{which}ADDR", self.unix_text())]
        if self.family == socket.AF_INET:
            pairs = [(f"{which}ADDR", socket.inet_ntoa(self._padded(6)[2:6]))]
        elif self.family == socket.AF_INET6:
            pairs = [(f"{which}ADDR", f"[{self.ip6_text()}]")]
        else:
            return []
        if self.protocol in PORT_PROTOCOLS:
            pairs.append((f"{which}PORT", str(struct.unpack("!H", self._padded(2)[:2])[0])))
        return pairs


def sanitize(raw: bytes) -> str:
    """socat's sanitize_string(): printable ASCII as it is, C escapes for \\0 \\a \\b \\t
    \\n \\v \\f \\r, `\\xHL` for the rest (with socat's digits: 10..15 are @ A B C D E)."""
    escapes = {0: "0", 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r"}
    out = []
    for byte in raw:
        if 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        elif byte in escapes:
            out.append("\\" + escapes[byte])
        else:
            out.append("\\x" + _socat_hex_digit(byte >> 4) + _socat_hex_digit(byte & 0x0F))
    return "".join(out)


def _socat_hex_digit(nibble: int) -> str:
    return chr(ord("0") + nibble) if nibble < 10 else chr(ord("A") - 1 + nibble - 10)


def address_from_text(family: int, text: str, protocol: int = 0) -> RawAddress:
    """A generic address parameter (or bind= value): the dalan data after sa_family, with
    socat's errors (the stderr line dalan.c writes first travels as the preamble)."""
    try:
        data = dalan.parse(text, "i", SOCKADDR_BUFFER)
    except dalan.DalanError as err:
        message = f'data too long: "{text}"' if err.too_long else f'syntax error in "{text}"'
        raise SocatError(message, position=err.position, preamble=err.note or "") from None
    return RawAddress(family, data, protocol)


@dataclass(frozen=True)
class RawRange:
    """range= of a generic address: a peer is permitted when its address, masked, equals
    the network address; socat compares the IPv4 or IPv6 address fields only and refuses
    peers of every other family (xiocheckrange)."""

    network: bytes
    mask: bytes

    @classmethod
    def parse(cls, text: str) -> "RawRange":
        """`<addr>:<mask>`, both dalan (socat: xioparsenetwork for PF_UNSPEC)."""
        address_text, colon, mask_text = text.partition(":")
        if not colon:
            raise SocatError(f'syntax error in range "{text}": use <addr>:<mask>')
        network = _range_part(address_text)
        mask = _range_part(mask_text)
        if len(network) != len(mask):
            raise SocatError(f"network address is {len(network)} bytes long, mask is {len(mask)} bytes long")
        return cls(bytes(n & m for n, m in zip(network, mask)), mask)

    def permits(self, peer: RawAddress) -> bool:
        if peer.family == socket.AF_INET:
            field = slice(2, 6)
        elif peer.family == socket.AF_INET6:
            field = slice(6, 22)
        else:
            return False
        size = max(field.stop, len(self.mask))
        data = peer.data.ljust(size, b"\0")
        network = self.network.ljust(size, b"\0")
        mask = self.mask.ljust(size, b"\0")
        return all((data[i] & mask[i]) == network[i] for i in range(field.start, field.stop))


def _range_part(text: str) -> bytes:
    try:
        return dalan.parse(text, "i", SOCKADDR_BUFFER - FAMILY_SIZE)
    except dalan.DalanError as err:
        message = f'data too long: "{text}"' if err.too_long else f'syntax error in "{text}"'
        raise SocatError(message, position=err.position, preamble=err.note or "") from None
