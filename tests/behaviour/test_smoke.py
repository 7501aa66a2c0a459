"""End-to-end through the CLI: the basic local relays."""
from __future__ import annotations

from tests.conftest import diagnostics, run_pysocat


def test_stdio_to_exec_filter_round_trips():
    result = run_pysocat("-", "EXEC:tr a-z A-Z", input=b"hello\n")
    assert result.returncode == 0
    assert result.stdout == b"HELLO\n"


def test_unknown_address_is_socat_error_exit_1():
    result = run_pysocat("FOO", "-")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == ['E unknown device/address "FOO"']
    assert b"Traceback" not in result.stderr
