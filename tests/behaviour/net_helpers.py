"""Helpers for the network behaviour tests (loopback only): free ports, waiting until a
server listens (read from /proc, so that probing never consumes a one-shot listener),
echo clients and zombie checks."""
from __future__ import annotations

import os
import socket
import subprocess

from tests.behaviour.helpers import children_of, process_state, wait_for

LISTEN_TIMEOUT = 20.0  # generous: two cores are shared with other test workers


def free_port(kind: int = socket.SOCK_STREAM, family: int = socket.AF_INET) -> int:
    """A port nobody uses now (bind to 0 and give it back)."""
    with socket.socket(family, kind) as sock:
        sock.bind(("127.0.0.1", 0) if family == socket.AF_INET else ("::1", 0))
        return sock.getsockname()[1]


def _proc_ports(name: str, state: str | None) -> set[int]:
    ports = set()
    for table in (f"/proc/net/{name}", f"/proc/net/{name}6"):
        try:
            with open(table) as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if state is None or fields[3] == state:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def tcp_listening(port: int) -> bool:
    return port in _proc_ports("tcp", "0A")


def udp_bound(port: int) -> bool:
    return port in _proc_ports("udp", None)


def abstract_bound(name: str) -> bool:
    with open("/proc/net/unix") as handle:
        return any(line.rstrip().endswith("@" + name) for line in handle)


def wait_tcp(port: int, proc: subprocess.Popen | None = None) -> None:
    wait_for(lambda: tcp_listening(port) or (proc is not None and proc.poll() is not None), LISTEN_TIMEOUT)
    if proc is not None and proc.poll() is not None:
        raise AssertionError(f"server exited early: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}")


def wait_udp(port: int) -> None:
    wait_for(lambda: udp_bound(port), LISTEN_TIMEOUT)


def wait_path(path: str) -> None:
    wait_for(lambda: os.path.exists(path), LISTEN_TIMEOUT)


def recv_until_eof(sock: socket.socket) -> bytes:
    """Everything `sock` receives until the peer's EOF."""
    data = bytearray()
    while chunk := sock.recv(65536):
        data.extend(chunk)
    return bytes(data)


def echo_roundtrip(family: int, address: object, payload: bytes, timeout: float = 30.0) -> bytes:
    """Sends `payload`, half-closes, returns everything received until EOF (sends and
    receives concurrently, so a payload larger than the socket buffers cannot deadlock)."""
    import threading

    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(address)
    received: list[bytes] = []
    thread = threading.Thread(target=lambda: received.append(recv_until_eof(sock)))
    thread.start()
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    thread.join(timeout)
    sock.close()
    return received[0] if received else b""


def zombies_of(pid: int) -> list[int]:
    return [child for child in children_of(pid) if process_state(child) == "Z"]


def stop(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    """SIGTERM, then the output. A server started with start_new_session=True is stopped
    with its whole process group: forked children that hold no connection that could end
    (UDP) would otherwise keep the output pipes open."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.kill()
        return proc.communicate(timeout=20)
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def normalised(lines: list[str]) -> list[str]:
    """Diagnostics with descriptor numbers and ports that differ between runs made equal."""
    import re

    out = []
    for line in lines:
        line = re.sub(r"\((\d+), ", "(<fd>, ", line)
        line = re.sub(r"(\d+\.\d+\.\d+\.\d+):\d+", r"\1:<port>", line)
        line = re.sub(r"(\]):\d+", r"\1:<port>", line)
        out.append(line)
    return out


def error_lines(stderr: bytes) -> list[str]:
    """The E lines of a run's diagnostics."""
    from tests.conftest import diagnostics

    return [line for line in diagnostics(stderr) if line.startswith("E ")]


def same_errors_as_socat(*args: str, pysocat_stderr: bytes) -> None:
    """The E lines pysocat gave equal real socat's for the same command (where installed)."""
    from tests.conftest import SOCAT, run_socat

    if SOCAT is None:
        return
    theirs = run_socat(*args, input=b"", timeout=30)
    assert normalised(error_lines(pysocat_stderr)) == normalised(error_lines(theirs.stderr)), theirs.stderr.decode()
