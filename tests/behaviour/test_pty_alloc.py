"""ptmx and openpty: socat's two ways of allocating a pty. On Linux openpty() opens /dev/ptmx
itself, so pysocat gives the same pty for both; each must still give a working terminal
(with wait-slave, as test.sh's PTMXWAITSLAVE / OPENPTYWAITSLAVE use them) and be listed as
socat lists them."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.conftest import run_pysocat


@pytest.mark.parametrize("option", ["ptmx", "openpty", "ptmx=1,openpty=0"])
def test_each_allocation_gives_a_terminal_that_relays(tmp_path: Path, option: str) -> None:
    link = str(tmp_path / "tty")
    proc = spawn("pysocat", f"PTY,link={link},rawer,wait-slave,pty-interval=0.05,{option}", "-",
                 stdin=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.islink(link), timeout=10)
        assert os.readlink(link).startswith("/dev/pts/")
        slave = os.open(link, os.O_RDWR | os.O_NOCTTY)
        assert os.isatty(slave)
        os.write(slave, b"through the pty\n")
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"through the pty\n"
        os.close(slave)  # the last close of the slave: EOF for a wait-slave pty
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.wait()


def test_hhh_lists_both_in_the_pty_group() -> None:
    lines = run_pysocat("-hhh").stdout.decode().splitlines()
    for name in ("ptmx", "openpty"):
        (line,) = [entry for entry in lines if entry.split() and entry.split()[0] == name]
        assert "groups=PTY" in line and "type=BOOL" in line and "phase=BIGEN" in line


def test_outside_the_pty_group_they_are_refused() -> None:
    result = run_pysocat("-u", "-", "OPEN:/dev/null,ptmx", input=b"")
    assert result.returncode == 1
    assert b'option "ptmx" not supported with this address type' in result.stderr
