"""Child processes: every status reported (socat 1.8's W waitpid() and exit 1), none left
behind as a zombie, ended with SIGTERM at close (after a grace for a write-only child), and
`nofork` (the program replaces pysocat)."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.behaviour.helpers import children_of, process_state, spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat


def waitpid_lines(stderr: bytes) -> list[str]:
    return [line for line in diagnostics(stderr) if line.startswith(("W waitpid", "E waitpid"))]


@pytest.mark.parametrize("args", [("-u", "EXEC:false", "STDOUT"), ("-u", "-", "EXEC:false"), ("-", "EXEC:false")])
def test_failing_child_always_reported(args: tuple[str, ...]) -> None:
    """The child's EOF and its exit race; the status must be reported every time."""
    for _ in range(4):
        result = run_pysocat(*args, input=b"")
        lines = waitpid_lines(result.stderr)
        assert len(lines) == 1 and re.fullmatch(r"W waitpid\(\): child \d+ exited with status 1", lines[0]), \
            result.stderr
        assert result.returncode == 1


def test_child_dying_on_signal_reported() -> None:
    result = run_pysocat("-u", "SYSTEM:kill -9 $$", "STDOUT")
    assert any(re.fullmatch(r"W waitpid\(\): child \d+ exited on signal 9", line)
               for line in diagnostics(result.stderr)), result.stderr
    assert result.returncode == 1


def test_successful_child_not_reported() -> None:
    result = run_pysocat("-u", "EXEC:true", "STDOUT")
    assert result.returncode == 0 and result.stderr == b""


def test_child_ended_at_close_is_no_error() -> None:
    """The relay ends (stdin EOF, then -t 0.5 s) while the child still runs: SIGTERM, no report."""
    started = time.monotonic()
    result = run_pysocat("-", "EXEC:sleep 30", input=b"")
    assert result.returncode == 0 and result.stderr == b""
    assert time.monotonic() - started < 20


def test_write_only_child_gets_grace_then_sigterm() -> None:
    """socat's xioshutdown(): wait for a write-only child (socket) up to 1 s, then SIGTERM."""
    started = time.monotonic()
    result = run_pysocat("-d", "-d", "-u", "-", "EXEC:sleep 30", input=b"")
    assert time.monotonic() - started < 20
    assert "N SIGALRM while waiting for wo child process to die, killing it now" in diagnostics(result.stderr)
    assert waitpid_lines(result.stderr) == []
    assert result.returncode == 0


@needs_socat
def test_write_only_child_grace_like_socat() -> None:
    ours = run_pysocat("-d", "-d", "-u", "-", "EXEC:sleep 30", input=b"")
    theirs = run_socat("-d", "-d", "-u", "-", "EXEC:sleep 30", input=b"")
    line = "N SIGALRM while waiting for wo child process to die, killing it now"
    assert line in diagnostics(ours.stderr) and line in diagnostics(theirs.stderr)
    # socat 1.7.4 then races (exit 0 after "W waitpid(...): Interrupted system call", or E for
    # signal 15 and exit 1); pysocat counts the child as ended by itself: no report, exit 0
    assert ours.returncode == 0


def test_no_zombie_while_running() -> None:
    """A child that exits while pysocat still relays is reaped at once (SIGCHLD)."""
    proc = spawn("pysocat", "-u", "-", "SYSTEM:exit 0", stdin=-1)  # stdin stays open: pysocat keeps running
    try:
        wait_for(lambda: process_state(proc.pid) is not None, timeout=10)
        # the child appears, exits, and must not stay behind as a zombie
        wait_for(lambda: not children_of(proc.pid), timeout=10)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_children_gone_after_exit() -> None:
    proc = spawn("pysocat", "-", "EXEC:cat", stdin=-1)
    try:
        kids = wait_for(lambda: children_of(proc.pid), timeout=10)
        assert isinstance(kids, list) and len(kids) == 1
        child = kids[0]
        assert process_state(child) not in (None, "Z")
        assert proc.stdin is not None
        proc.stdin.write(b"data\n")
        proc.stdin.close()
        out = proc.stdout.read() if proc.stdout else b""
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.wait()
    assert out == b"data\n"
    wait_for(lambda: process_state(child) is None, timeout=10)


def test_sigterm_to_pysocat_ends_child() -> None:
    proc = spawn("pysocat", "-", "EXEC:sleep 30", stdin=-1)
    try:
        kids = wait_for(lambda: children_of(proc.pid), timeout=10)
        child = kids[0]  # type: ignore[index]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 143
        assert proc.stderr is not None
        assert "W exiting on signal 15" in diagnostics(proc.stderr.read())
    finally:
        proc.kill()
        proc.wait()
    wait_for(lambda: process_state(child) is None, timeout=10)


def test_nofork_replaces_pysocat() -> None:
    proc = spawn("pysocat", "-", "EXEC:sleep 30,nofork", stdin=-1)
    try:
        wait_for(lambda: _comm(proc.pid) == "sleep", timeout=10)
        assert children_of(proc.pid) == []
    finally:
        proc.kill()
        proc.wait()


def test_nofork_relays_stdio() -> None:
    data = os.urandom(256 * 1024)
    result = run_pysocat("-", "EXEC:cat,nofork", input=data)
    assert result.stdout == data and result.returncode == 0


@needs_socat
def test_nofork_under_u_keeps_stdout_and_under_U_keeps_stdin(tmp_path) -> None:
    """socat's EXEC_NOFORK_UNIDIR: the direction -u/-U leaves out is the program's own
    inherited stdin or stdout, not the first address."""
    for runner in (run_pysocat, run_socat):
        assert runner("-u", "/dev/null", "EXEC:echo out,nofork").stdout == b"out\n"
        target = tmp_path / f"out-{runner.__name__}"
        result = runner("-U", f"OPEN:{target},creat,trunc", "EXEC:cat,nofork", input=b"abc\n")
        assert result.returncode == 0 and target.read_bytes() == b"abc\n"


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return None
