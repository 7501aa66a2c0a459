"""The packet pump's check of received offload frames (C) against Python's
(pysocat.framing.validate_vnet_header): the same frames pass, with the same header in the
host's byte order, and the same frames are refused. Python stays the reference: a frame
the pump refuses is checked again in Python, so the pump may never pass one Python refuses."""
from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysocat.framing import (
    GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM, Cap, FramingError,
    VnetHeader, validate_vnet_header, vnet_wire_to_native,
)
from pysocat.transfer import pump

pytestmark = pytest.mark.skipif(pump.native is None, reason="the C packet pump did not compile here")


def python_check(frame: bytes, caps: int, pi_len: int, l3_offset: int) -> bytes | None:
    """What OffloadFramedEndpoint.checked delivers to the TUN for this frame, or None."""
    if len(frame) < pi_len:
        return None
    try:
        header, packet = validate_vnet_header(frame[pi_len:], Cap(caps), l3_offset)
    except FramingError:
        return None
    return frame[:pi_len] + vnet_wire_to_native(header.pack("big")) + bytes(packet)


def ip_packet(version: int, protocol: str, payload: int, tcp_words: int) -> bytes:
    ip = bytes([0x45]) + bytes(19) if version == 4 else bytes([0x60]) + bytes(39)
    if protocol == "tcp":
        transport = bytes(12) + bytes([tcp_words << 4]) + bytes(7) + bytes(max(0, tcp_words * 4 - 20))
    else:
        transport = bytes(8)
    return ip + transport + b"d" * payload


headers = st.builds(
    VnetHeader,
    st.sampled_from([0, VNET_F_NEEDS_CSUM, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID, 4]),
    st.sampled_from([GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, GSO_TCPV4 | GSO_ECN, GSO_TCPV6 | GSO_ECN,
                     GSO_UDP_L4 | GSO_ECN, 3, 7]),
    st.one_of(st.just(0), st.integers(0, 0xFFFF)),
    st.one_of(st.sampled_from([0, 1, 1448, 1428]), st.integers(0, 0xFFFF)),
    st.one_of(st.sampled_from([0, 20, 34, 40, 54]), st.integers(0, 0xFFFF)),
    st.one_of(st.sampled_from([0, 6, 16]), st.integers(0, 0xFFFF)),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=headers, version=st.sampled_from([4, 6, 0]), protocol=st.sampled_from(["tcp", "udp"]),
       payload=st.one_of(st.integers(0, 3000), st.just(60000)), tcp_words=st.integers(0, 15),
       caps=st.one_of(st.just(0xFF), st.integers(0, 0xFF)), pi_len=st.sampled_from([0, 4]),
       link=st.sampled_from(["tun", "tap"]), cut=st.one_of(st.none(), st.integers(0, 80)))
def test_the_pump_passes_and_refuses_what_python_does(header: VnetHeader, version: int, protocol: str, payload: int,
                                                      tcp_words: int, caps: int, pi_len: int, link: str,
                                                      cut: int | None) -> None:
    packet = ip_packet(version or 4, protocol, payload, tcp_words)
    if version == 0:
        packet = b"\x00" + packet[1:]
    l3_offset = 14 if link == "tap" else 0
    if link == "tap":
        packet = bytes(12) + b"\x08\x00" + packet
    frame = b"\x00\x00\x08\x00"[:pi_len] + header.pack("big") + packet
    if cut is not None:
        frame = frame[:cut]
    assert pump.native.check_vnet(frame, caps, pi_len, l3_offset) == python_check(frame, caps, pi_len, l3_offset)


def test_a_sound_segmented_frame_passes_in_c_with_hdr_len_recomputed() -> None:
    """The bulk case must stay in C (else the pump hands every GSO frame to Python)."""
    packet = ip_packet(4, "tcp", 60000, 8)
    frame = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 9999, 1448, 20, 16).pack("big") + packet
    native = pump.native.check_vnet(frame, int(Cap.CSUM | Cap.TSO4), 0, 0)
    assert native is not None
    assert VnetHeader.unpack(native, "little" if struct.pack("=H", 1) == b"\x01\x00" else "big").hdr_len == 52
    assert native[10:] == packet


def test_a_frame_with_nothing_offloaded_passes_unchanged() -> None:
    frame = VnetHeader(VNET_F_DATA_VALID, GSO_NONE, 0, 0, 0, 0).pack("big") + ip_packet(4, "udp", 30, 5)
    assert pump.native.check_vnet(frame, 0, 0, 0) == frame


SOUND_KINDS = [(GSO_TCPV4, 4, "tcp"), (GSO_TCPV6, 6, "tcp"), (GSO_UDP_L4, 4, "udp"), (GSO_UDP_L4, 6, "udp"),
               (GSO_TCPV4 | GSO_ECN, 4, "tcp"), (GSO_NONE, 4, "tcp")]
FIELDS = ["flags", "gso_type", "hdr_len", "gso_size", "csum_start", "csum_offset"]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(SOUND_KINDS), payload=st.integers(0, 65000), tcp_words=st.integers(5, 15),
       gso_size=st.integers(1, 9000), caps=st.one_of(st.just(0xFF), st.integers(0, 0xFF)),
       pi_len=st.sampled_from([0, 4]), link=st.sampled_from(["tun", "tap"]),
       mutation=st.one_of(st.none(), st.tuples(st.sampled_from(FIELDS), st.integers(0, 0xFFFF))),
       data_offset=st.one_of(st.none(), st.integers(0, 15)))
def test_near_sound_segmented_frames_agree(kind: tuple[int, int, str], payload: int, tcp_words: int, gso_size: int,
                                           caps: int, pi_len: int, link: str, mutation: tuple[str, int] | None,
                                           data_offset: int | None) -> None:
    """Sound TSO/USO headers, each field in turn set to anything: the bulk case and its edges."""
    gso_type, version, protocol = kind
    l3_offset = 14 if link == "tap" else 0
    packet = bytearray((bytes(12) + b"\x08\x00" if link == "tap" else b"") +
                       ip_packet(version, protocol, payload, tcp_words))
    start = l3_offset + (20 if version == 4 else 40)
    if data_offset is not None and protocol == "tcp":
        packet[start + 12] = data_offset << 4
    fields = {"flags": VNET_F_NEEDS_CSUM, "gso_type": gso_type, "hdr_len": 0,
              "gso_size": gso_size if gso_type != GSO_NONE else 0, "csum_start": start,
              "csum_offset": 16 if protocol == "tcp" else 6}
    if mutation is not None:
        fields[mutation[0]] = mutation[1] & (0xFF if mutation[0] in ("flags", "gso_type") else 0xFFFF)
    header = VnetHeader(*(fields[name] for name in FIELDS))
    frame = b"\x00\x00\x08\x00"[:pi_len] + header.pack("big") + bytes(packet)
    assert pump.native.check_vnet(frame, caps, pi_len, l3_offset) == python_check(frame, caps, pi_len, l3_offset)
