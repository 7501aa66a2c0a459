"""VSOCK-LISTEN / VSOCK-CONNECT (AF_VSOCK). What this machine allows is found out at test
time: the socket family itself, and the loopback transport (CID 1) that a data test needs;
where the kernel lacks one, the test says so in its skip reason. Errors are compared with
real socat's."""
from __future__ import annotations

import functools
import re
import socket
import time

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import stop
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat

ANY = 0xFFFFFFFF


def vsock_socket() -> socket.socket | None:
    try:
        return socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    except (OSError, AttributeError):
        return None


HAVE_VSOCK = vsock_socket() is not None
needs_vsock = pytest.mark.skipif(not HAVE_VSOCK, reason="this kernel has no AF_VSOCK sockets")


@functools.lru_cache(maxsize=None)
def loopback_problem() -> str:
    """'' when a connection to CID 1 (the vsock_loopback transport) works here, else why not."""
    listener, client = vsock_socket(), vsock_socket()
    if listener is None or client is None:
        return "this kernel has no AF_VSOCK sockets"
    try:
        listener.bind((ANY, ANY))
        listener.listen(1)
        client.settimeout(3)
        client.connect((1, listener.getsockname()[1]))
        return ""
    except OSError as err:
        return f"no VSOCK loopback transport in this kernel: connect to CID 1 failed ({err.strerror})"
    finally:
        listener.close()
        client.close()


def free_vsock_port() -> int:
    sock = vsock_socket()
    assert sock is not None
    with sock:
        sock.bind((ANY, ANY))  # the kernel picks a free port
        return sock.getsockname()[1]


def port_is_bound(port: int) -> bool:
    """Whether some socket holds VSOCK port `port` (ss --vsock needs vsock_diag, which this
    kernel may lack; a bind() that fails with EADDRINUSE is the kernel's own answer)."""
    sock = vsock_socket()
    assert sock is not None
    with sock:
        try:
            sock.bind((ANY, port))
        except OSError as err:
            return err.errno == 98  # EADDRINUSE
        return False


def ss_shows(port: int) -> bool | None:
    """Whether `ss --vsock -l` lists the port; None when ss cannot list VSOCK sockets here."""
    import shutil
    import subprocess

    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "--vsock", "-l", "-n"], capture_output=True, text=True, timeout=10).stdout
    rows = out.splitlines()[1:]
    if not rows:
        return None
    return any(re.search(rf":{port}\b", row) for row in rows)


def normalised(lines: list[str]) -> list[str]:
    return [re.sub(r"\((\d+), ", "(<fd>, ", line) for line in lines]


@needs_vsock
def test_listen_binds_the_port_and_says_so():
    port = free_vsock_port()
    server = spawn("pysocat", "-d", "-d", f"VSOCK-LISTEN:{port}", "PIPE")
    try:
        wait_for(lambda: port_is_bound(port) or server.poll() is not None, timeout=20)
        assert server.poll() is None
        assert port_is_bound(port)
        listed = ss_shows(port)
        assert listed in (None, True)  # where ss can list VSOCK sockets, it lists this one
    finally:
        _out, err = stop(server)
    lines = diagnostics(err)
    assert f"N listening on AF=40 cid:{ANY} port:{port}" in lines
    assert not port_is_bound(port)  # released again


@needs_vsock
def test_listen_bind_takes_a_cid_only():
    result = run_pysocat("VSOCK-LISTEN:1234,bind=1:99", "-")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == ["E port specification not allowed in this bind option"]


@needs_vsock
@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
@pytest.mark.parametrize("argv", [
    ("-", "VSOCK-CONNECT:abc:1"),
    ("-", "VSOCK-CONNECT:1:x1"),
    ("VSOCK-LISTEN:abc", "-"),
    ("-", "VSOCK-CONNECT:1:1,bind=x"),
], ids=["cid-garbage", "port-garbage", "listen-port-garbage", "bind-garbage"])
def test_parse_errors_as_socat(argv: tuple[str, ...]):
    mine, theirs = run_pysocat(*argv), run_socat(*argv)
    assert mine.returncode == theirs.returncode == 1
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)


@needs_vsock
@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_listen_bind_to_a_foreign_cid_fails_as_in_socat():
    port = free_vsock_port()
    argv = (f"VSOCK-LISTEN:{port},bind=7", "-")
    mine, theirs = run_pysocat(*argv), run_socat(*argv)
    assert mine.returncode == theirs.returncode == 1
    errors = [normalised([line]) for line in diagnostics(mine.stderr) if line.startswith("E ")]
    assert errors == [[f"E bind(<fd>, {{AF=40 cid:7 port:{port}}}, 16): Cannot assign requested address"]]
    assert errors == [normalised([line]) for line in diagnostics(theirs.stderr) if line.startswith("E ")]


@needs_vsock
@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_connect_failure_reads_as_socat():
    """With nobody listening: a timeout where CID 1 has no transport, a reset or refusal
    where it has one; either way the same E line as socat's, exit 1."""
    port = free_vsock_port()
    argv = ("-", f"VSOCK-CONNECT:1:{port},connect-timeout=0.5")
    mine, theirs = run_pysocat(*argv), run_socat(*argv)
    assert mine.returncode == theirs.returncode == 1
    ours = normalised([line for line in diagnostics(mine.stderr) if line.startswith("E ")])
    assert ours == normalised([line for line in diagnostics(theirs.stderr) if line.startswith("E ")])
    assert len(ours) == 1 and f"AF=40 cid:1 port:{port}" in ours[0]
    assert b"Traceback" not in mine.stderr


@needs_vsock
def test_connect_without_timeout_gives_the_system_error():
    port = free_vsock_port()
    started = time.monotonic()
    result = run_pysocat("-d", "-d", "-", f"VSOCK:1:{port}", timeout=60)
    lines = diagnostics(result.stderr)
    assert result.returncode == 1
    assert f"N opening connection to AF=40 cid:1 port:{port}" in lines
    assert re.fullmatch(rf"E connect\(\d+, AF=40 cid:1 port:{port}, 16\): .+", lines[-2]), lines
    assert time.monotonic() - started < 30


@needs_vsock
def test_version_advertises_vsock():
    out = run_pysocat("-V").stdout.decode()
    assert "  #define WITH_VSOCK 1" in out


@needs_vsock
def test_data_over_the_loopback_transport():
    problem = loopback_problem()
    if problem:
        pytest.skip(problem)
    port = free_vsock_port()
    server = spawn("pysocat", f"VSOCK-LISTEN:{port}", 'SYSTEM:echo "peer=$SOCAT_PEERADDR"; cat')
    try:
        wait_for(lambda: port_is_bound(port), timeout=20)
        client = run_pysocat("-t", "5", "-", f"VSOCK-CONNECT:1:{port}", input=b"over vsock\n", timeout=60)
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"peer=1\nover vsock\n"
    finally:
        stop(server)


@needs_vsock
def test_listen_fork_over_the_loopback_transport():
    problem = loopback_problem()
    if problem:
        pytest.skip(problem)
    port = free_vsock_port()
    server = spawn("pysocat", f"VSOCK-LISTEN:{port},fork", "PIPE", start_new_session=True)
    try:
        wait_for(lambda: port_is_bound(port), timeout=20)
        for round_ in range(3):
            payload = f"round {round_}\n".encode()
            client = run_pysocat("-", f"VSOCK-CONNECT:1:{port}", input=payload, timeout=60)
            assert client.stdout == payload
        assert server.poll() is None
    finally:
        stop(server)
