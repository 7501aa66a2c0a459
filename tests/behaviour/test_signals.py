"""Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT end pysocat with 128+n and socat's exact
log lines (compared with real socat under -d -d); SIGUSR1 logs the statistics and the
relay goes on (socat 1.8); the -L lock file is removed on a signal; no traceback ever.
"""
from __future__ import annotations

import signal
import time
import subprocess
from pathlib import Path

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.conftest import SOCAT, diagnostics, needs_socat


def _running_relay(tool: str, tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    """A relay that never ends by itself: stdin is a pipe the test keeps open. Returns once
    the transfer loop runs (its -d -d notice in the log file)."""
    log = tmp_path / f"{tool}.log"
    proc = spawn(tool, "-d", "-d", "-lf", str(log), *extra, "-u", "STDIN", "STDOUT", stdin=subprocess.PIPE)
    wait_for(lambda: log.exists() and "starting data transfer loop" in log.read_text(), 15)
    return proc, log


def _after_loop(log: Path) -> list[str]:
    lines = diagnostics(log.read_bytes())
    return lines[next(i for i, l in enumerate(lines) if "starting data transfer loop" in l) + 1:]


EXPECTED = {
    signal.SIGTERM: ["N socat_signal(): handling signal 15", "W exiting on signal 15",
                     "N socat_signal(): finishing signal 15", "N exit(143)"],
    signal.SIGINT: ["N socat_signal(): handling signal 2", "N exiting on signal 2",
                    "N socat_signal(): finishing signal 2", "N exit(130)"],
    signal.SIGHUP: ["N socat_signal(): handling signal 1", "N exiting on signal 1",
                    "N socat_signal(): finishing signal 1", "N exit(129)"],
    signal.SIGQUIT: ["N socat_signal(): handling signal 3", "E exiting on signal 3", "N exit(131)",
                     "N socat_signal(): finishing signal 3", "N exit(131)"],
}


@pytest.mark.parametrize("signum", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
def test_fatal_signal_exit_status_and_lines(tmp_path, signum):
    proc, log = _running_relay("pysocat", tmp_path)
    proc.send_signal(signum)
    assert proc.wait(20) == 128 + signum
    assert _after_loop(log) == EXPECTED[signum]
    assert b"Traceback" not in proc.stderr.read()


@needs_socat
@pytest.mark.parametrize("signum", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
def test_fatal_signal_same_as_socat(tmp_path, signum):
    seen = {}
    for tool in ("pysocat", "socat"):
        proc, log = _running_relay(tool, tmp_path)
        proc.send_signal(signum)
        seen[tool] = (proc.wait(20), _after_loop(log))
    assert seen["pysocat"] == seen["socat"]


def test_sigusr1_logs_statistics_and_goes_on(tmp_path):
    proc, log = _running_relay("pysocat", tmp_path, "--statistics")
    proc.stdin.write(b"12345")
    proc.stdin.flush()
    assert proc.stdout.read(5) == b"12345"  # relayed: the counters hold one block once the write returned

    def reported() -> bool:
        # the block is on stdout a moment before the relay counts it: ask again until it has
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.1)
        return "STATISTICS: left to right: 1 packets(s), 5 byte(s)" in log.read_text()

    wait_for(reported, 15)
    assert proc.poll() is None  # still relaying
    proc.stdin.write(b"678")
    proc.stdin.close()
    assert proc.wait(20) == 0
    stats = [l for l in diagnostics(log.read_bytes()) if "STATISTICS" in l]
    assert stats[-2:] == ["I STATISTICS: left to right: 2 packets(s), 8 byte(s)",
                          "I STATISTICS: right to left: 0 packets(s), 0 byte(s)"]


def test_lock_file_is_removed_on_sigterm(tmp_path):
    lock = tmp_path / "lock"
    proc, _log = _running_relay("pysocat", tmp_path, "-L", str(lock))
    assert lock.exists()
    proc.terminate()
    assert proc.wait(20) == 143
    assert not lock.exists()


@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_sigterm_without_d_shows_only_the_warning(tmp_path):
    """The default level (socat 1.8: W and up) shows the W line and nothing else."""
    proc = spawn("pysocat", "-u", "STDIN", "STDOUT", stdin=subprocess.PIPE)
    wait_for(lambda: _has_fd0_pipe(proc.pid), 15)
    proc.terminate()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143
    assert diagnostics(err) == ["W exiting on signal 15"]


def _has_fd0_pipe(pid: int) -> bool:
    """True once the program has installed its handlers: approximated by its transfer
    loop polling (state S) after start-up; the import phase is done when wchan is poll."""
    try:
        with open(f"/proc/{pid}/wchan") as handle:
            return "poll" in handle.read()
    except OSError:
        return False
