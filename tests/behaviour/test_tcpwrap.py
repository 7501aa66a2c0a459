"""tcpwrap through the real libwrap.so.0: hosts.allow / hosts.deny written to tmp_path and named
with tcpwrap-etc (or the table options), never /etc's. Peers are 127.0.0.1 and 127.0.0.2, and
the patterns are addresses or ALL, with one name (localhost, in /etc/hosts) for 127.0.0.1, so
libwrap never asks DNS; the IPv6 checks run in a network namespace of their own (root), where
a reverse lookup of ::1 cannot leave the host."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.behaviour.helpers import no_traceback, spawn
from tests.behaviour.net_helpers import free_port, normalised, stop, wait_tcp, wait_udp
from tests.conftest import diagnostics, needs_socat, pysocat_command, run_pysocat

from pysocat.net import libwrap

pytestmark = pytest.mark.skipif(not libwrap.available(), reason="libwrap.so.0 is not installed")


def tables(directory: Path, allow: str, deny: str = "ALL: ALL\n") -> str:
    (directory / "hosts.allow").write_text(allow)
    (directory / "hosts.deny").write_text(deny)
    return str(directory)


def tcp_exchange(port: int, source: str, payload: bytes = b"ping\n") -> bytes:
    """Connects from `source`, sends, and reads until EOF: the echo, or nothing when refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        data = b""
        try:  # a refused connection may be closed before the request is even sent
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(4096):
                data += chunk
        except (ConnectionResetError, BrokenPipeError, OSError) as err:
            if isinstance(err, TimeoutError):
                raise
        return data


def serve_tcp(tool: str, port: int, options: str, *flags: str) -> subprocess.Popen:
    proc = spawn(tool, "-d", "-d", "-d", *flags, f"TCP4-LISTEN:{port},reuseaddr,fork,{options}", "PIPE",
                 start_new_session=True)
    wait_tcp(port, proc)
    return proc


def warnings_and_permits(stderr: bytes) -> list[str]:
    return [line for line in normalised(diagnostics(stderr)) if "tcpwrapper" in line or line.startswith("W ")]


def test_allowed_peer_is_served_and_a_denied_one_refused(tmp_path: Path) -> None:
    etc = tables(tmp_path, "pysocat: 127.0.0.1\n")
    port = free_port()
    proc = serve_tcp("pysocat", port, f"tcpwrap-etc={etc}")
    try:
        assert tcp_exchange(port, "127.0.0.1") == b"ping\n"
        assert tcp_exchange(port, "127.0.0.2") == b""
    finally:
        _out, err = stop(proc)
    lines = warnings_and_permits(err)
    assert "I permitting connection from AF=2 127.0.0.1:<port> due to tcpwrapper option" in lines
    assert "W refusing connection from AF=2 127.0.0.2:<port> due to tcpwrapper option" in lines
    assert "Traceback" not in err.decode()


def test_the_daemon_name_is_the_program_name_or_tcpwrap_value(tmp_path: Path) -> None:
    """hosts.allow names `guard`: only tcpwrap=guard (or -lp guard) matches; pysocat's own
    name then falls to hosts.deny's ALL."""
    etc = tables(tmp_path, "guard: 127.0.0.1\n")
    for options, flags, served in ((f"tcpwrap-etc={etc}", (), False),
                                   (f"tcpwrap=guard,tcpwrap-etc={etc}", (), True),
                                   (f"tcpwrap-etc={etc}", ("-lp", "guard"), True)):
        port = free_port()
        proc = serve_tcp("pysocat", port, options, *flags)
        try:
            assert (tcp_exchange(port, "127.0.0.1") == b"ping\n") is served, (options, flags)
        finally:
            stop(proc)


def test_table_options_name_the_files(tmp_path: Path) -> None:
    """hosts-allow= / hosts-deny= instead of a directory; allow wins over deny, and a
    peer in neither is permitted (libwrap's rule)."""
    (tmp_path / "a").write_text("pysocat: 127.0.0.2\n")
    (tmp_path / "d").write_text("pysocat: 127.0.0.1\n")
    port = free_port()
    proc = serve_tcp("pysocat", port, f"hosts-allow={tmp_path / 'a'},hosts-deny={tmp_path / 'd'}")
    try:
        assert tcp_exchange(port, "127.0.0.2") == b"ping\n"
        assert tcp_exchange(port, "127.0.0.1") == b""
        assert tcp_exchange(port, "127.0.0.3") == b"ping\n"
    finally:
        stop(proc)


def test_a_name_pattern_resolves_through_libwrap(tmp_path: Path) -> None:
    """`localhost` matches 127.0.0.1 by its /etc/hosts name: libwrap's own sock_hostname."""
    hosts = Path("/etc/hosts").read_text().split()
    if "localhost" not in hosts:
        pytest.skip("/etc/hosts names no localhost")
    etc = tables(tmp_path, "pysocat: localhost\n")
    port = free_port()
    proc = serve_tcp("pysocat", port, f"tcpwrap-etc={etc}")
    try:
        assert tcp_exchange(port, "127.0.0.1") == b"ping\n"
    finally:
        stop(proc)


def test_tcpwrap_with_range_needs_both(tmp_path: Path) -> None:
    etc = tables(tmp_path, "pysocat: 127.0.0.1 127.0.0.2\n")
    port = free_port()
    proc = serve_tcp("pysocat", port, f"tcpwrap-etc={etc},range=127.0.0.2/32")
    try:
        assert tcp_exchange(port, "127.0.0.1") == b""
        assert tcp_exchange(port, "127.0.0.2") == b"ping\n"
    finally:
        _out, err = stop(proc)
    assert "W refusing connection from AF=2 127.0.0.1:<port> due to range option" in warnings_and_permits(err)


def test_udp_recv_drops_datagrams_of_denied_senders(tmp_path: Path) -> None:
    etc = tables(tmp_path, "pysocat: 127.0.0.1\n")
    port = free_port(socket.SOCK_DGRAM)
    proc = spawn("pysocat", "-d", "-d", "-u", f"UDP4-RECV:{port},tcpwrap-etc={etc}", "STDOUT",
                 start_new_session=True)
    wait_udp(port)
    for source, payload in (("127.0.0.2", b"denied\n"), ("127.0.0.1", b"allowed\n")):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((source, 0))
            sock.sendto(payload, ("127.0.0.1", port))
    time.sleep(1.0)  # both datagrams are on loopback: read (or dropped) well within this
    out, err = stop(proc)
    assert out == b"allowed\n"
    assert "W refusing connection from AF=2 127.0.0.2:<port> due to tcpwrapper option" in warnings_and_permits(err)


def test_a_tcpwrap_option_outside_the_range_group_is_refused() -> None:
    result = run_pysocat("-", "TCP:127.0.0.1:1,tcpwrap")
    assert result.returncode == 1
    assert 'option "tcpwrappers"' in result.stderr.decode() or "tcpwrap" in result.stderr.decode()
    no_traceback(result)


def test_version_says_libwrap_is_there() -> None:
    result = run_pysocat("-V")
    assert "  #define WITH_LIBWRAP 1" in result.stdout.decode().splitlines()


@needs_socat
def test_same_warnings_as_socat(tmp_path: Path) -> None:
    """With the daemon name given (socat and pysocat are named differently), the two log the
    same permit and refusal lines for the same peers."""
    etc = tables(tmp_path, "guard: 127.0.0.1\n")
    seen = {}
    for tool in ("socat", "pysocat"):
        port = free_port()
        proc = serve_tcp(tool, port, f"tcpwrap=guard,tcpwrap-etc={etc}")
        try:
            replies = (tcp_exchange(port, "127.0.0.1"), tcp_exchange(port, "127.0.0.2"))
        finally:
            _out, err = stop(proc)
        lines = [line for line in warnings_and_permits(err) if "due to tcpwrapper" in line]
        seen[tool] = (replies, lines)
    assert seen["pysocat"] == seen["socat"]
    assert seen["socat"][0] == (b"ping\n", b"")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_ipv6_peer_in_its_own_namespace(tmp_path: Path) -> None:
    """[::1] in hosts.allow; in a new network namespace (only lo), so the reverse lookup
    libwrap makes for a bracketed pattern cannot reach a name server."""
    etc = tables(tmp_path, "pysocat: [::1]\n")
    script = f"""
import socket, subprocess, sys, time
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
server = subprocess.Popen({pysocat_command()!r} + ["-d", "-d", "TCP6-LISTEN:7070,reuseaddr,tcpwrap-etc={etc}", "PIPE"],
                          stderr=subprocess.PIPE)
for _ in range(200):
    try:
        s = socket.create_connection(("::1", 7070), timeout=5); break
    except OSError:
        time.sleep(0.05)
s.sendall(b"six\\n"); s.shutdown(socket.SHUT_WR)
data = s.recv(100)
server.wait(timeout=20)
sys.stdout.write(repr(data) + "\\n" + server.stderr.read().decode())
"""
    result = subprocess.run(["unshare", "-n", sys.executable, "-c", script], capture_output=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    if result.returncode != 0 and b"unshare" in result.stderr:
        pytest.skip(f"unshare -n failed: {result.stderr.decode()[:200]}")
    out = result.stdout.decode()
    assert out.startswith("b'six\\n'"), (out, result.stderr.decode())
    assert "refusing" not in out


def test_a_generic_ipv4_listen_socket_is_wrapped_too(tmp_path: Path) -> None:
    """SOCKET-LISTEN:2:6:<sockaddr>: socat asks libwrap for an AF_INET generic socket too."""
    etc = tables(tmp_path, "pysocat: 127.0.0.1\n")
    port = free_port()
    sockaddr = "".join(f"x{b:02x}" for b in port.to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8))
    proc = spawn("pysocat", "-d", "-d", f"SOCKET-LISTEN:2:6:{sockaddr},reuseaddr,fork,tcpwrap-etc={etc}", "PIPE",
                 start_new_session=True)
    wait_tcp(port, proc)
    try:
        assert tcp_exchange(port, "127.0.0.2") == b""
        assert tcp_exchange(port, "127.0.0.1") == b"ping\n"
    finally:
        _out, err = stop(proc)
    assert "W refusing connection from AF=2 127.0.0.2:<port> due to tcpwrapper option" in warnings_and_permits(err)
