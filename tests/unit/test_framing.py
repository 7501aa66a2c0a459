"""The frame codec, the offload HELLO and the virtio-net header check, with plain bytes.

Property tests (hypothesis) cover what examples cannot: any packet list survives any
re-chunking of its stream; any truncation is reported, never delivered in part; any
length above the maximum is caught at its exact offset.
"""
from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysocat.errors import SocatError
from pysocat.framing import (
    GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP, GSO_UDP_L4, HELLO_SIZE, KNOWN_CAPS, MAGIC, VNET_F_DATA_VALID,
    VNET_F_NEEDS_CSUM, VNET_HDR_SIZE, Cap, FrameDecoder, FrameFormat, FramingError, Hello, VnetHeader, decode_all,
    decode_hello, encode, encode_hello, encode_many, frame_header, is_hello, negotiate, parse_frame_format,
    recompute_hdr_len, validate_vnet_header, vnet_header_problem, vnet_native_to_wire, vnet_wire_to_native,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = st.sampled_from(list(FrameFormat))
packets_strategy = st.lists(st.binary(min_size=1, max_size=300), max_size=30)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


# ---------------------------------------------------------------- wire format, by example

def test_rfc4571_frame_is_two_byte_big_endian_length_then_packet():
    assert encode(b"abc") == b"\x00\x03abc"
    assert encode(b"x" * 258)[:2] == b"\x01\x02"


def test_wide_frame_is_four_byte_big_endian_length_then_packet():
    assert encode(b"abc", FrameFormat.WIDE) == b"\x00\x00\x00\x03abc"
    assert encode(b"x" * 70000, FrameFormat.WIDE)[:4] == struct.pack(">I", 70000)


def test_frame_header_alone_is_for_writev():
    assert frame_header(65535) == b"\xff\xff"
    assert frame_header(65536, FrameFormat.WIDE) == b"\x00\x01\x00\x00"


def test_rfc4571_refuses_a_packet_over_65535_bytes_and_says_use_wide():
    with pytest.raises(FramingError, match="framed=wide"):
        encode(b"x" * 65536)


def test_framing_error_is_a_socat_error_at_error_level():
    with pytest.raises(SocatError) as info:
        decode_all(b"\x00\x00")
    assert info.value.level == "E"


def test_encode_many_is_the_concatenation_of_frames():
    packets = [b"a", b"bc", b"def"]
    assert encode_many(packets) == b"".join(encode(p) for p in packets)


def test_decoder_returns_complete_packets_only():
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x05hel") == []
    assert decoder.pending == 5
    assert decoder.feed(b"lo\x00") == [b"hello"]
    assert decoder.feed(b"\x01!") == [b"!"]
    decoder.finish()
    assert decoder.offset == 10 and decoder.packets == 2


def test_decoder_accepts_memoryview_and_bytearray():
    decoder = FrameDecoder()
    assert decoder.feed(memoryview(b"\x00\x01a\x00")) == [b"a"]
    assert decoder.feed(bytearray(b"\x01b")) == [b"b"]


def test_framed_rejects_length_above_maximum_with_offset():
    stream = encode(b"ok") + b"\x05\xdc" + b"x" * 1500
    with pytest.raises(FramingError) as info:
        decode_all(stream, max_length=1400)
    assert "frame length 1500 at byte offset 4 exceeds the maximum of 1400" in info.value.text


def test_length_check_happens_before_the_payload_arrives():
    decoder = FrameDecoder(max_length=100, label="TCP:peer:1")
    with pytest.raises(FramingError, match=r"^TCP:peer:1: frame length 65535 at byte offset 0"):
        decoder.feed(b"\xff\xff")


def test_framed_rejects_zero_length_unless_allowed():
    with pytest.raises(FramingError, match="zero-length frame at byte offset 3 is not allowed"):
        decode_all(b"\x00\x01a\x00\x00")
    assert decode_all(b"\x00\x01a\x00\x00", allow_zero=True) == [b"a", b""]


def test_framed_rejects_truncated_frame_and_drops_it():
    decoder = FrameDecoder()
    assert decoder.feed(encode(b"first") + b"\x00\x10partial") == [b"first"]
    with pytest.raises(FramingError) as info:
        decoder.finish()
    assert "stream ended inside the frame at byte offset 7 (7 of 16 packet bytes)" in info.value.text


def test_stream_ending_inside_a_length_prefix_is_an_error():
    decoder = FrameDecoder(fmt=FrameFormat.WIDE)
    decoder.feed(b"\x00\x00")
    with pytest.raises(FramingError, match=r"\(2 of 4 length bytes\)"):
        decoder.finish()


def test_decoder_stays_failed_after_an_error():
    decoder = FrameDecoder(max_length=10)
    with pytest.raises(FramingError):
        decoder.feed(b"\x00\x20")
    with pytest.raises(FramingError, match="byte offset 0"):
        decoder.feed(b"\x00\x01a")
    with pytest.raises(FramingError):
        decoder.finish()


def test_wide_reader_detects_a_short_stream():
    stream = encode(b"A" * 100) + encode(b"B" * 100)
    with pytest.raises(FramingError, match="exceeds the maximum"):
        decode_all(stream, fmt=FrameFormat.WIDE)


def test_short_reader_detects_a_wide_stream():
    with pytest.raises(FramingError, match="zero-length"):
        decode_all(encode(b"x" * 10, FrameFormat.WIDE))


def test_wide_default_maximum_is_bounded():
    with pytest.raises(FramingError):
        FrameDecoder(fmt=FrameFormat.WIDE).feed(b"\x7f\xff\xff\xff")


def test_decoder_rejects_impossible_maximum():
    with pytest.raises(ValueError):
        FrameDecoder(max_length=70000)


@pytest.mark.parametrize("value,expected", [
    (None, FrameFormat.RFC4571), (True, FrameFormat.RFC4571), ("", FrameFormat.RFC4571),
    ("1", FrameFormat.RFC4571), ("rfc4571", FrameFormat.RFC4571), ("RFC4571", FrameFormat.RFC4571),
    ("wide", FrameFormat.WIDE), ("Wide", FrameFormat.WIDE),
])
def test_frame_format_option_values(value, expected):
    assert parse_frame_format(value) is expected


@pytest.mark.parametrize("value", ["32", "long", "0x", "wide2"])
def test_unknown_frame_format_is_an_error(value):
    with pytest.raises(FramingError, match="unknown frame format"):
        parse_frame_format(value)


@pytest.mark.parametrize("length", [1, 2, 255, 256, 1499, 1500, 9000, 65534, 65535])
def test_every_boundary_length_round_trips_byte_by_byte(length):
    packet = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    stream = encode(packet)
    decoder = FrameDecoder()
    got: list[bytes] = []
    step = max(1, length // 7)
    for i in range(0, len(stream), step):
        got += decoder.feed(stream[i:i + step])
    decoder.finish()
    assert got == [packet]


@pytest.mark.parametrize("maximum", [1, 2, 100, 1500, 65534])
@pytest.mark.parametrize("fmt", list(FrameFormat))
def test_length_just_above_maximum_is_rejected_and_at_maximum_accepted(maximum, fmt):
    assert decode_all(encode(b"m" * maximum, fmt), maximum, fmt=fmt) == [b"m" * maximum]
    with pytest.raises(FramingError, match=f"frame length {maximum + 1} at byte offset 0"):
        decode_all(encode(b"m" * (maximum + 1), fmt), maximum, fmt=fmt)


# ---------------------------------------------------------------- properties

@SETTINGS
@given(packets=packets_strategy, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
       fmt=FORMATS)
def test_any_packets_survive_any_rechunking(packets, cuts, fmt):
    stream = encode_many(packets, fmt)
    decoder = FrameDecoder(fmt=fmt)
    got: list[bytes] = []
    for chunk in chunked(stream, cuts):
        got += decoder.feed(chunk)
    decoder.finish()
    assert got == packets
    assert decoder.offset == len(stream)
    assert decoder.pending == 0


@SETTINGS
@given(packets=packets_strategy, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
       fmt=FORMATS)
def test_frame_offsets_name_each_frame_start_whatever_the_chunking(packets, cuts, fmt):
    stream = encode_many(packets, fmt)
    starts, at = [], 0
    for packet in packets:
        starts.append(at)
        at += fmt.header_size + len(packet)
    decoder = FrameDecoder(fmt=fmt)
    seen: list[int] = []
    for chunk in chunked(stream, cuts):
        decoder.feed(chunk)
        seen += decoder.frame_offsets
    assert seen == starts


def test_whole_frames_are_views_of_the_read_and_a_split_frame_is_assembled():
    """No copy for a frame lying whole in one read (the bytes a read returned are
    immutable); a frame split across reads is assembled from its own bytes only."""
    first = encode(b"A" * 100) + encode(b"B" * 50) + encode(b"C" * 40)[:10]
    decoder = FrameDecoder()
    whole = decoder.feed(first)
    assert [bytes(p) for p in whole] == [b"A" * 100, b"B" * 50]
    assert all(isinstance(p, memoryview) and p.obj is first for p in whole)
    second = b"C" * 32 + encode(b"D" * 7)
    split, after = decoder.feed(second)
    assert split == b"C" * 40 and type(split) is bytes
    assert after == b"D" * 7 and after.obj is second
    assert decoder.frame_offsets == [len(first) - 10, len(first) + 32]


def test_frames_from_a_mutable_buffer_do_not_change_when_it_is_reused():
    buffer = bytearray(encode(b"keep") + encode(b"this"))
    packets = FrameDecoder().feed(buffer)
    buffer[:] = bytes(len(buffer))
    assert packets == [b"keep", b"this"]


@SETTINGS
@given(packets=st.lists(st.binary(max_size=50), max_size=20), cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_zero_length_packets_round_trip_when_allowed(packets, cuts):
    stream = encode_many(packets)
    decoder = FrameDecoder(allow_zero=True)
    got = [p for chunk in chunked(stream, cuts) for p in decoder.feed(chunk)]
    decoder.finish()
    assert got == packets


@SETTINGS
@given(packets=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=15),
       cut=st.integers(min_value=1), fmt=FORMATS, data=st.data())
def test_truncated_stream_delivers_whole_packets_only_then_fails(packets, cut, fmt, data):
    stream = encode_many(packets, fmt)
    boundaries = [0]
    for p in packets:
        boundaries.append(boundaries[-1] + fmt.header_size + len(p))
    end = cut % len(stream)
    decoder = FrameDecoder(fmt=fmt)
    got = [p for chunk in chunked(stream[:end], data.draw(st.lists(st.integers(0, 5000), max_size=10)))
           for p in decoder.feed(chunk)]
    complete = sum(1 for b in boundaries[1:] if b <= end)
    assert got == packets[:complete]
    if end in boundaries:
        decoder.finish()
    else:
        with pytest.raises(FramingError, match=f"byte offset {boundaries[complete]} "):
            decoder.finish()


@SETTINGS
@given(lengths=st.lists(st.integers(min_value=0, max_value=0xFFFF), min_size=1, max_size=12),
       maximum=st.integers(min_value=1, max_value=0xFFFF), allow_zero=st.booleans())
def test_fuzzed_lengths_fail_at_the_first_bad_header_exactly(lengths, maximum, allow_zero):
    stream = b"".join(struct.pack(">H", n) + b"\xaa" * n for n in lengths)
    offset = 0
    expected: list[bytes] = []
    bad_at = None
    for n in lengths:
        if n > maximum or (n == 0 and not allow_zero):
            bad_at = offset
            break
        expected.append(b"\xaa" * n)
        offset += 2 + n
    decoder = FrameDecoder(maximum, allow_zero)
    got: list[bytes] = []
    try:
        for i in range(0, len(stream), 997):
            got += decoder.feed(stream[i:i + 997])
        decoder.finish()
    except FramingError as err:
        assert bad_at is not None, err
        assert f"byte offset {bad_at} " in err.text
        assert got == expected[:len(got)]
    else:
        assert bad_at is None
        assert got == expected


@SETTINGS
@given(noise=st.binary(max_size=400), maximum=st.integers(1, 2000))
def test_random_bytes_never_produce_an_oversized_or_partial_packet(noise, maximum):
    decoder = FrameDecoder(maximum)
    got: list[bytes] = []
    try:
        got += decoder.feed(noise)
        decoder.finish()
    except FramingError:
        pass
    assert all(0 < len(p) <= maximum for p in got)
    assert encode_many(got) == noise[:len(encode_many(got))]


# ---------------------------------------------------------------- offload HELLO

def test_hello_layout_byte_by_byte():
    message = encode_hello(Hello(Cap.VNET | Cap.CSUM | Cap.TSO4 | Cap.WIDE, 1500, 65545))
    assert len(message) == HELLO_SIZE == 32
    assert message[:8] == b"\xffPYSOCAT" == MAGIC
    assert message[8:12] == b"\x01\x01\x00\x20"
    assert message[12:16] == struct.pack(">I", 0b11000011)
    assert message[16:20] == struct.pack(">I", 1500)
    assert message[20:24] == struct.pack(">I", 65545)
    assert message[24:28] == b"\x00" * 4
    assert message[28:] == struct.pack(">I", zlib.crc32(message[:28]))


def test_hello_never_looks_like_an_ip_packet():
    assert encode_hello(Hello(Cap(0), 1500, 65535))[0] >> 4 not in (4, 6)


@SETTINGS
@given(caps=st.integers(0, 0xFF), mtu=st.integers(0, 0xFFFFFFFF), maxlen=st.integers(0, 0xFFFFFFFF))
def test_hello_round_trips(caps, mtu, maxlen):
    hello = Hello(Cap(caps), mtu, maxlen)
    message = encode_hello(hello)
    assert is_hello(message)
    assert decode_hello(message) == hello


@SETTINGS
@given(position=st.integers(0, HELLO_SIZE - 1), flip=st.integers(1, 255))
def test_any_corrupted_hello_byte_is_rejected(position, flip):
    message = bytearray(encode_hello(Hello(Cap.VNET | Cap.CSUM, 1500, 65535)))
    message[position] ^= flip
    with pytest.raises(FramingError):
        decode_hello(bytes(message), offset=2)


def test_hello_with_unknown_capability_bits_ignores_them():
    body = struct.pack(">8sBBHIIII", MAGIC, 1, 1, 32, 0xFFFF0000 | int(Cap.CSUM), 9000, 70000, 0)
    hello = decode_hello(body + struct.pack(">I", zlib.crc32(body)))
    assert hello.caps == Cap.CSUM and hello.mtu == 9000


def test_later_hello_version_with_more_bytes_is_read():
    body = struct.pack(">8sBBHIIII", MAGIC, 2, 1, 36, int(Cap.CSUM), 1400, 65535, 0) + b"\x00\x00\x00\x07"
    hello = decode_hello(body + struct.pack(">I", zlib.crc32(body)))
    assert (hello.version, hello.mtu) == (2, 1400)


def test_data_packet_is_not_a_hello_and_says_the_peer_does_not_offload():
    ipv4 = b"\x45" + b"\x00" * 39
    assert not is_hello(ipv4)
    with pytest.raises(FramingError, match="at byte offset 2 is not an offload handshake"):
        decode_hello(ipv4, offset=2)


def test_truncated_hello_is_rejected():
    with pytest.raises(FramingError, match="truncated"):
        decode_hello(encode_hello(Hello(Cap(0), 1, 1))[:20])


FULL = Cap.VNET | Cap.CSUM | Cap.TSO4 | Cap.TSO6 | Cap.ECN | Cap.USO4 | Cap.USO6 | Cap.WIDE


def test_negotiate_lower_mtu_wins_and_caps_intersect():
    agreement = negotiate(Hello(FULL, 65535, 262144), Hello(Cap.VNET | Cap.CSUM | Cap.TSO4 | Cap.WIDE, 9000, 70000))
    assert agreement.offload and agreement.mtu == 9000
    assert agreement.caps == Cap.VNET | Cap.CSUM | Cap.TSO4 | Cap.WIDE
    assert agreement.frame_format is FrameFormat.WIDE and agreement.send_max == 70000
    assert "offload agreed (CSUM+TSO4)" in agreement.reason


def test_negotiate_falls_back_when_the_peer_does_not_offload():
    agreement = negotiate(Hello(FULL, 1500, 262144), Hello(Cap(0), 1400, 65535))
    assert not agreement.offload and agreement.caps == Cap(0)
    assert agreement.frame_format is FrameFormat.RFC4571 and agreement.mtu == 1400
    assert "peer end does not offload" in agreement.reason


def test_negotiate_needs_wide_frames_for_offload():
    agreement = negotiate(Hello(FULL, 1500, 262144), Hello(FULL & ~Cap.WIDE, 1500, 65535))
    assert not agreement.offload and "wide" in agreement.reason


@SETTINGS
@given(a=st.integers(0, 0xFF), b=st.integers(0, 0xFF), ma=st.integers(68, 65535), mb=st.integers(68, 65535))
def test_negotiate_is_symmetric(a, b, ma, mb):
    left = negotiate(Hello(Cap(a), ma, 65535), Hello(Cap(b), mb, 65535))
    right = negotiate(Hello(Cap(b), mb, 65535), Hello(Cap(a), ma, 65535))
    assert (left.offload, left.caps, left.mtu, left.frame_format) == \
        (right.offload, right.caps, right.mtu, right.frame_format)
    assert left.mtu == min(ma, mb)


# ---------------------------------------------------------------- virtio-net header

def ipv4_tcp(payload: int, tcp_header: int = 20) -> bytes:
    ip = bytes([0x45]) + b"\x00" * 19
    tcp = b"\x00" * 12 + bytes([(tcp_header // 4) << 4]) + b"\x00" * (tcp_header - 13)
    return ip + tcp + b"p" * payload


def ipv6_tcp(payload: int) -> bytes:
    return bytes([0x60]) + b"\x00" * 39 + b"\x00" * 12 + b"\x50" + b"\x00" * 7 + b"p" * payload


def ipv4_udp(payload: int) -> bytes:
    return bytes([0x45]) + b"\x00" * 19 + b"\x00" * 8 + b"u" * payload


def tso4(gso_size: int = 1448, hdr_len: int = 0) -> VnetHeader:
    return VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, hdr_len, gso_size, 20, 16)


def test_vnet_header_wire_layout_is_big_endian():
    header = VnetHeader(1, GSO_TCPV4, 0x0102, 0x0304, 0x0506, 0x0708)
    assert header.pack("big") == b"\x01\x01\x01\x02\x03\x04\x05\x06\x07\x08"
    assert header.pack("little") == b"\x01\x01\x02\x01\x04\x03\x06\x05\x08\x07"
    assert VnetHeader.unpack(header.pack("little"), "little") == header


def test_native_and_wire_conversion_round_trip():
    native = VnetHeader(1, GSO_TCPV6, 74, 1428, 40, 16).pack("little")
    import sys
    if sys.byteorder == "little":
        assert vnet_native_to_wire(native) == VnetHeader(1, GSO_TCPV6, 74, 1428, 40, 16).pack("big")
    assert vnet_wire_to_native(vnet_native_to_wire(native)) == native


def test_sound_tso4_header_passes_and_hdr_len_is_recomputed():
    packet = ipv4_tcp(60000, tcp_header=32)
    frame = tso4(hdr_len=9999).pack() + packet
    header, body = validate_vnet_header(frame)
    assert header.hdr_len == 52 and bytes(body) == packet


@pytest.mark.parametrize("header,packet", [
    (VnetHeader(0, GSO_NONE, 0, 0, 0, 0), ipv4_tcp(10)),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16), ipv4_tcp(10)),
    (VnetHeader(VNET_F_DATA_VALID, GSO_NONE, 0, 0, 0, 0), ipv4_tcp(10)),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV6, 60, 1428, 40, 16), ipv6_tcp(5000)),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 40, 1448, 20, 16), ipv4_tcp(5000)),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, 28, 1472, 20, 6), ipv4_udp(8000)),
])
def test_sound_headers_pass(header, packet):
    assert vnet_header_problem(header, packet) is None


@pytest.mark.parametrize("header,packet,reason", [
    (VnetHeader(0, 7, 0, 0, 0, 0), ipv4_tcp(10), "unknown gso_type 0x07"),
    (VnetHeader(0, GSO_UDP, 0, 0, 0, 0), ipv4_tcp(10), "unknown gso_type 0x03"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4 | GSO_ECN, 0, 1400, 20, 6), ipv4_udp(3000), "ECN bit"),
    (VnetHeader(0x04, GSO_NONE, 0, 0, 0, 0), ipv4_tcp(10), "unknown flags 0x04"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 50, 16), ipv4_tcp(10), "outside"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 30), ipv4_tcp(10), "checksum field"),
    (VnetHeader(0, GSO_NONE, 0, 0, 20, 16), ipv4_tcp(10), "without NEEDS_CSUM"),
    (VnetHeader(0, GSO_NONE, 0, 1400, 0, 0), ipv4_tcp(10), "not segmented"),
    (VnetHeader(0, GSO_TCPV4, 40, 1448, 0, 0), ipv4_tcp(5000), "without NEEDS_CSUM"),
    (tso4(gso_size=0), ipv4_tcp(5000), "gso_size 0"),
    (tso4(), ipv6_tcp(5000), "TCPV4 on an IPv6 packet"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV6, 0, 1400, 40, 16), ipv4_tcp(5000), "TCPV6 on an IPv4"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 0, 1400, 10, 16), ipv4_tcp(5000), "inside the IP header"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 0, 1400, 20, 6), ipv4_tcp(5000), "not the TCPV4 checksum"),
    (tso4(), ipv4_tcp(0), "without payload"),
    (tso4(), (ipv4_tcp(0)[:32] + b"\xf0" + b"\x00" * 7) + b"p" * 10, "runs past"),
    (VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, 0, 10, 20, 6), ipv4_udp(8000), "at most 128"),
])
def test_bad_headers_have_a_reason(header, packet, reason):
    problem = vnet_header_problem(header, packet)
    assert problem is not None and reason in problem


def test_tcp_data_offset_below_five_words_is_rejected():
    packet = bytearray(ipv4_tcp(3000))
    packet[32] = 0x40
    assert "runs past" in (vnet_header_problem(tso4(), bytes(packet)) or "")


@pytest.mark.parametrize("caps,gso,ok", [
    (Cap.CSUM | Cap.TSO4, GSO_TCPV4, True), (Cap.CSUM, GSO_TCPV4, False), (Cap.CSUM | Cap.TSO6, GSO_TCPV6, True),
    (Cap.CSUM | Cap.TSO4, GSO_TCPV4 | GSO_ECN, False), (Cap.CSUM | Cap.TSO4 | Cap.ECN, GSO_TCPV4 | GSO_ECN, True),
    (Cap.CSUM | Cap.USO4, GSO_UDP_L4, True), (Cap.CSUM | Cap.TSO4, GSO_UDP_L4, False),
])
def test_only_agreed_segmentation_passes(caps, gso, ok):
    packet = ipv4_udp(3000) if gso == GSO_UDP_L4 else ipv4_tcp(3000) if gso & ~GSO_ECN == GSO_TCPV4 else ipv6_tcp(3000)
    start = 40 if gso == GSO_TCPV6 else 20
    header = VnetHeader(VNET_F_NEEDS_CSUM, gso, 0, 1400, start, 6 if gso == GSO_UDP_L4 else 16)
    assert (vnet_header_problem(header, packet, caps) is None) is ok


def test_partial_checksum_needs_the_csum_capability():
    header = VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16)
    assert "not agreed" in (vnet_header_problem(header, ipv4_tcp(10), Cap.TSO4) or "")


def test_tap_packets_are_checked_after_the_ethernet_header():
    packet = b"\x00" * 12 + b"\x08\x00" + ipv4_tcp(3000)
    header = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 0, 1448, 34, 16)
    assert vnet_header_problem(header, packet, l3_offset=14) is None
    assert "IPv0" in (vnet_header_problem(header, packet, l3_offset=0) or "")


def test_validate_names_the_offset_and_the_reason():
    with pytest.raises(FramingError, match=r"frame at byte offset 1234: gso_size 0 on a segmented packet"):
        validate_vnet_header(tso4(gso_size=0).pack() + ipv4_tcp(3000), offset=1234)
    with pytest.raises(FramingError, match="shorter"):
        validate_vnet_header(b"\x00" * 5, offset=7)


def test_recompute_hdr_len_for_udp_is_eight_after_csum_start():
    header = VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, 0, 1400, 20, 6)
    assert recompute_hdr_len(header, ipv4_udp(100)) == 28


@SETTINGS
@given(raw=st.binary(min_size=VNET_HDR_SIZE, max_size=VNET_HDR_SIZE), body=st.binary(max_size=200))
def test_any_header_either_passes_all_checks_or_raises(raw, body):
    try:
        header, packet = validate_vnet_header(raw + body, KNOWN_CAPS, None)
    except FramingError as err:
        assert "byte offset 0" in err.text
        return
    if header.flags & VNET_F_NEEDS_CSUM:
        assert header.csum_start + header.csum_offset + 2 <= len(packet)
    if header.gso_type != GSO_NONE:
        assert header.gso_size > 0 and header.hdr_len < len(packet)


# ---------------------------------------------------------------- FramedEndpoint over real descriptors

import os  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

from pysocat.endpoint import Endpoint  # noqa: E402
from pysocat.transfer.engine import RelaySettings, relay  # noqa: E402
from pysocat.transfer.framed import FramedEndpoint  # noqa: E402


def stream_endpoint() -> tuple[Endpoint, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = ours.detach()
    return Endpoint("UNIX stream", fd, fd), theirs


def test_framed_endpoint_sends_one_frame_per_packet():
    inner, peer = stream_endpoint()
    framed = FramedEndpoint.wrap(inner)
    assert framed.keeps_boundaries and framed.packet_size >= 65536
    framed.send(b"one")
    framed.send(b"two!")
    framed.close()
    data = b""
    while chunk := peer.recv(100):
        data += chunk
    assert data == b"\x00\x03one\x00\x04two!"
    assert framed.frames_sent == 2 and framed.bytes_sent == 11


def test_framed_endpoint_delivers_frames_split_across_reads():
    inner, peer = stream_endpoint()
    framed = FramedEndpoint.wrap(inner, FrameFormat.WIDE)
    peer.sendall(b"\x00\x00\x00\x05hel")
    assert framed.receive(65536) == []
    peer.sendall(b"lo\x00\x00\x00\x01!")
    assert framed.receive(65536) == [b"hello", b"!"]
    peer.close()
    assert framed.receive(65536) is None
    framed.close()


def test_framed_endpoint_truncated_stream_raises_at_eof():
    inner, peer = stream_endpoint()
    framed = FramedEndpoint.wrap(inner)
    peer.sendall(b"\x00\x10abc")
    peer.close()
    assert framed.receive(100) == []
    with pytest.raises(FramingError, match=r"^UNIX stream: stream ended inside the frame at byte offset 0"):
        framed.receive(100)
    framed.close()


def test_framed_relay_keeps_packets_and_never_writes_partial_ones():
    """packet side <-> framed stream through the real engine; a truncated last frame is
    reported and never reaches the packet side."""
    packet_app, packet_side = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    fd = packet_side.detach()
    packets = Endpoint("seqpacket", fd, fd, keeps_boundaries=True)
    inner, peer = stream_endpoint()
    framed = FramedEndpoint.wrap(inner, max_length=5000)
    sent = [os.urandom(n) for n in (1, 100, 1500, 4999, 3)]
    stream = encode_many(sent) + b"\x0f\xff" + b"z" * 10  # a truncated frame at the end

    def feed() -> None:
        for i in range(0, len(stream), 777):
            peer.sendall(stream[i:i + 777])
        peer.shutdown(socket.SHUT_WR)

    threading.Thread(target=feed, daemon=True).start()
    from pysocat.log import LOG

    errors = LOG.errors
    relay(packets, framed, RelaySettings(bufsize=512, direction="right-to-left", close_timeout=0.2))
    assert LOG.errors == errors + 1
    packet_app.settimeout(2)
    got = [packet_app.recv(70000) for _ in sent]
    assert got == sent
    assert packet_app.recv(70000) == b""  # EOF passed on; the partial frame never arrives
    framed.close()
    packets.close()


def test_packets_before_a_bad_frame_come_with_the_error():
    decoder = FrameDecoder(max_length=10)
    with pytest.raises(FramingError) as info:
        decoder.feed(encode(b"good") + encode(b"also") + b"\x00\x20")
    assert info.value.packets == [b"good", b"also"]
    assert "byte offset 12 " in info.value.text
    with pytest.raises(FramingError, match="byte offset 12 "):
        decoder.finish()


def test_framed_endpoint_delivers_sound_packets_then_raises():
    inner, peer = stream_endpoint()
    framed = FramedEndpoint.wrap(inner, max_length=100)
    peer.sendall(encode(b"ok") + b"\x00\x00")
    assert framed.receive(1000) == [b"ok"]
    assert framed.pending_error is not None
    with pytest.raises(FramingError, match="zero-length frame at byte offset 4"):
        framed.receive(1000)
    framed.close()
    peer.close()


# ---------------------------------------------------------------- offload framed endpoint (handshake, headers)

from types import SimpleNamespace  # noqa: E402

from pysocat.transfer.offload import OffloadFramedEndpoint  # noqa: E402


def fake_tun(bits: int = 0x6F) -> SimpleNamespace:
    return SimpleNamespace(offload=bits, mtu=1500, packet_info=False, link="tun", read_fd=None)


def offload_pair(bits_a: int = 0x6F, bits_b: int = 0x6F):
    a_sock, b_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a_fd, b_fd = a_sock.detach(), b_sock.detach()
    result: dict[str, object] = {}

    def side(name: str, fd: int, bits: int) -> None:
        try:
            result[name] = OffloadFramedEndpoint.handshake(Endpoint(name, fd, fd), fake_tun(bits), timeout=5)
        except FramingError as err:
            result[name] = err

    threads = [threading.Thread(target=side, args=("a", a_fd, bits_a)),
               threading.Thread(target=side, args=("b", b_fd, bits_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return result["a"], result["b"]


def test_offload_handshake_agrees_and_headers_cross_in_wire_order():
    a, b = offload_pair(0x6F, 0x07)
    assert isinstance(a, OffloadFramedEndpoint) and isinstance(b, OffloadFramedEndpoint)
    assert a.agreement.caps == Cap.CSUM | Cap.TSO4 | Cap.TSO6 | Cap.VNET | Cap.WIDE
    header = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 52, 1448, 20, 16)
    packet = header.pack("little" if __import__("sys").byteorder == "little" else "big") + ipv4_tcp(20000)
    a.send(packet)
    got = []
    while not got:
        got = b.receive(1 << 18)
    assert got[0][VNET_HDR_SIZE:] == packet[VNET_HDR_SIZE:]
    assert vnet_native_to_wire(got[0][:VNET_HDR_SIZE]) == VnetHeader(1, GSO_TCPV4, 40, 1448, 20, 16).pack("big")
    a.close()
    b.close()


def test_offload_endpoint_rejects_segmentation_that_was_not_agreed():
    a, b = offload_pair(0x6F, 0x03)  # b: CSUM+TSO4 only
    udp = VnetHeader(VNET_F_NEEDS_CSUM, GSO_UDP_L4, 28, 1400, 20, 6).pack("little") + ipv4_udp(5000)
    a.send(udp)
    with pytest.raises(FramingError, match=r"frame at byte offset 34: gso_type UDP_L4 was not agreed"):
        while not b.receive(1 << 18):
            pass
    a.close()
    b.close()


# a plain framed peer: tests/unit/test_offload_fallback.py (fallback to plain frames)


def test_offload_handshake_times_out_on_a_silent_peer():
    a_sock, b_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = a_sock.detach()
    with pytest.raises(FramingError, match="no offload handshake from the peer within 0.3 s"):
        OffloadFramedEndpoint.handshake(Endpoint("offload", fd, fd), fake_tun(), timeout=0.3)
    os.close(fd)
    b_sock.close()


def test_a_full_stream_keeps_the_frames_as_backlog_instead_of_waiting():
    """Over a socket, send() never waits: what the stream does not take is kept and
    written, in order, by flush_backlog() once there is room (the engine asks when poll
    says so); the frames arrive whole."""
    inner, peer = stream_endpoint()
    os.set_blocking(inner.write_fd, True)  # even a blocking socket: the backlog, not a wait
    inner_sock = socket.socket(fileno=os.dup(inner.write_fd))
    inner_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    inner_sock.close()
    framed = FramedEndpoint.wrap(inner)
    assert framed.writes_without_waiting()
    packets = [bytes([n]) * 60000 for n in range(8)]
    framed.send_many(packets)  # returns at once although nobody reads
    assert framed.backlog() > 0
    decoder = FrameDecoder()
    got: list[bytes] = []
    peer.settimeout(5)
    while len(got) < len(packets):
        got += [bytes(p) for p in decoder.feed(peer.recv(1 << 16))]
        framed.flush_backlog()
    assert got == packets and framed.backlog() == 0
    framed.close()
    peer.close()


def test_a_hello_answer_waits_behind_a_frame_half_written():
    """The answer to an offload peer's HELLO goes after the frames already on their way,
    never into the middle of one."""
    inner, peer = stream_endpoint()
    sock = socket.socket(fileno=os.dup(inner.write_fd))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.close()
    framed = FramedEndpoint.wrap(inner)
    framed.send_many([b"x" * 50000])
    assert framed.backlog() > 0
    peer.sendall(encode(encode_hello(Hello(Cap.CSUM | Cap.TSO4 | Cap.VNET, 1500, 65535))) + encode(b"data"))
    assert framed.receive(65536) == [b"data"]  # the HELLO is answered, not passed on
    decoder = FrameDecoder()
    got: list[bytes] = []
    peer.settimeout(5)
    while len(got) < 2:
        got += [bytes(p) for p in decoder.feed(peer.recv(1 << 16))]
        framed.flush_backlog()
    assert got[0] == b"x" * 50000 and is_hello(got[1])
    framed.close()
    peer.close()
