"""net/ancillary.py on hand-built control messages; the expected texts are socat 1.7.4.4's,
measured over loopback (see tests/behaviour/test_ancillary.py for the live comparison)."""
from __future__ import annotations

import socket
import struct
import time

from pysocat import option_table as O
from pysocat.addresses import sockets as S
from pysocat.net import ancillary as A


def _lo(index: int) -> str:
    return {1: "lo"}.get(index, "(null)")


def _lines(level: int, kind: int, data: bytes) -> list[str]:
    decoded = A.decode(level, kind, data, _lo)
    return ([decoded.notice] if decoded.notice else []) + [item.info_line for item in decoded.items]


def _variables(level: int, kind: int, data: bytes) -> dict[str, str]:
    return {item.variable: item.value for item in A.decode(level, kind, data, _lo).items}


def test_ttl_is_an_int_with_a_notice() -> None:
    data = struct.pack("=i", 53)
    assert _lines(A.SOL_IP, A.IP_TTL, data) == ["Ancillary message: ttl=53", "ancillary message: IP_TTL: ttl=53"]
    assert _variables(A.SOL_IP, A.IP_TTL, data) == {"IP_TTL": "53"}


def test_tos_is_one_byte() -> None:
    assert _lines(A.SOL_IP, A.IP_TOS, b"\x07") == ["Ancillary message: tos=7", "ancillary message: IP_TOS: tos=7"]
    assert _variables(A.SOL_IP, A.IP_TOS, b"\x07") == {"IP_TOS": "7"}


def test_ttl_of_an_odd_size_is_dumped_without_notice() -> None:
    assert _lines(A.SOL_IP, A.IP_TTL, b"\x01\x02") == ["ancillary message: IP_TTL: ttl=x0102"]


def test_pktinfo_gives_three_items_in_socats_order() -> None:
    data = struct.pack("=i4s4s", 1, socket.inet_aton("127.0.0.2"), socket.inet_aton("127.0.0.1"))
    assert _lines(A.SOL_IP, A.IP_PKTINFO, data) == [
        'Ancillary message: interface "lo", locaddr=127.0.0.2, dstaddr=127.0.0.1',
        "ancillary message: IP_PKTINFO: if=lo",
        "ancillary message: IP_PKTINFO: locaddr=127.0.0.2",
        "ancillary message: IP_PKTINFO: dstaddr=127.0.0.1",
    ]
    assert _variables(A.SOL_IP, A.IP_PKTINFO, data) == {"IP_IF": "lo", "IP_LOCADDR": "127.0.0.2",
                                                        "IP_DSTADDR": "127.0.0.1"}


def test_unknown_interface_index_prints_as_null() -> None:
    data = struct.pack("=i4s4s", 77, bytes(4), bytes(4))
    assert _variables(A.SOL_IP, A.IP_PKTINFO, data)["IP_IF"] == "(null)"


def test_ip_options_are_a_hex_dump() -> None:
    for kind in (A.IP_RECVOPTS, A.IP_OPTIONS):
        assert _lines(A.SOL_IP, kind, bytes([1, 0, 0, 0])) == ["ancillary message: IP_OPTIONS: options=x01000000"]
        assert _variables(A.SOL_IP, kind, bytes([1, 0, 0, 0])) == {"IP_OPTIONS": "x01000000"}


def test_timestamp_is_ctime_and_microseconds() -> None:
    seconds = 1_700_000_000
    data = struct.pack("=qq", seconds, 5309)
    expected = f"{time.ctime(seconds)}, 005309 usecs"
    assert _lines(A.SOL_SOCKET, A.SCM_TIMESTAMP, data) == [f"ancillary message: SCM_TIMESTAMP: timestamp={expected}"]
    assert _variables(A.SOL_SOCKET, A.SCM_TIMESTAMP, data) == {"TIMESTAMP": expected}


def test_ipv6_pktinfo_hoplimit_and_tclass() -> None:
    pktinfo = socket.inet_pton(socket.AF_INET6, "::1") + struct.pack("=I", 1)
    assert _lines(A.SOL_IPV6, A.IPV6_PKTINFO, pktinfo) == [
        "ancillary message: IPV6_PKTINFO: dstaddr=[0000:0000:0000:0000:0000:0000:0000:0001]",
        "ancillary message: IPV6_PKTINFO: if=lo",
    ]
    assert _variables(A.SOL_IPV6, A.IPV6_PKTINFO, pktinfo) == {
        "IPV6_DSTADDR": "[0000:0000:0000:0000:0000:0000:0000:0001]", "IPV6_IF": "lo"}
    assert _variables(A.SOL_IPV6, A.IPV6_HOPLIMIT, struct.pack("=i", 35)) == {"IPV6_HOPLIMIT": "35"}
    # socat dumps ntohl() of the int, so 0xaa reads as x000000aa on any byte order
    assert _variables(A.SOL_IPV6, A.IPV6_TCLASS, struct.pack("=i", 0xAA)) == {"IPV6_TCLASS": "x000000aa"}
    assert _lines(A.SOL_IPV6, A.IPV6_HOPLIMIT, struct.pack("=i", 35)) == [
        "ancillary message: IPV6_HOPLIMIT: hoplimit=35"]  # no notice for IPv6


def test_ipv6_extension_headers_are_dumped() -> None:
    assert _variables(A.SOL_IPV6, A.IPV6_HOPOPTS, b"\x11\x00\x01\x04\x00\x00\x00\x00") == {
        "IPV6_HOPOPTS": "x1100010400000000"}


def test_unknown_messages_use_socats_fallback_names() -> None:
    assert _lines(A.SOL_IP, 99, b"\xab") == ["ancillary message: IP: type_99=xab"]
    assert _variables(A.SOL_IP, 99, b"\xab") == {"IP_TYPE_99": "xab"}
    assert _variables(A.SOL_SOCKET, 99, b"\x01") == {"SOCKET.99_DATA": "x01"}
    assert _variables(A.SOL_IPV6, 99, b"\x01") == {"IPV6.99_DATA": "x01"}
    assert _lines(300, 7, b"\x01") == ["ancillary message: LEVEL300: type7=x01"]


def test_variable_name_rule() -> None:
    assert A.variable_name("IP_TTL", "ttl") == "IP_TTL"
    assert A.variable_name("IP_PKTINFO", "if", "IP_IF") == "IP_IF"
    assert A.variable_name("IPV6.9", "data") == "IPV6.9_DATA"


def test_hex_dump_is_cut_to_socats_buffer() -> None:
    assert A.hex_dump(b"") == ""
    assert A.hex_dump(bytes(84)) == "x" + "00" * 84
    assert A.hex_dump(bytes(200)) == "x" + "00" * 84


def test_debug_line_counts_the_header() -> None:
    assert A.debug_line(0, 2, struct.pack("=i", 53)) == "ancillary message: len=20, level=0, type=2, data=x35000000"


def test_every_ancillary_option_is_a_setsockopt_row() -> None:
    """The receive paths switch to recvmsg() for exactly these options, and each of them is applied."""
    assert O.ANCILLARY_OPTIONS <= set(O.SOCKOPTS)
    assert O.ANCILLARY_OPTIONS <= S.SOCKET_APPLIED
    assert O.SOCKOPTS[O.IP_RECVTTL] == (socket.IPPROTO_IP, 12, "int")  # <linux/in.h> IP_RECVTTL
    assert O.SOCKOPTS[O.IPV6_RECVPKTINFO] == (socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, "int")
    assert O.SOCKOPTS[O.IPV6_RECVTCLASS] == (socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, "int")
    assert O.SOCKOPTS[O.IP_OPTIONS][2] == "bin"

