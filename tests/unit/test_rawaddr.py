"""Raw socket addresses of the generic SOCKET-* addresses (pysocat/rawaddr.py): socat's text
for them (its notices and errors, as real socat 1.7.4.4 printed them for the same dalan
data), the environment it exports, range=, and the errors of bad address data."""
from __future__ import annotations

import socket
import struct

import pytest

from pysocat.dalan import parse
from pysocat.errors import SocatError
from pysocat.rawaddr import RawAddress, RawRange, address_from_text, sanitize


def raw(family: int, dalan: str, protocol: int = 0) -> RawAddress:
    return RawAddress(family, parse(dalan), protocol)


@pytest.mark.parametrize("family,dalan,text", [
    (2, "x1f90x7f000001x0000000000000000", "AF=2 127.0.0.1:8080"),
    (2, "x1f90x7f000001", "AF=2 127.0.0.1:8080"),  # too short to connect, still named
    (2, "8080", "AF=2 0.0.0.0:36895"),  # an int: 90 1f 00 00 on little-endian hosts
    (10, "x1f90x00000000x00000000000000000000000000000001x00000000",
     "AF=10 [0000:0000:0000:0000:0000:0000:0000:0001]:8080"),
    (1, 'x2f746d70', 'AF=1 "/tmp"'),
    (1, "x", 'AF=1 "<anon>"'),
    (1, "x4142005859", 'AF=1 "AB"'),  # a path ends at its NUL
    (1, "x0001414243", 'AF=1 "\\0\\x01ABC"'),  # an abstract name is shown in full
    (1, "x0041004200", 'AF=1 "\\0A\\0B\\0"'),
    (0, "x41", 'AF=0 "A"'),  # AF_UNSPEC is shown like AF_UNIX
    (99, "x0102", "AF=99 AF=99 0x0102000000000000000000000000"),  # socat names the family twice
    (16, "x0000000000000000", "AF=16 AF=16 0x0000000000000000000000000000"),
])
def test_info_is_socats_sockaddr_info(family: int, dalan: str, text: str):
    if dalan == "8080" and struct.pack("H", 1) != b"\x01\x00":
        pytest.skip("little-endian expectation")
    assert raw(family, dalan).info() == text


@pytest.mark.parametrize("byte,shown", [
    (0x01, "\\x01"), (0x1B, "\\x1A"), (0x7F, "\\x7E"), (0x80, "\\x80"), (0xA5, "\\x@5"), (0xFE, "\\xED"),
    (0xFF, "\\xEE"), (0x09, "\\t"), (0x0D, "\\r"), (0x0A, "\\n"), (0x20, " "), (0x22, '"'), (0x5C, "\\"),
])
def test_sanitize_keeps_socats_off_by_one_hex_digits(byte: int, shown: str):
    assert sanitize(bytes((0x41, byte))) == "A" + shown


def test_length_is_the_family_field_plus_the_data():
    assert raw(2, "x1f90x7f000001x0000000000000000").length == 16
    assert raw(2, "x1f90x7f000001").length == 8
    assert RawAddress(1, b"").length == 2


def test_pack_and_unpack_round_trip():
    packed = struct.pack("H", socket.AF_INET) + bytes.fromhex("1f907f000001") + bytes(8)
    addr = RawAddress.unpack(packed, socket.IPPROTO_TCP)
    assert (addr.family, addr.pack(), addr.protocol) == (socket.AF_INET, packed, socket.IPPROTO_TCP)


def test_environment_has_a_port_only_for_tcp_udp_and_sctp():
    """Verified with socat 1.7.4.4: SOCKET-LISTEN:2:6:... exports SOCAT_PEERPORT, :2:0: does not."""
    data = "x1f90x7f000001x0000000000000000"
    assert raw(2, data, 6).environment("PEER") == [("PEERADDR", "127.0.0.1"), ("PEERPORT", "8080")]
    assert raw(2, data, 17).environment("SOCK") == [("SOCKADDR", "127.0.0.1"), ("SOCKPORT", "8080")]
    assert raw(2, data, 0).environment("PEER") == [("PEERADDR", "127.0.0.1")]
    six = raw(10, "x1f90x00000000x00000000000000000000000000000001x00000000", 6)
    assert six.environment("PEER") == [("PEERADDR", "[0000:0000:0000:0000:0000:0000:0000:0001]"),
                                       ("PEERPORT", "8080")]
    assert raw(1, 'x2f746d70').environment("PEER") == [("PEERADDR", "/tmp")]
    assert raw(99, "x0102").environment("PEER") == []


def test_range_masks_the_ip_address_fields():
    rule = RawRange.parse("x0000x7f000000:x0000xff000000")
    assert rule.permits(raw(2, "x1234x7f0a0b0cx0000000000000000"))
    assert not rule.permits(raw(2, "x1234x0a000001x0000000000000000"))
    assert not rule.permits(raw(1, 'x2f746d70'))  # socat refuses every other family
    six = RawRange.parse("x0000x00000000xfd00:x0000x00000000xff00")
    assert six.permits(raw(10, "x0000x00000000xfd12x0000000000000000000000000000"))
    assert not six.permits(raw(10, "x0000x00000000xfe12x0000000000000000000000000000"))


@pytest.mark.parametrize("text,message", [
    ("127.0.0.1/8", 'syntax error in range "127.0.0.1/8": use <addr>:<mask>'),
    ("x00:x0000", "network address is 1 bytes long, mask is 2 bytes long"),
    ("x0:x00", 'syntax error in "x0"'),
])
def test_range_errors_are_socats(text: str, message: str):
    with pytest.raises(SocatError) as caught:
        RawRange.parse(text)
    assert caught.value.text == message


def test_address_errors_are_socats_with_dalans_stderr_line_first():
    with pytest.raises(SocatError) as caught:
        address_from_text(2, "x1")
    assert (caught.value.text, caught.value.preamble, caught.value.position) == (
        'syntax error in "x1"', "odd number of hexadecimal digits", 2)
    with pytest.raises(SocatError) as caught:
        address_from_text(1, "x" + "00" * 113)
    assert caught.value.text == f'data too long: "x{"00" * 113}"'
    assert caught.value.preamble == ""
    assert address_from_text(1, "x" + "41" * 112).data == b"A" * 112
