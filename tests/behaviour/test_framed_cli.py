"""`framed` through the command line, without root: datagrams in, RFC 4571 frames out,
and back; bad frames stop with the byte offset and send nothing; a packet address
relayed to an unframed stream warns once."""
from __future__ import annotations

import socket
import struct
import subprocess

from tests.behaviour.helpers import spawn, wait_for
from tests.conftest import diagnostics, run_pysocat


def _udp_receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    return sock


def test_frames_on_stdin_become_one_datagram_each() -> None:
    receiver = _udp_receiver()
    port = receiver.getsockname()[1]
    frames = b"".join(struct.pack("!H", len(p)) + p for p in (b"abc", b"de", b"x" * 3000))
    result = run_pysocat("-u", "STDIN,framed", f"UDP4-SENDTO:127.0.0.1:{port}", input=frames)
    assert result.returncode == 0, result.stderr
    assert [receiver.recv(65536) for _ in range(3)] == [b"abc", b"de", b"x" * 3000]
    receiver.close()


def test_wide_frames_carry_a_four_byte_length() -> None:
    receiver = _udp_receiver()
    port = receiver.getsockname()[1]
    frames = struct.pack("!I", 5) + b"hello"
    result = run_pysocat("-u", "STDIN,framed=wide", f"UDP4-SENDTO:127.0.0.1:{port}", input=frames)
    assert result.returncode == 0, result.stderr
    assert receiver.recv(65536) == b"hello"
    receiver.close()


def test_datagrams_become_frames_on_stdout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = spawn("pysocat", "-d", "-d", "-u", f"UDP4-RECV:{port},bind=127.0.0.1", "STDOUT,framed")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packets = [b"one", b"", b"three" * 500]
    try:
        wait_for(lambda: b"" if proc.poll() is not None else _bound(port), timeout=10)
        for packet in packets[:1] + packets[2:]:
            sender.sendto(packet, ("127.0.0.1", port))
        expected = b"".join(struct.pack("!H", len(p)) + p for p in (packets[0], packets[2]))
        out = b""
        assert proc.stdout is not None
        while len(out) < len(expected):
            chunk = proc.stdout.read1(65536)  # type: ignore[attr-defined]
            assert chunk, proc.stderr.read() if proc.stderr else b""
            out += chunk
        assert out == expected
    finally:
        proc.terminate()
        proc.wait(10)
        sender.close()


def _bound(port: int) -> bool:
    with open("/proc/net/udp") as table:
        return any(f":{port:04X} " in line.split()[1] + " " for line in table.readlines()[1:])


def test_a_stream_that_ends_inside_a_frame_is_an_error_and_sends_nothing() -> None:
    receiver = _udp_receiver()
    receiver.settimeout(0.5)
    port = receiver.getsockname()[1]
    result = run_pysocat("-u", "STDIN,framed", f"UDP4-SENDTO:127.0.0.1:{port}", input=b"\x00\x05ab")
    assert result.returncode == 1
    errors = [line for line in diagnostics(result.stderr) if line.startswith("E ")]
    assert errors and "byte offset 0" in errors[0], result.stderr
    assert b"Traceback" not in result.stderr
    try:
        data = receiver.recv(65536)
    except socket.timeout:
        data = None
    assert data is None, "a partial frame reached the packet side"
    receiver.close()


def test_a_zero_length_frame_is_reported_with_its_offset() -> None:
    receiver = _udp_receiver()
    port = receiver.getsockname()[1]
    result = run_pysocat("-u", "STDIN,framed", f"UDP4-SENDTO:127.0.0.1:{port}", input=b"\x00\x02ok\x00\x00")
    assert result.returncode == 1
    assert receiver.recv(65536) == b"ok"  # the sound frame before the bad one still goes
    assert any("byte offset 4" in line for line in diagnostics(result.stderr) if line.startswith("E ")), result.stderr
    receiver.close()


def test_framed_on_a_packet_address_is_refused() -> None:
    result = run_pysocat("SOCKETPAIR,framed", "OPEN:/dev/null", timeout=20)
    assert result.returncode == 1
    assert any(line.startswith('E option "framed"') for line in diagnostics(result.stderr)), result.stderr


def test_packets_to_an_unframed_stream_warn_about_lost_boundaries() -> None:
    result = run_pysocat("-T", "0.3", "-u", "SOCKETPAIR", "STDOUT", stdin=subprocess.DEVNULL, timeout=20)
    warnings = [line for line in diagnostics(result.stderr) if line.startswith("W ")]
    assert any("without their boundaries" in line and '"framed"' in line for line in warnings), result.stderr
    framed = run_pysocat("-T", "0.3", "-u", "SOCKETPAIR", "STDOUT,framed", stdin=subprocess.DEVNULL, timeout=20)
    assert not any("boundaries" in line for line in diagnostics(framed.stderr)), framed.stderr


def _explain_pair(*args: str) -> list[dict]:
    import json

    result = run_pysocat("--explain", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["pair"]


def test_explain_shows_the_auto_mtu_of_a_framed_tunnel() -> None:
    notes = _explain_pair("TUN:198.18.0.1/24,iff-up,iff-no-pi", "TCP:192.0.2.2:5555,framed")
    assert notes == [{"address": 1, "auto-mtu": {"mtu": 65535, "reason": notes[0]["auto-mtu"]["reason"],
                                                 "warning": None}}]
    assert "framed" in notes[0]["auto-mtu"]["reason"]


def test_explain_warns_when_boundaries_would_be_lost() -> None:
    notes = _explain_pair("TUN:198.18.0.1/24,iff-up", "TCP:192.0.2.2:5555")
    assert any("boundaries will be lost" in str(note.get("warning")) for note in notes)
    assert not any("boundaries" in str(note) for note in _explain_pair("UDP-RECV:5555", "UDP-SENDTO:192.0.2.2:5"))



def test_frames_kept_for_a_slow_reader_all_arrive_before_eof(tmp_path) -> None:
    """Over a socket the frames pysocat cannot write yet wait in its backlog: a reader
    that takes them slowly still gets every one, whole and in order, and then EOF; the
    exit is 0 (no data lost on a clean path)."""
    import os
    import threading
    import time

    from pysocat.framing import FrameDecoder

    payload = os.urandom(6 * 1024 * 1024)
    source = tmp_path / "payload"
    source.write_bytes(payload)
    path = str(tmp_path / "slow.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server.bind(path)
    server.listen(1)
    server.settimeout(20)
    frames: list[bytes] = []
    ended = threading.Event()

    def slow_reader() -> None:
        conn, _ = server.accept()
        conn.settimeout(20)
        decoder = FrameDecoder()
        reads = 0
        while chunk := conn.recv(16384):
            frames.extend(bytes(frame) for frame in decoder.feed(chunk))
            reads += 1
            if reads % 64 == 0:
                time.sleep(0.01)  # slower than pysocat reads the file: its backlog grows
        decoder.finish()
        conn.close()
        ended.set()

    reader = threading.Thread(target=slow_reader)
    reader.start()
    result = run_pysocat("-u", f"OPEN:{source}", f"UNIX-CONNECT:{path},framed", timeout=60)
    reader.join(timeout=60)
    server.close()
    assert result.returncode == 0, result.stderr
    assert ended.is_set()
    assert b"".join(frames) == payload
    assert frames and max(map(len, frames)) <= 8192  # one frame per read of -b 8192
