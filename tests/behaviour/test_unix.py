"""UNIX and ABSTRACT sockets: stream listen/connect, datagram sendto/recv/recvfrom, client
fallback to datagram and seqpacket, unlink-early/unlink-close, SOCAT_* variables, interop
with real socat and socat's diagnostics."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from tests.behaviour.helpers import run, spawn, wait_for
from tests.behaviour.net_helpers import abstract_bound, echo_roundtrip, stop, wait_path
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat


def test_unix_listen_connect_round_trip_and_socket_removed(tmp_path):
    path = str(tmp_path / "s")
    server = spawn("pysocat", f"UNIX-LISTEN:{path}", "PIPE")
    try:
        wait_path(path)
        payload = os.urandom(100_000)
        result = run_pysocat("-", f"UNIX-CONNECT:{path}", input=payload)
        assert result.stdout == payload
        assert server.wait(timeout=30) == 0  # one connection, then the server ends by itself
    finally:
        stop(server)
    assert not os.path.exists(path)  # unlink-close is the default for UNIX-LISTEN


@needs_socat
@pytest.mark.parametrize("server_tool,client_tool", [("socat", "pysocat"), ("pysocat", "socat")])
def test_unix_interop_with_real_socat(tmp_path, server_tool: str, client_tool: str):
    path = str(tmp_path / "s")
    server = spawn(server_tool, f"UNIX-LISTEN:{path}", "EXEC:cat")
    try:
        wait_path(path)
        result = run(client_tool, "-", f"UNIX:{path}", input=b"both ways\n")
        assert result.stdout == b"both ways\n"
    finally:
        stop(server)


@needs_socat
def test_unix_variables_like_socat(tmp_path):
    found = {}
    for tool in ("socat", "pysocat"):
        path = str(tmp_path / f"{tool}.sock")
        server = spawn(tool, f"UNIX-LISTEN:{path}", "SYSTEM:env | grep -e ^SOCAT_PEER -e ^SOCAT_SOCK | sort")
        try:
            wait_path(path)
            found[tool] = echo_roundtrip(socket.AF_UNIX, path, b"").decode().replace(path, "<path>")
        finally:
            stop(server)
    assert found["pysocat"] == found["socat"] == "SOCAT_PEERADDR=<anon>\nSOCAT_SOCKADDR=<path>\n"


@needs_socat
def test_existing_path_errors_and_unlink_early(tmp_path):
    path = str(tmp_path / "taken")
    open(path, "w").close()
    ours = run_pysocat(f"UNIX-LISTEN:{path}", "-", input=b"")
    theirs = run_socat(f"UNIX-LISTEN:{path}", "-", input=b"")
    assert ours.returncode == theirs.returncode == 1
    assert diagnostics(ours.stderr)[-1].replace("(3,", "(5,") == diagnostics(theirs.stderr)[-1]
    server = spawn("pysocat", f"UNIX-LISTEN:{path},unlink-early", "PIPE")
    try:
        wait_for(lambda: os.path.exists(path) and __import__("stat").S_ISSOCK(os.stat(path).st_mode), 20)
        assert echo_roundtrip(socket.AF_UNIX, path, b"new") == b"new"
    finally:
        stop(server)


@needs_socat
def test_connect_to_missing_socket_is_socats_error(tmp_path):
    path = str(tmp_path / "missing")
    ours = run_pysocat("-d", "-d", "-", f"UNIX-CONNECT:{path}", input=b"")
    theirs = run_socat("-d", "-d", "-", f"UNIX-CONNECT:{path}", input=b"")
    assert ours.returncode == theirs.returncode == 1
    assert diagnostics(ours.stderr) == diagnostics(theirs.stderr)


def test_abstract_listen_and_connect():
    name = f"pysocat-test-{uuid.uuid4().hex}"
    server = spawn("pysocat", "-d", "-d", f"ABSTRACT-LISTEN:{name}", "PIPE")
    try:
        wait_for(lambda: abstract_bound(name), 20)
        result = run_pysocat("-", f"ABSTRACT-CONNECT:{name}", input=b"abstract\n")
        assert result.stdout == b"abstract\n"
    finally:
        _out, err = stop(server)
    assert f'N listening on AF=1 "\\0{name}"' in diagnostics(err)


def test_abstract_has_no_named_options():
    result = run_pysocat("ABSTRACT-LISTEN:x,unlink-early", "-", input=b"")
    assert diagnostics(result.stderr) == ['E parseopts_table(): option "unlink-early" not supported with this address type']


def test_unix_sendto_and_recv_keep_datagram_boundaries(tmp_path):
    path = str(tmp_path / "d")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(path)
    receiver.settimeout(20)
    result = run_pysocat("-u", "-b", "4", "-", f"UNIX-SENDTO:{path}", input=b"abcdefghij")
    assert result.returncode == 0
    got = [receiver.recv(100) for _ in range(3)]
    assert got == [b"abcd", b"efgh", b"ij"]  # one read, one datagram
    receiver.close()
    os.unlink(path)
    server = spawn("pysocat", "-u", f"UNIX-RECV:{path}", "STDOUT")
    try:
        wait_path(path)
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for packet in (b"one\n", b"two\n"):
            sender.sendto(packet, path)
        out = b""
        while len(out) < 8:
            out += os.read(server.stdout.fileno(), 100)
    finally:
        stop(server)
    assert out == b"one\ntwo\n"


def test_unix_recvfrom_replies_to_the_sender(tmp_path):
    path, client_path = str(tmp_path / "srv"), str(tmp_path / "cli")
    server = spawn("pysocat", f"UNIX-RECVFROM:{path},fork", "SYSTEM:tr a-z A-Z")
    try:
        wait_path(path)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        client.bind(client_path)
        client.settimeout(20)
        for word in (b"hello\n", b"again\n"):
            client.sendto(word, path)
            assert client.recvfrom(100) == (word.upper(), path)
        client.close()
    finally:
        stop(server)


def test_unix_client_falls_back_to_datagram_and_to_seqpacket(tmp_path):
    path = str(tmp_path / "dgram")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(path)
    receiver.settimeout(20)
    assert run_pysocat("-u", "-", f"UNIX-CLIENT:{path}", input=b"dgram\n").returncode == 0
    assert receiver.recv(100) == b"dgram\n"
    receiver.close()
    seq = str(tmp_path / "seq")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(seq)
    listener.listen()
    listener.settimeout(20)
    refused = run_pysocat("-u", "-", f"UNIX-CONNECT:{seq}", input=b"x")  # socat: UNIX-CONNECT does not fall back
    assert refused.returncode == 1
    assert diagnostics(refused.stderr)[-1].endswith(": Protocol wrong type for socket")
    client = spawn("pysocat", "-u", "-b", "3", "-", f"UNIX-CLIENT:{seq}", stdin=__import__("subprocess").PIPE)
    try:
        conn, _ = listener.accept()
        client.stdin.write(b"abcdef")
        client.stdin.close()
        client.stdin = None
        conn.settimeout(20)
        assert [conn.recv(100), conn.recv(100)] == [b"abc", b"def"]
        conn.close()
    finally:
        stop(client)
        listener.close()
