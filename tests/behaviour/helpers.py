"""Helpers for the behaviour tests: start pysocat or socat in the background, poll for
conditions instead of sleeping, and compare the two on the same input."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

from tests.conftest import SOCAT, pysocat_command, run_pysocat, run_socat


def wait_for(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> object:
    """Polls `condition` until it is truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        time.sleep(interval)


def spawn(tool: str, *args: str, **kw) -> subprocess.Popen:
    """Starts pysocat ("pysocat") or real socat ("socat") in the background."""
    command = pysocat_command() if tool == "pysocat" else [SOCAT]
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(command + list(args), **kw)


def run(tool: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return (run_pysocat if tool == "pysocat" else run_socat)(*args, **kw)


def both(*args: str, **kw) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """Runs pysocat and real socat with the same arguments and input."""
    return run_pysocat(*args, **kw), run_socat(*args, **kw)


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc), to check that none is left behind."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
