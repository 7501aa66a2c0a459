"""UDP over loopback: connect, listen (with fork), sendto, recv, recvfrom (with fork) and
datagram; one datagram read is one write; SOCAT_* variables and notices as socat's; interop
with real socat; multicast and broadcast inside a network namespace the test creates."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from tests.behaviour.helpers import run, spawn
from tests.behaviour.net_helpers import free_port, stop, wait_udp
from tests.conftest import PYSOCAT, diagnostics, needs_socat, run_pysocat, run_socat

UDP = socket.SOCK_DGRAM


def _client(family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, UDP)
    sock.settimeout(20)
    return sock


def test_udp_listen_echoes_to_its_first_peer():
    port = free_port(UDP)
    server = spawn("pysocat", "-d", "-d", f"UDP4-LISTEN:{port}", "PIPE")
    try:
        wait_udp(port)
        client = _client()
        client.sendto(b"first", ("127.0.0.1", port))
        assert client.recvfrom(100) == (b"first", ("127.0.0.1", port))
        client.sendto(b"second", ("127.0.0.1", port))
        assert client.recv(100) == b"second"
        local = client.getsockname()[1]
        client.close()
    finally:
        _out, err = stop(server)
    lines = diagnostics(err)
    assert lines[:2] == [f"N listening on UDP AF=2 0.0.0.0:{port}",
                         f"N accepting UDP connection from AF=2 127.0.0.1:{local}"]


def test_udp_listen_fork_serves_several_peers():
    port = free_port(UDP)
    # a UDP child never sees EOF: -T ends it after inactivity, as with socat
    server = spawn("pysocat", "-T", "3", f"UDP4-LISTEN:{port},fork", "SYSTEM:echo $SOCAT_PID; cat",
                   start_new_session=True)
    children = set()
    try:
        wait_udp(port)
        clients = [_client() for _ in range(4)]
        for i, client in enumerate(clients):  # one after the other: the parent binds anew after each fork
            client.sendto(f"peer{i}\n".encode(), ("127.0.0.1", port))
            replies = b""
            while not replies.endswith(f"peer{i}\n".encode()):
                replies += client.recv(100)
            pid, echoed = replies.split(b"\n", 1)
            assert echoed == f"peer{i}\n".encode()
            children.add(pid)
        for i, client in enumerate(clients):  # each child still talks to its own peer only
            client.sendto(b"again\n", ("127.0.0.1", port))
            assert client.recv(100) == b"again\n"
            client.close()
    finally:
        stop(server)
    assert len(children) == 4 and str(server.pid).encode() not in children


@needs_socat
def test_udp_listen_variables_like_socat():
    found = {}
    for tool in ("socat", "pysocat"):
        port = free_port(UDP)
        server = spawn(tool, f"UDP4-LISTEN:{port}", "SYSTEM:env | grep -e ^SOCAT_PEER -e ^SOCAT_SOCK | sort")
        try:
            wait_udp(port)
            client = _client()
            client.sendto(b"x", ("127.0.0.1", port))
            text = client.recv(1000).decode()
            local = client.getsockname()[1]
            client.close()
        finally:
            stop(server)
        found[tool] = text.replace(str(local), "<client>").replace(str(port), "<port>")
    assert found["pysocat"] == found["socat"]
    assert "SOCAT_SOCKPORT=<port>" in found["pysocat"]


def test_udp_recvfrom_fork_replies_to_each_sender_and_sets_peer_variables():
    port = free_port(UDP)
    server = spawn("pysocat", f"UDP4-RECVFROM:{port},fork", "SYSTEM:echo $SOCAT_PEERPORT; cat",
                   start_new_session=True)
    try:
        wait_udp(port)
        for word in (b"a\n", b"b\n", b"c\n"):
            client = _client()
            client.sendto(word, ("127.0.0.1", port))
            replies = b""
            while not replies.endswith(word):
                data, sender = client.recvfrom(100)
                assert sender == ("127.0.0.1", port)
                replies += data
            assert replies == f"{client.getsockname()[1]}\n".encode() + word
            client.close()
    finally:
        stop(server)


def test_udp_sendto_writes_one_datagram_per_read():
    receiver = _client()
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    result = run_pysocat("-u", "-b", "4", "-", f"UDP4-SENDTO:127.0.0.1:{port}", input=b"abcdefghij")
    assert result.returncode == 0
    assert [receiver.recv(100) for _ in range(3)] == [b"abcd", b"efgh", b"ij"]
    receiver.close()


def test_udp_recv_merges_senders_and_keeps_boundaries():
    port = free_port(UDP)
    server = spawn("pysocat", "-u", f"UDP-RECV:{port}", "STDOUT")
    try:
        wait_udp(port)
        for text in (b"one\n", b"two\n"):
            sender = _client()
            sender.sendto(text, ("127.0.0.1", port))
            sender.close()
        out = b""
        while len(out) < 8:
            out += os.read(server.stdout.fileno(), 100)
    finally:
        stop(server)
    assert out == b"one\ntwo\n"


def test_udp6_connect_and_sendto_over_loopback():
    server = _client(socket.AF_INET6)
    server.bind(("::1", 0))
    port = server.getsockname()[1]
    client = spawn("pysocat", "-t", "5", "-", f"UDP6:[::1]:{port}", stdin=subprocess.PIPE)
    try:
        client.stdin.write(b"ping6\n")
        client.stdin.flush()
        data, peer = server.recvfrom(100)
        assert data == b"ping6\n"
        server.sendto(b"pong6\n", peer)
        assert os.read(client.stdout.fileno(), 100) == b"pong6\n"
    finally:
        client.stdin.close()
        client.stdin = None
        stop(client)
        server.close()


@needs_socat
@pytest.mark.parametrize("server_tool,client_tool", [("socat", "pysocat"), ("pysocat", "socat")])
def test_udp_interop_with_real_socat(server_tool: str, client_tool: str):
    port = free_port(UDP)
    server = spawn(server_tool, f"UDP4-RECVFROM:{port}", "SYSTEM:tr a-z A-Z")
    try:
        wait_udp(port)
        result = run(client_tool, "-t", "2", "-", f"UDP4:127.0.0.1:{port}", input=b"interop\n")
        assert result.stdout == b"INTEROP\n"
    finally:
        stop(server)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None,
                    reason="multicast/broadcast tests need root, unshare and ip for a private network namespace")
def test_multicast_and_broadcast_in_a_private_network_namespace(tmp_path):
    pysocat = PYSOCAT or f"{sys.executable} -m pysocat"
    script = f"""
set -e
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
ip addr add 198.18.0.1/15 dev lo
{pysocat} -u UDP4-RECV:47400,ip-add-membership=239.1.2.3:127.0.0.1 OPEN:{tmp_path}/mcast,creat,append & m=$!
{pysocat} -u UDP4-RECV:47401 OPEN:{tmp_path}/bcast,creat,append & b=$!
for i in $(seq 100); do ss -uln | grep -q 47401 && ss -uln | grep -q 47400 && break; sleep 0.05; done
echo mcast | {pysocat} -u - UDP4-DATAGRAM:239.1.2.3:47400,ip-multicast-loop=1,ip-multicast-ttl=1
echo bcast | {pysocat} -u - UDP4-DATAGRAM:198.19.255.255:47401,broadcast
for i in $(seq 100); do [ -s {tmp_path}/mcast ] && [ -s {tmp_path}/bcast ] && break; sleep 0.05; done
kill $m $b
"""
    result = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, timeout=60)
    if result.returncode != 0 and b"Operation not permitted" in result.stderr:
        pytest.skip("cannot create a network namespace here")
    assert (tmp_path / "mcast").read_bytes() == b"mcast\n", result.stderr
    assert (tmp_path / "bcast").read_bytes() == b"bcast\n", result.stderr
    no_broadcast = subprocess.run(["unshare", "-n", "sh", "-c",
                                   f"ip link set lo up; ip addr add 198.18.0.1/15 dev lo; echo x | {pysocat} -u - "
                                   f"UDP4-DATAGRAM:198.19.255.255:47401"], capture_output=True, timeout=60)
    assert b"Permission denied" in no_broadcast.stderr  # sendto() a broadcast address needs so-broadcast


@needs_socat
@pytest.mark.parametrize("make_address", [
    lambda tmp: f"UDP4-RECV:{free_port(UDP)}",
    lambda tmp: f"UNIX-RECV:{tmp}/recv.sock",
])
@pytest.mark.parametrize("stdin", [b"", b"hi\n"])
def test_receive_only_address_in_both_directions_is_socats(tmp_path, make_address, stdin: bytes) -> None:
    """A RECV address opposite `-`: stdin's EOF ends the relay (exit 0), and data from stdin
    is written as socat writes it, a sendto() without an address that the kernel refuses."""
    results = []
    for runner in (run_pysocat, run_socat):
        address = make_address(tmp_path)
        results.append(runner("-d0" if runner is run_pysocat else "-d", address, "-", input=stdin, timeout=20))
        if (tmp_path / "recv.sock").exists():
            (tmp_path / "recv.sock").unlink()
    ours, theirs = results
    assert ours.returncode == theirs.returncode == (1 if stdin else 0)
    strip = lambda lines: [re.sub(r"sendto\(\d+, 0x[0-9a-f]+", "sendto(FD, PTR", line) for line in lines if " E " in f" {line}"]
    assert strip(diagnostics(ours.stderr)) == strip(diagnostics(theirs.stderr))


def test_boundary_warning_only_for_a_direction_that_is_relayed() -> None:
    """-u - UDP-SENDTO relays stream to packets only: no warning about packets written to
    a stream (the reverse direction, which would lose boundaries, never runs)."""
    port = free_port(UDP)
    result = run_pysocat("-u", "-", f"UDP4-SENDTO:127.0.0.1:{port}", input=b"x\n")
    assert result.returncode == 0
    assert not [line for line in diagnostics(result.stderr) if "without their boundaries" in line]
    result = run_pysocat("-U", f"UDP4-SENDTO:127.0.0.1:{port}", "-", input=b"x\n")
    assert not [line for line in diagnostics(result.stderr) if "without their boundaries" in line]


@needs_socat
@pytest.mark.parametrize("sender", ["pysocat", "socat"])
def test_shut_null_sends_an_empty_datagram_that_null_eof_reads_as_eof(tmp_path, sender: str) -> None:
    """socat's SHUTNULLEOF: the sender's EOF becomes an empty datagram, and the receiver
    with null-eof stops at it, having written what came before."""
    port = free_port(UDP)
    out = tmp_path / "out"
    receiver = spawn("pysocat", "-u", f"UDP4-RECV:{port},null-eof", f"CREAT:{out}")
    try:
        wait_udp(port)
        runner = run_pysocat if sender == "pysocat" else run_socat
        assert runner("-u", "-", f"UDP4-SENDTO:127.0.0.1:{port},shut-null", input=b"hello\n").returncode == 0
        assert receiver.wait(timeout=20) == 0
        assert out.read_bytes() == b"hello\n"
    finally:
        stop(receiver)
