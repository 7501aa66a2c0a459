"""fork on a connecting address (TCP-CONNECT): socat's "gender changer". After each connection
the parent hands it to a child process and connects again (after `interval`, sooner when a
child ends), until a connect fails: then it exits 1 with the connect error. retry/forever
keep it trying; max-children bounds the children at a time. Compared with real socat
against the same loopback server."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import stop
from tests.conftest import SOCAT, diagnostics, needs_socat


class CountingServer:
    """Accepts `count` connections on loopback, closing the listening socket with the last
    accept (the next connect is refused); sends `hi <n>` on each, half-closes, keeps
    what comes back until EOF. `concurrent` serves each connection in its own thread, so that overlapping
    connections can be seen in `times` (accepted, closed)."""

    def __init__(self, count: int, port: int = 0, concurrent: bool = False) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.count, self.concurrent = count, concurrent
        self.echoes: dict[int, bytes] = {}
        self.peers: list[int] = []
        self.times: list[tuple[float, float]] = []
        self.handlers: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(30)
        try:
            for index in range(self.count):
                conn, peer = self.listener.accept()
                if index == self.count - 1:
                    # closed at once, before this connection is served: the next connect is
                    # refused, never queued on a listener about to close (that one would
                    # get a reset instead, for socat as for pysocat)
                    self.listener.close()
                self.peers.append(peer[1])
                if self.concurrent:
                    handler = threading.Thread(target=self._handle, args=(index, conn), daemon=True)
                    handler.start()
                    self.handlers.append(handler)
                else:
                    self._handle(index, conn)
        finally:
            self.listener.close()

    def _handle(self, index: int, conn: socket.socket) -> None:
        accepted = time.monotonic()
        conn.settimeout(30)
        data = b""
        try:
            conn.sendall(f"hi {index}\n".encode())
            conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(4096):
                data += chunk
        except OSError:
            pass  # a peer that closed at once (the test's own last connection)
        conn.close()
        self.echoes[index] = data
        self.times.append((accepted, time.monotonic()))

    def join(self) -> None:
        self.thread.join(30)
        for handler in self.handlers:
            handler.join(30)
        assert not self.thread.is_alive(), "the server did not see all its connections"

    def echoed(self) -> list[bytes]:
        return [self.echoes[index] for index in sorted(self.echoes)]

    def most_at_once(self) -> int:
        return max(sum(1 for start, end in self.times if start <= moment < end) for moment, _ in self.times)


def _run(tool: str, *address: str) -> tuple[int, list[str]]:
    proc = spawn(tool, "-d", "-d", *address)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, diagnostics(err)


def test_the_parent_connects_again_for_every_child_until_refused():
    server = CountingServer(3)
    rc, lines = _run("pysocat", f"TCP4:127.0.0.1:{server.port},fork,interval=0.1", "SYSTEM:cat")
    server.join()
    assert server.echoed() == [b"hi 0\n", b"hi 1\n", b"hi 2\n"]  # each child echoed its own connection
    assert len(set(server.peers)) == 3  # three separate connections
    forks = [line for line in lines if line.startswith("N forked off child process")]
    assert len(forks) >= 3  # the parent's three (SYSTEM's forks add their own)
    assert rc == 1
    assert lines[-2].startswith(f"E connect(") and lines[-2].endswith(
        f"AF=2 127.0.0.1:{server.port}, 16): Connection refused"), lines
    assert "Traceback" not in "\n".join(lines)


@needs_socat
def test_same_connections_and_exit_as_real_socat():
    results = {}
    for tool in ("socat", "pysocat"):
        server = CountingServer(2)
        rc, lines = _run(tool, f"TCP4:127.0.0.1:{server.port},fork,interval=0.1", "SYSTEM:cat")
        server.join()
        tail = [line.replace(f":{server.port}", ":<port>") for line in lines if line[:1] in "WE"]
        tail = [line.split("(", 1)[0] + "(<fd>," + line.split(",", 1)[1] if "connect(" in line else line
                for line in tail]
        results[tool] = (rc, server.echoed(), tail)
    assert results["pysocat"] == results["socat"]


def test_forever_keeps_connecting_until_a_server_appears():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = spawn("pysocat", f"TCP4:127.0.0.1:{port},fork,forever,interval=0.1", "SYSTEM:cat")
    try:
        time.sleep(0.5)  # several refused attempts, logged at I (not shown): it keeps trying
        assert client.poll() is None
        server = CountingServer(2, port=port)
        server.join()
        assert server.echoed() == [b"hi 0\n", b"hi 1\n"]
        time.sleep(0.3)
        assert client.poll() is None  # forever: refused again, and still trying
    finally:
        _out, err = stop(client)
    assert b"Connection refused" not in err  # those failures are I messages, below the default level


def test_retry_budget_is_the_parents_for_its_whole_life():
    """retry=2 allows two failed connects in all: after the server's 2 connections, the
    parent tries 3 more times (2 retries), the last failure is E, exit 1."""
    server = CountingServer(2)
    proc = spawn("pysocat", "-d", "-d", "-d", f"TCP4:127.0.0.1:{server.port},fork,retry=2,interval=0.05",
                 "SYSTEM:cat")
    _out, err = proc.communicate(timeout=60)
    server.join()
    lines = diagnostics(err)
    refused = [line for line in lines if "Connection refused" in line and "connect(" in line]
    assert [line[0] for line in refused] == ["I", "I", "E"], lines
    assert proc.returncode == 1


@pytest.mark.parametrize("limit", [1, 0], ids=["max-children=1", "unlimited"])
def test_max_children_bounds_the_connections_at_a_time(limit: int):
    """Each child holds its connection for 0.5 s (its SYSTEM child sleeps before it exits);
    the parent reconnects after 0.05 s, so without a limit connections overlap."""
    server = CountingServer(3, concurrent=True)
    option = f",max-children={limit}" if limit else ""
    proc = spawn("pysocat", "-d", "-d", "-d", f"TCP4:127.0.0.1:{server.port},fork,interval=0.05{option}",
                 "SYSTEM:cat; sleep 0.5")
    _out, err = proc.communicate(timeout=60)
    server.join()
    lines = diagnostics(err)
    assert server.echoed() == [b"hi 0\n", b"hi 1\n", b"hi 2\n"]
    if limit:
        assert "I all 1 allowed children are active, waiting" in lines, lines
        assert server.most_at_once() == 1, server.times
    else:
        assert server.most_at_once() >= 2, server.times
    assert proc.returncode == 1


def test_without_fork_there_is_one_connection_only():
    server = CountingServer(2)
    rc, lines = _run("pysocat", f"TCP4:127.0.0.1:{server.port}", "SYSTEM:cat")
    assert rc == 0
    assert sum(line.startswith("N successfully connected") for line in lines) == 1
    wait_for(lambda: server.echoed() == [b"hi 0\n"])
    socket.create_connection(("127.0.0.1", server.port)).close()  # releases the server's second accept
    server.join()


@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_fork_is_not_an_option_of_unix_connect_as_in_socat():
    from tests.behaviour.helpers import both

    mine, theirs = both("-", "UNIX-CONNECT:/nonexistent/x,fork")
    assert mine.returncode == theirs.returncode == 1
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr) == [
        'E parseopts_table(): option "fork" not supported with this address type']
