"""The tun-offload probe (pysocat.addresses.tun): what the probe packets look like, and
which offload bits survive when the kernel refuses some writes (os.write and the ioctl
are replaced here; the real device is tests/tun/test_offload_fallback.py)."""
from __future__ import annotations

import errno
import socket
import struct
import sys

import pytest

from pysocat.addresses import tun
from pysocat.framing import VNET_F_NEEDS_CSUM, VnetHeader, vnet_header_problem
from pysocat.net.segment import ones_complement_sum

NATIVE = "little" if sys.byteorder == "little" else "big"
ALL = 0x6F


@pytest.mark.parametrize("gso_type,version,protocol", [(0, 4, 6), (1, 4, 6), (4, 6, 6), (0x81, 4, 6), (5, 4, 17),
                                                       (5, 6, 17)])
def test_probe_packets_are_sound_offload_packets_no_stack_keeps(gso_type, version, protocol):
    packet = tun.offload_probe_packet(gso_type, version, protocol)
    header = VnetHeader.unpack(packet[:10], NATIVE)
    body = packet[10:]
    assert header.flags == VNET_F_NEEDS_CSUM and header.gso_type == gso_type
    assert vnet_header_problem(header, body) is None  # the kernel has no reason to refuse it...
    assert body[0] >> 4 == version
    if version == 4:
        assert ones_complement_sum(body[:20]) != 0xFFFF  # ...but its IPv4 header checksum is wrong
        assert body[12:20] == socket.inet_aton("127.0.0.1") * 2
    else:
        assert body[8] == 0xFF  # from a multicast source: dropped on input


def test_probe_packets_carry_packet_information_and_an_ethernet_header_when_the_device_has_them():
    packet = tun.offload_probe_packet(1, 4, 6, link="tap", packet_info=True)
    assert packet[:4] == struct.pack(">HH", 0, 0x0800)
    header = VnetHeader.unpack(packet[4:14], NATIVE)
    assert header.csum_start == 14 + 20
    assert packet[14 + 12:14 + 14] == b"\x08\x00"  # the Ethernet type of the frame


def probe_with(monkeypatch, refuse: set[int], code: int = errno.EINVAL) -> tuple[int, list[int]]:
    """Runs _probe_offload with writes of the `refuse` gso types failing with `code`."""
    ioctls: list[int] = []

    def write(fd: int, data: bytes) -> int:
        if data[1] in refuse:
            raise OSError(code, "refused")
        raise OSError(errno.EIO, "device down")

    monkeypatch.setattr(tun.os, "write", write)
    monkeypatch.setattr(tun.fcntl, "ioctl", lambda fd, request, arg: ioctls.append(arg))
    return tun._probe_offload(99, "pstx", ALL, tun.IFF_TUN | tun.IFF_NO_PI), ioctls


def test_a_probe_that_passes_keeps_every_bit(monkeypatch):
    assert probe_with(monkeypatch, set()) == (ALL, [])


def test_a_refused_tso6_probe_drops_only_tso6(monkeypatch):
    bits, ioctls = probe_with(monkeypatch, {4})
    assert bits == ALL & ~tun.TUN_F_TSO6 and ioctls == [bits]


def test_refused_udp_segmentation_drops_both_uso_bits(monkeypatch):
    bits, _ = probe_with(monkeypatch, {5})
    assert bits == ALL & ~(tun.TUN_F_USO4 | tun.TUN_F_USO6)


@pytest.mark.parametrize("refused", [{0}, {1}])
def test_no_checksum_offload_or_no_tso4_means_no_offload_at_all(monkeypatch, refused):
    assert probe_with(monkeypatch, refused)[0] == 0


def test_a_read_only_descriptor_is_not_probed_away(monkeypatch):
    """-u with the TUN as the reading side: nothing is written to it, EBADF is no refusal."""
    assert probe_with(monkeypatch, {0, 1, 4, 5, 0x81}, errno.EBADF)[0] == ALL
