"""The zero-copy path moves exactly the bytes the copying path would, and steps aside
whenever something must see the bytes (conversion, dumps, wrappers)."""
from __future__ import annotations

import hashlib
import os
import socket
import threading

import pytest

from pysocat.endpoint import Endpoint, TransferPolicy
from pysocat.transfer.convert import CRNL
from pysocat.transfer.engine import Relay, RelaySettings
from pysocat.transfer.splice import HAVE_SPLICE, spliceable

pytestmark = pytest.mark.skipif(not HAVE_SPLICE, reason="os.splice is not available here")


def _stream_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def _relay_once(payload: bytes, settings: RelaySettings, policy: TransferPolicy | None = None) -> tuple[bytes, Relay]:
    """Client A --> [left endpoint | engine | right endpoint] --> client B, one way."""
    a_outer, a_inner = _stream_pair()
    b_inner, b_outer = _stream_pair()
    left = Endpoint("left", a_inner.fileno(), a_inner.fileno(), policy or TransferPolicy())
    right = Endpoint("right", b_inner.fileno(), b_inner.fileno())
    engine = Relay(left, right, settings)
    received = bytearray()

    def feed() -> None:
        a_outer.sendall(payload)
        a_outer.shutdown(socket.SHUT_WR)

    def drain() -> None:
        while chunk := b_outer.recv(65536):
            received.extend(chunk)

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    engine.run()
    b_inner.shutdown(socket.SHUT_WR)
    for thread in threads:
        thread.join(timeout=30)
    for sock in (a_outer, a_inner, b_inner, b_outer):
        sock.close()
    return bytes(received), engine


def test_stream_sockets_are_spliced_and_every_byte_arrives() -> None:
    payload = os.urandom(8 * 1024 * 1024 + 123)
    received, engine = _relay_once(payload, RelaySettings(bufsize=131072, direction="left-to-right"))
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    assert engine.stats.left_to_right.bytes == len(payload)


def test_the_splice_path_is_chosen_for_plain_stream_sockets_once_a_read_fills_the_buffer() -> None:
    a, b = _stream_pair()
    c, d = _stream_pair()
    try:
        engine = Relay(Endpoint("l", a.fileno(), a.fileno()), Endpoint("r", c.fileno(), c.fileno()), RelaySettings())
        first = engine.directions[0]
        b.sendall(b"hi")  # a short exchange is copied: no pipe is made for it
        assert engine._transfer(first) and first.splicer is None and d.recv(10) == b"hi"
        b.sendall(b"x" * 3 * engine.settings.bufsize)  # a full read: bulk, spliced from then on
        assert engine._transfer(first) and first.splicer is not None
        assert engine._transfer(first) and engine._transfer(first)
        received = b""
        while len(received) < 3 * engine.settings.bufsize:
            received += d.recv(65536)
        assert received == b"x" * 3 * engine.settings.bufsize
        first.splicer.close()
    finally:
        for sock in (a, b, c, d):
            sock.close()


@pytest.mark.parametrize("reason", ["crnl", "verbose", "readbytes", "disabled"])
def test_conversions_and_dumps_take_the_copying_path(reason: str) -> None:
    policy = TransferPolicy()
    settings = RelaySettings(direction="left-to-right")
    if reason == "crnl":
        policy.read_lineterm = CRNL
    elif reason == "verbose":
        settings.verbose = True
    elif reason == "readbytes":
        policy.readbytes = 5
    else:
        settings.splice = False
    a, b = _stream_pair()
    c, d = _stream_pair()
    try:
        engine = Relay(Endpoint("l", a.fileno(), a.fileno(), policy), Endpoint("r", c.fileno(), c.fileno()), settings)
        engine._consider_splice(engine.directions[0])
        assert engine.directions[0].splicer is None
    finally:
        for sock in (a, b, c, d):
            sock.close()


def test_crnl_still_converts_between_stream_sockets() -> None:
    policy = TransferPolicy(read_lineterm=CRNL)
    received, _engine = _relay_once(b"one\r\ntwo\r\n", RelaySettings(direction="left-to-right"), policy)
    assert received == b"one\ntwo\n"


def test_datagram_sockets_and_files_are_not_spliceable(tmp_path) -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    regular = open(tmp_path / "f", "wb")
    try:
        assert not spliceable(a.fileno())
        assert not spliceable(regular.fileno())
        read_end, write_end = os.pipe()
        assert spliceable(read_end) and spliceable(write_end)
        os.close(read_end)
        os.close(write_end)
    finally:
        a.close()
        b.close()
        regular.close()


def test_a_piped_cli_relay_delivers_every_byte(tmp_path) -> None:
    """stdin and stdout are pipes here, so the CLI takes the splice path end to end."""
    import subprocess

    from tests.conftest import pysocat_command

    payload = os.urandom(3 * 1024 * 1024 + 7)
    result = subprocess.run(pysocat_command() + ["-u", "-", "STDOUT"], input=payload, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == payload


def test_a_full_target_leaves_the_bytes_pending_instead_of_waiting() -> None:
    """The engine must never wait inside a write (see Splicer.move): what the target does
    not take stays in the splice pipe until flush() finds room."""
    from pysocat.transfer.splice import Splicer

    a, b = _stream_pair()
    target_read, target_write = os.pipe()
    splicer = Splicer(65536)
    try:
        filled = 0
        os.set_blocking(target_write, False)
        try:
            while True:
                filled += os.write(target_write, b"f" * 65536)
        except BlockingIOError:
            os.set_blocking(target_write, True)  # a blocking target, as most are
        b.sendall(b"x" * 20000)
        assert splicer.move(a.fileno(), target_write, 65536) == 20000
        assert splicer.pending == 20000 and not splicer.flush(target_write)
        drained = b""
        while len(drained) < filled:
            drained += os.read(target_read, 65536)
        assert splicer.flush(target_write) and splicer.pending == 0
        assert os.read(target_read, 65536) == b"x" * 20000
    finally:
        splicer.close()
        for fd in (target_read, target_write):
            os.close(fd)
        a.close()
        b.close()
