"""The TUN address in real network namespaces: the device pysocat creates (address, flags,
MTU, type), one read = one packet (ping through it with the test as the far host), removal
on exit, socat's diagnostics, and TUN over UDP against real socat."""
from __future__ import annotations

import os
import socket
import struct
import threading
import time

import pytest

from tests.conftest import SOCAT, diagnostics, pysocat_command
from tests.tun.conftest import Namespace, requires_netns

pytestmark = requires_netns
PYSOCAT = tuple(pysocat_command())


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_reply(request: bytes) -> bytes | None:
    """The far host's answer to an IPv4 ICMP echo request, or None for anything else."""
    if len(request) < 28 or request[0] >> 4 != 4 or request[9] != 1:
        return None
    ihl = (request[0] & 0x0F) * 4
    if request[ihl] != 8:
        return None
    icmp = bytearray(request[ihl:])
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", _checksum(bytes(icmp)))
    ip = bytearray(request[:ihl])
    ip[12:16], ip[16:20] = request[16:20], request[12:16]
    ip[8] = 64
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", _checksum(bytes(ip)))
    return bytes(ip) + bytes(icmp)


def flag_names(info: dict) -> set[str]:
    return set(info.get("flags", []))


def test_tun_creates_device_with_address_flags_and_mtu_and_removes_it_on_exit(netns: Namespace):
    proc = netns.started(*PYSOCAT, "-u", "TUN:198.18.0.1/24,iff-up,iff-promisc,iff-noarp,tun-name=pst0,if-mtu=9000",
                         "OPEN:/dev/null")
    info = netns.link("pst0")
    assert info is not None
    assert info["mtu"] == 9000
    assert {"UP", "PROMISC", "NOARP", "POINTOPOINT"} <= flag_names(info)
    assert [(a["local"], a["prefixlen"]) for a in info["addr_info"] if a["family"] == "inet"] == [("198.18.0.1", 24)]
    assert info["linkinfo"]["info_kind"] == "tun"
    assert info["linkinfo"]["info_data"]["type"] == "tun"
    assert info["linkinfo"]["info_data"]["pi"] is True
    assert info["linkinfo"]["info_data"]["persist"] is False
    proc.stop()
    netns.wait_link("pst0", present=False, timeout=10)


def test_tap_without_packet_information_and_cleared_flag(netns: Namespace):
    proc = netns.started(*PYSOCAT, "-u", "TUN,tun-type=tap,iff-no-pi,tun-name=pst1,iff-up,iff-multicast=0",
                         "OPEN:/dev/null")
    info = netns.link("pst1")
    assert info is not None
    assert info["linkinfo"]["info_data"]["type"] == "tap"
    assert info["linkinfo"]["info_data"]["pi"] is False
    assert "UP" in flag_names(info) and "MULTICAST" not in flag_names(info)
    assert info["link_type"] == "ether"
    proc.stop()
    netns.wait_link("pst1", present=False, timeout=10)


def test_kernel_chooses_the_name_and_the_default_mtu_is_left_alone(netns: Namespace):
    proc = netns.started(*PYSOCAT, "-d", "-u", "TUN:198.18.0.1/24", "OPEN:/dev/null")
    info = netns.link("tun0")
    assert info is not None and info["mtu"] == 1500 and "UP" not in flag_names(info)
    proc.stop()
    lines = diagnostics(proc.text.encode())
    assert "N creating tunnel network interface" in lines
    # -u: read only, as socat opens it (O_RDONLY, "00")
    assert any(line.startswith('I open("/dev/net/tun", 00, 0666) -> ') for line in lines), lines
    netns.wait_link("tun0", present=False, timeout=10)


def far_host(sock: socket.socket, seen: list[bytes], stop: threading.Event, answer: bool = True) -> threading.Thread:
    """The host at the far end of the TUN: records every packet, answers echo requests."""

    def run() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                packet = sock.recv(70000)
            except socket.timeout:
                continue
            if not packet:
                return
            seen.append(packet)
            reply = echo_reply(packet) if answer else None
            if reply is not None:
                sock.send(reply)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_whole_ipv4_packets(seen: list[bytes]) -> None:
    """Every read is one whole IPv4 packet: its total length field is the read's length."""
    assert seen
    for packet in seen:
        assert packet[0] >> 4 == 4 and struct.unpack("!H", packet[2:4])[0] == len(packet)


@pytest.mark.parametrize("size", [56, 1400, 8000])
def test_ping_through_tun_one_read_is_one_packet(netns: Namespace, size: int):
    """The test is the far host: it answers the echo requests pysocat reads from the TUN."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc = netns.started(*PYSOCAT, "TUN:198.18.0.1/24,iff-up,iff-no-pi,tun-name=pst2,if-mtu=9000",
                         f"FD:{theirs.fileno()}", pass_fds=[theirs.fileno()])
    theirs.close()
    seen: list[bytes] = []
    stop = threading.Event()
    thread = far_host(ours, seen, stop)
    try:
        result = netns.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "-s", str(size), "198.18.0.2", check=False)
    finally:
        stop.set()
        thread.join(5)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode() + proc.text
    assert b"3 received" in result.stdout
    assert_whole_ipv4_packets(seen)
    requests = [p for p in seen if echo_reply(p) is not None]
    assert len(requests) == 3 and all(len(p) == 20 + 8 + size for p in requests)
    ours.close()  # EOF: pysocat ends and the device goes away
    assert proc.process.wait(10) == 0
    netns.wait_link("pst2", present=False, timeout=10)


def test_small_b_never_cuts_a_tun_packet(netns: Namespace):
    """-b 1024 is smaller than the packets: the TUN's read size comes from its MTU."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc = netns.started(*PYSOCAT, "-u", "-b", "1024", "TUN:198.18.0.1/24,iff-up,iff-no-pi,tun-name=pst4,if-mtu=9000",
                         f"FD:{theirs.fileno()}", pass_fds=[theirs.fileno()])
    theirs.close()
    seen: list[bytes] = []
    stop = threading.Event()
    thread = far_host(ours, seen, stop, answer=False)
    try:
        netns.run("ping", "-c", "2", "-i", "0.2", "-W", "1", "-s", "8900", "198.18.0.2", check=False)
    finally:
        stop.set()
        thread.join(5)
    assert_whole_ipv4_packets(seen)
    assert sorted({len(p) for p in seen if echo_reply(p) is not None}) == [8928]
    proc.stop()
    ours.close()


def test_offload_opens_the_device_with_a_virtio_header(netns: Namespace):
    proc = netns.started(*PYSOCAT, "-d", "-u", "TUN:198.18.0.1/24,iff-up,iff-no-pi,tun-offload,tun-name=pst3",
                         "OPEN:/dev/null")
    info = netns.link("pst3")
    assert info is not None
    data = info["linkinfo"]["info_data"]
    proc.stop()
    text = proc.text
    if data.get("vnet_hdr"):
        assert "offload enabled (TUNSETOFFLOAD 0x" in text
        assert "reads of 65545 bytes" in text
    else:  # a kernel without it: a warning, a plain device
        assert " W " in text and "offload" in text


ERROR_CASES = [
    "TUN:198.18.0.1/24,tun-type=foo",
    "TUN:198.18.0.1",
    "TUN:198.18.0.1/33",
    "TUN:198.18.0.1/24,tun-device=/nonexistent-pst",
    "TUN:198.18.0.1/24,tun-name=lo",
    "TUN,tun-device=/dev/null",
]


@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
@pytest.mark.parametrize("address", ERROR_CASES)
def test_errors_match_socat(netns: Namespace, address: str):
    def run(command: list[str]) -> tuple[int, list[str]]:
        result = netns.run(*command, "-d", "-d", address, "/dev/null", check=False, timeout=20)
        lines = [line for line in diagnostics(result.stderr) if line[:2] in ("E ", "N ")]
        return result.returncode, [line.replace("(5,", "(FD,").replace("(3,", "(FD,") for line in lines
                                   if not line.startswith("N exit")]

    assert run(pysocat_command()) == run([SOCAT])


# ---------------------------------------------------------------- TUN over UDP, pysocat and socat

def _udp_available() -> bool:
    from pysocat.registry import lookup_address

    return bool(lookup_address("UDP"))


@pytest.mark.skipif(not _udp_available(), reason="pysocat has no UDP address yet")
@pytest.mark.parametrize("far", ["socat", "pysocat"])
def test_tun_over_udp_interoperates(veth_pair: tuple[Namespace, Namespace], far: str):
    if far == "socat" and SOCAT is None:
        pytest.skip("real socat is not installed")
    left, right = veth_pair
    far_command = [SOCAT] if far == "socat" else pysocat_command()
    right_proc = right.started(*far_command, "TUN:198.18.1.2/24,iff-up,iff-no-pi,tun-name=pstu",
                               "UDP:192.0.2.1:4789,sourceport=4789")
    left_proc = left.started(*PYSOCAT, "TUN:198.18.1.1/24,iff-up,iff-no-pi,tun-name=pstu",
                             "UDP:192.0.2.2:4789,sourceport=4789")
    result = left.run("ping", "-c", "4", "-i", "0.2", "-W", "3", "-s", "1200", "198.18.1.2", check=False)
    assert result.returncode == 0, (result.stdout.decode(), left_proc.text, right_proc.text)
    assert b"4 received" in result.stdout
    from tests.tun.test_framed_tunnel import assert_tcp_transfer

    assert_tcp_transfer(left, right, "198.18.1.2", 1024 * 1024)
