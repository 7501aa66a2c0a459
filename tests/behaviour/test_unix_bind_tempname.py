"""Names of UNIX client sockets: unix-bind-tempname (socat 1.8; 1.7.4.4 lacks it), bind= in
the abstract namespace for ABSTRACT-*, unix-tightsocklen, and which bound names are removed
at close (as socat: UNIX-CONNECT and UNIX-SENDTO remove theirs, UNIX-CLIENT keeps a bind=
name). The servers are the tests' own sockets, which see the client's name as the peer."""
from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import threading

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import abstract_bound, stop
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat

needs_socat = pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")


class StreamServer:
    """One connection on a UNIX stream socket: records the peer's name and what arrives,
    answers `answer`."""

    def __init__(self, address: str | bytes, answer: bytes = b"ok\n") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.peer: str | bytes | None = None
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, self.peer = self.sock.accept()
        with conn:
            conn.sendall(self.answer)
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(30)
            while conn.recv(4096):
                pass

    def join(self) -> None:
        self.thread.join(30)
        self.sock.close()


def test_unix_connect_binds_a_fresh_name_and_removes_it(tmp):
    server = StreamServer(str(tmp / "srv"))
    result = run_pysocat("-", f"UNIX-CONNECT:{tmp}/srv,bind-tempname={tmp}/client.XXXXXX")
    server.join()
    assert result.returncode == 0 and result.stdout == b"ok\n"
    assert re.fullmatch(rf"{re.escape(str(tmp))}/client\.[A-Za-z0-9]{{6}}", server.peer or ""), server.peer
    assert sorted(os.listdir(tmp)) == ["srv"]  # the temporary name is gone with the connection


def test_the_default_pattern_is_socats(tmp):
    server = StreamServer(str(tmp / "srv"))
    result = run_pysocat("-", f"UNIX-CONNECT:{tmp}/srv,unix-bind-tempname")
    server.join()
    assert result.returncode == 0
    assert re.fullmatch(r"/tmp/socat-bind\.[A-Za-z0-9]{6}", server.peer or ""), server.peer
    assert not os.path.exists(server.peer)


def test_two_clients_get_different_names(tmp):
    names = []
    for index in range(2):
        server = StreamServer(str(tmp / f"srv{index}"))
        run_pysocat("-", f"UNIX-CONNECT:{tmp}/srv{index},bind-tempname={tmp}/c.XXXXXX")
        server.join()
        names.append(server.peer)
    assert names[0] != names[1]


def test_abstract_connect_binds_an_abstract_temporary_name(tmp):
    name = f"pysocat-test-{os.getpid()}-srv"
    server = StreamServer("\0" + name)
    result = run_pysocat("-", f"ABSTRACT-CONNECT:{name},bind-tempname=pysocat-test-XXXXXX", cwd=tmp)
    server.join()
    assert result.returncode == 0
    assert isinstance(server.peer, bytes) and re.fullmatch(rb"\0pysocat-test-[A-Za-z0-9]{6}", server.peer)
    assert os.listdir(tmp) == []  # no file system entry named like it


def test_abstract_connect_bind_is_abstract_as_in_socat(tmp):
    name = f"pysocat-test-{os.getpid()}-srv2"
    server = StreamServer("\0" + name)
    result = run_pysocat("-", f"ABSTRACT-CONNECT:{name},bind=pysocat-test-{os.getpid()}-cli", cwd=tmp)
    server.join()
    assert result.returncode == 0
    assert server.peer == f"\0pysocat-test-{os.getpid()}-cli".encode()
    assert os.listdir(tmp) == []  # not a file named like it in the working directory


def test_sendto_with_a_temporary_name_gets_the_servers_reply(tmp):
    """A datagram server can answer a client only when the client socket has a name."""
    path = str(tmp / "dgram")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(30)
    senders = []

    def serve() -> None:
        data, sender = server.recvfrom(100)
        senders.append(sender)
        server.sendto(data.upper(), sender)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = spawn("pysocat", "-", f"UNIX-SENDTO:{path},bind-tempname={tmp}/c.XXXXXX", stdin=subprocess.PIPE)
    try:
        client.stdin.write(b"ping\n")
        client.stdin.flush()
        thread.join(30)
        ready, _, _ = select.select([client.stdout], [], [], 20)
        assert ready, "no reply reached the client"
        assert os.read(client.stdout.fileno(), 100) == b"PING\n"
        assert re.fullmatch(rf"{re.escape(str(tmp))}/c\.[A-Za-z0-9]{{6}}", senders[0])
    finally:
        stop(client)
        server.close()
    assert sorted(os.listdir(tmp)) == ["dgram"]  # removed at close, on SIGTERM too (unlink-close is the default)


def test_bind_and_bind_tempname_exclude_each_other(tmp):
    cases = {"UNIX-CONNECT": "unix-bind-tempnam", "UNIX-CLIENT": "unix-bind-tempname",
             "UNIX-SENDTO": "bind-tempnam"}  # socat's own words differ per address type
    for keyword, word in cases.items():
        result = run_pysocat("-", f"{keyword}:{tmp}/x,bind={tmp}/b,bind-tempname")
        assert result.returncode == 1
        assert diagnostics(result.stderr) == [f"E do not use both options bind and {word}"]


def test_a_pattern_without_xxxxxx_is_refused(tmp):
    result = run_pysocat("-", f"UNIX-CONNECT:{tmp}/x,bind-tempname={tmp}/fixed")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [f'W xio_tempnam("{tmp}/fixed"): path pattern is not valid',
                                          f'E tempnam("{tmp}/fixed"): Invalid argument']


@needs_socat
@pytest.mark.parametrize("keyword, removed", [("UNIX-CONNECT", True), ("UNIX-CLIENT", False)])
def test_a_bind_name_is_removed_or_kept_as_in_socat(tmp, keyword: str, removed: bool):
    for tool, run in (("pysocat", run_pysocat), ("socat", run_socat)):
        server = StreamServer(str(tmp / f"srv-{tool}"))
        result = run("-", f"{keyword}:{tmp}/srv-{tool},bind={tmp}/cli-{tool}")
        server.join()
        assert result.returncode == 0
        assert os.path.exists(tmp / f"cli-{tool}") is not removed, tool


@needs_socat
def test_non_tight_abstract_names_as_socat(tmp):
    """unix-tightsocklen=0: the name is the whole padded sun_path, so only a non-tight
    client reaches a non-tight server; pysocat's listener and client against socat's."""
    name = f"pysocat-tsl-{os.getpid()}"
    server = spawn("pysocat", f"ABSTRACT-LISTEN:{name},unix-tightsocklen=0", "SYSTEM:echo hi")
    try:
        wait_for(lambda: abstract_bound(name + "@" * (107 - len(name))), timeout=20)  # /proc shows NULs as @
        tight = run_socat("-", f"ABSTRACT-CONNECT:{name}")
        assert tight.returncode == 1 and b"Connection refused" in tight.stderr
        loose = run_socat("-", f"ABSTRACT-CONNECT:{name},unix-tightsocklen=0")
        assert loose.returncode == 0 and loose.stdout == b"hi\n"
    finally:
        stop(server)
    server = spawn("socat", f"ABSTRACT-LISTEN:{name}-2,unix-tightsocklen=0", "SYSTEM:echo there")
    try:
        wait_for(lambda: abstract_bound(f"{name}-2" + "@" * (105 - len(name))), timeout=20)
        loose = run_pysocat("-", f"ABSTRACT-CONNECT:{name}-2,unix-tightsocklen=0")
        assert loose.returncode == 0 and loose.stdout == b"there\n"
    finally:
        stop(server)
    mine, theirs = (run("-", f"ABSTRACT-CONNECT:{name}-none,unix-tightsocklen=0") for run in (run_pysocat, run_socat))
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)
    assert mine.returncode == theirs.returncode == 1
