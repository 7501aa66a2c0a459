"""The framed stream of a TUN opened with tun-offload: the HELLO handshake, then either
offload frames (both ends offload) or plain frames (the peer does not).

`handshake()` is what pairing calls. pysocat.framing documents the HELLO, the agreement
and the header on the wire; here is the I/O around them:

- both ends offload: `OffloadFramedEndpoint`, wide frames carrying the virtio-net header,
  every header received checked before it reaches the TUN;
- the peer does not (a plain pysocat answers the HELLO without VNET, another framed peer
  sends a data packet first): `OffloadFallbackEndpoint`, with a warning. The TUN's
  offloads are turned off (TUNSETOFFLOAD 0), so the kernel segments and checksums what it
  hands over itself; what was queued before that, and anything a kernel still hands over
  with a partial checksum or as a GSO packet, is finished in software
  (pysocat.net.segment). The peer gets ordinary, checksummed packets no larger than its
  MTU, never a partial checksum.
"""
from __future__ import annotations

import select
import sys
import time

from ..endpoint import Endpoint
from ..framing import (
    GSO_NONE, HELLO_SIZE, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM, VNET_HDR_SIZE, WIDE_DEFAULT_MAX, Agreement, Cap,
    FrameFormat, FramingError, Hello, VnetHeader, caps_from_tun_offload, decode_hello, encode_hello, frame_header,
    is_hello, negotiate, tun_offload_from_caps, validate_vnet_header, vnet_native_to_wire, vnet_wire_to_native,
)
from ..log import LOG
from ..record import dataclass
from .framed import Frame, FramedEndpoint

HANDSHAKE_TIMEOUT = 10.0
_NATIVE = "little" if sys.byteorder == "little" else "big"
_PLAIN_VNET = bytes(VNET_HDR_SIZE)  # no offload: flags 0, GSO_NONE (the kernel checks the checksums)
_ZERO_FIELDS = bytes(VNET_HDR_SIZE - 2)  # hdr_len, gso_size, csum_start, csum_offset all 0
_ETHERNET = 14
MIN_MTU = 68  # IPv4's minimum (RFC 791)


def handshake(inner: Endpoint, tun: Endpoint, fmt: FrameFormat = FrameFormat.RFC4571,
              timeout: float = HANDSHAKE_TIMEOUT) -> FramedEndpoint:
    """Sends this end's HELLO, reads the peer's first frame and returns the endpoint the
    engine relays with. `tun` is the TunEndpoint opened with tun-offload (its `offload`,
    `mtu`, `link`, `packet_info`, `set_offload()`, `lower_mtu()` are used); `fmt` is the
    stream's frame format (the HELLOs use it; so do plain frames after a fallback)."""
    bits = int(getattr(tun, "offload", 0))
    local = Hello(caps_from_tun_offload(bits) | Cap.VNET | Cap.WIDE, int(getattr(tun, "mtu", 1500)),
                  WIDE_DEFAULT_MAX)
    inner.send(frame_header(HELLO_SIZE, fmt) + encode_hello(local))
    first = _read_first_frame(inner, timeout, fmt)
    pi_len = 4 if getattr(tun, "packet_info", False) else 0
    l3_offset = _ETHERNET if getattr(tun, "link", "tun") == "tap" else 0
    if is_hello(first):
        agreement = negotiate(local, decode_hello(first, inner.label, 0))
        if agreement.offload:
            return _offload(inner, tun, agreement, bits, fmt, pi_len, l3_offset)
        why, peer_mtu = agreement.reason, agreement.mtu
        first_packet = None
    else:  # a data packet: the peer sent before it saw our HELLO, so it does not offload
        why, peer_mtu = "no offload (the peer's first frame is a packet, not a handshake)", None
        first_packet = first
    framed = _fallback(inner, tun, fmt, pi_len, l3_offset, why, peer_mtu)
    framed.decoder._base = fmt.header_size + len(first)
    if first_packet is not None:
        try:
            tun.send(framed.to_tun(first_packet))
        except OSError as err:
            LOG.warn(f"{tun.label}: the peer's first packet was not taken by the TUN: {err.strerror}")
    return framed


def _offload(inner: Endpoint, tun: Endpoint, agreement: Agreement, bits: int, fmt: FrameFormat, pi_len: int,
             l3_offset: int) -> OffloadFramedEndpoint:
    LOG.notice(f"{inner.label}: {agreement.reason}")
    narrowed = tun_offload_from_caps(agreement.caps)
    if narrowed != bits:
        _set_offload(tun, narrowed)
    _lower_mtu(tun, agreement.mtu, "the lower of both ends' MTUs")
    framed = OffloadFramedEndpoint.wrap(inner, FrameFormat.WIDE, max_length=WIDE_DEFAULT_MAX)
    framed.decoder._base = fmt.header_size + HELLO_SIZE  # offsets count from the stream's first byte
    framed.agreement = agreement
    framed.first_frame_seen = True
    framed.pi_len, framed.l3_offset = pi_len, l3_offset
    return framed


def _fallback(inner: Endpoint, tun: Endpoint, fmt: FrameFormat, pi_len: int, l3_offset: int, why: str,
              peer_mtu: int | None) -> OffloadFallbackEndpoint:
    """Plain frames: offloads off on the TUN, its MTU no larger than the peer's and than
    a frame of this format carries (with packet information and Ethernet header)."""
    ifname = getattr(tun, "ifname", "") or tun.label
    LOG.warn(f'{inner.label}: tun-offload: {why}; falling back to plain frames ("{ifname}": offload turned off, '
             f"checksums and segmentation done before packets reach the peer)")
    _set_offload(tun, 0)
    fits = fmt.wire_max - pi_len - l3_offset
    if peer_mtu is not None and peer_mtu < MIN_MTU:
        LOG.warn(f"{tun.label}: the peer states an MTU of {peer_mtu}, below {MIN_MTU}; not followed")
        peer_mtu = None
    limit = fits if peer_mtu is None else min(peer_mtu, fits)
    _lower_mtu(tun, limit, "what the peer and the frame format take")
    framed = OffloadFallbackEndpoint.wrap(inner, fmt)
    framed.on_close.append(framed.report)
    framed.first_frame_seen = True
    framed.pi_len, framed.l3_offset = pi_len, l3_offset
    framed.peer_mtu = min(limit, int(getattr(tun, "mtu", limit)))
    return framed


def _set_offload(tun: Endpoint, bits: int) -> None:
    setter = getattr(tun, "set_offload", None)
    if setter is not None:
        setter(bits)
    else:
        tun.offload = bits  # type: ignore[attr-defined]


def _lower_mtu(tun: Endpoint, mtu: int, why: str) -> None:
    """The lower MTU wins, but a peer stating less than IPv4's minimum is not followed."""
    lower = getattr(tun, "lower_mtu", None)
    if mtu < MIN_MTU:
        LOG.warn(f"{tun.label}: the peer states an MTU of {mtu}, below {MIN_MTU}; not followed")
        return
    if lower is not None and mtu < int(getattr(tun, "mtu", mtu)):
        lower(mtu, why)


@dataclass
class OffloadFramedEndpoint(FramedEndpoint):
    """Framed stream carrying a TUN's offload packets (virtio-net header + up to 64 KiB).

    Packets given to send() come from the TUN (native header); packets returned by
    receive() go to the TUN, each header checked before it is let through."""

    agreement: Agreement | None = None
    pi_len: int = 0  # 4 when the TUNs carry packet information before the header
    l3_offset: int = 0  # where the IP header starts after the virtio-net header (14 on a TAP)

    @classmethod
    def handshake(cls, inner: Endpoint, tun: Endpoint, timeout: float = HANDSHAKE_TIMEOUT,
                  fmt: FrameFormat = FrameFormat.RFC4571) -> FramedEndpoint:
        return handshake(inner, tun, fmt, timeout)

    def wire_parts(self, packets: list[Frame]) -> list[bytes | memoryview]:
        return self._frame([self._to_wire(packet) for packet in packets])  # type: ignore[arg-type]

    def _to_wire(self, data: bytes) -> Frame:
        pi, cut = self.pi_len, self.pi_len + VNET_HDR_SIZE
        if len(data) < cut:
            raise FramingError(f"{self.label}: a {len(data)}-byte packet from the TUN has no virtio-net header")
        if data[pi + 2:cut] == _ZERO_FIELDS:
            return data  # nothing offloaded (a ping): the header reads the same in either byte order
        view = memoryview(data)
        return (view[:pi], vnet_native_to_wire(data[pi:cut]), view[cut:])

    def checked(self, frames: list[bytes | memoryview]) -> list[bytes | memoryview]:
        """Each header checked (FramingError naming the frame's offset, its `packets` the
        sound ones before it), turned to the host's byte order, hdr_len recomputed; a frame
        with nothing offloaded passes as it is."""
        assert self.agreement is not None
        offsets = self.decoder.frame_offsets
        out: list[bytes] = []
        pi = self.pi_len
        for index, frame in enumerate(frames):
            if frame[pi + 2:pi + VNET_HDR_SIZE] == _ZERO_FIELDS and frame[pi + 1] == GSO_NONE and \
                    not frame[pi] & ~VNET_F_DATA_VALID:
                out.append(frame)  # what validate_vnet_header passes unchanged, without the copies
                continue
            offset = offsets[index] if index < len(offsets) else self.decoder.offset
            try:
                if len(frame) < self.pi_len:
                    raise FramingError(f"{self.label}: frame at byte offset {offset} is shorter than its packet "
                                       f"information")
                header, packet = validate_vnet_header(frame[self.pi_len:], self.agreement.caps, self.l3_offset,
                                                      self.label, offset)
            except FramingError as err:
                err.packets = out  # type: ignore[assignment]
                raise
            out.append(b"".join((frame[:self.pi_len], vnet_wire_to_native(header.pack("big")), packet)))
        return out


@dataclass
class OffloadFallbackEndpoint(FramedEndpoint):
    """Plain frames for a TUN whose packets carry a virtio-net header (IFF_VNET_HDR cannot
    be undone on an open TUN): the header is taken off what goes to the peer, after any
    partial checksum or GSO packet has been finished in software, and a header saying
    "nothing offloaded" is put on what goes to the TUN."""

    pi_len: int = 0
    l3_offset: int = 0
    peer_mtu: int | None = None  # the largest IP packet sent to the peer
    completed: int = 0  # packets from the TUN finished in software (checksum or segmentation)
    dropped: int = 0  # packets from the TUN that could not be made to fit the peer

    def wire_parts(self, packets: list[Frame]) -> list[bytes | memoryview]:
        frames: list[Frame] = []
        for packet in packets:
            frames += self._from_tun(packet)  # type: ignore[arg-type]
        return self._frame(frames)

    def _from_tun(self, data: bytes) -> list[Frame]:
        pi, cut = self.pi_len, self.pi_len + VNET_HDR_SIZE
        if len(data) < cut:
            raise FramingError(f"{self.label}: a {len(data)}-byte packet from the TUN has no virtio-net header")
        view = memoryview(data)
        if not data[pi] & VNET_F_NEEDS_CSUM and data[pi + 1] == GSO_NONE:
            return [(view[:pi], view[cut:])] if pi else [view[cut:]]
        from ..net.segment import SegmentError, complete

        header = VnetHeader.unpack(data[pi:cut], _NATIVE)
        try:
            packets = complete(header, view[cut:], self.l3_offset, self.peer_mtu)
        except SegmentError as err:
            self.dropped += 1
            if self.dropped <= 3:
                LOG.warn(f"{self.label}: packet from the TUN dropped: {err}")
            return []
        self.completed += 1
        if self.completed == 1:
            LOG.info(f"{self.label}: a packet from the TUN had a partial checksum or was a GSO packet; finished "
                     f"in software ({len(packets)} packets)")
        return [(view[:pi], packet) for packet in packets] if pi else list(packets)

    def report(self) -> None:
        """At the end, -d -d says how often software had to finish what the kernel handed over."""
        if self.completed or self.dropped:
            LOG.notice(f"{self.label}: tun-offload fallback: {self.completed} packets from the TUN finished in "
                       f"software, {self.dropped} dropped")

    def to_tun(self, frame: bytes) -> bytes:
        """A plain packet from the peer, as the TUN with IFF_VNET_HDR takes it."""
        pi = self.pi_len
        return b"".join((frame[:pi], _PLAIN_VNET, frame[pi:]))

    def receive(self, size: int) -> list[bytes] | None:
        frames = super().receive(size)
        if not frames:
            return frames
        # a plain pysocat answers our HELLO; after its data packets it is only a late HELLO
        return [self.to_tun(frame) for frame in frames if not is_hello(frame)]


def _read_first_frame(inner: Endpoint, timeout: float, fmt: FrameFormat = FrameFormat.RFC4571) -> bytes:
    """The peer's first frame, read exactly (nothing of what follows is consumed): a
    HELLO, or a data packet from a peer that does not offload."""
    deadline = time.monotonic() + timeout
    data = b""
    hsize = fmt.header_size
    need = hsize
    while len(data) < need:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FramingError(f"{inner.label}: no offload handshake from the peer within {timeout:g} s "
                               f"(the peer does not offload, or does not send)")
        assert inner.read_fd is not None
        ready, _, _ = select.select([inner.read_fd], [], [], left)
        if not ready:
            continue
        chunks = inner.receive(need - len(data))
        if chunks is None:
            raise FramingError(f"{inner.label}: the peer closed the stream during the offload handshake "
                               f"({len(data)} bytes received)")
        data += b"".join(chunks)
        if need == hsize and len(data) >= hsize:
            (length,) = fmt.struct.unpack_from(data, 0)
            if length == 0:
                raise FramingError(f"{inner.label}: zero-length frame at byte offset 0 is not allowed "
                                   f"(offload handshake; wrong frame format?)")
            if length > fmt.default_max:
                raise FramingError(f"{inner.label}: frame length {length} at byte offset 0 exceeds the maximum of "
                                   f"{fmt.default_max} bytes (offload handshake; wrong frame format?)")
            need = hsize + length
    return data[hsize:need]


__all__ = ["HANDSHAKE_TIMEOUT", "OffloadFallbackEndpoint", "OffloadFramedEndpoint", "handshake"]
