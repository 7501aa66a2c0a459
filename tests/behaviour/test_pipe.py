"""PIPE (ECHO, FIFO) unnamed and named, and SOCKETPAIR, through the real CLI: data comes
back, a named pipe is created with the asked mode and removed at the end, the pipe buffer
size option reaches the kernel, and the diagnostics equal real socat's.
"""
from __future__ import annotations

import fcntl
import os
import stat
import subprocess

import pytest

from tests.behaviour.helpers import both, no_traceback, spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat

TEXT = b"one\ntwo\nthree\n"


@pytest.mark.parametrize("keyword", ["PIPE", "ECHO", "FIFO", "pipe"])
def test_unnamed_pipe_echoes(keyword):
    result = run_pysocat("-", keyword, input=TEXT)
    assert (result.returncode, result.stdout, result.stderr) == (0, TEXT, b"")


def test_unnamed_pipe_echoes_a_large_stream_without_deadlock():
    data = os.urandom(300000)
    result = run_pysocat("-", "PIPE", input=data)
    assert result.returncode == 0 and result.stdout == data


def test_named_pipe_is_created_and_removed(tmp_path):
    path = tmp_path / "fifo"
    proc = spawn("pysocat", "-", f"PIPE:{path},perm=0600", stdin=subprocess.PIPE)
    wait_for(lambda: path.exists(), 15)
    info = path.stat()
    assert stat.S_ISFIFO(info.st_mode) and info.st_mode & 0o777 == 0o600
    proc.stdin.write(TEXT)
    proc.stdin.close()
    out = proc.stdout.read()
    assert proc.wait(20) == 0 and out == TEXT
    assert not path.exists()


def test_an_existing_named_pipe_is_used(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path, 0o640)
    result = run_pysocat("-", f"PIPE:{path}", input=TEXT)
    assert (result.returncode, result.stdout) == (0, TEXT)
    assert stat.S_ISFIFO(path.stat().st_mode)


def test_unlink_close_removes_an_existing_named_pipe(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    result = run_pysocat("-", f"PIPE:{path},unlink-close", input=b"x")
    assert result.returncode == 0 and not path.exists()


def test_named_pipe_carries_data_from_another_writer(tmp_path):
    """-u PIPE:<name> STDOUT reads what another process writes into the FIFO."""
    path = tmp_path / "fifo"
    proc = spawn("pysocat", "-u", f"PIPE:{path}", "STDOUT")
    wait_for(path.exists, 15)
    with open(path, "wb") as writer:
        writer.write(b"from outside\n")
    out, _ = proc.communicate(timeout=20)  # the writer's close is EOF on the read-only FIFO
    assert (proc.returncode, out) == (0, b"from outside\n")


def test_setpipe_size_reaches_the_kernel(tmp_path):
    path = tmp_path / "fifo"
    proc = spawn("pysocat", "-T", "30", "-u", "STDIN", f"PIPE:{path},f-setpipe-sz=131072", stdin=subprocess.PIPE)
    try:
        wait_for(path.exists, 15)
        probe = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            wait_for(lambda: fcntl.fcntl(probe, fcntl.F_GETPIPE_SZ) == 131072, 15)
        finally:
            os.close(probe)
    finally:
        proc.kill()
        proc.wait(10)


def test_crnl_on_the_echo():
    result = run_pysocat("-", "PIPE,crnl", input=b"a\nb\n")
    assert result.stdout == b"a\nb\n"  # converted to CRLF into the pipe and back to LF


def test_socketpair_echo_keeps_each_block():
    result = run_pysocat("-", "SOCKETPAIR", input=TEXT)
    assert (result.returncode, result.stdout) == (0, TEXT)


@needs_socat
@pytest.mark.parametrize("args", [("-", "PIPE:a:b"), ("PIPE:::::", "/dev/null"), ("-", "PIPE,creat"),
                                  ("-", "PIPE,unlink-early"), ("-g", "-", "PIPE,unlink-early"), ("-", "PIPE,mode=999"),
                                  ("-", "PIPE,crnl=2"), ("-g", "-", "PIPE,seek=1")])
def test_errors_same_as_socat(args):
    mine, theirs = both(*args, input=b"x")
    no_traceback(mine)
    assert mine.returncode == theirs.returncode
    normalise = lambda lines: [line.split("(")[0] if line.startswith("E lseek64") else line for line in lines]  # noqa: E731
    assert normalise(diagnostics(mine.stderr)) == normalise(diagnostics(theirs.stderr))
