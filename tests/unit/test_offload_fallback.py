"""tun-offload against a peer that does not offload: the handshake falls back to plain
frames, turns the TUN's offloads off, lowers its MTU to the peer's, and from then on the
peer gets only complete packets (no virtio-net header, checksums finished, GSO packets
segmented); what the peer sends reaches the TUN with a "nothing offloaded" header.

Over socketpairs with a stand-in for the TUN endpoint (it records what would reach the
device); the real thing over namespaces is tests/tun/test_offload_fallback.py."""
from __future__ import annotations

import io
import os
import socket
import struct
import sys
import threading

import pytest

from pysocat.endpoint import Endpoint
from pysocat.framing import (
    GSO_NONE, GSO_TCPV4, HELLO_SIZE, VNET_F_NEEDS_CSUM, Cap, FrameDecoder, FrameFormat, FramingError, Hello,
    VnetHeader, decode_hello, encode, encode_hello, is_hello,
)
from pysocat.transfer.framed import FramedEndpoint
from pysocat.transfer.offload import OffloadFallbackEndpoint, OffloadFramedEndpoint, handshake

NATIVE = "little" if sys.byteorder == "little" else "big"


@pytest.fixture
def log(monkeypatch) -> io.StringIO:
    """What pysocat logs (its diagnostics stream), to assert on warnings."""
    from pysocat.log import LOG

    text = io.StringIO()
    monkeypatch.setattr(LOG, "stream", text)
    return text


class FakeTun(Endpoint):
    """What the handshake uses of a TunEndpoint, recording instead of ioctl/netlink."""

    def __init__(self, offload: int = 0x6F, mtu: int = 65535, packet_info: bool = False, link: str = "tun") -> None:
        super().__init__('tun "pstx"', None, None, keeps_boundaries=True)
        self.ifname, self.offload, self.mtu, self.packet_info, self.link = "pstx", offload, mtu, packet_info, link
        self.offload_calls: list[int] = []
        self.written: list[bytes] = []

    def set_offload(self, bits: int) -> None:
        self.offload_calls.append(bits)
        self.offload = bits

    def lower_mtu(self, mtu: int, why: str) -> None:
        self.mtu = mtu

    def send(self, data: bytes) -> None:
        self.written.append(bytes(data))


def stream_pair() -> tuple[Endpoint, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = ours.detach()
    return Endpoint("tcp", fd, fd), theirs


def read_frames(sock: socket.socket, count: int, fmt: FrameFormat = FrameFormat.RFC4571) -> list[bytes]:
    decoder = FrameDecoder(fmt=fmt)
    frames: list[bytes] = []
    sock.settimeout(5)
    while len(frames) < count:
        frames += [bytes(frame) for frame in decoder.feed(sock.recv(1 << 18))]
    return frames


def plain_peer_answering(sock: socket.socket, mtu: int) -> threading.Thread:
    """A plain pysocat end over `sock`: it answers the first frame's HELLO (state its MTU)."""
    fd = sock.detach()
    plain = FramedEndpoint.wrap(Endpoint("plain", fd, fd))
    plain.hello_mtu = mtu

    def run() -> None:
        while not plain.first_frame_seen:
            if plain.receive(65536) is None:
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.plain = plain  # type: ignore[attr-defined]
    return thread


def ipv4_tcp(payload: bytes, partial: bool = True) -> bytes:
    """A TCP/IPv4 packet as the kernel hands it over with checksum offload: the TCP
    checksum field holds only the pseudo-header sum."""
    src, dst = socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.0.2")
    length = 20 + len(payload)
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + length, 1, 0x4000, 64, 6, 0, src, dst))
    struct.pack_into(">H", ip, 10, ~ref_sum(bytes(ip)) & 0xFFFF)
    tcp = bytearray(struct.pack(">HHIIBBHHH", 1, 2, 100, 0, 0x50, 0x18, 512, 0, 0))
    if partial:
        struct.pack_into(">H", tcp, 16, ref_sum(src + dst + struct.pack(">BBH", 0, 6, length)))
    return bytes(ip) + bytes(tcp) + payload


def ref_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack(">H", data):
        total = ((total + word) & 0xFFFF) + ((total + word) >> 16)
    return total


def tcp_verifies(packet: bytes) -> bool:
    return ref_sum(packet[12:20] + struct.pack(">BBH", 0, 6, len(packet) - 20) + packet[20:]) == 0xFFFF


def test_a_plain_peers_hello_answer_makes_the_offload_end_fall_back(log):
    inner, theirs = stream_pair()
    peer = plain_peer_answering(theirs, mtu=9000)
    tun = FakeTun()
    framed = handshake(inner, tun, timeout=5)
    peer.join(5)
    assert isinstance(framed, OffloadFallbackEndpoint) and framed.frame_format is FrameFormat.RFC4571
    assert tun.offload_calls == [0] and tun.offload == 0
    assert tun.mtu == 9000 and framed.peer_mtu == 9000  # the lower MTU wins
    assert " W " in log.getvalue() and "the peer end does not offload" in log.getvalue() and \
        "falling back to plain frames" in log.getvalue()
    framed.close()
    peer.plain.close()  # type: ignore[attr-defined]


def test_a_data_packet_first_means_no_offload_and_reaches_the_tun(log):
    inner, theirs = stream_pair()
    packet = b"\x45" + b"\0" * 27
    theirs.sendall(encode(packet) + encode(b"\x45" + b"\1" * 27))
    tun = FakeTun(packet_info=False)
    framed = handshake(inner, tun, timeout=5)
    assert isinstance(framed, OffloadFallbackEndpoint)
    assert "the peer's first frame is a packet" in log.getvalue()
    assert tun.written == [bytes(10) + packet]  # at once, with a "nothing offloaded" header
    assert tun.mtu == 65535  # nothing known of the peer: what a short frame carries
    assert framed.receive(65536) == [bytes(10) + b"\x45" + b"\1" * 27]
    hello = read_frames(theirs, 1)[0]
    assert is_hello(hello) and Cap.VNET in decode_hello(hello).caps
    framed.close()
    theirs.close()


def test_after_the_fallback_the_peer_gets_complete_packets_only():
    inner, theirs = stream_pair()
    theirs.sendall(encode(encode_hello(Hello(Cap(0), 1500, 65535))))
    tun = FakeTun(mtu=1500)
    framed = handshake(inner, tun, timeout=5)
    read_frames(theirs, 1)  # our HELLO
    plain = VnetHeader(0, GSO_NONE, 0, 0, 0, 0).pack(NATIVE) + ipv4_tcp(b"x" * 10, partial=False)
    needs_csum = VnetHeader(VNET_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16).pack(NATIVE) + ipv4_tcp(b"y" * 33)
    gso = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 40, 1000, 20, 16).pack(NATIVE) + ipv4_tcp(os.urandom(2500))
    framed.send_many([plain, needs_csum, gso])
    frames = read_frames(theirs, 5)
    assert frames[0] == plain[10:]  # no header on the wire
    assert frames[1][:36] == needs_csum[10:46] and tcp_verifies(frames[1])
    assert [len(f) for f in frames[2:]] == [1040, 1040, 540] and all(tcp_verifies(f) for f in frames[2:])
    assert b"".join(f[40:] for f in frames[2:]) == gso[10 + 40:]
    assert framed.completed == 2
    framed.close()
    theirs.close()


def test_late_hellos_are_dropped_and_packet_information_is_kept():
    inner, theirs = stream_pair()
    pi = b"\0\0\x08\0"
    theirs.sendall(encode(pi + b"\x45" + b"\0" * 19))  # a packet first: fallback
    tun = FakeTun(packet_info=True)
    framed = handshake(inner, tun, timeout=5)
    assert tun.written == [pi + bytes(10) + b"\x45" + b"\0" * 19]
    assert tun.mtu == 65531  # a short frame carries 65535 bytes, 4 of them packet information
    theirs.sendall(encode(encode_hello(Hello(Cap(0), 1500, 65535))) + encode(pi + b"\x45" + b"\2" * 19))
    got: list[bytes] = []
    while len(got) < 1:
        got += framed.receive(65536) or []
    assert got == [pi + bytes(10) + b"\x45" + b"\2" * 19]
    framed.send(pi + bytes(10) + b"\x45" + b"\3" * 19)
    assert read_frames(theirs, 2)[1] == pi + b"\x45" + b"\3" * 19
    framed.close()
    theirs.close()


def test_two_offload_ends_agree_on_what_both_take_and_narrow_the_tun():
    """The right end takes only partial checksums (no TSO): the left TUN is narrowed to
    TUNSETOFFLOAD 0x01 so that it never hands over a super-packet the peer refuses."""
    a, b = stream_pair()
    fd = b.detach()
    other = Endpoint("other", fd, fd)
    results: dict[str, object] = {}

    def side(name: str, inner: Endpoint, tun: FakeTun) -> None:
        results[name] = handshake(inner, tun, timeout=5)

    left, right = FakeTun(0x6F, mtu=65535), FakeTun(0x01, mtu=9000)
    thread = threading.Thread(target=side, args=("right", other, right))
    thread.start()
    side("left", a, left)
    thread.join(5)
    assert all(isinstance(r, OffloadFramedEndpoint) for r in results.values())
    assert left.offload_calls == [0x01] and right.offload_calls == []
    assert left.mtu == 9000 == right.mtu
    assert results["left"].agreement.caps == Cap.CSUM | Cap.VNET | Cap.WIDE  # type: ignore[attr-defined]
    for r in results.values():
        r.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("first,message", [
    (b"\0\0", "zero-length frame at byte offset 0"),
    (encode(b"\xffPYSOCAT" + b"\0" * 24), "offload handshake at byte offset 0 has version 0"),
])
def test_a_broken_first_frame_is_a_clear_error(first, message):
    inner, theirs = stream_pair()
    theirs.sendall(first)
    with pytest.raises(FramingError, match=message):
        handshake(inner, FakeTun(), timeout=2)
    os.close(inner.read_fd)  # type: ignore[arg-type]
    theirs.close()


def test_the_hello_uses_the_streams_frame_format():
    inner, theirs = stream_pair()
    theirs.sendall(encode(b"\x45" + b"\0" * 19, FrameFormat.WIDE))
    framed = handshake(inner, FakeTun(), FrameFormat.WIDE, timeout=5)
    assert framed.frame_format is FrameFormat.WIDE
    hello = read_frames(theirs, 1, FrameFormat.WIDE)[0]
    assert len(hello) == HELLO_SIZE and is_hello(hello)
    framed.close()
    theirs.close()


def offload_pair() -> tuple[OffloadFramedEndpoint, OffloadFramedEndpoint]:
    a, b = stream_pair()
    fd = b.detach()
    results: dict[str, object] = {}
    thread = threading.Thread(target=lambda: results.update(b=handshake(Endpoint("b", fd, fd), FakeTun(), timeout=5)))
    thread.start()
    results["a"] = handshake(a, FakeTun(), timeout=5)
    thread.join(5)
    return results["a"], results["b"]  # type: ignore[return-value]


@pytest.mark.parametrize("flags", [0, 2])
def test_packets_with_nothing_offloaded_cross_unchanged(flags):
    """A ping with offload on: flags 0 (or DATA_VALID) and all-zero fields read the same in
    either byte order, so they go through as they are."""
    a, b = offload_pair()
    packet = bytes([flags]) + bytes(9) + b"\x45" + b"\7" * 27
    a.send(packet)
    got: list[bytes] = []
    while not got:
        got = b.receive(1 << 18) or []
    assert got == [packet]
    a.close()
    b.close()


def test_unknown_flags_on_a_plain_header_are_still_refused():
    a, b = offload_pair()
    a.send(b"\x04" + bytes(9) + b"\x45" + b"\7" * 27)
    with pytest.raises(FramingError, match="unknown flags 0x04"):
        while not b.receive(1 << 18):
            pass
    a.close()
    b.close()


def test_a_peer_stating_an_mtu_below_ipv4s_minimum_is_not_followed(log):
    inner, theirs = stream_pair()
    theirs.sendall(encode(encode_hello(Hello(Cap(0), 20, 65535))))
    tun = FakeTun(mtu=1500)
    framed = handshake(inner, tun, timeout=5)
    assert isinstance(framed, OffloadFallbackEndpoint)
    assert tun.mtu == 1500 and framed.peer_mtu == 1500
    assert "the peer states an MTU of 20, below 68; not followed" in log.getvalue()
    framed.close()
    theirs.close()
