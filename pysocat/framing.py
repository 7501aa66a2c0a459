"""The `framed` packet codec, the offload handshake and the virtio-net header check (sans-IO).

Nothing here touches a descriptor: the functions and classes take bytes and return bytes,
packets or errors, so they are tested and fuzzed with plain byte strings and the address
code that does the I/O stays thin. Why framing exists: a byte stream (TCP, a pipe, ssh)
merges and splits packets, so a TUN on the far side would receive fragments as packets;
a length prefix before every packet restores the boundaries.

Wire formats (all integers are unsigned and big-endian, "network byte order")
============================================================================

``framed`` (the default, RFC 4571 / OpenVPN-over-TCP compatible)::

    offset 0  2 bytes  LENGTH  the packet's length in bytes, 1..65535
                               (0 only where allowed)
    offset 2  LENGTH   the packet, unchanged

``framed=wide`` (packets over 65535 bytes: TUN with packet information, offload
super-packets carrying a virtio-net header)::

    offset 0  4 bytes  LENGTH  the packet's length in bytes, 1..2**32-1,
                               but never above the receiver's agreed
                               maximum (default 262144)
    offset 4  LENGTH   the packet, unchanged

The two forms are never mixed on one stream and nothing on the wire says which one is in
use: both ends must be given the same option. A mismatch is detected, not silently
corrupted: a wide reader sees a short stream's first two frames as one length far above
its maximum, and a short reader sees a wide frame's high half (0) as a zero length.

A decoder reports, as a FramingError naming the address and the byte offset of the frame
header in the stream: a length above the maximum (checked as soon as the header is
complete, so a hostile length never makes it wait for or buffer gigabytes), a zero length
where not allowed, and a stream that ends inside a frame (`finish()`). Nothing partial is
ever returned: a packet is delivered only once every byte of it has arrived.

Offload handshake (only when an end asks for ``tun-offload``)
==============================================================

Each end with tun-offload sends one HELLO as the first frame of the stream (in the
stream's frame format: both ends must be given the same one) and reads the peer's first
frame before relaying any packet. 32 bytes::

    offset  0  8 bytes  MAGIC    ff 50 59 53 4f 43 41 54 (0xff, "PYSOCAT"):
                                 byte 0 has IP version 15, so no IPv4/IPv6
                                 packet starts so, and a non-pysocat peer's
                                 TUN drops the frame as an invalid packet
    offset  8  1 byte   VERSION  1
    offset  9  1 byte   KIND     1 = HELLO
    offset 10  2 bytes  LENGTH   32, the message's whole length (later
                                 versions may grow it; a receiver reads the
                                 fields it knows and checks the CRC over
                                 LENGTH-4 bytes)
    offset 12  4 bytes  CAPS     what this end can accept, a bit set:
                                 bit 0 CSUM  partial checksums (NEEDS_CSUM)
                                 bit 1 TSO4  TCP/IPv4 segmentation
                                 bit 2 TSO6  TCP/IPv6 segmentation
                                 bit 3 ECN   TSO with the ECN (CWR) bit
                                 bit 4 USO4  UDP/IPv4 segmentation (UDP_L4)
                                 bit 5 USO6  UDP/IPv6 segmentation (UDP_L4)
                                 bit 6 VNET  packets carry the virtio-net
                                             header below
                                 bit 7 WIDE  this end reads wide frames
                                 other bits 0, ignored when received
    offset 16  4 bytes  MTU      this end's interface MTU
    offset 20  4 bytes  MAXLEN   the largest frame payload this end accepts
    offset 24  4 bytes  RESERVED 0, ignored when received
    offset 28  4 bytes  CRC32    zlib.crc32 of bytes 0..27

Agreement (`negotiate`): the lower MTU wins (an end whose TUN's MTU is higher lowers it,
so that nothing it sends is larger than the peer takes; a stated MTU below 68 is not
followed); offload is used only when both ends state VNET, CSUM and WIDE (the
capabilities used are the intersection, and each end narrows its TUNSETOFFLOAD to them);
with offload both ends switch to wide frames right after the HELLOs, since a super-packet
with its header exceeds 65535 bytes. An end with tun-offload always states WIDE.

A plain end (``framed`` without tun-offload) answers a HELLO with its own HELLO: CAPS 0
(WIDE with framed=wide), its TUN's MTU; the HELLO never reaches its TUN.

Fallback when the peer does not offload: its HELLO lacks VNET, CSUM or WIDE, or its first frame
is not a HELLO at all (a data packet: a plain end that sent before it read our HELLO, or
another RFC 4571 implementation; that packet is written to the TUN at once). The offload
end then warns and carries plain packets in the stream's own frame format:

- it turns its TUN's offloads off (TUNSETOFFLOAD 0): from then on the kernel segments
  and checksums every packet itself before handing it over;

- it lowers its TUN's MTU to the peer's and to what one frame carries (65535 bytes minus
  packet information and Ethernet header for short frames);

- it takes the virtio-net header off every packet it sends and puts a "nothing
  offloaded" header (all zero) on every packet it receives; a later HELLO frame is
  dropped;

- a packet that still comes with a partial checksum or as a GSO super-packet (queued
  before the switch) is finished in software: segmented like the kernel's TSO/USO and
  its checksum completed at CSUM_START/CSUM_OFFSET (pysocat.net.segment); one that
  cannot fit the peer's MTU is dropped with a warning. A partial checksum never reaches
  a plain peer.

A peer that sends nothing within 10 seconds, a HELLO that fails its checks (CRC, length,
version) and a first frame of length 0 stop the offload end with an error: guessing
there could turn into misread frames later.

Probe: before any of this, right after TUNSETOFFLOAD and while the device is still down,
an end with tun-offload writes one probe per offload kind it enabled (a packet no stack
keeps: IPv4 with a wrong header checksum, IPv6 from a multicast source). Some kernels
take TUNSETOFFLOAD but refuse such writes with EINVAL: a refused kind is turned off and
not stated in the HELLO; without checksum offload or TSO4 the TUN is reopened as a plain
one with a warning, and that end then has no tun-offload.

virtio-net header on the wire (in frames, when offload is agreed)
================================================================

Every packet frame then starts with the 10-byte ``struct virtio_net_hdr`` (after the
4-byte packet information when the TUNs have it: both ends must agree on iff-no-pi, as
with socat), always big-endian on the wire whatever the hosts' byte order::

    offset 0  1 byte   FLAGS       bit 0 NEEDS_CSUM, bit 1 DATA_VALID
    offset 1  1 byte   GSO_TYPE    0 NONE, 1 TCPV4, 4 TCPV6, 5 UDP_L4;
                                   | 0x80 ECN
    offset 2  2 bytes  HDR_LEN     length of the headers before the
                                   segmented payload
    offset 4  2 bytes  GSO_SIZE    payload bytes per segment
    offset 6  2 bytes  CSUM_START  where the checksummed part starts
    offset 8  2 bytes  CSUM_OFFSET where, after CSUM_START, the checksum
                                   goes
    offset 10          the packet

The peer is untrusted: `validate_vnet_header` checks every header received (known type,
allowed by the agreement, sizes and checksum positions inside the packet) and recomputes
HDR_LEN from the packet itself before anything reaches the kernel.
"""
from __future__ import annotations

import enum
import struct
import sys
import zlib
from typing import NamedTuple
from .record import dataclass

from .errors import SocatError


class FramingError(SocatError):
    """A bad frame or handshake; the text names the address and the stream byte offset.

    `packets` holds the complete packets that came before the bad frame in the same
    feed(): they are sound and may still be delivered, in order, before the error."""

    packets: list[bytes] = []


# ---------------------------------------------------------------- frame formats

class FrameFormat(enum.Enum):
    """The length prefix: `value` is (header bytes, struct code, largest length it can say)."""

    RFC4571 = (2, ">H", 0xFFFF)
    WIDE = (4, ">I", 0xFFFFFFFF)

    @property
    def header_size(self) -> int:
        return self.value[0]

    @property
    def struct(self) -> struct.Struct:
        return _STRUCTS[self]

    @property
    def wire_max(self) -> int:
        return self.value[2]

    @property
    def default_max(self) -> int:
        """The decoder's maximum when none was agreed: all a short frame can say; for wide
        frames enough for 64 KiB super-packets with every header, but not a hostile 4 GiB."""
        return 0xFFFF if self is FrameFormat.RFC4571 else WIDE_DEFAULT_MAX


WIDE_DEFAULT_MAX = 262144
_STRUCTS = {fmt: struct.Struct(fmt.value[1]) for fmt in FrameFormat}
FORMAT_NAMES = {"": FrameFormat.RFC4571, "1": FrameFormat.RFC4571, "rfc4571": FrameFormat.RFC4571,
                "short": FrameFormat.RFC4571, "wide": FrameFormat.WIDE}


def parse_frame_format(value: object) -> FrameFormat:
    """The value of the `framed` option: none (or 1, rfc4571, short) is RFC 4571, `wide` is wide."""
    if value is None or value is True:
        return FrameFormat.RFC4571
    key = str(value).strip().lower()
    if key in FORMAT_NAMES:
        return FORMAT_NAMES[key]
    raise FramingError(f'framed: unknown frame format "{value}" (use rfc4571 or wide)')


def frame_header(length: int, fmt: FrameFormat = FrameFormat.RFC4571, label: str = "framed") -> bytes:
    """The length prefix alone, for writev(header, packet) without copying the packet."""
    if length < 0 or length > fmt.wire_max:
        raise FramingError(f"{label}: packet of {length} bytes does not fit a {fmt.name.lower()} frame "
                           f"(at most {fmt.wire_max} bytes); use framed=wide or a smaller interface-mtu")
    return fmt.struct.pack(length)


def encode(packet: bytes, fmt: FrameFormat = FrameFormat.RFC4571, label: str = "framed") -> bytes:
    """One frame: the length prefix, then the packet."""
    return frame_header(len(packet), fmt, label) + bytes(packet)


def encode_many(packets: list[bytes], fmt: FrameFormat = FrameFormat.RFC4571, label: str = "framed") -> bytes:
    """Several frames in one buffer (one write for a burst of packets)."""
    parts: list[bytes] = []
    for packet in packets:
        parts.append(frame_header(len(packet), fmt, label))
        parts.append(bytes(packet))
    return b"".join(parts)


class FrameDecoder:
    """Incremental decoder: `feed()` whatever the stream gave, get the complete packets.

    It keeps the absolute stream offset so that errors say where the bad header starts.
    After an error the decoder stays failed (every later call raises the same error):
    the stream cannot be resynchronised, and nothing after a bad frame is trusted.
    """

    def __init__(self, max_length: int | None = None, allow_zero: bool = False,
                 fmt: FrameFormat = FrameFormat.RFC4571, label: str = "framed") -> None:
        if max_length is None:
            max_length = fmt.default_max
        if not 0 <= max_length <= fmt.wire_max:
            raise ValueError(f"max_length {max_length} outside 0..{fmt.wire_max}")
        self.max_length = max_length
        self.allow_zero = allow_zero
        self.format = fmt
        self.label = label
        self._unpack = fmt.struct.unpack_from
        self._hsize = fmt.header_size
        self._buffer = bytearray()
        self._base = 0  # stream offset of self._buffer[0]
        self._error: FramingError | None = None
        self.packets = 0  # complete packets delivered so far
        self.frame_offsets: list[int] = []  # stream offset of each packet the last feed() returned

    @property
    def offset(self) -> int:
        """How many stream bytes have been fed so far."""
        return self._base + len(self._buffer)

    @property
    def pending(self) -> int:
        """Bytes held back: the start of a frame whose rest has not arrived."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | memoryview]:
        """The packets completed by `data`. A packet lying whole inside `data` is returned
        as a view of it when `data` is immutable bytes (a read's result): the payload is
        then copied by no one before it reaches the target. Only a frame that spans reads
        is assembled, from its own bytes, not from the whole read."""
        if self._error is not None:
            raise self._error
        out: list[bytes | memoryview] = []
        offsets = self.frame_offsets = []
        hsize = self._hsize
        pos = 0
        if self._buffer:
            pos = self._complete_pending(data, out, offsets)
            if self._buffer:
                return out
        view = memoryview(data)
        if type(data) is not bytes:
            view = memoryview(bytes(view[pos:]))  # a caller's mutable buffer: one copy, kept by the views
            pos = 0
        end = len(view)
        unpack, maximum = self._unpack, self.max_length
        base = self._base - pos  # stream offset of view[0]
        while end - pos >= hsize:
            (length,) = unpack(view, pos)
            if length > maximum or (length == 0 and not self.allow_zero):
                self._base = base + pos
                self.packets += len(out)
                self._fail(self._base, length, out)
            stop = pos + hsize + length
            if stop > end:
                break
            out.append(view[pos + hsize:stop])
            offsets.append(base + pos)
            pos = stop
        if pos < end:
            self._buffer = bytearray(view[pos:])
        self._base = base + pos
        self.packets += len(out)
        return out

    def detach_pending(self) -> bytes:
        """Hands the start of a frame held back to the packet pump (pysocat.transfer.pump),
        which reads the stream on from there; `resume()` takes the decoding back."""
        held = bytes(self._buffer)
        self._buffer = bytearray()
        return held

    def resume(self, consumed: int, packets: int, rest: bytes) -> list[bytes | memoryview]:
        """After the pump: it decoded `consumed` stream bytes (from where `detach_pending()`
        left off) into `packets` packets, and `rest` follows them. Decodes `rest` as `feed()`
        would, so that what the pump left (a bad header, frames it could not deliver, the
        start of a frame) is reported at its true offset, or returned, or held back."""
        self._base += consumed
        self.packets += packets
        return self.feed(rest)

    def _complete_pending(self, data: bytes | bytearray | memoryview, out: list[bytes | memoryview],
                          offsets: list[int]) -> int:
        """Adds to the frame held back what it still lacks from `data` (its header first);
        appends it to `out` once whole. Returns how many bytes of `data` were used."""
        buffer, hsize = self._buffer, self._hsize
        used = 0
        if len(buffer) < hsize:
            used = min(hsize - len(buffer), len(data))
            buffer += data[:used]
            if len(buffer) < hsize:
                return used
        (length,) = self._unpack(buffer, 0)
        if length > self.max_length or (length == 0 and not self.allow_zero):
            self._buffer = bytearray()
            self._fail(self._base, length, out)
        want = hsize + length - len(buffer)
        take = min(want, len(data) - used)
        buffer += memoryview(data)[used:used + take]
        used += take
        if take == want:
            out.append(bytes(memoryview(buffer)[hsize:]))
            offsets.append(self._base)
            self._base += len(buffer)
            self._buffer = bytearray()
        return used

    def finish(self) -> None:
        """The stream ended: fine between frames, an error inside one (nothing partial is returned)."""
        if self._error is not None:
            raise self._error
        if not self._buffer:
            return
        have = len(self._buffer)
        if have < self._hsize:
            detail = f"{have} of {self._hsize} length bytes"
        else:
            (length,) = self._unpack(self._buffer, 0)
            detail = f"{have - self._hsize} of {length} packet bytes"
        self._error = FramingError(f"{self.label}: stream ended inside the frame at byte offset {self._base} "
                                   f"({detail}); the partial packet was dropped")
        raise self._error

    def _fail(self, offset: int, length: int, before: list[bytes]) -> None:
        if length == 0:
            text = f"{self.label}: zero-length frame at byte offset {offset} is not allowed"
        else:
            text = (f"{self.label}: frame length {length} at byte offset {offset} exceeds the maximum of "
                    f"{self.max_length} bytes (wrong frame format, or not a framed stream?)")
        self._error = FramingError(text)
        error = FramingError(text)
        error.packets = before
        raise error


def decode_all(data: bytes, max_length: int | None = None, allow_zero: bool = False,
               fmt: FrameFormat = FrameFormat.RFC4571) -> list[bytes]:
    """A whole stream at once (tests, small tools): every packet, or FramingError."""
    decoder = FrameDecoder(max_length, allow_zero, fmt)
    packets = [bytes(packet) for packet in decoder.feed(data)]
    decoder.finish()
    return packets


# ---------------------------------------------------------------- offload handshake

class Cap(enum.IntFlag):
    """Capability bits of a HELLO (see the module docstring)."""

    CSUM = 1 << 0
    TSO4 = 1 << 1
    TSO6 = 1 << 2
    ECN = 1 << 3
    USO4 = 1 << 4
    USO6 = 1 << 5
    VNET = 1 << 6
    WIDE = 1 << 7


KNOWN_CAPS = Cap(0xFF)
MAGIC = b"\xffPYSOCAT"
HELLO_VERSION = 1
KIND_HELLO = 1
_HELLO = struct.Struct(">8sBBHIIII")  # magic, version, kind, length, caps, mtu, maxlen, reserved
HELLO_SIZE = _HELLO.size + 4  # + CRC32


@dataclass(frozen=True)
class Hello:
    """What one end states: what it accepts, its interface MTU, the largest frame it reads."""

    caps: Cap
    mtu: int
    max_length: int
    version: int = HELLO_VERSION


def encode_hello(hello: Hello) -> bytes:
    """The 32-byte HELLO message (the payload of the stream's first frame)."""
    for name, value in (("mtu", hello.mtu), ("max_length", hello.max_length)):
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"{name} {value} does not fit 32 bits")
    body = _HELLO.pack(MAGIC, hello.version, KIND_HELLO, HELLO_SIZE, int(hello.caps) & 0xFFFFFFFF,
                       hello.mtu, hello.max_length, 0)
    return body + struct.pack(">I", zlib.crc32(body))


def is_hello(packet: bytes) -> bool:
    """Whether a frame's payload claims to be a HELLO (starts with the magic)."""
    return packet[:len(MAGIC)] == MAGIC


def decode_hello(packet: bytes, label: str = "framed", offset: int = 0) -> Hello:
    """Parses and checks a HELLO; FramingError says what is wrong and where."""
    if not is_hello(packet):
        raise FramingError(f"{label}: the peer's first frame at byte offset {offset} is not an offload "
                           f"handshake (the peer does not offload)")
    if len(packet) < HELLO_SIZE:
        raise FramingError(f"{label}: offload handshake at byte offset {offset} is truncated "
                           f"({len(packet)} of {HELLO_SIZE} bytes)")
    magic, version, kind, length, caps, mtu, max_length, _reserved = _HELLO.unpack_from(packet, 0)
    if version < 1:
        raise FramingError(f"{label}: offload handshake at byte offset {offset} has version {version}")
    if kind != KIND_HELLO:
        raise FramingError(f"{label}: offload handshake at byte offset {offset} has unknown kind {kind}")
    if length < HELLO_SIZE or length != len(packet):
        raise FramingError(f"{label}: offload handshake at byte offset {offset} says {length} bytes "
                           f"but the frame holds {len(packet)}")
    (crc,) = struct.unpack_from(">I", packet, length - 4)
    if crc != zlib.crc32(packet[:length - 4]):
        raise FramingError(f"{label}: offload handshake at byte offset {offset} fails its CRC32 check")
    return Hello(Cap(caps & int(KNOWN_CAPS)), mtu, max_length, version)


@dataclass(frozen=True)
class Agreement:
    """What both ends use after the HELLOs."""

    offload: bool
    caps: Cap  # the capabilities both ends have (empty without offload)
    mtu: int  # the lower of the two MTUs
    frame_format: FrameFormat
    send_max: int  # never send a frame payload longer than this (the peer's maximum)
    reason: str


def negotiate(local: Hello, remote: Hello) -> Agreement:
    """The lower MTU wins; offload only if both carry the virtio header, take partial
    checksums and read wide frames."""
    mtu = min(local.mtu, remote.mtu)
    common = local.caps & remote.caps
    offload = bool(Cap.VNET in common and Cap.CSUM in common)
    wide = Cap.WIDE in common
    if offload and not wide:
        offload = False
        why = "offload needs wide frames, which one end cannot read"
    elif offload:
        names = "+".join(c.name or "" for c in Cap if c in common and c not in (Cap.VNET, Cap.WIDE))
        why = f"offload agreed ({names})"
    else:
        missing = "local" if not (Cap.VNET in local.caps and Cap.CSUM in local.caps) else "peer"
        why = f"no offload (the {missing} end does not offload)"
    fmt = FrameFormat.WIDE if offload else FrameFormat.RFC4571
    send_max = min(remote.max_length, fmt.wire_max)
    return Agreement(offload, common if offload else Cap(0), mtu, fmt, send_max,
                     f"{why}; MTU {mtu} (local {local.mtu}, peer {remote.mtu})")


# ---------------------------------------------------------------- virtio-net header

VNET_HDR_SIZE = 10
VNET_F_NEEDS_CSUM = 1
VNET_F_DATA_VALID = 2
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 3, 4, 5
GSO_ECN = 0x80
MAX_SEGMENTS = 0xFFFF  # the kernel's GSO_MAX_SEGS
UDP_MAX_SEGMENTS = 128  # the kernel's UDP_MAX_SEGMENTS
GSO_NAMES = {GSO_NONE: "NONE", GSO_TCPV4: "TCPV4", GSO_UDP: "UDP", GSO_TCPV6: "TCPV6", GSO_UDP_L4: "UDP_L4"}
_WIRE_VNET = struct.Struct(">BBHHHH")
_LE_VNET = struct.Struct("<BBHHHH")
_NATIVE_VNET = struct.Struct(("<" if sys.byteorder == "little" else ">") + "BBHHHH")


class VnetHeader(NamedTuple):
    """struct virtio_net_hdr. A tuple, not a dataclass: one is built for every offload
    packet that crosses, and a tuple costs a tenth as much to make."""

    flags: int
    gso_type: int
    hdr_len: int
    gso_size: int
    csum_start: int
    csum_offset: int

    def pack(self, byteorder: str = "big") -> bytes:
        """`big` for the wire, `little` (or sys.byteorder) for the kernel."""
        codec = _WIRE_VNET if byteorder == "big" else _LE_VNET
        return codec.pack(*self)

    @classmethod
    def unpack(cls, data: bytes, byteorder: str = "big") -> VnetHeader:
        codec = _WIRE_VNET if byteorder == "big" else _LE_VNET
        return cls._make(codec.unpack_from(data, 0))


# linux/if_tun.h TUN_F_* bits <-> HELLO capabilities
TUN_F_TO_CAP = ((0x01, Cap.CSUM), (0x02, Cap.TSO4), (0x04, Cap.TSO6), (0x08, Cap.ECN), (0x20, Cap.USO4),
                (0x40, Cap.USO6))


def caps_from_tun_offload(bits: int) -> Cap:
    """The capabilities a TUN opened with these TUNSETOFFLOAD bits gives a HELLO."""
    caps = Cap(0)
    for bit, cap in TUN_F_TO_CAP:
        if bits & bit:
            caps |= cap
    return caps


def tun_offload_from_caps(caps: Cap) -> int:
    """TUNSETOFFLOAD bits for agreed capabilities (the kernel then only hands us those)."""
    return sum(bit for bit, cap in TUN_F_TO_CAP if cap in caps)


def caps_allow(caps: Cap, gso_type: int) -> bool:
    """Whether the agreed capabilities allow a header of this gso_type."""
    bits = int(caps)
    if gso_type & GSO_ECN and not bits & _ECN:
        return False
    needed = _GSO_NEEDS.get(gso_type & ~GSO_ECN)
    return needed is not None and (needed == 0 or bool(bits & needed))


_ECN, _CSUM = int(Cap.ECN), int(Cap.CSUM)
# the capability bits that allow each gso_type (any one of them); 0: always allowed
_GSO_NEEDS = {GSO_NONE: 0, GSO_TCPV4: int(Cap.TSO4), GSO_TCPV6: int(Cap.TSO6), GSO_UDP_L4: int(Cap.USO4 | Cap.USO6)}


def vnet_header_problem(header: VnetHeader, packet: bytes | memoryview, caps: Cap = KNOWN_CAPS,
                        l3_offset: int | None = 0) -> str | None:
    """Why a received header must not reach the kernel, or None when it is sound.

    `packet` is what follows the header; `l3_offset` is where its IP header starts (0 for a
    TUN without packet information, 14 for a TAP; None skips the IP version check)."""
    size = len(packet)
    base = header.gso_type & ~GSO_ECN
    if base not in (GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4):
        return f"unknown gso_type 0x{header.gso_type:02x}"
    if header.gso_type & GSO_ECN and base not in (GSO_TCPV4, GSO_TCPV6):
        return f"ECN bit on gso_type {GSO_NAMES.get(base, base)}"
    if not caps_allow(caps, header.gso_type):
        return f"gso_type {GSO_NAMES[base]}{'|ECN' if header.gso_type & GSO_ECN else ''} was not agreed"
    if header.flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID):
        return f"unknown flags 0x{header.flags:02x}"
    needs_csum = bool(header.flags & VNET_F_NEEDS_CSUM)
    if needs_csum:
        if not int(caps) & _CSUM:
            return "partial checksum was not agreed"
        if header.csum_start >= size:
            return f"csum_start {header.csum_start} outside the {size}-byte packet"
        if header.csum_start + header.csum_offset + 2 > size:
            return (f"checksum field at {header.csum_start}+{header.csum_offset} outside the "
                    f"{size}-byte packet")
    elif header.csum_start or header.csum_offset:
        return "csum_start/csum_offset set without NEEDS_CSUM"
    if base == GSO_NONE:
        if header.gso_size or header.hdr_len > size:
            return f"gso_size {header.gso_size} / hdr_len {header.hdr_len} on a packet that is not segmented"
        return None
    if not needs_csum:
        return f"segmented packet ({GSO_NAMES[base]}) without NEEDS_CSUM"
    if header.gso_size == 0:
        return "gso_size 0 on a segmented packet"
    if l3_offset is not None:
        if l3_offset >= size:
            return f"no IP header in the {size}-byte packet"
        version = packet[l3_offset] >> 4
        wanted = 4 if base == GSO_TCPV4 else 6 if base == GSO_TCPV6 else version
        if version != wanted or version not in (4, 6):
            return f"gso_type {GSO_NAMES[base]} on an IPv{version} packet"
        if header.csum_start < l3_offset + (20 if version == 4 else 40):
            return f"csum_start {header.csum_start} inside the IP header"
    expected_offset = 16 if base in (GSO_TCPV4, GSO_TCPV6) else 6
    if header.csum_offset != expected_offset:
        return f"csum_offset {header.csum_offset} is not the {GSO_NAMES[base]} checksum field ({expected_offset})"
    hdr_len = recompute_hdr_len(header, packet)
    if hdr_len is None:
        return f"transport header at {header.csum_start} is malformed or runs past the {size}-byte packet"
    if hdr_len >= size:
        return f"segmented packet without payload (headers {hdr_len} of {size} bytes)"
    segments = -(-(size - hdr_len) // header.gso_size)
    limit = UDP_MAX_SEGMENTS if base == GSO_UDP_L4 else MAX_SEGMENTS
    if segments > limit:
        return f"gso_size {header.gso_size} makes {segments} segments (at most {limit})"
    return None


def recompute_hdr_len(header: VnetHeader, packet: bytes | memoryview) -> int | None:
    """HDR_LEN from the packet itself (never trusted from the peer): the transport header's
    start plus its length (TCP data offset, or 8 for UDP); None if it does not fit."""
    start = header.csum_start
    base = header.gso_type & ~GSO_ECN
    if base in (GSO_TCPV4, GSO_TCPV6):
        if start + 13 > len(packet):
            return None
        length = (packet[start + 12] >> 4) * 4
        if length < 20:
            return None
    else:
        length = 8
    end = start + length
    return end if end <= len(packet) else None


def validate_vnet_header(data: bytes | memoryview, caps: Cap = KNOWN_CAPS, l3_offset: int | None = 0,
                         label: str = "framed", offset: int = 0) -> tuple[VnetHeader, memoryview]:
    """Checks a received frame payload (wire header + packet) and returns the header with
    its hdr_len recomputed and the packet; FramingError names `offset` on any problem."""
    if len(data) < VNET_HDR_SIZE:
        raise FramingError(f"{label}: frame at byte offset {offset} is shorter ({len(data)} bytes) than "
                           f"its virtio-net header")
    header = VnetHeader.unpack(data, "big")
    packet = memoryview(data)[VNET_HDR_SIZE:]
    problem = vnet_header_problem(header, packet, caps, l3_offset)
    if problem is not None:
        raise FramingError(f"{label}: bad virtio-net header in the frame at byte offset {offset}: {problem}")
    if header.gso_type != GSO_NONE:
        hdr_len = recompute_hdr_len(header, packet)
        assert hdr_len is not None
        header = header._replace(hdr_len=hdr_len)
    return header, packet


def vnet_native_to_wire(header: bytes) -> bytes:
    """The kernel's header (host byte order) in the wire's byte order."""
    return _WIRE_VNET.pack(*_NATIVE_VNET.unpack_from(header, 0))


def vnet_wire_to_native(header: bytes) -> bytes:
    return _NATIVE_VNET.pack(*_WIRE_VNET.unpack_from(header, 0))


__all__ = [
    "Agreement", "Cap", "FrameDecoder", "FrameFormat", "FramingError", "Hello", "VnetHeader", "decode_all",
    "decode_hello", "encode", "encode_hello", "encode_many", "frame_header", "is_hello", "negotiate",
    "parse_frame_format", "validate_vnet_header", "vnet_header_problem",
]
