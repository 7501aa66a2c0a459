"""A forking listener under load: 200 clients at once, each with its own random payload of
up to 4 MiB, echoed intact (sha256 of what came back equals what was sent); afterwards
every child has been reaped and the listening parent holds exactly the descriptors it had
before. And max-children under pressure: never more than N children at once, the other
clients wait in the backlog and are served later. (test_fork.py has the functional
cases: SOCAT_PID, notices, UNIX sockets, a first look at max-children.)"""
from __future__ import annotations

import hashlib
import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.behaviour.helpers import children_of, spawn, wait_for
from tests.behaviour.net_helpers import free_port, stop, wait_tcp, zombies_of
from tests.conftest import diagnostics

CLIENTS = 200
MAX_PAYLOAD = 4 << 20
CHUNK = 256 << 10
IO_TIMEOUT = 120.0  # per socket operation: 200 clients and their children share two cores


def open_fds(pid: int) -> list[str]:
    """What each descriptor of `pid` refers to (socket:[inode], pipe:[inode], a path)."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            continue
    return sorted(found)


def hashed_echo(port: int, seed: int, size: int, start: threading.Barrier | None = None) -> tuple[str, str, int]:
    """Connects, streams `size` seeded random bytes while reading the echo, half-closes,
    reads to EOF. Returns the sha256 of what was sent and of what came back, and the count
    received. The payload is made and hashed chunk by chunk, so 200 clients of up to 4 MiB
    hold little memory."""
    rng = random.Random(seed)
    sent, received = hashlib.sha256(), hashlib.sha256()
    count = 0
    if start is not None:
        start.wait(IO_TIMEOUT)
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:

        def read_all() -> None:
            nonlocal count
            while chunk := sock.recv(CHUNK):
                received.update(chunk)
                count += len(chunk)

        reader = threading.Thread(target=read_all)
        reader.start()
        left = size
        while left:
            chunk = rng.randbytes(min(CHUNK, left))
            sent.update(chunk)
            sock.sendall(chunk)
            left -= len(chunk)
        sock.shutdown(socket.SHUT_WR)
        reader.join(IO_TIMEOUT)
        assert not reader.is_alive(), f"no EOF after {count} of {size} bytes"
    return sent.hexdigest(), received.hexdigest(), count


def test_two_hundred_concurrent_clients_get_their_bytes_back_and_nothing_is_left_behind():
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port},fork,reuseaddr,backlog={CLIENTS}", "PIPE")
    rng = random.Random(port)
    sizes = [rng.randint(0, MAX_PAYLOAD) for _ in range(CLIENTS)]
    sizes[:3] = [0, 1, MAX_PAYLOAD]  # the edges: nothing at all, one byte, the largest
    try:
        wait_tcp(port, server)
        before = open_fds(server.pid)
        start = threading.Barrier(CLIENTS)  # all connect at once: the backlog and the accept loop under load
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(lambda i: hashed_echo(port, port * 1000 + i, sizes[i], start), range(CLIENTS)))
        for size, (sent, received, count) in zip(sizes, results):
            assert (count, received) == (size, sent)
        # every child ends with its connection and is reaped by the listening parent
        wait_for(lambda: not children_of(server.pid), timeout=60, interval=0.05)
        assert zombies_of(server.pid) == []
        assert server.poll() is None  # the parent keeps listening...
        assert open_fds(server.pid) == before  # ...with the descriptors it had: none leaked
        assert hashed_echo(port, 1, 1000)[1:] == (hashlib.sha256(random.Random(1).randbytes(1000)).hexdigest(), 1000)
    finally:
        _out, err = stop(server)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert [line for line in diagnostics(err) if line[:2] in ("E ", "F ")] == []


def test_max_children_holds_under_pressure_and_the_waiting_clients_are_served_later():
    limit, clients, hold = 3, 30, 0.3
    port = free_port()
    # each child answers after `hold` seconds: with `limit` children at a time the last
    # client cannot be served before about clients/limit*hold seconds
    server = spawn("pysocat", "-d", "-d", f"TCP4-LISTEN:{port},fork,reuseaddr,backlog={clients},max-children={limit}",
                   f"SYSTEM:sleep {hold}; cat")
    peak, samples, stop_sampling = 0, 0, threading.Event()

    def sample() -> None:
        nonlocal peak, samples
        while not stop_sampling.is_set():
            peak = max(peak, len(children_of(server.pid)))
            samples += 1
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    try:
        wait_tcp(port, server)
        before = open_fds(server.pid)
        sampler.start()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(lambda i: hashed_echo(port, i, 1000 * i), range(clients)))
        elapsed = time.monotonic() - started
        for i, (sent, received, count) in enumerate(results):
            assert (count, received) == (1000 * i, sent)
        wait_for(lambda: not children_of(server.pid), timeout=30, interval=0.05)
        stop_sampling.set()
        sampler.join()
        assert zombies_of(server.pid) == [] and open_fds(server.pid) == before
    finally:
        stop_sampling.set()
        _out, err = stop(server)
    assert samples > 100
    assert peak == limit  # reached, never exceeded (children_of counts unreaped ones too)
    assert elapsed >= 0.9 * (clients // limit) * hold, elapsed  # the others really waited
    assert "N maxchildren are active, waiting" in diagnostics(err)


def slow_echo(port: int, size: int, pause: float) -> tuple[int, bool]:
    """Sends `size` bytes at full speed while reading the echo slowly (16 KiB per `pause`)
    on another thread; returns the count read and whether EOF came within the time."""
    received, finished = 0, threading.Event()
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:

        def read_slowly() -> None:
            nonlocal received
            while chunk := sock.recv(16384):
                received += len(chunk)
                time.sleep(pause)
            finished.set()

        reader = threading.Thread(target=read_slowly, daemon=True)
        reader.start()
        sock.sendall(os.urandom(size))
        sock.shutdown(socket.SHUT_WR)
        finished.wait(30)
    return received, finished.is_set()


def test_a_slow_reader_does_not_stall_an_echo_child():
    """A child relaying into its own echo pipe (or a program's input) must never wait for
    room there, since only it drains the other end: socat 1.7.4.4 can hang for good in
    that write when the client reads slowly (seen with PIPE); pysocat keeps what the target
    does not take and serves the other direction meanwhile."""
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port},fork,reuseaddr", "PIPE")
    try:
        wait_tcp(port, server)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: slow_echo(port, 4 << 20, 0.002), range(4)))
        assert results == [(4 << 20, True)] * 4
        wait_for(lambda: not children_of(server.pid), timeout=30, interval=0.05)
    finally:
        stop(server)
