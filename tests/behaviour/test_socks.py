"""SOCKS4, SOCKS4A, SOCKS5-CONNECT and SOCKS5-LISTEN through real servers on 127.0.0.1:
Dante's sockd (SOCKS4 and SOCKS5, with and without username/password), and socat's own
socks4echo.sh / socks4a-echo.sh run by a listener as socat's test.sh runs them. Dante does
not speak SOCKS4a, so SOCKS4A meets socks4a-echo.sh (and is refused by Dante, as socat is).
Diagnostics are compared with the real socat 1.7.4.4 (which has no SOCKS5) where installed."""
from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import threading

import pytest

from pysocat.addresses.tunnel import default_user

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import error_lines, same_errors_as_socat, stop
from tests.behaviour.proxy_servers import (
    DANTE_PASSWORD, DANTE_USER, EchoServer, FakeProxy, start_dante, start_script_server, tunnel,
)
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat

PAYLOAD = random.Random(4).randbytes(1 << 20)


@pytest.fixture
def dante(tmp_path):
    proc, port = start_dante(tmp_path)
    yield port
    stop(proc)


@pytest.fixture
def dante_auth(tmp_path):
    proc, port = start_dante(tmp_path, auth=True)
    yield port
    stop(proc)


@pytest.fixture
def target():
    with EchoServer() as server:
        yield server


# ---------------------------------------------------------------- SOCKS4 through Dante

def test_socks4_through_dante_carries_every_byte(dante, target):
    rc, out, err = tunnel("-d", "-d", "-", f"SOCKS4:127.0.0.1:127.0.0.1:{target.port},socksport={dante}",
                          payload=PAYLOAD)
    assert rc == 0, err.decode()
    assert out == PAYLOAD
    lines = diagnostics(err)
    assert any(line.startswith(f"N opening connection to 127.0.0.1:{target.port} via socks4 server "
                               f"127.0.0.1:{dante} as user ") for line in lines)
    assert "N successfully connected via socks4" in lines


def test_socks4_refused_by_dantes_rules_as_socat_reports_it(dante, target):
    address = f"SOCKS4:127.0.0.1:127.0.0.2:{target.port},socksport={dante},socksuser=nobody"  # loopback, denied
    result = run_pysocat("-d", "-d", "-d", "-", address, input=b"")
    assert result.returncode == 1
    assert any(line.startswith("I received socks reply VN=0 CD=91 ") for line in diagnostics(result.stderr))
    assert error_lines(result.stderr) == ["E socks: connect request rejected or failed"]
    same_errors_as_socat("-", address, pysocat_stderr=result.stderr)
    assert target.connections == 0


def test_socks4a_is_not_spoken_by_dante(dante, target):
    """Dante takes the 4a request's 0.0.0.1 for the address and refuses it: socat alike."""
    address = f"SOCKS4A:127.0.0.1:localhost:{target.port},socksport={dante}"
    result = run_pysocat("-", address, input=b"")
    assert error_lines(result.stderr) == ["E socks: connect request rejected or failed"]
    same_errors_as_socat("-", address, pysocat_stderr=result.stderr)


# ---------------------------------------------------------------- socat's socks4echo.sh, socks4a-echo.sh

# The fake servers accept only the request of socat's test.sh: user "nobody", and for
# SOCKS4 the address 32.98.76.54:32109, which is only compared as bytes by the script:
# nothing is ever sent to it.
@pytest.mark.parametrize("keyword,script,host", [("socks4", "socks4echo.sh", "32.98.76.54"),
                                                 ("socks4a", "socks4a-echo.sh", "localhost")],
                         ids=["SOCKS4CONNECT_TCP4", "SOCKS4ACONNECT_TCP4"])
def test_socat_test_suites_socks4_echo(keyword, script, host):
    server, port = start_script_server("socat", script)
    try:
        data = b"socks test\r\n"
        result = run_pysocat("-", f"{keyword}:127.0.0.1:{host}:32109,pf=ip4,socksport={port},socksuser=nobody",
                             input=data)
    finally:
        stop(server)
    assert (result.returncode, result.stdout) == (0, data), result.stderr.decode()


@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_real_socat_socks4_client_of_socks4echo_run_by_pysocat():
    server, port = start_script_server("pysocat", "socks4echo.sh")
    try:
        data = b"interop\r\n"
        result = run_socat("-", f"socks4:127.0.0.1:32.98.76.54:32109,pf=ip4,socksport={port},socksuser=nobody",
                           input=data)
    finally:
        stop(server)
    assert (result.returncode, result.stdout) == (0, data), result.stderr.decode()


def test_socks4_wrong_user_is_refused_by_socks4echo():
    server, port = start_script_server("socat", "socks4echo.sh")
    try:
        address = f"socks4:127.0.0.1:32.98.76.54:32109,socksport={port},socksuser=somebody"
        result = run_pysocat("-", address, input=b"")
    finally:
        stop(server)
    assert error_lines(result.stderr) == ["E socks: connect request rejected or failed"]


# ---------------------------------------------------------------- SOCKS5 through Dante

@pytest.mark.parametrize("form", ["four-params", "socksport", "hostname", "experimental"])
def test_socks5_connect_through_dante(dante, target, form):
    if form == "hostname" and "localhost" not in open("/etc/hosts").read().split():
        pytest.skip("/etc/hosts has no localhost entry (no name may be resolved off this host)")
    args = {
        "four-params": ["-", f"SOCKS5:127.0.0.1:{dante}:127.0.0.1:{target.port}"],
        "socksport": ["-", f"SOCKS5-CONNECT:127.0.0.1:127.0.0.1:{target.port},socksport={dante}"],
        "hostname": ["-", f"SOCKS5-CONNECT:127.0.0.1:{dante}:localhost:{target.port}"],
        "experimental": ["--experimental", "-", f"SOCKS5:127.0.0.1:{dante}:127.0.0.1:{target.port}"],
    }[form]
    rc, out, err = tunnel("-d", "-d", "-d", *args, payload=PAYLOAD)
    assert rc == 0, err.decode()
    assert out == PAYLOAD
    lines = diagnostics(err)
    assert f"N connecting to socks5 server 127.0.0.1:{dante}" in lines
    assert (f"I sending socks5 request version=5 command=1 reserved=0 address_type="
            f"{3 if form == 'hostname' else 1}") in lines


def test_socks5_refused_by_dantes_rules(dante, target):
    result = run_pysocat("-", f"SOCKS5:127.0.0.1:{dante}:127.0.0.2:{target.port}", input=b"")
    assert (result.returncode, error_lines(result.stderr)) == (
        1, ["E SOCKS5 server error 2: connection not allowed by ruleset"])


def test_socks5_target_refusing_the_connection(dante):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nobody listens there now
    result = run_pysocat("-", f"SOCKS5:127.0.0.1:{dante}:127.0.0.1:{port}", input=b"")
    assert error_lines(result.stderr) == ["E SOCKS5 server error 5: connection refused"]


def test_socks5_username_password(dante_auth, target):
    address = f"SOCKS5:127.0.0.1:{dante_auth}:127.0.0.1:{target.port}"
    rc, out, err = tunnel("-d", "-d", "-d", "-", f"{address},socksuser={DANTE_USER},sockspass={DANTE_PASSWORD}",
                          payload=b"authenticated\n")
    assert (rc, out) == (0, b"authenticated\n"), err.decode()
    assert f'I sending SOCKS5 username/password authentication for user "{DANTE_USER}"' in diagnostics(err)
    wrong = run_pysocat("-", f"{address},socksuser={DANTE_USER},sockspass=wrong", input=b"")
    assert (wrong.returncode, error_lines(wrong.stderr)) == (
        1, ["E SOCKS5 username/password authentication failed (status 1)"])
    anonymous = run_pysocat("-", address, input=b"")
    assert error_lines(anonymous.stderr) == ["E SOCKS5 authentication negotiation failed - client & server have no "
                                        "common supported methods"]
    assert target.connections == 1


def test_socks5_user_defaults_to_logname(dante_auth, target):
    env = dict(os.environ, LOGNAME=DANTE_USER)
    rc, out, err = tunnel("-", f"SOCKS5:127.0.0.1:{dante_auth}:127.0.0.1:{target.port},sockspass={DANTE_PASSWORD}",
                          payload=b"x\n", env=env)
    assert (rc, out) == (0, b"x\n"), err.decode()


def _peer(port: int, data: bytes) -> bytes:
    """The peer that connects to the port the SOCKS server opened: real socat where it is
    installed (interop), else a plain socket; returns the line it received."""
    if SOCAT is not None:
        return run_socat("-t", "2", "-", f"TCP4:127.0.0.1:{port}", input=data).stdout
    with socket.create_connection(("127.0.0.1", port), timeout=10) as peer:
        peer.sendall(data)
        got = b""
        while b"\n" not in got and (chunk := peer.recv(100)):
            got += chunk
        return got


def test_socks5_listen_through_dante(dante):
    """BIND: Dante listens for us; the first peer to connect there is the stream."""

    feeder = subprocess.Popen(["sh", "-c", 'printf "to the peer\\n"; sleep 3'], stdout=subprocess.PIPE)
    listener = spawn("pysocat", "-d", "-d", "-d", f"SOCKS5-LISTEN:127.0.0.1:{dante}:127.0.0.1:18097", "-",
                     stdin=feeder.stdout)
    log = bytearray()

    def collect() -> None:
        while chunk := os.read(listener.stderr.fileno(), 4096):
            log.extend(chunk)

    collector = threading.Thread(target=collect, daemon=True)
    collector.start()
    try:
        def bound_port() -> int | None:
            match = re.search(rb"SOCKS5 server listens on 127\.0\.0\.1:(\d+)", bytes(log))
            return int(match.group(1)) if match else None

        wait_for(lambda: bound_port() or listener.poll() is not None, 20)
        assert listener.poll() is None, bytes(log).decode()
        got = _peer(bound_port(), b"from the peer\n")
        out = listener.stdout.read()
        listener.wait(timeout=20)
        collector.join(5)
    finally:
        stop(listener)
        feeder.kill()
        feeder.wait()
    assert got == b"to the peer\n"
    assert out == b"from the peer\n"
    lines = diagnostics(bytes(log))
    assert "N listening on remote host, waiting for connection" in lines
    assert "N received connection on remote host" in lines


# ---------------------------------------------------------------- scripted servers

def test_socks5_reply_and_the_bytes_behind_it():
    dialogue = [(3, b"\5\0"), (10, b"\5\0\0\3\x09localhost\x1f\x90" + b"EARLY")]
    with FakeProxy(dialogue=dialogue, echo=True) as server:
        rc, out, err = tunnel("-", f"SOCKS5:127.0.0.1:{server.port}:127.0.0.1:8080", payload=b"y" * 70000)
    assert rc == 0, err.decode()
    assert server.requests == [b"\5\1\0", bytes.fromhex("050100017f0000011f90")]
    assert out.startswith(b"EARLY") and out[5:] == b"y" * (len(out) - 5) and len(out) >= 70000


def test_socks4_undefined_status_with_sloppy_goes_on():
    """socat logs `socks: undefined status` as an error, which ends it, unless -s."""
    with FakeProxy(bytes([0, 85, 0, 0, 0, 0, 0, 0]) + b"data", http=False, request_size=18) as server:
        strict = run_pysocat("-", f"SOCKS4:127.0.0.1:127.0.0.1:1,socksport={server.port},socksuser=anonymous",
                             input=b"")
    with FakeProxy(bytes([0, 85, 0, 0, 0, 0, 0, 0]) + b"data", http=False, request_size=18) as server:
        sloppy = run_pysocat("-s", "-", f"SOCKS4:127.0.0.1:127.0.0.1:1,socksport={server.port},"
                             "socksuser=anonymous", input=b"")
    assert (strict.returncode, error_lines(strict.stderr), strict.stdout) == (1, ["E socks: undefined status 85"], b"")
    assert error_lines(sloppy.stderr) == ["E socks: undefined status 85"] and sloppy.stdout == b"data"


def test_socks4_connection_refused_reads_as_socat():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    address = f"SOCKS4:127.0.0.1:127.0.0.1:1000,socksport={port}"
    result = run_pysocat("-d", "-d", "-", address, input=b"")
    assert result.returncode == 1
    lines = diagnostics(result.stderr)
    assert lines[1:3] == [f"N opening connection to AF=2 127.0.0.1:{port}",
                          f'N opening connection to 127.0.0.1:1000 via socks4 server 127.0.0.1:{port} as user '
                          f'"{default_user()}"']
    assert error_lines(result.stderr) == [f"E connect(3, AF=2 127.0.0.1:{port}, 16): Connection refused"]
    same_errors_as_socat("-", address, pysocat_stderr=result.stderr)
