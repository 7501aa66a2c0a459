"""The relay engine over socket pairs: packets keep their boundaries and are counted,
output a full target does not take is kept and written later, input a wrapper holds back
is read without waiting for poll, and an error ends its direction with an EOF passed on.
How much one read asks for is checked too (a TUN is read by its own packet size)."""
from __future__ import annotations

import os
import socket
import threading

import pytest

from pysocat.endpoint import Endpoint
from pysocat.errors import SocatError
from pysocat.log import LOG
from pysocat.transfer.engine import Relay, RelaySettings
from tests.behaviour.net_helpers import recv_until_eof


def _relay_in_thread(left: Endpoint, right: Endpoint, settings: RelaySettings | None = None,
                     ) -> tuple[Relay, threading.Thread, list[BaseException]]:
    relay = Relay(left, right, settings or RelaySettings())
    failures: list[BaseException] = []

    def run() -> None:
        try:
            relay.run()
        except BaseException as err:  # reported by the test, not lost in the thread
            failures.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return relay, thread, failures


def test_packets_keep_their_boundaries_and_counts() -> None:
    a, left_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    right_sock, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # a packet larger than -b is read whole where the source states its packet size (a TUN)
    left = Endpoint("left", left_sock.fileno(), left_sock.fileno(), keeps_boundaries=True, packet_size=16384)
    right = Endpoint("right", right_sock.fileno(), right_sock.fileno(), keeps_boundaries=True)
    relay, thread, failures = _relay_in_thread(left, right)
    sizes = [1, 7, 1500, 9000, 3]
    for size in sizes:
        a.send(bytes([size % 251]) * size)
    got = [b.recv(65536) for _ in sizes]
    b.send(b"back")
    assert a.recv(100) == b"back"
    a.shutdown(socket.SHUT_WR)
    b.shutdown(socket.SHUT_WR)
    thread.join(5)
    assert not thread.is_alive() and not failures
    assert [len(packet) for packet in got] == sizes
    assert all(packet == bytes([len(packet) % 251]) * len(packet) for packet in got)
    assert (relay.stats.left_to_right.packets, relay.stats.left_to_right.bytes) == (len(sizes), sum(sizes))
    assert (relay.stats.right_to_left.packets, relay.stats.right_to_left.bytes) == (1, 4)


def test_a_full_target_keeps_the_rest_and_nothing_is_lost() -> None:
    """A target that takes only part of a write: the rest is kept as pending output and
    written when poll sees room; every byte arrives, in order, before the EOF."""
    a, left_sock = socket.socketpair()
    right_sock, b = socket.socketpair()
    right_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    left = Endpoint("left", left_sock.fileno(), left_sock.fileno())
    right = Endpoint("right", right_sock.fileno(), right_sock.fileno())
    relay, thread, failures = _relay_in_thread(left, right, RelaySettings(splice=False))
    payload = os.urandom(3 << 20)
    writer = threading.Thread(target=lambda: (a.sendall(payload), a.shutdown(socket.SHUT_WR)), daemon=True)
    writer.start()
    received = recv_until_eof(b)
    writer.join(5)
    b.close()
    thread.join(5)
    assert not thread.is_alive() and not failures
    assert received == payload
    assert relay.stats.left_to_right.bytes == len(payload)


class HoldingEndpoint(Endpoint):
    """A wrapper that hands out one packet per receive() and holds the rest (as TLS holds
    decrypted records): its descriptor is no longer readable while it still has input."""

    held: list[bytes]

    def receive(self, size: int) -> list[bytes] | None:
        if not self.held:
            data = super().receive(size)
            if not data:
                return data
            self.held = [bytes([byte]) for byte in data[0]]
        return [self.held.pop(0)]

    def buffered(self) -> bool:
        return bool(self.held)


def test_input_a_wrapper_holds_is_read_without_poll() -> None:
    a, left_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    right_sock, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    left = HoldingEndpoint("left", left_sock.fileno(), left_sock.fileno(), keeps_boundaries=True)
    left.held = []
    right = Endpoint("right", right_sock.fileno(), right_sock.fileno(), keeps_boundaries=True)
    _relay, thread, failures = _relay_in_thread(left, right)
    a.send(b"abc")  # one read; the wrapper delivers it as three packets
    b.settimeout(5)
    assert [b.recv(10) for _ in range(3)] == [b"a", b"b", b"c"]
    a.shutdown(socket.SHUT_WR)
    b.shutdown(socket.SHUT_WR)
    thread.join(5)
    assert not thread.is_alive() and not failures


class FailingEndpoint(Endpoint):
    """A source whose second read fails as a framing error does (a SocatError)."""

    reads: int = 0

    def receive(self, size: int) -> list[bytes] | None:
        self.reads += 1
        if self.reads > 1:
            raise SocatError("framed: bad frame at byte offset 5")
        return super().receive(size)


def test_an_error_in_the_steady_loop_ends_the_direction_and_passes_eof_on() -> None:
    errors = LOG.errors
    a, left_sock = socket.socketpair()
    right_sock, b = socket.socketpair()
    left = FailingEndpoint("left", left_sock.fileno(), left_sock.fileno())
    right = Endpoint("right", right_sock.fileno(), right_sock.fileno())
    _relay, thread, failures = _relay_in_thread(left, right, RelaySettings(close_timeout=0.2))
    a.send(b"first")
    b.settimeout(5)
    assert b.recv(100) == b"first"
    a.send(b"second")
    assert b.recv(100) == b""  # the error ended left to right: EOF is passed on
    thread.join(5)
    assert not thread.is_alive() and not failures
    assert LOG.errors == errors + 1  # the error was logged once, as an E line


@pytest.mark.parametrize("source_packet, target_packet, keeps, expected", [
    (0, 0, False, 8192),  # a stream: -b
    (0, 9000, True, 9000),  # a datagram bound for a TUN with MTU 9000 is read whole
    (65539, 262144, True, 65539),  # a TUN bound for a framed stream: its own packets, not the stream's chunks
    (262144, 65539, True, 262144),  # a framed stream is read in its large chunks
])
def test_one_read_asks_for_what_holds_a_packet_whole(source_packet: int, target_packet: int, keeps: bool,
                                                     expected: int) -> None:
    a, left_sock = socket.socketpair()
    right_sock, b = socket.socketpair()
    sizes: list[int] = []

    class Recording(Endpoint):
        def receive(self, size: int) -> list[bytes] | None:
            sizes.append(size)
            return None

    left = Recording("left", left_sock.fileno(), left_sock.fileno(), keeps_boundaries=keeps, packet_size=source_packet)
    right = Endpoint("right", right_sock.fileno(), right_sock.fileno(), packet_size=target_packet)
    a.send(b"x")
    Relay(left, right, RelaySettings(direction="left-to-right")).run()
    assert sizes == [expected]
