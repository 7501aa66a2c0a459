"""Software segmentation and checksum completion (pysocat.net.segment), with hand-built
packets checked against a checksum computed here independently (the RFC 1071 word loop
with end-around carry), not with the module's own arithmetic."""
from __future__ import annotations

import os
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysocat.framing import GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, VNET_F_NEEDS_CSUM, VnetHeader
from pysocat.net.segment import SegmentError, complete, finish_checksum, ones_complement_sum

SRC4, DST4 = socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.0.2")
SRC6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
DST6 = socket.inet_pton(socket.AF_INET6, "2001:db8::2")


def reference_sum(data: bytes) -> int:
    """RFC 1071: add 16-bit big-endian words, fold the carries back in."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack(">H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return total


def verifies(*parts: bytes) -> bool:
    """A receiver's check: the sum over everything, checksum included, is all ones."""
    return reference_sum(b"".join(parts)) == 0xFFFF


def ipv4(protocol: int, l4_length: int, ident: int = 0x1234) -> bytes:
    header = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + l4_length, ident, 0x4000, 64, protocol, 0,
                                   SRC4, DST4))
    struct.pack_into(">H", header, 10, ~reference_sum(bytes(header)) & 0xFFFF)
    return bytes(header)


def ipv6(protocol: int, l4_length: int) -> bytes:
    return struct.pack(">IHBB16s16s", 0x60000000, l4_length, protocol, 64, SRC6, DST6)


def tcp_header(seq: int = 1000, flags: int = 0x18, options: bytes = b"") -> bytes:
    return struct.pack(">HHIIBBHHH", 40000, 5001, seq, 77, (5 + len(options) // 4) << 4, flags, 512, 0, 0) + options


def pseudo(version: int, protocol: int, length: int) -> bytes:
    if version == 4:
        return SRC4 + DST4 + struct.pack(">BBH", 0, protocol, length)
    return SRC6 + DST6 + struct.pack(">IxxxB", length, protocol)


def partial(packet: bytes, l4_start: int, field: int, version: int, protocol: int, length: int) -> bytes:
    """What the kernel hands over with CHECKSUM_PARTIAL: the pseudo-header sum, folded,
    not inverted, in the checksum field."""
    out = bytearray(packet)
    struct.pack_into(">H", out, l4_start + field, reference_sum(pseudo(version, protocol, length)))
    return bytes(out)


def tcp_super(version: int, payload: bytes, flags: int = 0x18, options: bytes = b"") -> tuple[bytes, int]:
    tcp = tcp_header(flags=flags, options=options)
    ip = ipv4(6, len(tcp) + len(payload)) if version == 4 else ipv6(6, len(tcp) + len(payload))
    packet = partial(ip + tcp + payload, len(ip), 16, version, 6, len(tcp) + len(payload))
    return packet, len(ip)


def check_tcp_segments(segments: list[bytes], version: int, l3: int = 0) -> bytes:
    """Every segment verifies (IP header and TCP checksum, by the reference sum); returns
    the payload they carry, in order."""
    payload = b""
    for seg in segments:
        ip_len = 20 if version == 4 else 40
        if version == 4:
            assert verifies(seg[l3:l3 + 20])
            assert struct.unpack_from(">H", seg, l3 + 2)[0] == len(seg) - l3
        else:
            assert struct.unpack_from(">H", seg, l3 + 4)[0] == len(seg) - l3 - 40
        l4 = seg[l3 + ip_len:]
        assert verifies(pseudo(version, 6, len(l4)), l4)
        payload += l4[(l4[12] >> 4) * 4:]
    return payload


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_ones_complement_sum_matches_the_word_loop(data):
    assert ones_complement_sum(data) == reference_sum(data)


def test_ones_complement_sum_of_words_that_cancel_is_negative_zero():
    assert ones_complement_sum(b"\x12\x34\xed\xcb") == 0xFFFF == reference_sum(b"\x12\x34\xed\xcb")
    assert ones_complement_sum(b"\0\0") == 0


@pytest.mark.parametrize("version", [4, 6])
def test_tso_segments_carry_the_payload_with_valid_checksums_and_sequence_numbers(version):
    payload = os.urandom(5000)
    packet, l4 = tcp_super(version, payload, options=b"\x01\x01\x08\x0a" + b"\0" * 8)
    gso = GSO_TCPV4 if version == 4 else GSO_TCPV6
    header = VnetHeader(VNET_F_NEEDS_CSUM, gso, l4 + 32, 1448, l4, 16)
    segments = complete(header, packet)
    assert [len(s) - l4 - 32 for s in segments] == [1448, 1448, 1448, 656]
    assert check_tcp_segments(segments, version) == payload
    seqs = [struct.unpack_from(">I", s, l4 + 4)[0] for s in segments]
    assert seqs == [1000, 2448, 3896, 5344]
    if version == 4:
        assert [struct.unpack_from(">H", s, 4)[0] for s in segments] == [0x1234, 0x1235, 0x1236, 0x1237]
        assert all(struct.unpack_from(">H", s, 6)[0] == 0x4000 for s in segments)  # DF kept


def test_tso_keeps_fin_and_psh_for_the_last_segment_and_cwr_for_the_first():
    packet, l4 = tcp_super(4, os.urandom(3000), flags=0x80 | 0x18 | 0x01)  # CWR PSH ACK FIN
    segments = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 40, 1000, 20, 16), packet)
    assert [s[l4 + 13] for s in segments] == [0x90, 0x10, 0x19]
    check_tcp_segments(segments, 4)


def test_tso_shrinks_segments_to_the_peers_mtu():
    payload = os.urandom(4000)
    packet, l4 = tcp_super(4, payload)
    segments = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 40, 1448, 20, 16), packet, max_l3=1040)
    assert max(len(s) for s in segments) == 1040
    assert check_tcp_segments(segments, 4) == payload


def test_tso_wraps_the_sequence_number():
    tcp = bytearray(tcp_header())
    struct.pack_into(">I", tcp, 4, 0xFFFFFF00)
    payload = os.urandom(600)
    packet = partial(ipv4(6, 20 + 600) + bytes(tcp) + payload, 20, 16, 4, 6, 620)
    segments = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 40, 300, 20, 16), packet)
    assert [struct.unpack_from(">I", s, 24)[0] for s in segments] == [0xFFFFFF00, 0x2C]
    assert check_tcp_segments(segments, 4) == payload


def test_tso_on_a_tap_frame_keeps_the_ethernet_header():
    ethernet = b"\x02" + b"\0" * 5 + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    payload = os.urandom(2500)
    packet, l4 = tcp_super(4, payload)
    frame = ethernet + packet
    segments = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 54, 1200, 34, 16), frame, l3_offset=14)
    assert all(s[:14] == ethernet for s in segments)
    assert check_tcp_segments(segments, 4, l3=14) == payload


@pytest.mark.parametrize("version", [4, 6])
def test_uso_makes_datagrams_of_gso_size_each_with_its_length_and_checksum(version):
    payload = os.urandom(3500)
    udp = struct.pack(">HHHH", 4000, 4001, 8 + len(payload), 0)
    ip = ipv4(17, 8 + len(payload)) if version == 4 else ipv6(17, 8 + len(payload))
    packet = partial(ip + udp + payload, len(ip), 6, version, 17, 8 + len(payload))
    segments = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, len(ip) + 8, 1200, len(ip), 6), packet)
    got = b""
    for seg in segments:
        datagram = seg[len(ip):]
        assert struct.unpack_from(">H", datagram, 4)[0] == len(datagram)
        assert verifies(pseudo(version, 17, len(datagram)), datagram)
        if version == 4:
            assert verifies(seg[:20])
        got += datagram[8:]
    assert [len(s) - len(ip) - 8 for s in segments] == [1200, 1200, 1100]
    assert got == payload


def test_uso_datagrams_larger_than_the_peers_mtu_are_refused_not_cut():
    payload = os.urandom(3000)
    packet = partial(ipv4(17, 3008) + struct.pack(">HHHH", 1, 2, 3008, 0) + payload, 20, 6, 4, 17, 3008)
    with pytest.raises(SegmentError, match="does not fit the peer's MTU of 1000"):
        complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, 28, 1400, 20, 6), packet, max_l3=1000)


def test_partial_tcp_checksum_is_finished():
    payload = b"ping through the tunnel" * 3
    packet, l4 = tcp_super(4, payload)
    out = complete(VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16), packet)
    assert len(out) == 1 and out[0][:36] == packet[:36] and out[0][38:] == packet[38:]
    assert verifies(pseudo(4, 6, len(out[0]) - 20), out[0][20:])


def test_partial_udp_checksum_of_zero_is_sent_as_all_ones():
    """0 in a UDP checksum means "no checksum": a sum that comes out 0 must be 0xFFFF."""
    udp = bytearray(struct.pack(">HHHH", 4000, 4001, 8 + 4, 0) + b"\0\0\0\0")
    rest = reference_sum(pseudo(4, 17, 12) + bytes(udp))
    struct.pack_into(">H", udp, 8, 0xFFFF - rest)  # the data makes the whole sum all ones: checksum 0
    packet = partial(ipv4(17, 12) + bytes(udp), 20, 6, 4, 17, 12)
    out = bytearray(packet)
    finish_checksum(out, 20, 6)
    assert struct.unpack_from(">H", out, 26)[0] == 0xFFFF
    assert verifies(pseudo(4, 17, 12), bytes(out[20:]))


def test_complete_packets_pass_unchanged():
    packet = ipv4(1, 8) + b"\x08\0\xf7\xff\0\0\0\0"
    assert complete(VnetHeader(0, GSO_NONE, 0, 0, 0, 0), packet) == [packet]


def test_an_unsegmented_packet_over_the_peers_mtu_is_refused():
    with pytest.raises(SegmentError, match="a 1600-byte packet does not fit the peer's MTU of 1500"):
        complete(VnetHeader(0, GSO_NONE, 0, 0, 0, 0), ipv4(17, 1580) + b"\0" * 1580, max_l3=1500)


@pytest.mark.parametrize("header,problem", [
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 40, 1000, 20, 6), "csum_offset 6 is not the TCPV4"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV6, 40, 1000, 20, 16), "gso_type TCPV6 on an IPv4 packet"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 40, 0, 20, 16), "gso_size 0"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 5000, 16), "csum_start 5000 outside"),
])
def test_malformed_headers_are_refused_with_the_reason(header, problem):
    packet, _ = tcp_super(4, os.urandom(2000))
    with pytest.raises(SegmentError, match=problem):
        complete(header, packet)
