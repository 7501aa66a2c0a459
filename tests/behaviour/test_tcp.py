"""TCP over loopback: connect and listen (4/6), interop with real socat both ways, socket
options read back with getsockopt() on the very socket pysocat opened, the SOCAT_* variables,
retry/connect-timeout/accept-timeout/range/sourceport/bind, and socat's exact diagnostics."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import struct
import sys
import time

import pytest

from tests.behaviour.helpers import no_traceback, spawn
from tests.behaviour.net_helpers import free_port, normalised, recv_until_eof, stop, wait_tcp
from tests.conftest import SOCAT, diagnostics, needs_socat, pysocat_command, run_pysocat, run_socat

# A program that replaces pysocat (nofork) with the socket as its stdin and reports the
# socket options it finds on it: what pysocat really set, read back with getsockopt().
PROBE = r"""
import json, socket, struct
s = socket.socket(fileno=0)
g = lambda level, name: s.getsockopt(level, name)
out = {
    "nodelay": g(socket.IPPROTO_TCP, socket.TCP_NODELAY),
    "keepalive": g(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
    "keepidle": g(socket.IPPROTO_TCP, 4), "keepintvl": g(socket.IPPROTO_TCP, 5), "keepcnt": g(socket.IPPROTO_TCP, 6),
    "sndbuf": g(socket.SOL_SOCKET, socket.SO_SNDBUF), "rcvbuf": g(socket.SOL_SOCKET, socket.SO_RCVBUF),
    "linger": list(struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))),
    "ttl": g(socket.IPPROTO_IP, socket.IP_TTL), "tos": g(socket.IPPROTO_IP, socket.IP_TOS),
    "rcvtimeo": list(struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))),
    "sndtimeo": list(struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16))),
    "priority": g(socket.SOL_SOCKET, 12),
    "device": s.getsockopt(socket.SOL_SOCKET, 25, 16).split(b"\0")[0].decode(),
    "peer": s.getpeername()[1], "local": s.getsockname(),
    "env": {k: v for k, v in __import__("os").environ.items() if k.startswith("SOCAT_")},
}
s.detach()
import os; os.write(1, json.dumps(out).encode())
"""

SOCKET_OPTIONS = ("nodelay,keepalive,keepidle=33,keepintvl=7,keepcnt=4,sndbuf=65536,rcvbuf=70000,linger=5,"
                  "ttl=33,tos=16,rcvtimeo=1.5,sndtimeo=2.5,priority=3")


def _check_probe(report: dict) -> None:
    assert report["nodelay"] == 1 and report["keepalive"] == 1
    assert (report["keepidle"], report["keepintvl"], report["keepcnt"]) == (33, 7, 4)
    assert report["sndbuf"] == 2 * 65536 and report["rcvbuf"] == 2 * 70000  # the kernel doubles them
    assert report["linger"] == [1, 5]
    assert (report["ttl"], report["tos"]) == (33, 16)
    assert report["rcvtimeo"] == [1, 500000] and report["sndtimeo"] == [2, 500000]
    assert report["priority"] == 3


def _probe_command() -> str:
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pysocat-probe-{os.getpid()}.py")
    with open(path, "w") as handle:
        handle.write(PROBE)
    return f"{sys.executable} {path}"


def test_tcp_listen_and_connect_relay_bytes_both_ways():
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port}", "PIPE")
    try:
        wait_tcp(port, server)
        payload = os.urandom(300_000)
        result = run_pysocat("-", f"TCP:127.0.0.1:{port}", input=payload)
        assert result.returncode == 0, result.stderr
        assert result.stdout == payload
        no_traceback(result)
        assert server.wait(timeout=30) == 0  # one connection, then the server ends by itself
    finally:
        stop(server)


def test_tcp6_with_brackets_and_pf():
    port = free_port(family=socket.AF_INET6)
    server = spawn("pysocat", "-d", "-d", f"TCP-LISTEN:{port},pf=ip6,bind=[::1]", "PIPE")
    try:
        wait_tcp(port, server)
        result = run_pysocat("-d", "-d", "-", f"TCP6:[::1]:{port}", input=b"six\n")
        assert result.stdout == b"six\n"
        assert f"N opening connection to AF=10 [0000:0000:0000:0000:0000:0000:0000:0001]:{port}" in \
            diagnostics(result.stderr)
    finally:
        _out, err = stop(server)
    assert f"N listening on AF=10 [0000:0000:0000:0000:0000:0000:0000:0001]:{port}" in diagnostics(err)


@needs_socat
@pytest.mark.parametrize("server_tool,client_tool", [("socat", "pysocat"), ("pysocat", "socat")])
def test_interop_with_real_socat(server_tool: str, client_tool: str):
    port = free_port()
    server = spawn(server_tool, f"TCP-LISTEN:{port},reuseaddr", "EXEC:cat")
    try:
        wait_tcp(port, server)
        payload = os.urandom(200_000)
        from tests.behaviour.helpers import run

        result = run(client_tool, "-", f"TCP4:localhost:{port}", input=payload)
        assert result.stdout == payload
    finally:
        stop(server)


@needs_socat
def test_children_get_socat_peer_and_sock_variables_like_socat():
    found = {}
    for tool in ("socat", "pysocat"):
        port = free_port()
        server = spawn(tool, f"TCP4-LISTEN:{port},reuseaddr", "SYSTEM:env | grep ^SOCAT_ | sort")
        try:
            wait_tcp(port, server)
            with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
                client.shutdown(socket.SHUT_WR)
                local_port = client.getsockname()[1]
                text = recv_until_eof(client).decode()
        finally:
            stop(server)
        env = dict(line.split("=", 1) for line in text.splitlines())
        assert env["SOCAT_PEERADDR"] == "127.0.0.1" and env["SOCAT_PEERPORT"] == str(local_port)
        assert env["SOCAT_SOCKADDR"] == "127.0.0.1" and env["SOCAT_SOCKPORT"] == str(port)
        assert env["SOCAT_PID"] == env["SOCAT_PPID"] == str(server.pid)
        found[tool] = set(env)
    assert found["pysocat"] == found["socat"]


def test_ipv6_peer_variables_use_socats_long_form():
    port = free_port(family=socket.AF_INET6)
    server = spawn("pysocat", f"TCP6-LISTEN:{port}", "SYSTEM:env | grep ^SOCAT_ | sort")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("::1", port), timeout=20) as client:
            client.shutdown(socket.SHUT_WR)
            text = recv_until_eof(client).decode()
    finally:
        stop(server)
    assert "SOCAT_PEERADDR=[0000:0000:0000:0000:0000:0000:0000:0001]" in text
    assert f"SOCAT_SOCKPORT={port}" in text


def test_listen_socket_options_are_really_set_on_the_accepted_socket():
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port},{SOCKET_OPTIONS},so-bindtodevice=lo", f"EXEC:{_probe_command()},nofork")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            report = json.loads(recv_until_eof(client))
    finally:
        stop(server)
    _check_probe(report)
    assert report["device"] == "lo"


def test_connect_socket_options_bind_and_sourceport_are_really_set():
    port, source = free_port(), free_port()
    listener = socket.create_server(("127.0.0.1", port))
    client = spawn("pysocat", f"TCP:127.0.0.1:{port},{SOCKET_OPTIONS},bind=127.0.0.2,sp={source},"
                              f"setsockopt-int=6:3:0,setsockopt-bin=1:9:x01000000,setsockopt-string=1:25:lo",
                   f"EXEC:{_probe_command()},nofork")
    try:
        listener.settimeout(20)
        conn, peer = listener.accept()
        assert peer == ("127.0.0.2", source)
        report = json.loads(recv_until_eof(conn))
        conn.close()
    finally:
        listener.close()
        stop(client)
    _check_probe(report)
    assert report["local"] == ["127.0.0.2", source]
    assert report["keepalive"] == 1 and report["device"] == "lo"  # set again by setsockopt-bin/-string


@needs_socat
@pytest.mark.parametrize("target", ["TCP:127.0.0.1:{closed}", "TCP6:[::1]:{closed}", "TCP4:127.0.0.1:notaport",
                                    "TCP6:[::1]:notaport", "TCP:127.0.0.1:{closed},retry=2,interval=0.05"])
def test_connect_errors_are_socats(target: str):
    closed = free_port()
    address = target.format(closed=closed)
    ours = run_pysocat("-d", "-d", "-", address, input=b"")
    theirs = run_socat("-d", "-d", "-", address, input=b"")
    assert ours.returncode == theirs.returncode == 1
    assert normalised(diagnostics(ours.stderr)) == normalised(diagnostics(theirs.stderr))


@needs_socat
def test_listen_errors_are_socats():
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for extra in ("", ",reuseaddr"):
            ours = run_pysocat("-d", "-d", f"TCP4-LISTEN:{port}{extra}", "-", input=b"")
            theirs = run_socat("-d", "-d", f"TCP4-LISTEN:{port}{extra}", "-", input=b"")
            assert ours.returncode == theirs.returncode == 1
            assert normalised(diagnostics(ours.stderr)) == normalised(diagnostics(theirs.stderr))
    assert diagnostics(run_pysocat("TCP4-LISTEN:notaport", "-").stderr) == \
        ['E getaddrinfo"NULL", "notaport", {1,2,1,0}, {}): Servname not supported for ai_socktype']


@needs_socat
def test_accept_timeout_warns_and_exits_0_like_socat():
    for tool, runner in (("pysocat", run_pysocat), ("socat", run_socat)):
        started = time.monotonic()
        result = runner("-d", "-d", f"TCP4-LISTEN:{free_port()},accept-timeout=0.3", "-", input=b"")
        assert result.returncode == 0, tool
        assert diagnostics(result.stderr)[1:] == ["W accept: Connection timed out",
                                                  "N Waiting for child processes to terminate"], tool
        assert time.monotonic() - started < 10


def test_connect_timeout_gives_up_on_a_peer_that_never_answers():
    port = free_port()
    full = socket.socket()
    full.bind(("127.0.0.1", port))
    full.listen(0)
    filler = socket.create_connection(("127.0.0.1", port))  # fills the accept queue: SYNs are dropped
    try:
        started = time.monotonic()
        result = run_pysocat("-", f"TCP:127.0.0.1:{port},connect-timeout=0.4", input=b"")
        elapsed = time.monotonic() - started
    finally:
        filler.close()
        full.close()
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [f"E connecting to AF=2 127.0.0.1:{port}: Connection timed out"]
    assert elapsed < 10


def test_retry_connects_once_the_server_appears():
    port = free_port()
    client = spawn("pysocat", "-", f"TCP:127.0.0.1:{port},retry=200,interval=0.05", stdin=__import__("subprocess").PIPE)
    time.sleep(0.3)
    server = spawn("pysocat", f"TCP4-LISTEN:{port}", "PIPE")
    try:
        out, err = client.communicate(b"late\n", timeout=30)
    finally:
        stop(server)
    assert out == b"late\n", err
    assert client.returncode == 0


def test_forever_keeps_trying():
    port = free_port()
    client = spawn("pysocat", "-d", "-d", "-d", "-", f"TCP:127.0.0.1:{port},forever,interval=0.05")
    time.sleep(1.0)
    assert client.poll() is None  # still trying
    _out, err = stop(client)
    assert sum("I connect(" in line and "Connection refused" in line for line in diagnostics(err)) >= 3


@pytest.mark.parametrize("allowed,accepted", [("10.0.0.0/8", False), ("127.0.0.0/8", True),
                                              ("127.0.0.1:255.255.255.255", True), ("10.1.2.3:255.0.0.0", False)])
def test_range_refuses_peers_outside(allowed: str, accepted: bool):
    port = free_port()
    server = spawn("pysocat", "-d", "-d", f"TCP4-LISTEN:{port},range={allowed},accept-timeout=3", "SYSTEM:echo in")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.shutdown(socket.SHUT_WR)
            local = client.getsockname()[1]
            try:
                data = recv_until_eof(client)
            except ConnectionResetError:
                data = b""
    finally:
        _out, err = stop(server)
    assert (data == b"in\n") == accepted
    refused = f"W refusing connection from AF=2 127.0.0.1:{local} due to range option"
    assert (refused in diagnostics(err)) == (not accepted)


def test_ipv6_range_and_v6only():
    port = free_port(family=socket.AF_INET6)
    server = spawn("pysocat", f"TCP6-LISTEN:{port},ipv6only=0,range=[::ffff:127.0.0.0]/104", "SYSTEM:echo mapped")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            assert recv_until_eof(client) == b"mapped\n"
    finally:
        stop(server)
    port = free_port(family=socket.AF_INET6)
    server = spawn("pysocat", f"TCP6-LISTEN:{port},ipv6only=1", "SYSTEM:echo six")
    try:
        wait_tcp(port, server)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=20)
        with socket.create_connection(("::1", port), timeout=20) as client:
            assert recv_until_eof(client) == b"six\n"
    finally:
        stop(server)


def test_sourceport_filters_peers_when_listening():
    port, wanted = free_port(), free_port()
    server = spawn("pysocat", "-d", "-d", f"TCP4-LISTEN:{port},sp={wanted},fork", "SYSTEM:echo ok")
    try:
        wait_tcp(port, server)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as wrong:
            try:
                assert recv_until_eof(wrong) == b""
            except ConnectionResetError:
                pass
        right = socket.socket()
        right.bind(("127.0.0.1", wanted))
        right.settimeout(20)
        right.connect(("127.0.0.1", port))
        assert recv_until_eof(right) == b"ok\n"
        right.close()
    finally:
        _out, err = stop(server)
    assert any("due to wrong sourceport" in line for line in diagnostics(err))


@pytest.mark.skipif(os.geteuid() != 0, reason="lowport binds a privileged port: needs root")
def test_lowport_uses_a_privileged_source_port():
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    client = spawn("pysocat", "-u", "-", f"TCP:127.0.0.1:{port},lowport")
    try:
        listener.settimeout(20)
        conn, peer = listener.accept()
        conn.close()
    finally:
        listener.close()
        stop(client)
    assert 640 <= peer[1] <= 1023


@pytest.mark.parametrize("address,message", [
    ("TCP:x", "E TCP: wrong number of parameters (1 instead of 2): usage: TCP:<host>:<port>"),
    ("tcp4-listen", "E tcp4-listen: wrong number of parameters (0 instead of 1): usage: tcp4-listen:<port>"),
    ("TCP:1.2.3.4:5,unlink-early", 'E parseopts_table(): option "unlink-early" not supported with this address type'),
])
def test_usage_errors(address: str, message: str):
    result = run_pysocat(address, "-", input=b"")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [message]


def test_tcp_and_listen_features_in_version():
    out = run_pysocat("-V").stdout.decode()
    for feature in ("TCP", "IP4", "IP6", "LISTEN", "RETRY", "UDP", "UNIX", "ABSTRACT_UNIXSOCKET"):
        assert re.search(rf"^  #define WITH_{feature} 1$", out, re.M), feature


def test_linger_struct_value_is_seconds():
    assert struct.calcsize("ii") == 8  # the probe's layout of struct linger


@pytest.mark.parametrize("env, flags, family", [
    ({"SOCAT_DEFAULT_LISTEN_IP": "6"}, [], socket.AF_INET6),
    ({"SOCAT_DEFAULT_LISTEN_IP": "4"}, [], socket.AF_INET),
    ({"SOCAT_DEFAULT_LISTEN_IP": "6"}, ["-4"], socket.AF_INET),
    ({"SOCAT_DEFAULT_LISTEN_IP": "4"}, ["-6"], socket.AF_INET6),
])
def test_listen_ip_version_from_socat_default_listen_ip(env, flags, family) -> None:
    """socat's ENV_LISTEN_4/6 tests: the variable picks the listen family, -4/-6 override it."""
    port = free_port(family=family)
    server = spawn("pysocat", *flags, f"TCP-LISTEN:{port},reuseaddr", "PIPE", env={**os.environ, **env})
    try:
        wait_tcp(port, server)
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        with socket.create_connection((host, port), timeout=20) as client:
            client.sendall(b"ping\n")
            client.shutdown(socket.SHUT_WR)
            assert client.recv(100) == b"ping\n"
    finally:
        stop(server)


def test_refused_connection_ends_with_eof_even_after_the_peer_wrote() -> None:
    """range= refuses a peer that has already sent data: it must read a clean EOF (socat's
    test TCP4RANGEBITS counts a reset as a client error)."""
    port = free_port()
    server = spawn("pysocat", f"TCP4-LISTEN:{port},reuseaddr,fork,range=127.1.0.1/32", "ECHO")
    try:
        wait_tcp(port, server)
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
                client.sendall(b"x" * 1000)
                assert client.recv(100) == b""  # not ConnectionResetError
    finally:
        stop(server)


@needs_socat
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare: resolved inside a network namespace with no interface up")
@pytest.mark.parametrize("address", [
    "TCP::1", "TCP6:127.0.0.1:1", "TCP:127.0.0.1:1x", "TCP4:[::1]:80", "TCP:[nosuch]:80", "TCP:127.0.0.1:foo",
    "TCP:127.0.0.1:0x50", "TCP4-LISTEN:foo", "TCP:127.0.0.1:", "UDP4-SENDTO:127.0.0.1:1x",
    "TCP6-LISTEN:80,bind=127.0.0.1", "UDP4-SENDTO:127.0.0.1:80,bind=:5000",
])
def test_address_resolution_diagnostics_are_socats(address: str) -> None:
    """xiogetaddrinfo(): numeric ports by strtoul (trailing text warned), names looked up
    with the protocol in the hints, service names with the host, empty host and port."""
    results = []
    for tool in (pysocat_command(), [SOCAT]):
        done = subprocess.run(["unshare", "-n", *tool, "-d", "-u", "/dev/null", address],
                              capture_output=True, timeout=20)
        lines = [re.sub(r"\(\d+, AF", "(FD, AF", line) for line in diagnostics(done.stderr)]
        results.append((done.returncode, [line for line in lines if not line.startswith("N ")]))
    assert results[0] == results[1]
