"""Endpoint I/O the relay's speed rests on, over socket pairs: the gathering write of a
framed burst (every byte delivered, in order, through partial writes), the batch read that
takes a burst in one wake-up but not an idle link's single packet, and the heap tuning."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from pysocat.endpoint import BULK_PACKET, IOV_MAX, Endpoint
from tests.behaviour.net_helpers import recv_until_eof


class JoiningEndpoint(Endpoint):
    """An endpoint that overrides send() (as TLS does): send_parts must join for it."""

    sent: list[bytes]

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))


def test_send_parts_delivers_every_byte_in_order_through_partial_writes():
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ours.setblocking(False)  # writev returns short (or EAGAIN) whenever the buffer is full
    parts = [os.urandom(size) for size in (2, 70000, 2, 1, 0, 65535, 3)] * 3
    parts += [b"%d" % i for i in range(IOV_MAX + 10)]  # more buffers than one writev takes
    expected = b"".join(parts)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(recv_until_eof(theirs)))
    reader.start()
    endpoint = Endpoint("test", ours.fileno(), ours.fileno(), owns_fds=False)
    endpoint.send_parts(parts)
    ours.shutdown(socket.SHUT_WR)
    reader.join(timeout=20)
    assert received == [expected]
    ours.close()
    theirs.close()


def test_send_parts_joins_for_an_endpoint_that_overrides_send():
    endpoint = JoiningEndpoint("tls", 99, 99, owns_fds=False)
    endpoint.sent = []
    endpoint.send_parts([b"\x00\x03", memoryview(b"abc"), b"\x00\x01", b"d"])
    assert endpoint.sent == [b"\x00\x03abc\x00\x01d"]


def _datagram_endpoint() -> tuple[Endpoint, socket.socket, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ours.setblocking(False)
    endpoint = Endpoint("dgram", ours.fileno(), ours.fileno(), keeps_boundaries=True, owns_fds=False)
    endpoint.batch = 64
    return endpoint, ours, theirs


def test_an_idle_link_packet_is_returned_without_reading_the_queue():
    endpoint, ours, theirs = _datagram_endpoint()
    for text in (b"ping", b"pong", b"again"):
        theirs.send(text)
    assert endpoint.receive(2048) == [b"ping"]  # first packet after a pause: no extra read
    ours.close()
    theirs.close()


def test_a_burst_of_full_sized_packets_is_taken_in_one_receive():
    endpoint, ours, theirs = _datagram_endpoint()
    burst = [bytes([n]) * BULK_PACKET for n in range(5)]
    for packet in burst:
        theirs.send(packet)
    assert endpoint.receive(4096) == burst
    assert endpoint.receive(4096) == []  # nothing left: EAGAIN is "nothing ready", not EOF
    ours.close()
    theirs.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt and mallinfo2 are glibc's")
def test_keep_freed_memory_leaves_a_freed_megabyte_in_the_heap():
    """With glibc's defaults a 1 MiB buffer is its own mmap() and goes back to the kernel
    when freed; tuned, it comes from the heap and stays there for the next read."""
    probe = r"""
import ctypes, sys
from pysocat.transfer.heap import keep_freed_memory
class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print("no-mallinfo2"); sys.exit(0)
libc.mallinfo2.restype = Mallinfo2
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
buffer = bytes(1 << 20)
del buffer
print(libc.mallinfo2().fordblks)
"""
    results = {}
    for mode in ("default", "tuned"):
        out = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True)
        if out.stdout.strip() == "no-mallinfo2":
            pytest.skip("this C library has no mallinfo2()")
        results[mode] = int(out.stdout)
    assert results["default"] < 1 << 20 <= results["tuned"]
