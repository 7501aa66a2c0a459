"""user=, group=, perm= on file system entries that are not opened files: a UNIX socket's
name, a named pipe that open() is still waiting on, a pty's slave (never /dev/ptmx, which
fchown on the master would change); and a UNIX-RECVFROM name removed when a signal ends
the wait (socat's tests UNIX_LISTEN_PERM, UNIX_RECV_USER, PIPE_USER, PTY_USER,
UNIX_RECVFROM_REMOVE)."""
from __future__ import annotations

import os
import pwd
import signal
import stat

import pytest

from tests.behaviour.helpers import spawn, wait_for

ROOT = os.geteuid() == 0
NOBODY = pwd.getpwnam("nobody").pw_uid


def _serve(*args: str):
    return spawn("pysocat", *args)


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.mark.parametrize("kind", ["UNIX-LISTEN", "UNIX-RECVFROM", "UNIX-RECV"])
def test_perm_applies_to_the_socket_file(tmp_path, kind: str) -> None:
    path = tmp_path / "sock"
    proc = _serve("-u" if kind == "UNIX-RECV" else "-t0.1", f"{kind}:{path},,perm=511", "FILE:/dev/null,ignoreeof")
    try:
        wait_for(lambda: path.exists(), timeout=20)
        assert stat.S_IMODE(path.stat().st_mode) == 0o511
    finally:
        _stop(proc)


@pytest.mark.skipif(not ROOT, reason="chown needs root")
@pytest.mark.parametrize("make", [
    lambda p: ("-u", f"UNIX-RECV:{p},user=nobody", "FILE:/dev/null,ignoreeof"),
    lambda p: ("-u", f"PIPE:{p},user=nobody", "FILE:/dev/null,ignoreeof"),
])
def test_user_applies_to_the_entry_before_a_peer_comes(tmp_path, make) -> None:
    path = tmp_path / "entry"
    proc = _serve(*make(path))
    try:
        wait_for(lambda: path.exists() and path.stat().st_uid == NOBODY, timeout=20)
    finally:
        _stop(proc)


@pytest.mark.skipif(not ROOT, reason="chown needs root")
def test_pty_user_and_perm_change_the_slave_and_never_ptmx(tmp_path) -> None:
    ptmx_before = os.stat("/dev/ptmx")
    link = tmp_path / "pty"
    proc = _serve(f"PTY,link={link},user=nobody,perm=600", "FILE:/dev/null,ignoreeof")
    try:
        wait_for(lambda: link.exists() and link.stat().st_uid == NOBODY, timeout=20)
        assert stat.S_IMODE(link.stat().st_mode) == 0o600
        ptmx_after = os.stat("/dev/ptmx")
        assert (ptmx_after.st_uid, ptmx_after.st_mode) == (ptmx_before.st_uid, ptmx_before.st_mode)
    finally:
        _stop(proc)


@pytest.mark.parametrize("kind", ["UNIX-RECVFROM", "UNIX-LISTEN"])
def test_socket_name_is_removed_when_a_signal_ends_the_wait(tmp_path, kind: str) -> None:
    path = tmp_path / "sock"
    proc = _serve(f"{kind}:{path}", "FILE:/dev/null")
    wait_for(lambda: path.exists(), timeout=20)
    _stop(proc)
    assert not path.exists()
