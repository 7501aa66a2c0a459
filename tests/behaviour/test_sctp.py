"""SCTP-CONNECT / SCTP-LISTEN. Whether the kernel has SCTP is found out at test time
(socket(AF_INET, SOCK_STREAM, 132)): without it pysocat must fail as socat does (its
socket() error, exit 1, no traceback) and -V must say #undef WITH_SCTP; with it, data
flows and messages keep their boundaries. The data tests skip, naming the reason, where
the kernel lacks SCTP."""
from __future__ import annotations

import socket

import pytest

from tests.behaviour.helpers import spawn
from tests.behaviour.net_helpers import stop
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat


def kernel_sctp_error() -> str:
    """'' when this kernel creates SCTP sockets, else the system's reason."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()
        return ""
    except OSError as err:
        return err.strerror or str(err)


MISSING = kernel_sctp_error()
without_sctp = pytest.mark.skipif(not MISSING, reason="this kernel has SCTP: the missing-SCTP path cannot be seen")
with_sctp = pytest.mark.skipif(bool(MISSING), reason=f"this kernel has no SCTP (socket(2, 1, 132): {MISSING})")
needs_socat = pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")


@without_sctp
@pytest.mark.parametrize("argv, expected", [
    (("SCTP-LISTEN:1234", "-"), ["E socket(2, 1, 132): Protocol not supported"]),
    (("SCTP4-L:1234", "-"), ["E socket(2, 1, 132): Protocol not supported"]),
    (("SCTP6-LISTEN:1234", "-"), ["E socket(10, 1, 132): Protocol not supported"]),
    (("-d", "-d", "-", "SCTP:127.0.0.1:9"), ["N reading from and writing to stdio",
                                             "N opening connection to AF=2 127.0.0.1:9",
                                             "E socket(2, 1, 132): Protocol not supported", "N exit(1)"]),
])
def test_without_kernel_support_the_error_is_socats(argv: tuple[str, ...], expected: list[str]):
    result = run_pysocat(*argv)
    assert result.returncode == 1
    assert diagnostics(result.stderr) == expected
    assert b"Traceback" not in result.stderr


@without_sctp
@needs_socat
@pytest.mark.parametrize("argv", [("SCTP-LISTEN:1234", "-"), ("-d", "-d", "-", "SCTP6:[::1]:9"),
                                  ("SCTP-LISTEN:1234,fork,reuseaddr,range=127.0.0.1/8", "PIPE")])
def test_without_kernel_support_same_as_real_socat(argv: tuple[str, ...]):
    mine, theirs = run_pysocat(*argv), run_socat(*argv)
    assert mine.returncode == theirs.returncode == 1
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)


@without_sctp
def test_version_says_undef_without_kernel_support():
    out = run_pysocat("-V").stdout.decode()
    assert "  #undef WITH_SCTP" in out.splitlines()


@with_sctp
def test_version_says_define_with_kernel_support():
    out = run_pysocat("-V").stdout.decode()
    assert "  #define WITH_SCTP 1" in out.splitlines()


def test_sctp_options_parse_and_tcp_ones_are_refused():
    explained = run_pysocat("--explain", "SCTP-LISTEN:1234,sctp-nodelay,sctp-maxseg=1200,fork", "PIPE")
    assert explained.returncode == 0, explained.stderr
    refused = run_pysocat("SCTP-LISTEN:1234,tcp-nodelay", "PIPE")
    assert refused.returncode == 1
    assert diagnostics(refused.stderr) == [
        'E parseopts_table(): option "tcp-nodelay" not supported with this address type']


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sctp_listening(port: int) -> bool:
    try:
        with open("/proc/net/sctp/eps") as handle:
            return any(f" {port} " in line for line in handle)
    except OSError:
        return False


@with_sctp
def test_echo_over_sctp():
    from tests.behaviour.helpers import wait_for

    port = _free_port()
    server = spawn("pysocat", f"SCTP4-LISTEN:{port},sctp-nodelay", "PIPE")
    try:
        wait_for(lambda: _sctp_listening(port) or server.poll() is not None, timeout=20)
        client = run_pysocat("-t", "2", "-", f"SCTP4-CONNECT:127.0.0.1:{port},sctp-nodelay", input=b"hello sctp\n")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"hello sctp\n"
    finally:
        stop(server)


@with_sctp
def test_sctp_messages_keep_their_boundaries():
    """Three messages sent to a PIPE echo come back as three messages (one recv each)."""
    from tests.behaviour.helpers import wait_for

    port = _free_port()
    server = spawn("pysocat", f"SCTP4-LISTEN:{port}", "PIPE")
    try:
        wait_for(lambda: _sctp_listening(port) or server.poll() is not None, timeout=20)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132) as client:
            client.settimeout(20)
            client.connect(("127.0.0.1", port))
            sent = [b"a" * 10, b"b" * 2000, b"c" * 3]
            for message in sent:
                client.send(message)
            got = [client.recv(65536) for _ in sent]
        assert got == sent
    finally:
        stop(server)

