"""SYSTEM and SHELL: the shell command line, $0, exit statuses, letting a child finish at EOF,
and the signals pysocat passes on (sighup, sigint, sigquit)."""
from __future__ import annotations

import os
import re
import signal

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat

WAITPID = r"W waitpid\(\): child \d+ exited with status {}"


def has_line(stderr: bytes, pattern: str) -> bool:
    return any(re.fullmatch(pattern, line) for line in diagnostics(stderr))


@needs_socat
def test_dollar_zero_is_sh() -> None:
    ours, theirs = run_pysocat("-u", "SYSTEM:echo $0", "STDOUT"), run_socat("-u", "SYSTEM:echo $0", "STDOUT")
    assert ours.stdout == theirs.stdout == b"sh\n"


def test_shell_command_line() -> None:
    result = run_pysocat("-", "SYSTEM:tr a-z A-Z | sed s/^/x/", input=b"abc\ndef\n")
    assert result.stdout == b"xABC\nxDEF\n"
    assert result.returncode == 0


def test_shell_error_names_sh() -> None:
    result = run_pysocat("-u", "SYSTEM:nonexistent_cmd_x", "STDOUT")
    assert b"sh: 1: nonexistent_cmd_x: not found" in result.stderr
    assert has_line(result.stderr, WAITPID.format(127))
    assert result.returncode == 1


@pytest.mark.parametrize("args", [("-", "SYSTEM:exit 3"), ("-u", "SYSTEM:exit 3", "STDOUT"),
                                  ("-u", "-", "SYSTEM:exit 3")])
def test_exit_status_is_reported(args: tuple[str, ...]) -> None:
    result = run_pysocat(*args, input=b"")
    assert has_line(result.stderr, WAITPID.format(3)), result.stderr
    assert result.returncode == 1


def test_writes_file_after_eof(tmp_path) -> None:
    """A write-only child is given time to finish its work after EOF (socat: up to 1 s)."""
    out = tmp_path / "out"
    result = run_pysocat("-u", "-", f"SYSTEM:sleep 0.2; cat > {out}", input=b"payload\n")
    assert result.returncode == 0
    assert out.read_bytes() == b"payload\n"


def test_bidirectional_child_finishes(tmp_path) -> None:
    out = tmp_path / "out"
    result = run_pysocat("-", f"SYSTEM:sleep 0.2; cat > {out}; echo done", input=b"payload\n")
    assert result.stdout == b"done\n"
    assert out.read_bytes() == b"payload\n"


def test_system_with_pty() -> None:
    result = run_pysocat("-", "SYSTEM:tty", input=b"")
    assert result.stdout == b"not a tty\n"
    pty = run_pysocat("-", "SYSTEM:tty,pty", input=b"")
    assert re.fullmatch(rb"/dev/pts/\d+\r?\n", pty.stdout), pty.stdout


def test_shell_address_uses_shell_option() -> None:
    result = run_pysocat("-u", "SHELL:echo $0,shell=/bin/sh", "STDOUT")
    assert result.stdout == b"sh\n"
    bash = "/bin/bash"
    if os.path.exists(bash):
        via_env = run_pysocat("-u", "SHELL:echo $0", "STDOUT", env={**os.environ, "SHELL": bash})
        assert via_env.stdout == b"bash\n"


# \" survives the address lexer as a quote for sh; no ':' or ',' (address separators)
READY_LOOP = 'trap \\"echo got{0}; exit 7\\" {0}; echo ready; while true; do sleep 0.05; done'


@pytest.mark.parametrize("name", ["INT", "HUP", "QUIT"])
def test_signal_is_passed_on(name: str) -> None:
    """With sigint/sighup/sigquit pysocat passes the signal to the child instead of exiting."""
    proc = spawn("pysocat", "-u", f"SYSTEM:{READY_LOOP.format(name)},sig{name.lower()}", "STDOUT")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(getattr(signal, f"SIG{name}"))
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    assert out == f"got{name}\n".encode()
    assert has_line(err, WAITPID.format(7)), err
    assert proc.returncode == 1


def test_signal_not_passed_on_without_option() -> None:
    proc = spawn("pysocat", "-u", f"SYSTEM:{READY_LOOP.format('INT')}", "STDOUT")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    assert out == b""
    assert proc.returncode == 130


@needs_socat
def test_sigint_option_same_as_socat(tmp_path) -> None:
    """EXEC runs the script directly in both (socat 1.7's SYSTEM sits behind system(), which
    ignores SIGINT, so only EXEC is comparable). The trap leaves a file: socat itself may
    lose the child's last output when the child dies (its race, not compared here)."""
    for tool in ("pysocat", "socat"):
        marker = tmp_path / f"{tool}.marker"
        script = tmp_path / f"{tool}.sh"
        script.write_text(f"#!/bin/sh\ntrap 'echo got > {marker}; exit 7' INT\necho ready\n"
                          "while true; do sleep 0.05; done\n")
        script.chmod(0o755)
        proc = spawn(tool, "-u", f"EXEC:{script},sigint", "STDOUT")
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"ready\n"
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=15)
        finally:
            proc.kill()
            proc.wait()
        assert marker.read_bytes() == b"got\n", tool
        if tool == "pysocat":
            assert proc.returncode == 1  # socat 1.8: the child's status 7 is a warning, then exit 1


def test_system_nofork() -> None:
    result = run_pysocat("-", "SYSTEM:echo $0; cat,nofork", input=b"in\n")
    assert result.stdout == b"sh\nin\n"


def test_wait_for_is_quick() -> None:
    # guards the helper used above: a false condition must fail
    with pytest.raises(AssertionError):
        wait_for(lambda: False, timeout=0.05)


@needs_socat
@pytest.mark.parametrize("command", ["echo hi; exit 3", "kill -9 $$", "exit 0"])
def test_system_nofork_exit_status_is_the_shells(command: str) -> None:
    """socat's system(): exit with WEXITSTATUS of the shell (0 when a signal killed it)."""
    ours, theirs = run_pysocat("ECHO", f"SYSTEM:{command},nofork"), run_socat("ECHO", f"SYSTEM:{command},nofork")
    assert ours.returncode == theirs.returncode


def test_system_nofork_keeps_pysocat_as_the_shells_parent() -> None:
    """Under nofork the shell's $PPID is pysocat (socat calls system()): a SIGTERM sent to
    it ends pysocat with 143, as socat's test EXITCODESIGTERM expects."""
    result = run_pysocat("ECHO", "SYSTEM:kill -TERM $PPID; sleep 5,nofork", timeout=20)
    assert result.returncode == 143
    assert "W exiting on signal 15" in diagnostics(result.stderr)
