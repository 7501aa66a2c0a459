"""The auto-MTU policy: explicit wins, UDP from the path MTU, framed from the frame format,
unframed left as socat leaves it; and the read size that never cuts a packet."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysocat.net.mtu import (
    KERNEL_DEFAULT_MTU, MAX_TUN_MTU, OFFLOAD_READ, MtuInputs, Transport, choose_mtu, per_packet_overhead, read_size,
)


def test_udp_over_a_1500_byte_ipv4_path_gives_1472_without_packet_information():
    decision = choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=1500, packet_info=False))
    assert decision.mtu == 1472 and decision.warning is None
    assert "UDP path MTU 1500 minus 20 (IPv4) and 8 (UDP) header bytes" in decision.reason


def test_udp_subtracts_packet_information_and_ipv6_headers():
    assert choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=1500)).mtu == 1468
    assert choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=1500, ip_version=6, packet_info=False)).mtu == 1452


def test_udp_over_tap_subtracts_the_ethernet_header():
    decision = choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=1500, link="tap", packet_info=False))
    assert decision.mtu == 1458 and "14 (Ethernet header)" in decision.reason


def test_udp_with_unknown_path_mtu_leaves_the_kernel_default():
    decision = choose_mtu(MtuInputs(transport=Transport.UDP))
    assert decision.mtu is None and decision.effective == KERNEL_DEFAULT_MTU
    assert "not known" in decision.reason


def test_udp_path_too_small_for_ipv6_is_raised_with_a_warning():
    decision = choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=1280, has_ipv6=True, packet_info=False))
    assert decision.mtu == 1280 and decision.warning and "fragmented" in decision.warning


def test_framed_rfc4571_gives_the_largest_packet_the_frame_carries():
    assert choose_mtu(MtuInputs(transport=Transport.FRAMED, packet_info=False)).mtu == 65535
    assert choose_mtu(MtuInputs(transport=Transport.FRAMED)).mtu == 65531
    assert choose_mtu(MtuInputs(transport=Transport.FRAMED, link="tap", packet_info=False)).mtu == 65521


@pytest.mark.parametrize("mss,budget", [(1448, 65160), (1460, 64240), (8948, 62636), (536, 64856), (65483, 65483)])
def test_a_tcp_frame_budget_is_whole_segments_within_the_gso_limit(mss, budget):
    """45 x 1448 = 65160 <= 65215 < 46 x 1448; loopback's MSS exceeds the limit: one segment."""
    from pysocat.net.mtu import TCP_GSO_BUDGET, tcp_frame_budget

    assert tcp_frame_budget(mss) == budget
    assert budget % mss == 0 and (budget <= TCP_GSO_BUDGET or budget == mss)


@pytest.mark.parametrize("inputs,mtu", [
    (MtuInputs(transport=Transport.FRAMED, stream_mss=1448), 65160 - 2 - 4),
    (MtuInputs(transport=Transport.FRAMED, stream_mss=1448, packet_info=False), 65160 - 2),
    (MtuInputs(transport=Transport.FRAMED, stream_mss=1448, link="tap"), 65160 - 2 - 4 - 14),
    (MtuInputs(transport=Transport.FRAMED, stream_mss=1448, offload=True, frame_max=262144, frame_header=4),
     65160 - 4 - 4 - 10),
    (MtuInputs(transport=Transport.FRAMED, stream_mss=65483), 65483 - 2 - 4),  # loopback: one segment per frame
    (MtuInputs(transport=Transport.FRAMED, stream_mss=None), 65531),  # no TCP below (UNIX, EXEC): the frame format's limit
])
def test_framed_tcp_fits_one_frame_to_whole_segments(inputs, mtu):
    decision = choose_mtu(inputs)
    assert decision.mtu == mtu and decision.warning is None
    assert (f"MSS {inputs.stream_mss}" in decision.reason) is (inputs.stream_mss is not None)


def test_an_explicit_mtu_over_framed_tcp_is_kept_without_warning():
    """Above the segment budget is slower, not lossy: interface-mtu wins and no warning says otherwise."""
    decision = choose_mtu(MtuInputs(explicit=65531, transport=Transport.FRAMED, stream_mss=1448))
    assert decision.mtu == 65531 and decision.warning is None


def test_framed_wide_is_capped_at_the_tun_maximum():
    decision = choose_mtu(MtuInputs(transport=Transport.FRAMED, frame_max=262144))
    assert decision.mtu == MAX_TUN_MTU


def test_framed_offload_on_short_frames_warns_to_use_wide():
    decision = choose_mtu(MtuInputs(transport=Transport.FRAMED, offload=True, packet_info=False))
    assert decision.warning and "framed=wide" in decision.warning
    assert choose_mtu(MtuInputs(transport=Transport.FRAMED, offload=True, frame_max=262144)).warning is None


def test_unframed_stream_does_what_socat_does():
    decision = choose_mtu(MtuInputs(transport=Transport.STREAM))
    assert decision.mtu is None and "as socat does" in decision.reason


def test_other_packet_transport_leaves_default():
    assert choose_mtu(MtuInputs(transport=Transport.PACKET)).mtu is None


@pytest.mark.parametrize("transport", list(Transport))
def test_explicit_interface_mtu_always_wins(transport):
    decision = choose_mtu(MtuInputs(explicit=9000, transport=transport, path_mtu=1500))
    assert decision.mtu == 9000 and "interface-mtu=9000 given" == decision.reason


def test_explicit_mtu_above_udp_capacity_warns():
    decision = choose_mtu(MtuInputs(explicit=9000, transport=Transport.UDP, path_mtu=1500, packet_info=False))
    assert decision.mtu == 9000
    assert decision.warning and "more than the udp transport carries (1472" in decision.warning


def test_explicit_mtu_within_capacity_does_not_warn():
    assert choose_mtu(MtuInputs(explicit=1400, transport=Transport.UDP, path_mtu=1500)).warning is None


def test_explicit_mtu_below_ipv6_minimum_warns():
    decision = choose_mtu(MtuInputs(explicit=1000, has_ipv6=True))
    assert decision.warning and "1280" in decision.warning


@pytest.mark.parametrize("link,pi,offload,expected", [
    ("tun", False, False, 0), ("tun", True, False, 4), ("tap", False, False, 14), ("tap", True, True, 28),
    ("tun", False, True, 10),
])
def test_per_packet_overhead(link, pi, offload, expected):
    assert per_packet_overhead(link, pi, offload) == expected


def test_read_size_covers_mtu_and_headers():
    assert read_size(1500, "tun", False) == 1500
    assert read_size(1500, "tun", True) == 1504
    assert read_size(1500, "tap", False) == 1518


def test_offload_reads_always_allow_a_64k_super_packet():
    assert read_size(1500, "tun", False, True) == OFFLOAD_READ == 10 + 65535
    assert read_size(1500, "tun", True, True) == OFFLOAD_READ + 4


@settings(max_examples=300, deadline=None)
@given(explicit=st.one_of(st.none(), st.integers(68, 65535)), transport=st.sampled_from(list(Transport)),
       path=st.one_of(st.none(), st.integers(576, 65535)), version=st.sampled_from([4, 6]),
       frame_max=st.integers(1500, 300000), link=st.sampled_from(["tun", "tap"]), pi=st.booleans(),
       offload=st.booleans(), v6=st.booleans(), mss=st.one_of(st.none(), st.integers(88, 65483)))
def test_decision_is_consistent(explicit, transport, path, version, frame_max, link, pi, offload, v6, mss):
    inputs = MtuInputs(explicit, transport, path, version, frame_max, link, pi, offload, v6, stream_mss=mss)
    decision = choose_mtu(inputs)
    assert decision.reason
    if explicit is not None:
        assert decision.mtu == explicit
        return
    if decision.mtu is None:
        return
    assert decision.mtu <= MAX_TUN_MTU
    assert decision.mtu >= (1280 if v6 else 68)
    if transport is Transport.FRAMED:
        # a packet of that MTU with every header fits one frame (unless raised to the floor)
        assert decision.mtu + per_packet_overhead(link, pi, offload) <= frame_max or decision.mtu == (1280 if v6 else 68)
        if mss is not None and decision.mtu > (1280 if v6 else 68):  # and one frame is whole TCP segments
            from pysocat.net.mtu import tcp_frame_budget
            assert decision.mtu + per_packet_overhead(link, pi, offload) + 2 <= tcp_frame_budget(mss)
    if transport is Transport.UDP and decision.warning is None:
        assert decision.mtu + per_packet_overhead(link, pi, offload) + (20 if version == 4 else 40) + 8 <= path
    assert read_size(decision.mtu, link, pi, offload) >= decision.mtu + per_packet_overhead(link, pi, offload)


@pytest.mark.parametrize("name,framed,expected", [
    ("UDP4-CONNECT", False, Transport.UDP), ("UDP-LISTEN", False, Transport.UDP), ("TCP4", True, Transport.FRAMED),
    ("TCP4", False, Transport.STREAM), ("EXEC", False, Transport.STREAM), ("SYSTEM", True, Transport.FRAMED),
    ("TUN", False, Transport.PACKET), ("SOCKETPAIR", False, Transport.PACKET),
    ("UNIX-SENDTO", False, Transport.PACKET), ("STDIO", False, Transport.STREAM), ("OPEN", False, Transport.STREAM),
])
def test_classify_transport(name, framed, expected):
    from pysocat.net.mtu import classify_transport

    assert classify_transport(name, framed) is expected


def test_path_mtu_of_a_connected_udp_socket_on_loopback():
    import socket

    from pysocat.net.pmtu import path_mtu

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", 9))
        mtu, version = path_mtu(sock.fileno())
        assert version == 4 and mtu >= 1280
        decision = choose_mtu(MtuInputs(transport=Transport.UDP, path_mtu=mtu, packet_info=False))
        assert decision.mtu == mtu - 28
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        assert path_mtu(sock.fileno()) is None


@pytest.mark.parametrize("tun,other,framed,mtu", [
    ("TUN:198.18.0.1/24,iff-no-pi", "TCP4", True, 65535),
    ("TUN:198.18.0.1/24", "TCP4", True, 65531),
    ("TUN:198.18.0.1/24,if-mtu=9000", "TCP4", True, 9000),
    ("TUN:198.18.0.1/24", "TCP4", False, "kernel default (1500)"),
    ("TUN:198.18.0.1/24", "UDP4-CONNECT", False, "kernel default (1500)"),
])
def test_explain_mtu_before_opening(tun, other, framed, mtu):
    import pysocat
    from pysocat.addresses.tun import explain_mtu
    from pysocat.registry import resolve

    shown = explain_mtu(resolve(pysocat.parse_address(tun)), other, framed)
    assert shown["mtu"] == mtu and shown["reason"]


@pytest.mark.parametrize("text,address,bits", [
    ("198.18.0.1/24", "198.18.0.1", 24), ("192.0.2.7/32", "192.0.2.7", 32), ("[2001:db8::1]/64", "2001:db8::1", 64),
    ("[2001:db8::1]/128", "2001:db8::1", 128), ("198.18.0.1/0", "198.18.0.1", 0),
])
def test_interface_address_parsing(text, address, bits):
    from pysocat.net.netlink import parse_interface_address

    parsed = parse_interface_address(text)
    assert (parsed.address, parsed.prefixlen) == (address, bits)


@pytest.mark.parametrize("text,message", [
    ("198.18.0.1", 'xioparsenetwork_ip4("198.18.0.1",,): missing netmask delimiter'),
    ("198.18.0.1/33", 'netmask "198.18.0.1/33" is too large'),
    ("[2001:db8::1]/129", 'netmask "[2001:db8::1]/129" is too large'),
    ("198.18.0.1/x", 'netmask "198.18.0.1/x" is not a number of bits'),
])
def test_interface_address_errors_in_socat_words(text, message):
    from pysocat.errors import SocatError
    from pysocat.net.netlink import parse_interface_address

    with pytest.raises(SocatError) as info:
        parse_interface_address(text)
    assert info.value.text == message


def test_tun_module_does_not_import_pyroute2_until_an_interface_is_configured():
    import subprocess
    import sys

    code = "import sys, pysocat.addresses.tun, pysocat.transfer.framed; print('pyroute2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_framed_tap_with_offload_gets_the_largest_mtu_a_tap_takes():
    """A TAP's max_mtu is 65535 minus its Ethernet header: wide frames carry more, but
    the kernel refuses 65535 (EINVAL) on a TAP."""
    from pysocat.net.mtu import MAX_TAP_MTU

    decision = choose_mtu(MtuInputs(transport=Transport.FRAMED, frame_max=262144, link="tap", offload=True))
    assert decision.mtu == MAX_TAP_MTU == 65521
