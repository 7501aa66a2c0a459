"""The packet pump (pysocat/transfer/_pump.c) against the engine's Python path, over
socket pairs: a packet side (SOCK_SEQPACKET, one read is one packet) and a framed stream.
Every scenario runs twice, pump on and pump off, and must give the same packets, counts
and error lines; with the pump on, it must really have run (`relay.pump.runs`)."""
from __future__ import annotations

import io
import os
import signal
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysocat.endpoint import Endpoint
from pysocat.framing import FrameFormat
from pysocat.log import LOG
from pysocat.transfer import pump as pump_module
from pysocat.transfer.engine import Relay, RelaySettings
from pysocat.transfer.framed import FramedEndpoint
from tests.behaviour.net_helpers import recv_until_eof

needs_pump = pytest.mark.skipif(pump_module.native is None,
                                reason="the C packet pump did not compile here (no compiler or Python headers)")
MODES = [pytest.param(True, id="pump", marks=needs_pump), pytest.param(False, id="python")]


class Pair:
    """packet_peer <-> [packet endpoint | relay | framed endpoint] <-> stream_peer"""

    def __init__(self, max_length: int | None = None, allow_zero: bool = False, small_buffers: bool = False,
                 fmt: FrameFormat = FrameFormat.RFC4571) -> None:
        self.packet_peer, packet_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stream_sock, self.stream_peer = socket.socketpair()
        for sock in (packet_sock, stream_sock):
            sock.setblocking(False)
        if small_buffers:  # the stream takes frames in part: the unsent rest must be kept
            stream_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            self.stream_peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sockets = [packet_sock, stream_sock]
        # the sockets own the descriptors; close() closes the endpoints first, or the
        # socket views they write with would close a reused descriptor when collected
        self.packet = Endpoint("packets", packet_sock.fileno(), packet_sock.fileno(), keeps_boundaries=True,
                               packet_size=131072, batch=64, owns_fds=False)
        inner = Endpoint("stream", stream_sock.fileno(), stream_sock.fileno(), owns_fds=False)
        self.framed = FramedEndpoint.wrap(inner, fmt, max_length=max_length, allow_zero=allow_zero)
        self.header = struct.Struct(">H" if fmt is FrameFormat.RFC4571 else ">I")
        self.relay = Relay(self.packet, self.framed, RelaySettings())
        self.failures: list[BaseException] = []

    def start(self) -> threading.Thread:
        def run() -> None:
            try:
                self.relay.run()
            except BaseException as err:  # reported by the test
                self.failures.append(err)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self.thread

    def start_past_first_frame(self) -> None:
        """Starts the relay and sends one frame through: the first frame goes through
        Python (the HELLO check), so the pump takes over only after it."""
        self.start()
        self.stream_peer.sendall(self.frame(b"first"))
        assert self.read_packets(1) == [b"first"]

    def finish(self, timeout: float = 10) -> None:
        """Ends the input on both sides; the relay must end, without an exception."""
        for peer in (self.stream_peer, self.packet_peer):
            try:
                peer.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # ended already
        self.thread.join(timeout)
        assert not self.thread.is_alive() and not self.failures

    def frame(self, packet: bytes) -> bytes:
        return self.header.pack(len(packet)) + packet

    def unframe(self, stream: bytes) -> list[bytes]:
        packets, pos, size = [], 0, self.header.size
        while pos < len(stream):
            (length,) = self.header.unpack_from(stream, pos)
            packets.append(stream[pos + size:pos + size + length])
            pos += size + length
        assert pos == len(stream), "the stream ended inside a frame"
        return packets

    def read_packets(self, count: int) -> list[bytes]:
        self.packet_peer.settimeout(10)
        return [self.packet_peer.recv(131072) for _ in range(count)]

    def close(self) -> None:
        self.packet.close()
        self.framed.close()
        for sock in (*self.sockets, self.packet_peer, self.stream_peer):
            sock.close()


@pytest.fixture
def pump_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    monkeypatch.setattr(pump_module, "ENABLED", request.param)
    yield request.param


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the relay logs (LOG writes to the stderr it found at import)."""
    stream = io.StringIO()
    monkeypatch.setattr(LOG, "stream", stream)
    return stream


def _errors(log: io.StringIO) -> list[str]:
    return [line.split(" E ", 1)[1] for line in log.getvalue().splitlines() if " E " in line]


def _check_pump_use(pair: Pair, enabled: bool) -> None:
    if enabled:
        assert pair.relay.pump is not None and pair.relay.pump.runs > 0, "the pump never ran"
    else:
        assert pair.relay.pump is None


def _packets(count: int, seed: int) -> list[bytes]:
    sizes = [1 + (i * 7919 + seed) % 65000 for i in range(count)]
    return [bytes([i % 251]) * 3 + os.urandom(size - 3) if size > 3 else os.urandom(size)
            for i, size in enumerate(sizes)]


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
@pytest.mark.parametrize("small_buffers", [False, True], ids=["large-buffers", "small-buffers"])
def test_packets_and_frames_keep_boundaries_both_ways(pump_mode: bool, small_buffers: bool) -> None:
    """Bulk both ways at once; through 4 KiB socket buffers most frames go out in parts.
    Every packet arrives whole and in order, the counts are exact, EOF passes both ways."""
    pair = Pair(small_buffers=small_buffers)
    up, down = _packets(400, 1), _packets(300, 2)
    pair.start_past_first_frame()

    def feed() -> None:
        for packet in up:
            pair.packet_peer.send(packet)
        pair.packet_peer.shutdown(socket.SHUT_WR)

    def send_down() -> None:
        for packet in down:
            pair.stream_peer.sendall(pair.frame(packet))
        pair.stream_peer.shutdown(socket.SHUT_WR)

    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.extend(pair.read_packets(len(down))), daemon=True)
    for worker in (threading.Thread(target=feed, daemon=True), threading.Thread(target=send_down, daemon=True),
                   reader):
        worker.start()
    stream = recv_until_eof(pair.stream_peer)
    reader.join(20)
    pair.finish(20)
    assert pair.unframe(stream) == up
    assert received == down
    stats = pair.relay.stats
    assert (stats.left_to_right.packets, stats.left_to_right.bytes) == (len(up), sum(map(len, up)))
    assert (stats.right_to_left.packets, stats.right_to_left.bytes) == (len(down) + 1, sum(map(len, down)) + 5)
    assert pair.framed.frames_sent == len(up)
    _check_pump_use(pair, pump_mode)
    pair.close()


def _bad_stream_run(pump_mode: bool, log: io.StringIO, tail: bytes,
                    max_length: int | None = None) -> tuple[list[bytes], list[str]]:
    """Sound frames, then `tail`; returns the packets delivered and the E lines logged."""
    pair = Pair(max_length=max_length)
    pair.start_past_first_frame()
    good = [b"a" * 100, b"b" * 900, b"c" * 7]
    pair.stream_peer.sendall(b"".join(pair.frame(packet) for packet in good) + tail)
    delivered = pair.read_packets(len(good))
    pair.finish()
    pair.packet_peer.settimeout(1)
    assert pair.packet_peer.recv(131072) == b""  # nothing of the bad frame or behind it
    _check_pump_use(pair, pump_mode)
    pair.close()
    assert delivered == good
    return delivered, _errors(log)


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
@pytest.mark.parametrize("tail, max_length, message", [
    (struct.pack(">H", 2000) + b"x" * 2000 + struct.pack(">H", 3) + b"zzz", 1000,
     "stream: frame length 2000 at byte offset 1020 exceeds the maximum of 1000"),
    (struct.pack(">H", 0) + struct.pack(">H", 3) + b"zzz", None,
     "stream: zero-length frame at byte offset 1020 is not allowed"),
    (struct.pack(">H", 500) + b"y" * 20, None,
     "stream: stream ended inside the frame at byte offset 1020 (20 of 500 packet bytes); the partial packet was dropped"),
], ids=["too-long", "zero-length", "truncated"])
def test_a_bad_frame_is_reported_at_its_offset_and_never_delivered(
        pump_mode: bool, log: io.StringIO, tail: bytes, max_length: int | None, message: str) -> None:
    """The offset counts every stream byte: 7 for the first frame, then 102 + 902 + 9."""
    _delivered, errors = _bad_stream_run(pump_mode, log, tail, max_length)
    assert any(line.startswith(message) for line in errors), errors


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
def test_empty_frames_cross_where_allowed(pump_mode: bool) -> None:
    """allow_zero (a UDP peer): an empty frame is no error; the engine writes no empty packet."""
    pair = Pair(allow_zero=True)
    pair.start_past_first_frame()
    pair.stream_peer.sendall(pair.frame(b"") + pair.frame(b"after") + pair.frame(b"") + pair.frame(b"end"))
    assert pair.read_packets(2) == [b"after", b"end"]
    pair.finish()
    _check_pump_use(pair, pump_mode)
    pair.close()


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
def test_a_packet_no_frame_can_carry_is_an_error(pump_mode: bool, log: io.StringIO) -> None:
    """70000 bytes do not fit a 16-bit length: reported, the direction ends, nothing partial is sent."""
    pair = Pair()
    pair.start_past_first_frame()
    pair.packet_peer.send(b"ok")
    pair.packet_peer.send(b"x" * 70000)
    pair.stream_peer.settimeout(10)
    assert recv_until_eof(pair.stream_peer) == pair.frame(b"ok")  # then EOF: the direction ended
    pair.finish()
    errors = _errors(log)
    assert len(errors) == 1 and "70000" in errors[0], errors
    _check_pump_use(pair, pump_mode)
    pair.close()


@needs_pump
def test_statistics_are_up_to_date_when_a_signal_handler_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGUSR1's statistics (socat 1.8): the pump reports what it moved before Python's
    handlers run. The relay runs in the main thread, where signals are handled."""
    monkeypatch.setattr(pump_module, "ENABLED", True)
    pair = Pair()
    seen: list[tuple[int, int]] = []

    def on_usr1(_signum: int, _frame: object) -> None:
        stats = pair.relay.stats.left_to_right
        seen.append((stats.packets, stats.bytes))

    previous = signal.signal(signal.SIGUSR1, on_usr1)
    packets = [b"p" * size for size in (10, 200, 3000)]

    def drive() -> None:
        pair.stream_peer.sendall(pair.frame(b"first"))
        pair.read_packets(1)
        for packet in packets:
            pair.packet_peer.send(packet)
        pair.stream_peer.settimeout(10)
        want, got = sum(2 + len(p) for p in packets), b""
        while len(got) < want:
            got += pair.stream_peer.recv(65536)
        os.kill(os.getpid(), signal.SIGUSR1)
        pair.stream_peer.shutdown(socket.SHUT_WR)
        pair.packet_peer.shutdown(socket.SHUT_WR)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        pair.relay.run()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    driver.join(10)
    assert seen == [(len(packets), sum(map(len, packets)))]
    _check_pump_use(pair, True)
    pair.close()


@needs_pump
def test_the_pump_stays_out_where_the_bytes_must_be_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    """-v dumps every packet: the Python path relays them; so do offload frames (not a plain FramedEndpoint)."""
    monkeypatch.setattr(pump_module, "ENABLED", True)
    pair = Pair()
    pair.relay = Relay(pair.packet, pair.framed, RelaySettings(verbose=True))
    pair.start()
    pair.stream_peer.sendall(pair.frame(b"first") + pair.frame(b"second"))
    assert pair.read_packets(2) == [b"first", b"second"]
    pair.finish()
    assert pair.relay.pump is None
    pair.close()


def test_the_pump_is_built_wherever_it_can_be() -> None:
    """Its build is optional (setup.py), so a C error would only show as skipped tests and a
    slow tunnel: where a compiler and the Python headers exist, it must have been built."""
    import shutil
    import sysconfig

    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
    if not shutil.which(compiler) or not headers:
        pytest.skip(f"no C compiler ({compiler}) or no Python headers: pysocat runs without the pump")
    assert pump_module.native is not None, "the C packet pump did not build: pip install -e . -v shows why"


def _offload_pair(small_packet_side: bool) -> Pair:
    """An offload stream (wide frames, virtio-net header in wire order) as pairing builds it."""
    from pysocat.framing import WIDE_DEFAULT_MAX, Agreement, Cap
    from pysocat.transfer.offload import OffloadFramedEndpoint

    pair = Pair(fmt=FrameFormat.WIDE)
    inner = pair.framed.inner
    assert inner is not None
    framed = OffloadFramedEndpoint.wrap(inner, FrameFormat.WIDE, max_length=WIDE_DEFAULT_MAX)
    framed.agreement = Agreement(True, Cap.CSUM | Cap.TSO4, 65142, FrameFormat.WIDE, WIDE_DEFAULT_MAX, "test")
    framed.first_frame_seen = True
    pair.framed = framed
    if small_packet_side:  # the packet side takes one frame at a time: EAGAIN behind it
        pair.sockets[0].setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)  # two 60 KB packets: EAGAIN
    pair.relay = Relay(pair.packet, framed, RelaySettings())
    return pair


def _tso4_frame(payload: int, hdr_len_claimed: int = 9999, gso_size: int = 1448) -> tuple[bytes, bytes]:
    """(frame payload on the wire, what must reach the TUN): TCP data offset 8 words, hdr_len 52."""
    from pysocat.framing import GSO_TCPV4, VNET_F_NEEDS_CSUM, VnetHeader

    packet = bytes([0x45]) + bytes(19) + bytes(12) + bytes([8 << 4]) + bytes(19) + os.urandom(payload)
    wire = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, hdr_len_claimed, gso_size, 20, 16).pack("big") + packet
    native = VnetHeader(VNET_F_NEEDS_CSUM, GSO_TCPV4, 52, gso_size, 20, 16).pack(
        "little" if struct.pack("=H", 1) == b"\x01\x00" else "big") + packet
    return wire, native


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
@pytest.mark.parametrize("small_packet_side", [False, True], ids=["room", "full-packet-side"])
def test_offload_frames_reach_the_packet_side_checked_and_in_host_order(
        pump_mode: bool, small_packet_side: bool, log: io.StringIO) -> None:
    """Sound segmented frames arrive with their header in host order and hdr_len recomputed,
    also when the packet side is full and the engine takes over; a bad header behind them
    is reported at its offset and nothing after it is delivered."""
    pair = _offload_pair(small_packet_side)
    pair.start()
    frames = [_tso4_frame(size) for size in (100, 3000, 60000, 60000, 60000, 7)]  # more than the packet side holds
    bad, _ = _tso4_frame(500, gso_size=0)  # gso_size 0 on a segmented packet
    stream = b"".join(pair.frame(wire) for wire, _ in frames)
    pair.stream_peer.sendall(stream + pair.frame(bad) + pair.frame(frames[0][0]))
    delivered = pair.read_packets(len(frames))
    pair.finish()
    pair.packet_peer.settimeout(1)
    assert pair.packet_peer.recv(131072) == b""
    assert delivered == [native for _, native in frames], log.getvalue()
    errors = _errors(log)
    assert len(errors) == 1 and f"frame at byte offset {len(stream)}: gso_size 0" in errors[0], errors
    _check_pump_use(pair, pump_mode)
    pair.close()


def _run_stream(pump_on: bool, chunks: list[bytes], max_length: int) -> tuple[list[bytes], list[str]]:
    """The packets and E lines that these stream chunks give (pump on or off)."""
    stream = io.StringIO()
    saved_stream, saved_enabled = LOG.stream, pump_module.ENABLED
    LOG.stream, pump_module.ENABLED = stream, pump_on  # type: ignore[assignment]
    try:
        pair = Pair(max_length=max_length)
        pair.start_past_first_frame()
        for chunk in chunks:
            pair.stream_peer.sendall(chunk)
        pair.stream_peer.shutdown(socket.SHUT_WR)
        packets = []
        pair.packet_peer.settimeout(10)
        while packet := pair.packet_peer.recv(131072):
            packets.append(packet)
        pair.finish()
        pair.close()
    finally:
        LOG.stream, pump_module.ENABLED = saved_stream, saved_enabled
    return packets, _errors(stream)


@needs_pump
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lengths=st.lists(st.integers(0, 3000), max_size=12), bad=st.one_of(st.none(), st.integers(0, 12)),
       cut=st.one_of(st.none(), st.integers(1, 40)), pieces=st.lists(st.integers(1, 9000), max_size=6))
def test_any_stream_gives_the_same_packets_and_errors_with_and_without_the_pump(
        lengths: list[int], bad: int | None, cut: int | None, pieces: list[int]) -> None:
    """Random frames (empty ones are errors here), a header over the maximum at a random
    place, a stream cut short, delivered in random pieces: both paths agree byte for byte."""
    frames = [struct.pack(">H", n) + bytes([n % 256]) * n for n in lengths]
    if bad is not None:
        frames.insert(min(bad, len(frames)), struct.pack(">H", 2500) + b"z" * 10)  # 2500 > max_length 2000
    stream = b"".join(frames)
    if cut is not None and stream:
        stream = stream[:-min(cut, len(stream))]
    chunks, position = [], 0
    for size in pieces:
        chunks.append(stream[position:position + size])
        position += size
    chunks.append(stream[position:])
    chunks = [chunk for chunk in chunks if chunk]
    assert _run_stream(True, chunks, 2000) == _run_stream(False, chunks, 2000)


@pytest.mark.parametrize("pump_mode", MODES, indirect=True)
def test_inactivity_timeout_ends_a_pumped_relay(pump_mode: bool) -> None:
    """-T: the pump's poll() times out like the engine's, and the relay ends idle."""
    import time

    pair = Pair()
    pair.relay = Relay(pair.packet, pair.framed, RelaySettings(inactivity_timeout=0.5))
    pair.start_past_first_frame()
    pair.packet_peer.send(b"up")
    pair.stream_peer.settimeout(5)
    assert pair.stream_peer.recv(100) == pair.frame(b"up")
    started = time.monotonic()
    pair.thread.join(5)  # no EOF: the timeout alone ends it
    assert not pair.thread.is_alive() and not pair.failures
    assert 0.3 < time.monotonic() - started < 2.5
    _check_pump_use(pair, pump_mode)
    pair.close()
