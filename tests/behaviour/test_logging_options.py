"""Log destinations and formats: -d levels, -lf, -lp, -lu, -lh, -D."""
from __future__ import annotations

import re
import socket

import pytest

from tests.conftest import run_pysocat

PREFIX = r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d"


@pytest.mark.parametrize("flags,levels", [
    ((), set()),
    (("-d",), set()),
    (("-d", "-d"), {"N"}),
    (("-dd",), {"N"}),
    (("-d2",), {"N"}),
    (("-d0",), set()),
    (("-d", "-d", "-d"), {"N", "I"}),
    (("-ddd",), {"N", "I"}),
    (("-d", "-d", "-d", "-d"), {"N", "I", "D"}),
    (("-d4",), {"N", "I", "D"}),
])
def test_d_flags_set_socat_18_levels(flags, levels):
    result = run_pysocat(*flags, "-u", "-", "/dev/null", input=b"data\n")
    seen = {level.decode() for level in re.findall(rb"\] ([DINWEF]) ", result.stderr)}
    assert result.returncode == 0
    assert seen == levels


def test_lf_writes_log_to_file_and_lp_sets_the_name(tmp_path):
    log = tmp_path / "log"
    result = run_pysocat("-lf", str(log), "-lpmyrelay", "FOO", "-")
    assert result.returncode == 1
    assert result.stderr == b""
    assert re.fullmatch(rf"{PREFIX} myrelay\[\d+\] E unknown device/address \"FOO\"\n", log.read_text())


def test_lu_adds_microseconds_and_lh_the_host_name():
    result = run_pysocat("-lu", "-lh", "FOO", "-")
    host = socket.gethostname().split(".")[0]
    assert re.fullmatch(rf"{PREFIX}\.\d{{6}} {re.escape(host)} pysocat\[\d+\] E unknown device/address \"FOO\"\n",
                        result.stderr.decode())


def test_D_describes_descriptors_before_the_loop(tmp_path):
    source = tmp_path / "f"
    source.write_text("x")
    result = run_pysocat("-D", "-u", f"OPEN:{source}", "/dev/null")
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("  FD  type")
    kinds = [l.split(":", 1)[1].split("\t")[0].strip() for l in lines[1:]]
    assert kinds == ["file", "chrdev"]
