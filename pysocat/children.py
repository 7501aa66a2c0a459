"""Child processes started by addresses (EXEC, SYSTEM, SHELL): reaping, reporting, ending.

socat 1.8 reports a registered child that exits non-zero (or dies on a signal) as
`W waitpid(): child N exited with status S` and then exits 1; a child that socat itself
ends at close is unregistered first and reported at info level only. socat 1.8 races
here (a child that closed its output and is exiting when socat closes is often killed
and not reported); pysocat waits briefly for such a child, so its status is reported
reliably. Every child is reaped (on SIGCHLD, at close, at exit), so no zombie remains.
Under --compat=1.7 (socat 1.7.4) a failure seen while the addresses are open is an E and
ends the run at once; one seen after the transfer is not reported (see on_failure).
"""
from __future__ import annotations

import os
import select
import signal
import time
from .record import dataclass

from .log import LOG

# How long socat waits for a write-only child after passing EOF to it before SIGTERM
# (socat 1.7.4.4: a 1 s alarm in xioshutdown(), verified), and how long pysocat gives a
# child that has closed its output to exit on its own before ending it at close.
WAIT_DIE = 1.0
WAIT_REAP = 0.5  # after SIGTERM: long enough to collect the child, short for a stubborn one
POLL_STEP = 0.005


@dataclass
class Child:
    label: str
    quiet: bool = False  # ended by pysocat: its status is no error


_children: dict[int, Child] = {}
failed_children = 0
forwarded_signals: set[int] = set()  # signals passed on to children (sighup, sigint, sigquit options)
# What a registered child's failure does: "warn" (socat 1.8: W, exit 1 at the end), "exit"
# (socat 1.7.4 while the addresses are open: E, and ChildFailed ends the run at once, from
# the SIGCHLD handler as in socat), "ignore" (socat 1.7.4 once the transfer is over: info).

on_failure = "warn"


class ChildFailed(Exception):
    """socat 1.7.4's exit on a failed child; the E line is logged before it is raised."""


def register(pid: int, label: str) -> None:
    _children[pid] = Child(label)


def registered() -> bool:
    """Whether a program child (EXEC, SYSTEM, SHELL) of this process is still registered."""
    return bool(_children)


def _report(pid: int, status: int) -> None:
    """socat's childdied(): W for a registered child's failure, I otherwise."""
    global failed_children
    child = _children.pop(pid, None)
    if child is None:
        return
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        text = f"waitpid(): child {pid} exited with status {code}"
        failed = code != 0
    elif os.WIFSIGNALED(status):
        text = f"waitpid(): child {pid} exited on signal {os.WTERMSIG(status)}"
        failed = True
    else:
        return
    if failed and not child.quiet and on_failure == "exit":
        LOG.error(text)
        raise ChildFailed(text)
    if failed and not child.quiet and on_failure == "warn":
        LOG.warn(text)
        failed_children += 1
    else:
        LOG.info(text)


def reap() -> None:
    """Collects every child that has exited, without blocking (also the SIGCHLD handler)."""
    while _children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            _children.clear()  # no child at all is left
            return
        except InterruptedError:
            continue
        if pid == 0:
            return
        _report(pid, status)


def _collect(pid: int) -> bool:
    """Reaps `pid` if it has exited; True once it is gone."""
    if pid not in _children:
        return True
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        _children.pop(pid, None)  # collected elsewhere (SIGCHLD handler), already reported
        return True
    except InterruptedError:
        return False
    if done == 0:
        return pid not in _children  # the SIGCHLD handler may have run meanwhile
    _report(done, status)
    return True


def alive(pid: int) -> bool:
    return not _collect(pid)


def wait_exit(pid: int, timeout: float) -> bool:
    """Gives the child up to `timeout` seconds to exit on its own; True if it did."""
    deadline = time.monotonic() + timeout
    while not _collect(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_STEP)
    return True


def wait_exit_after_eof(pid: int, timeout: float) -> bool:
    """wait_exit() for a write-only child that has been given EOF (socat's xioshutdown()).
    socat 1.7.4 collects such a child itself, so its failure is no error ("exit" mode)."""
    if on_failure == "exit" and pid in _children:
        _children[pid].quiet = True
    return wait_exit(pid, timeout)


def end(pid: int) -> None:
    """socat's xioclose(): unregister (no error for what follows), then SIGTERM."""
    if _collect(pid):
        return
    _children[pid].quiet = True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError as err:
        LOG.info(f"kill({pid}, SIGTERM): {os.strerror(err.errno or 0)}")


def collect_ended(pid: int) -> None:
    """After end(): reap the child if it goes within WAIT_REAP; a child that ignores
    SIGTERM is left running (as socat leaves it) and reaped by the final reap()."""
    wait_exit(pid, WAIT_REAP)


def output_ended(fd: int | None) -> bool:
    """Whether the child has closed its side of `fd` (hang-up or peer shutdown), i.e. it
    is most likely exiting: then pysocat waits for its status instead of killing it."""
    if fd is None:
        return False
    poller = select.poll()
    rdhup = getattr(select, "POLLRDHUP", 0x2000)
    poller.register(fd, select.POLLIN | rdhup)
    try:
        events = poller.poll(0)
    except OSError:
        return False
    return any(ev & (select.POLLHUP | rdhup | select.POLLERR) for _, ev in events)


def forward_signal(signum: int) -> None:
    for pid, child in list(_children.items()):
        if child.quiet:
            continue
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def on_sigchld(_signum: int, _frame: object) -> None:
    reap()
