"""Real proxy servers for the PROXY and SOCKS tests, started on 127.0.0.1 by the tests:
tinyproxy (HTTP CONNECT), Dante's sockd (SOCKS4, SOCKS5, username/password), socat's own
proxyecho.sh / socks4echo.sh / socks4a-echo.sh run by a TCP listener, a threaded echo
target and a scripted one-answer fake proxy. Every server listens on 127.0.0.1 only and
may connect onward to 127.0.0.1 only (the proxies' configurations allow nothing else).
Missing binaries skip the test with a reason."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.behaviour.helpers import spawn
from tests.behaviour.net_helpers import free_port, stop, wait_tcp
from tests.conftest import SOCAT, pysocat_command

EXAMPLES = Path("/usr/share/doc/socat/examples")


class EchoServer:
    """A TCP echo on 127.0.0.1 (one thread per connection), the proxies' only target."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.settimeout(30)
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def __enter__(self) -> "EchoServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FakeProxy:
    """Accepts up to `connections` connections on 127.0.0.1; on each, reads the request
    (HTTP: up to the empty line; otherwise `request_size` bytes), records it, answers
    `reply`, then echoes (or closes after `linger` seconds). A binary protocol with more
    than one exchange (SOCKS5) gives `dialogue`: (bytes to read, answer) for each step."""

    def __init__(self, reply: bytes = b"", http: bool = True, request_size: int = 0, echo: bool = False,
                 connections: int = 1, linger: float = 0.5, dialogue: list[tuple[int, bytes]] | None = None) -> None:
        self.http, self.echo = http and dialogue is None, echo
        self.dialogue = dialogue if dialogue is not None else [(request_size, reply)]
        self.linger = linger
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(15)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, args=(connections,), daemon=True)
        self._thread.start()

    def _serve(self, connections: int) -> None:
        for _ in range(connections):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    for size, answer in self.dialogue:
                        self.requests.append(self._request(conn, size))
                        conn.sendall(answer)
                    if self.echo:
                        while data := conn.recv(65536):
                            conn.sendall(data)
                    else:
                        time.sleep(self.linger)
                except OSError:
                    pass

    def _request(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while (b"\r\n\r\n" not in data) if self.http else (len(data) < size):
            chunk = conn.recv(4096 if self.http else size - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()
        self._thread.join(15)

    def __enter__(self) -> "FakeProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tunnel(*args: str, payload: bytes, timeout: float = 30.0, env: dict | None = None
           ) -> tuple[int, bytes, bytes]:
    """Runs `pysocat <args>` (its first address reading stdin), sends `payload` and keeps
    stdin open until as many bytes came back (tinyproxy drops a tunnel at the client's
    half-close), then closes it. Returns (exit status, stdout, stderr)."""
    proc = subprocess.Popen(pysocat_command() + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    received = bytearray()

    def reader() -> None:
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), 65536):
            received.extend(chunk)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        proc.stdin.flush()
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + timeout
    while len(received) < len(payload) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    thread.join(5)
    assert proc.stderr is not None
    return proc.returncode, bytes(received), proc.stderr.read()


# ---------------------------------------------------------------- tinyproxy

def start_tinyproxy(tmp_path: Path, target_port: int, auth: tuple[str, str] | None = None
                    ) -> tuple[subprocess.Popen, int]:
    """tinyproxy on 127.0.0.1 that lets CONNECT reach 127.0.0.1:<target_port> only."""
    binary = shutil.which("tinyproxy")
    if binary is None:
        pytest.skip("tinyproxy is not installed (Debian package tinyproxy; make test installs it as root)")
    port = free_port()
    (tmp_path / "tinyproxy.filter").write_text("^127\\.0\\.0\\.1$\n")
    lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 30", "LogLevel Info", "MaxClients 20",
             "Allow 127.0.0.1", f'Filter "{tmp_path / "tinyproxy.filter"}"', "FilterType ere",
             "FilterDefaultDeny Yes", f"ConnectPort {target_port}", "DisableViaHeader Yes",
             f'LogFile "{tmp_path / "tinyproxy.log"}"']
    if auth is not None:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    wait_tcp(port, proc)
    return proc, port


# ---------------------------------------------------------------- Dante

DANTE_USER, DANTE_PASSWORD = "pxuser", "s3cret"


def start_dante(tmp_path: Path, auth: bool = False) -> tuple[subprocess.Popen, int]:
    """Dante's sockd on 127.0.0.1 that passes CONNECT and BIND to 127.0.0.1 only (so
    127.0.0.2 is refused by its rules). With `auth` it wants SOCKS5 username/password:
    the user exists only in a private mount namespace where copies of /etc/passwd and
    /etc/shadow that hold it are mounted over the real ones, so nothing on the host changes."""
    binary = shutil.which("danted") or shutil.which("sockd")
    if binary is None:
        pytest.skip("Dante's danted is not installed (Debian package dante-server; make test installs it)")
    if os.geteuid() != 0:
        pytest.skip("Dante needs root here (user.privileged) and the auth test a mount namespace")
    port = free_port()
    conf = tmp_path / "sockd.conf"
    conf.write_text("\n".join([
        f"logoutput: {tmp_path / 'sockd.log'}",
        f"internal: 127.0.0.1 port = {port}",
        "external: 127.0.0.1",
        "clientmethod: none",
        f"socksmethod: {'username' if auth else 'none'}",
        "user.privileged: root",
        "user.unprivileged: nobody",
        "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
        "socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 command: connect bind bindreply }",
        "socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }",
    ]) + "\n")
    command = [binary, "-f", str(conf), "-p", str(tmp_path / "sockd.pid"), "-N", "1"]
    if auth:
        command = _with_private_user(tmp_path, command)
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        wait_tcp(port, proc)
    except AssertionError as err:
        if auth:
            pytest.skip(f"cannot run Dante with a private user in a mount namespace here: {err}")
        raise
    return proc, port


def _with_private_user(tmp_path: Path, command: list[str]) -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is missing: no mount namespace for the SOCKS5 test user")
    passwd, shadow = tmp_path / "passwd", tmp_path / "shadow"
    passwd.write_text(Path("/etc/passwd").read_text() + f"{DANTE_USER}:x:64999:64999::/nonexistent:/bin/false\n")
    hashed = _sha512_crypt(DANTE_PASSWORD)
    shadow.write_text(Path("/etc/shadow").read_text() + f"{DANTE_USER}:{hashed}:19000:0:99999:7:::\n")
    shadow.chmod(0o640)
    script = (f"mount --bind {passwd} /etc/passwd && mount --bind {shadow} /etc/shadow && exec "
              + " ".join(command))
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", script]


def _sha512_crypt(password: str) -> str:
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # deprecated (gone in Python 3.13), but needs no program
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither Python's crypt nor openssl can hash the SOCKS5 test user's password")
        return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                              check=True).stdout.strip()


# ---------------------------------------------------------------- socat's example scripts

def start_script_server(tool: str, script: str, *script_args: str, crlf: bool = False
                        ) -> tuple[subprocess.Popen, int]:
    """`<tool> TCP4-L:<port>,bind=127.0.0.1,reuseaddr[,crlf] EXEC:"bash <script> ..."` as
    socat's test.sh runs its fake proxies (socat or pysocat as the listener)."""
    path = EXAMPLES / script
    if not path.exists():
        pytest.skip(f"{path} is missing (Debian package socat)")
    if tool == "socat" and SOCAT is None:
        pytest.skip("real socat is not installed")
    port = free_port()
    listen = f"TCP4-L:{port},bind=127.0.0.1,reuseaddr" + (",crlf" if crlf else "")
    program = " ".join(["/usr/bin/env bash", str(path), *script_args])
    proc = spawn(tool, listen, f"EXEC:{program}", start_new_session=True)
    wait_tcp(port, proc)
    return proc, port


__all__ = ["EchoServer", "FakeProxy", "tunnel", "start_tinyproxy", "start_dante", "start_script_server", "stop",
           "DANTE_USER", "DANTE_PASSWORD"]
