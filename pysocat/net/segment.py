"""Software GSO and checksum completion for packets from an offload TUN (sans-IO).

Why: a TUN opened with tun-offload hands pysocat GSO super-packets (up to 64 KiB, one
TCP or UDP header for many segments) and packets whose transport checksum is only
partial (CHECKSUM_PARTIAL: the field holds the pseudo-header sum, the rest is left to
"the hardware"). A peer that does not offload must never see either. The offload end
turns the TUN's offloads off once the handshake shows that (the kernel then segments and
checksums itself), but packets queued before that still carry the old form: `complete()`
makes them into ordinary packets, as the kernel's own skb_gso_segment() and
skb_checksum_help() would: TCP/IPv4 and TCP/IPv6 (TSO) and UDP (USO) segmentation, and
the checksum finished at csum_start/csum_offset.

Nothing here touches a descriptor; packets go in as bytes and come out as bytes.
`packet` is always what follows the virtio-net header; `l3_offset` is where its IP
header starts (0 on a TUN, 14 on a TAP); csum_start counts from the packet's start.
"""
from __future__ import annotations

import struct

from ..framing import (
    GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, VNET_F_NEEDS_CSUM, VnetHeader, vnet_header_problem,
)
from ..errors import SocatError

TCP_FIN, TCP_PSH, TCP_CWR = 0x01, 0x08, 0x80
IPPROTO_TCP, IPPROTO_UDP = 6, 17
UDP_CHECK_OFFSET = 6


class SegmentError(SocatError):
    """A packet that cannot be made complete (malformed, or too large for the peer)."""


def ones_complement_sum(data: bytes | bytearray | memoryview) -> int:
    """The 16-bit one's complement sum (RFC 1071) of `data`, folded but not inverted.

    2**16 is 1 modulo 0xFFFF, so the big-endian integer of the data is congruent to the
    sum of its 16-bit words: one C-speed int conversion instead of a loop per word. The
    result is kept in 1..0xFFFF for non-zero data (one's complement "negative zero"), as
    the end-around-carry sum gives it."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    value = int.from_bytes(data, "big")
    folded = value % 0xFFFF
    return 0xFFFF if folded == 0 and value else folded


def _checksum(*parts: bytes | bytearray | memoryview) -> int:
    """The Internet checksum (inverted sum) over the concatenated parts."""
    return ~ones_complement_sum(b"".join(parts)) & 0xFFFF


def ipv4_header_checksum(header: bytes | bytearray | memoryview) -> int:
    """The checksum an IPv4 header (with its check field zero) must carry."""
    return _checksum(header)


def _pseudo_header(packet: bytes | bytearray | memoryview, l3_offset: int, protocol: int, length: int) -> bytes:
    """RFC 793/768 (IPv4) or RFC 8200 (IPv6) pseudo-header for a transport segment."""
    version = packet[l3_offset] >> 4
    if version == 4:
        return bytes(packet[l3_offset + 12:l3_offset + 20]) + struct.pack(">BBH", 0, protocol, length)
    return bytes(packet[l3_offset + 8:l3_offset + 40]) + struct.pack(">IxxxB", length, protocol)


def finish_checksum(packet: bytearray, csum_start: int, csum_offset: int) -> None:
    """Completes a CHECKSUM_PARTIAL packet in place (the kernel's skb_checksum_help):
    the field already holds the pseudo-header sum, so the checksum over csum_start..end
    is all that is missing. A UDP checksum of 0 is sent as 0xFFFF (0 means "none")."""
    field = csum_start + csum_offset
    if csum_start >= len(packet) or field + 2 > len(packet):
        raise SegmentError(f"partial checksum at {csum_start}+{csum_offset} outside the {len(packet)}-byte packet")
    value = ~ones_complement_sum(memoryview(packet)[csum_start:]) & 0xFFFF
    if value == 0 and csum_offset == UDP_CHECK_OFFSET:
        value = 0xFFFF
    struct.pack_into(">H", packet, field, value)


def complete(header: VnetHeader, packet: bytes | bytearray | memoryview, l3_offset: int = 0,
             max_l3: int | None = None) -> list[bytes]:
    """Ordinary packets for one packet from an offload TUN: unchanged when it is complete
    already, its checksum finished when partial, segmented when it is a GSO packet.
    `max_l3` is the largest IP packet the peer takes (its MTU): TCP is segmented to fit
    it; a datagram or unsegmented packet above it is a SegmentError (dropped)."""
    if header.gso_type == GSO_NONE and not header.flags & VNET_F_NEEDS_CSUM:
        _check_size(len(packet) - l3_offset, max_l3)
        return [bytes(packet)]
    problem = vnet_header_problem(header, packet, l3_offset=l3_offset)
    if problem is not None:
        raise SegmentError(f"cannot complete a packet from the TUN: {problem}")
    if header.gso_type == GSO_NONE:
        _check_size(len(packet) - l3_offset, max_l3)
        out = bytearray(packet)
        finish_checksum(out, header.csum_start, header.csum_offset)
        return [bytes(out)]
    if header.gso_type & ~GSO_ECN in (GSO_TCPV4, GSO_TCPV6):
        return segment_tcp(packet, header.csum_start, header.gso_size, l3_offset, max_l3)
    return segment_udp(packet, header.csum_start, header.gso_size, l3_offset, max_l3)


def _check_size(l3_size: int, max_l3: int | None) -> None:
    if max_l3 is not None and l3_size > max_l3:
        raise SegmentError(f"a {l3_size}-byte packet does not fit the peer's MTU of {max_l3}")


def _ip_lengths(out: bytearray, l3_offset: int, total: int, ident_step: int) -> None:
    """Rewrites the IP header of a segment: total/payload length, and for IPv4 the
    identification (+1 per segment, as the kernel does) and the header checksum."""
    if out[l3_offset] >> 4 == 4:
        ihl = (out[l3_offset] & 0x0F) * 4
        struct.pack_into(">H", out, l3_offset + 2, total)
        ident = (struct.unpack_from(">H", out, l3_offset + 4)[0] + ident_step) & 0xFFFF
        struct.pack_into(">H", out, l3_offset + 4, ident)
        struct.pack_into(">H", out, l3_offset + 10, 0)
        struct.pack_into(">H", out, l3_offset + 10, ipv4_header_checksum(out[l3_offset:l3_offset + ihl]))
    else:
        struct.pack_into(">H", out, l3_offset + 4, total - 40)


def segment_tcp(packet: bytes | bytearray | memoryview, l4_start: int, gso_size: int, l3_offset: int = 0,
                max_l3: int | None = None) -> list[bytes]:
    """TSO in software (the kernel's tcp_gso_segment): each segment gets the headers with
    its sequence number, FIN/PSH only on the last, CWR only on the first, and a full
    checksum. The segment size shrinks to fit `max_l3` (a TCP peer accepts any size)."""
    header_length = (packet[l4_start + 12] >> 4) * 4
    headers_end = l4_start + header_length
    l3_headers = headers_end - l3_offset
    mss = gso_size
    if max_l3 is not None:
        if max_l3 <= l3_headers:
            raise SegmentError(f"the peer's MTU of {max_l3} leaves no room for TCP payload")
        mss = min(mss, max_l3 - l3_headers)
    view = memoryview(packet)
    headers = bytes(view[:headers_end])
    payload = view[headers_end:]
    (seq,) = struct.unpack_from(">I", headers, l4_start + 4)
    flags = headers[l4_start + 13]
    protocol = IPPROTO_TCP
    out: list[bytes] = []
    count = -(-len(payload) // mss)
    for index in range(count):
        chunk = payload[index * mss:(index + 1) * mss]
        segment = bytearray(headers)
        segment += chunk
        _ip_lengths(segment, l3_offset, l3_headers + len(chunk), index)
        struct.pack_into(">I", segment, l4_start + 4, (seq + index * mss) & 0xFFFFFFFF)
        seg_flags = flags
        if index < count - 1:
            seg_flags &= ~(TCP_FIN | TCP_PSH)
        if index > 0:
            seg_flags &= ~TCP_CWR
        segment[l4_start + 13] = seg_flags
        struct.pack_into(">H", segment, l4_start + 16, 0)
        length = header_length + len(chunk)
        check = _checksum(_pseudo_header(segment, l3_offset, protocol, length), segment[l4_start:])
        struct.pack_into(">H", segment, l4_start + 16, check)
        out.append(bytes(segment))
    return out


def segment_udp(packet: bytes | bytearray | memoryview, l4_start: int, gso_size: int, l3_offset: int = 0,
                max_l3: int | None = None) -> list[bytes]:
    """USO in software (the kernel's __udp_gso_segment): one datagram per gso_size bytes
    of payload, each with its own UDP length and checksum. Datagrams cannot be cut
    smaller, so one that does not fit `max_l3` is a SegmentError."""
    headers_end = l4_start + 8
    l3_headers = headers_end - l3_offset
    _check_size(l3_headers + min(gso_size, len(packet) - headers_end), max_l3)
    view = memoryview(packet)
    headers = bytes(view[:headers_end])
    payload = view[headers_end:]
    out: list[bytes] = []
    count = -(-len(payload) // gso_size)
    for index in range(count):
        chunk = payload[index * gso_size:(index + 1) * gso_size]
        segment = bytearray(headers)
        segment += chunk
        _ip_lengths(segment, l3_offset, l3_headers + len(chunk), index)
        struct.pack_into(">HH", segment, l4_start + 4, 8 + len(chunk), 0)
        check = _checksum(_pseudo_header(segment, l3_offset, IPPROTO_UDP, 8 + len(chunk)), segment[l4_start:])
        struct.pack_into(">H", segment, l4_start + 6, check or 0xFFFF)
        out.append(bytes(segment))
    return out


__all__ = ["SegmentError", "complete", "finish_checksum", "ones_complement_sum", "segment_tcp", "segment_udp"]
