"""Child processes started by addresses (EXEC, SYSTEM, SHELL): reaping and reporting.

socat 1.8 reports a child that exits non-zero as `W waitpid(): child N exited with
status S` and then exits 1; a child that socat itself terminated at the end is not
reported. Reaping happens on SIGCHLD and when an address closes, so no zombie is left.
"""
from __future__ import annotations

import os
import signal
import time

from .log import LOG

_children: dict[int, str] = {}  # pid -> label
_terminating: set[int] = set()
failed_children = 0


def register(pid: int, label: str) -> None:
    _children[pid] = label


def reap(block_for: int | None = None) -> None:
    """Collects every exited child; with `block_for`, waits for that one."""
    global failed_children
    while _children:
        try:
            if block_for is not None and block_for in _children:
                pid, status = os.waitpid(block_for, 0)
            else:
                pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            _children.clear()
            return
        if pid == 0:
            return
        if pid not in _children:
            continue
        _children.pop(pid, None)
        if os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
            if code != 0 and pid not in _terminating:
                LOG.warn(f"waitpid(): child {pid} exited with status {code}")
                failed_children += 1
            else:
                LOG.info(f"waitpid(): child {pid} exited with status {code}")
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if pid not in _terminating:
                LOG.warn(f"waitpid(): child {pid} exited on signal {sig}")
                failed_children += 1
            else:
                LOG.info(f"waitpid(): child {pid} exited on signal {sig}")
        _terminating.discard(pid)
        if block_for is not None:
            block_for = None


def alive(pid: int) -> bool:
    reap()
    return pid in _children


def terminate(pid: int, grace: float = 0.0) -> None:
    """Ends a child at close: SIGTERM if it still runs, then reaps it."""
    if not alive(pid):
        return
    deadline = time.monotonic() + grace
    while grace and time.monotonic() < deadline and alive(pid):
        time.sleep(0.01)
    if not alive(pid):
        return
    _terminating.add(pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    reap(block_for=pid)


def forward_signal(signum: int) -> None:
    for pid in list(_children):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def on_sigchld(_signum: int, _frame: object) -> None:
    reap()
