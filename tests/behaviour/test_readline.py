"""READLINE on a real terminal: lines reach the other address, the history file is read and
written, prompt= is shown, and EOF (Ctrl-D) ends the session. Debian's socat lacks READLINE
(intended difference readline-available), so nothing is compared with socat here."""
from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from tests.conftest import diagnostics, pysocat_command, run_pysocat


def run_on_terminal(args: list[str], keys: list[bytes], timeout: float = 20) -> tuple[int, bytes]:
    """Runs pysocat with a pty as stdin/stdout/stderr, types `keys` one chunk after the other
    (each once the terminal has been quiet briefly), and returns (status, everything shown)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(pysocat_command() + args, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    pending = list(keys)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.3)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break  # EIO: pysocat has closed the terminal
                if not chunk:
                    break
                shown += chunk
                continue
            if pending:
                os.write(master, pending.pop(0))
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, shown


def test_lines_pass_and_history_is_written(tmp_path: Path) -> None:
    history = tmp_path / "history"
    status, shown = run_on_terminal([f"READLINE,history={history}", "EXEC:tr a-z A-Z"],
                                    [b"first line\r", b"second\r", b"\x04"])
    assert b"FIRST LINE" in shown and b"SECOND" in shown, shown
    assert status == 0
    lines = history.read_text().splitlines()
    assert "first line" in lines and "second" in lines


def test_history_is_read(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_text("remembered entry\n")
    # Up-arrow recalls the entry from the file
    status, shown = run_on_terminal([f"READLINE,history={history}", "EXEC:tr a-z A-Z"],
                                    [b"\x1b[A\r", b"\x04"])
    assert b"REMEMBERED ENTRY" in shown, shown
    assert status == 0


def test_fixed_prompt(tmp_path: Path) -> None:
    status, shown = run_on_terminal(["READLINE,prompt=ask> ", "EXEC:cat"], [b"x\r", b"\x04"])
    assert b"ask> " in shown, shown
    assert status == 0


def test_output_line_becomes_prompt_unless_noprompt() -> None:
    program = 'SYSTEM:printf \\"name? \\"; read n; echo hello $n'
    _, shown = run_on_terminal(["READLINE", program], [b"bob\r", b"\x04"])
    assert b"name? " in shown and b"hello bob" in shown, shown
    _, quiet = run_on_terminal(["READLINE,noprompt", program], [b"bob\r", b"\x04"])
    assert b"hello bob" in quiet, quiet


def test_readline_wrong_group() -> None:
    result = run_pysocat("READLINE,fork", "-")
    assert 'E parseopts_table(): option "fork" not supported with this address type' in diagnostics(result.stderr)
    assert result.returncode == 1
