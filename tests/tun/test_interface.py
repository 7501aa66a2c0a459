"""INTERFACE on one end of a veth pair between two throwaway namespaces (root only).

pysocat runs `INTERFACE:pstva` in the first namespace and relays frames to and from UNIX
datagram sockets of the test (a file system path reaches across network namespaces); a
Python AF_PACKET socket on pstvb in the second namespace sends and captures the frames on
the wire. Frames must arrive byte for byte, one per datagram, also when larger than -b."""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tun.conftest import Namespace

ETH_P_ALL = 0x0003
EXPERIMENTAL = 0x88B5  # IEEE 802 local experimental ethertype: nothing else on the link uses it
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def inside(ns: Namespace) -> Iterator[None]:
    """Runs the block in the namespace (sockets made there stay there): setns() and back."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns.name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        if _libc.setns(home, CLONE_NEWNET) != 0:  # pragma: no cover - nothing sane is left to do
            os._exit(99)
        os.close(target)
        os.close(home)


def packet_socket(ns: Namespace, ifname: str) -> socket.socket:
    with inside(ns):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((ifname, 0))
    sock.settimeout(20)
    return sock


def mac(ns: Namespace, ifname: str) -> bytes:
    info = json.loads(ns.run("ip", "-j", "link", "show", "dev", ifname).stdout)[0]
    return bytes.fromhex(info["address"].replace(":", ""))


def flags(ns: Namespace, ifname: str) -> list[str]:
    return json.loads(ns.run("ip", "-j", "link", "show", "dev", ifname).stdout)[0]["flags"]


def frame(dst: bytes, src: bytes, size: int, seed: int) -> bytes:
    """An Ethernet frame of `size` bytes with the experimental ethertype."""
    body = bytes((seed + i) & 0xFF for i in range(size - 14))
    return dst + src + EXPERIMENTAL.to_bytes(2, "big") + body


def ours(data: bytes) -> bool:
    return len(data) >= 14 and data[12:14] == EXPERIMENTAL.to_bytes(2, "big")


def unix_dgram(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.settimeout(20)
    return sock


def receive_ours(sock: socket.socket, count: int) -> list[bytes]:
    got = []
    while len(got) < count:
        data = sock.recv(1 << 17)
        if ours(data):
            got.append(data)
    return got


def set_mtu(left: Namespace, right: Namespace, mtu: int) -> None:
    left.run("ip", "link", "set", "pstva", "mtu", str(mtu))
    right.run("ip", "link", "set", "pstvb", "mtu", str(mtu))


def test_frames_from_the_wire_arrive_whole_one_per_read(veth_pair, tmp_path):
    left, right = veth_pair
    set_mtu(left, right, 9000)
    out = unix_dgram(tmp_path / "out.sock")
    relay = left.started(*_pysocat(), "-d", "-b", "512", "-u", "INTERFACE:pstva",  # -d -d -d: the read size
                         f"UNIX-SENDTO:{tmp_path}/out.sock")
    wire = packet_socket(right, "pstvb")
    here, there = mac(left, "pstva"), mac(right, "pstvb")
    sizes = [60, 61, 1514, 4000, 9014]  # 9014: a full 9000-byte MTU frame, far beyond -b 512
    sent = [frame(here, there, size, seed) for seed, size in enumerate(sizes)]
    try:
        for data in sent:
            wire.send(data)
        assert receive_ours(out, len(sent)) == sent
    finally:
        relay.stop()
        wire.close()
        out.close()
    assert "MTU 9000, reads of 9018 bytes" in relay.text, relay.text


def test_frames_written_go_out_whole_and_are_not_read_back(veth_pair, tmp_path):
    """Frames pysocat writes leave on the wire, one per datagram; PACKET_IGNORE_OUTGOING
    keeps them from coming back as input (socat 1.8 sets it too)."""
    left, right = veth_pair
    set_mtu(left, right, 9000)
    back = unix_dgram(tmp_path / "back.sock")
    wire = packet_socket(right, "pstvb")
    relay = left.started(*_pysocat(), "INTERFACE:pstva",
                         f"UNIX-SENDTO:{tmp_path}/back.sock,bind={tmp_path}/in.sock")
    here, there = mac(left, "pstva"), mac(right, "pstvb")
    sent = [frame(there, here, size, seed) for seed, size in enumerate([60, 1514, 9014, 100])]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as feeder:
            for data in sent:
                feeder.sendto(data, str(tmp_path / "in.sock"))
        assert receive_ours(wire, len(sent)) == sent
        answer = frame(here, there, 200, 7)
        wire.send(answer)
        assert receive_ours(back, 1) == [answer]  # the first frame back is the far end's, not ours
        back.settimeout(0.3)
        with pytest.raises(socket.timeout):
            receive_ours(back, 1)
    finally:
        relay.stop()
        wire.close()
        back.close()


def test_iff_promisc_is_set_while_open_and_restored_at_exit(veth_pair, tmp_path):
    left, _right = veth_pair
    assert "PROMISC" not in flags(left, "pstva")
    relay = left.started(*_pysocat(), "-u", "INTERFACE:pstva,iff-promisc", "/dev/null")
    try:
        assert "PROMISC" in flags(left, "pstva")
    finally:
        code = relay.stop()
    assert code == 143
    deadline = time.monotonic() + 10
    while "PROMISC" in flags(left, "pstva") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "PROMISC" not in flags(left, "pstva")
    assert "UP" in flags(left, "pstva")  # only what the option changed is put back


def test_interface_mtu_sets_the_mtu_and_the_read_size(veth_pair, tmp_path):
    left, right = veth_pair
    right.run("ip", "link", "set", "pstvb", "mtu", "16000")
    out = unix_dgram(tmp_path / "out.sock")
    relay = left.started(*_pysocat(), "-u", "INTERFACE:pstva,interface-mtu=16000", f"UNIX-SENDTO:{tmp_path}/out.sock")
    wire = packet_socket(right, "pstvb")
    try:
        info = json.loads(left.run("ip", "-j", "link", "show", "dev", "pstva").stdout)[0]
        assert info["mtu"] == 16000
        big = frame(mac(left, "pstva"), mac(right, "pstvb"), 16014, 3)
        wire.send(big)
        assert receive_ours(out, 1) == [big]
    finally:
        relay.stop()
        wire.close()
        out.close()


def test_unknown_interface_is_socats_error(netns):
    result = netns.run(*_pysocat(), "-u", "INTERFACE:nosuch0", "/dev/null", check=False)
    assert result.returncode == 1
    assert result.stderr.decode().rstrip().endswith('E unknown interface "nosuch0"')


def _pysocat() -> list[str]:
    from tests.conftest import pysocat_command

    return pysocat_command()
