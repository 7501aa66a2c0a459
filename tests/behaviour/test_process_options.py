"""PROCESS options (setsid, su, chdir) on an address that is not a program: socat applies
them to its own process once the address is open, so a program opened afterwards (the
second address) inherits their effect."""
from __future__ import annotations

import os

import pytest

from tests.conftest import needs_socat, run_pysocat, run_socat

ROOT = os.geteuid() == 0


def _child_stat(stdout: bytes) -> dict[str, int]:
    fields = stdout.decode().rsplit(")", 1)[1].split()
    return {"ppid": int(fields[1]), "pgrp": int(fields[2]), "sid": int(fields[3])}


def test_setsid_on_stdio_makes_pysocat_a_session_leader() -> None:
    """socat's test MAINSETSID: the program's parent is the leader of its own session."""
    result = run_pysocat("-U", "-,setsid", "EXEC:cat /proc/self/stat")
    child = _child_stat(result.stdout)
    assert child["ppid"] == child["pgrp"] == child["sid"]
    assert child["sid"] != os.getsid(0)


@needs_socat
@pytest.mark.skipif(not ROOT, reason="su needs root")
def test_su_on_the_first_address_is_inherited_by_the_program() -> None:
    command = ["-u", "OPEN:/etc/hostname,su=nobody", "SYSTEM:id -un; cat >/dev/null"]
    ours, theirs = run_pysocat(*command), run_socat(*command)
    assert ours.stdout == theirs.stdout == b"nobody\n"


def test_chdir_on_the_first_address_is_inherited_by_the_program(tmp_path) -> None:
    result = run_pysocat("-u", f"OPEN:/etc/hostname,chdir={tmp_path}", "SYSTEM:pwd; cat >/dev/null")
    assert result.stdout.decode().strip() == str(tmp_path)
