"""Shared plumbing for the benchmarks: find the two programs, pick free loopback ports,
start and stop a relay, and print a table with ratios. Loopback only."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time


def programs() -> dict[str, str]:
    """pysocat from this venv (or PATH) and real socat, whichever exist."""
    found = {}
    pysocat = shutil.which("pysocat", path=os.path.dirname(sys.executable)) or shutil.which("pysocat")
    if pysocat:
        found["pysocat"] = pysocat
    socat = shutil.which("socat")
    if socat:
        found["socat"] = socat
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_listening(port: int) -> bool:
    """Whether a TCP socket listens on `port` (from /proc: connecting to find out would
    hand the relay a stray connection, which a one-client server like iperf3 rejects)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening(port):
            return
        time.sleep(0.02)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Background:
    """A process that runs for the duration of a `with` block and is ended after it."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        return self.process

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print(title)
    for row in [header, *rows]:
        print("  ".join(str(cell).rjust(width) if i else str(cell).ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))
