"""Forking servers: a real process per connection, the second address opened in the child,
many concurrent clients with large random payloads echoed intact, children reaped (no
zombies), max-children enforced, and the child's SOCAT_PID/SOCAT_PPID as socat sets them."""
from __future__ import annotations

import hashlib
import os
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.behaviour.helpers import children_of, spawn, wait_for
from tests.behaviour.net_helpers import echo_roundtrip, free_port, stop, wait_tcp, zombies_of
from tests.conftest import diagnostics

CLIENTS = 100


# EXEC:cat runs with -t 30: the engine's -t is a deadline from the first EOF, not socat's
# inactivity wait, so under load cat's late output would be cut off (reported to the lead).
@pytest.mark.parametrize("echo", [("PIPE",), ("-t", "30", "EXEC:cat")], ids=["PIPE", "EXEC-cat"])
def test_tcp_listen_fork_serves_concurrent_clients(echo: tuple[str, ...]):
    port = free_port()
    *globals_, second = echo
    server = spawn("pysocat", *globals_, f"TCP4-LISTEN:{port},fork,reuseaddr,backlog=128", second)
    rng = random.Random(port)
    clients = CLIENTS if second == "PIPE" else CLIENTS // 2
    payloads = [rng.randbytes(rng.randint(0, 1 << 20 if i % 10 == 0 else 1 << 16)) for i in range(clients)]
    try:
        wait_tcp(port, server)
        with ThreadPoolExecutor(max_workers=50) as pool:
            echoed = list(pool.map(lambda p: echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), p, 60), payloads))
        for sent, got in zip(payloads, echoed):
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(sent).hexdigest(), (len(sent), len(got))
        # every child ends with its connection and is reaped by the listening parent
        wait_for(lambda: not children_of(server.pid), timeout=30, interval=0.05)
        assert zombies_of(server.pid) == []
        assert server.poll() is None  # the parent keeps listening
    finally:
        stop(server)


def test_max_children_is_enforced():
    port = free_port()
    server = spawn("pysocat", "-d", "-d", f"TCP4-LISTEN:{port},fork,max-children=2", "SYSTEM:sleep 0.6; echo done")
    peak = 0
    try:
        wait_tcp(port, server)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(5)]
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            peak = max(peak, len(children_of(server.pid)))
            time.sleep(0.01)
        for client in clients:
            data = b""
            while chunk := client.recv(100):
                data += chunk
            assert data == b"done\n"
            client.close()
    finally:
        _out, err = stop(server)
    assert 1 <= peak <= 2
    assert "N maxchildren are active, waiting" in diagnostics(err)


def test_fork_child_has_its_own_pid_and_the_parent_as_ppid():
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port},fork", "SYSTEM:echo $SOCAT_PID $SOCAT_PPID")
    try:
        wait_tcp(port, server)
        pids = []
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
                pids.append(client.makefile().read().split())
    finally:
        stop(server)
    for child_pid, parent_pid in pids:
        assert parent_pid == str(server.pid) and child_pid != parent_pid
    assert pids[0][0] != pids[1][0]


def test_fork_parent_notices_like_socat():
    port = free_port()
    server = spawn("pysocat", "-d", "-d", f"TCP4-LISTEN:{port},fork", "SYSTEM:echo hi")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            assert client.makefile("rb").read() == b"hi\n"
            local = client.getsockname()[1]
        wait_for(lambda: not children_of(server.pid), timeout=20)
    finally:
        _out, err = stop(server)
    lines = [line for line in err.decode().splitlines() if f"[{server.pid}]" in line]
    texts = [line.split("] ", 1)[1] for line in lines]
    assert texts[:4] == [f"N listening on AF=2 0.0.0.0:{port}",
                         f"N accepting connection from AF=2 127.0.0.1:{local} on AF=2 127.0.0.1:{port}",
                         texts[2], f"N listening on AF=2 0.0.0.0:{port}"]
    assert texts[2].startswith("N forked off child process ")


def _unix_listening(path: str) -> bool:
    """/proc/net/unix lists a listening socket with the __SO_ACCEPTCON flag (00010000)."""
    with open("/proc/net/unix") as table:
        return any(line.split()[3] == "00010000" and line.rstrip().endswith(" " + path) for line in table
                   if len(line.split()) >= 8)


def test_unix_listen_fork_keeps_the_socket_file_until_the_parent_ends(tmp_path):
    path = str(tmp_path / "srv.sock")
    server = spawn("pysocat", f"UNIX-LISTEN:{path},fork", "PIPE")
    try:
        wait_for(lambda: _unix_listening(path), timeout=20)  # the file exists before listen()
        for i in range(3):
            assert echo_roundtrip(socket.AF_UNIX, path, b"x" * (1000 * i)) == b"x" * (1000 * i)
        wait_for(lambda: not children_of(server.pid), timeout=20)
        assert os.path.exists(path)
    finally:
        stop(server)
    assert not os.path.exists(path)
