"""STDIO (-), STDIN, STDOUT, STDERR, FD and the one-digit shorthand, through the real CLI.

Each test checks an effect a user sees: which stream the bytes reach, how lines are
converted, when EOF is passed on, and what the FD-group options do to the descriptor
(flags on the shared open file description, ownership, locks). Where it is cheap the same
command runs under real socat and the two results must be equal.
"""
from __future__ import annotations

import fcntl
import os
import subprocess

import pytest

from tests.behaviour.helpers import both, no_traceback, spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat

TEXT = b"one\ntwo\nthree\n"


def _fd_flags(pid: int, fd: int) -> int:
    """The open flags of another process's descriptor (/proc/<pid>/fdinfo)."""
    with open(f"/proc/{pid}/fdinfo/{fd}") as handle:
        for line in handle:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    raise AssertionError("no flags line")


# ---------------------------------------------------------------- where the bytes go
def test_dash_is_stdio_both_ways_through_an_echo():
    result = run_pysocat("-", "PIPE", input=TEXT)
    assert (result.returncode, result.stdout, result.stderr) == (0, TEXT, b"")


@pytest.mark.parametrize("right,stream", [("STDOUT", "stdout"), ("STDERR", "stderr"), ("FD:1", "stdout"),
                                          ("1", "stdout"), ("2", "stderr")])
def test_output_addresses_write_their_stream(right, stream):
    result = run_pysocat("-u", "STDIN", right, input=TEXT)
    assert result.returncode == 0
    assert getattr(result, stream) == TEXT
    other = result.stderr if stream == "stdout" else result.stdout
    assert other == b""


def test_binary_data_is_unchanged():
    data = bytes(range(256)) * 300
    result = run_pysocat("-u", "-", "STDOUT", input=data)
    assert result.stdout == data


@pytest.mark.parametrize("address", ["FD:7", "7"])
def test_inherited_descriptor_by_number_and_shorthand(tmp_path, address):
    """fd 7 is set up by a shell, as scripts do (`7<file`), then read by number."""
    (tmp_path / "src").write_bytes(b"through fd 7\n")
    result = subprocess.run(["sh", "-c", 'exec 7<"$0"; exec "$@"', str(tmp_path / "src"),
                             *_pysocat_argv("-u", address, "STDOUT")], capture_output=True, timeout=20)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"through fd 7\n", b"")


def test_descriptor_written_by_number(tmp_path):
    result = subprocess.run(["sh", "-c", 'exec 7>"$0"; exec "$@"', str(tmp_path / "dst"),
                             *_pysocat_argv("-u", "-", "7")], input=TEXT, capture_output=True, timeout=20)
    assert result.returncode == 0
    assert (tmp_path / "dst").read_bytes() == TEXT


def _pysocat_argv(*args: str) -> list[str]:
    from tests.conftest import pysocat_command

    return pysocat_command() + list(args)


@needs_socat
@pytest.mark.parametrize("args", [
    ("10", "-"), ("FD:abc", "-"), ("-u", "FD:9", "STDOUT"), ("STDIO:x", "-"), ("-u", "STDIN,unlink-early", "STDOUT"),
    ("-u", "-", "STDOUT,crnl=1"),
])
def test_errors_same_as_socat(args):
    mine, theirs = both(*args)
    no_traceback(mine)
    assert mine.returncode == theirs.returncode == 1
    if args[-2:] != ("FD:9", "STDOUT"):  # socat's message is its poll() dump there
        assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)


# ---------------------------------------------------------------- APPL options
@needs_socat
@pytest.mark.parametrize("args,data", [
    (("-u", "-", "STDOUT,crnl"), b"a\nb\n\nc"),
    (("-u", "STDIN,crnl", "STDOUT"), b"a\r\nb\r\n\rc\r"),
    (("-u", "-", "STDOUT,cr"), b"a\nb\n"),
    (("-u", "STDIN,cr", "STDOUT"), b"a\rb\r"),
    (("-u", "STDIN,crnl", "STDOUT,cr"), b"x\r\ny\r\n"),
    (("-u", "STDIN,readbytes=5", "STDOUT"), TEXT),
    (("-u", "STDIN,readbytes=0", "STDOUT"), TEXT),
    (("-u", "STDIN,bytes=1", "STDOUT"), TEXT),
    (("-u", "STDIN,escape=0x41", "STDOUT"), b"abcAdef"),
    (("-u", "STDIN,escape=0x0f", "STDOUT"), b"ab\x0fcd"),
    (("-", "PIPE,crnl"), b"l1\nl2\n"),
])
def test_data_options_same_as_socat(args, data):
    mine, theirs = both(*args, input=data)
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout)
    assert mine.stderr == theirs.stderr == b""


def test_readbytes_zero_means_no_limit():
    result = run_pysocat("-u", "STDIN,readbytes=0", "STDOUT", input=TEXT)
    assert result.stdout == TEXT


def test_readbytes_stops_early_while_the_writer_still_writes():
    """readbytes ends the direction after N bytes even though stdin stays open."""
    proc = spawn("pysocat", "-u", "STDIN,readbytes=4", "STDOUT", stdin=subprocess.PIPE)
    proc.stdin.write(b"abcdefgh")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=20)
    assert (proc.returncode, out) == (0, b"abcd")


def test_ignoreeof_on_stdin_keeps_reading_after_eof_until_T(tmp_path):
    source = tmp_path / "grow"
    source.write_bytes(b"first\n")
    with open(source, "rb") as handle:
        proc = spawn("pysocat", "-T", "2", "-u", "STDIN,ignoreeof", "STDOUT", stdin=handle)
        wait_for(lambda: proc.poll() is None, 2)
        with open(source, "ab") as writer:
            writer.write(b"second\n")
        out, _err = proc.communicate(timeout=30)
    assert out == b"first\nsecond\n"
    assert proc.returncode == 0


# ---------------------------------------------------------------- EOF and half-close
def test_eof_on_stdin_is_passed_to_the_echo_and_its_data_still_arrives():
    """- PIPE: stdin's EOF shuts the pipe's write side; what is in the pipe is still read."""
    data = b"x" * 200000
    result = run_pysocat("-", "PIPE", input=data)
    assert result.returncode == 0 and result.stdout == data


def test_u_does_not_read_the_right_side():
    """-u: the echo's data never comes back to stdout."""
    result = run_pysocat("-u", "-", "PIPE", input=TEXT)
    assert (result.returncode, result.stdout) == (0, b"")


# ---------------------------------------------------------------- FD-group options on a shared descriptor
@pytest.mark.parametrize("option,flag", [("o-nonblock", os.O_NONBLOCK), ("nonblock", os.O_NONBLOCK),
                                         ("append", os.O_APPEND), ("o-append", os.O_APPEND)])
def test_fd_flag_options_change_the_open_file(tmp_path, option, flag):
    """The flag lands on the open file description that the test shares with pysocat."""
    path = tmp_path / "shared"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & flag
        proc = spawn("pysocat", "-T", "30", "-u", "STDIN", f"FD:{fd},{option}", stdin=subprocess.PIPE,
                     pass_fds=(fd,))
        wait_for(lambda: fcntl.fcntl(fd, fcntl.F_GETFL) & flag, 15)
        proc.kill()
        proc.wait(10)
    finally:
        os.close(fd)


def test_append_makes_writes_go_to_the_end(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_WRONLY)  # offset 0: without append the data would overwrite
    try:
        result = run_pysocat("-u", "-", f"FD:{fd},append", input=b"AB", pass_fds=(fd,))
    finally:
        os.close(fd)
    assert result.returncode == 0
    assert path.read_bytes() == b"0123456789AB"


def test_cloexec_sets_the_descriptor_flag(tmp_path):
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        proc = spawn("pysocat", "-T", "30", "-u", "STDIN", f"FD:{fd},cloexec", stdin=subprocess.PIPE, pass_fds=(fd,))
        wait_for(lambda: _fd_flags(proc.pid, fd) & os.O_CLOEXEC, 15)
        proc.kill()
        proc.wait(10)
        # without the option the flag stays clear: checked once the relay runs (-d -d notice)
        log = tmp_path / "log"
        plain = spawn("pysocat", "-d", "-d", "-lf", str(log), "-T", "30", "-u", "STDIN", f"FD:{fd}",
                      stdin=subprocess.PIPE, pass_fds=(fd,))
        wait_for(lambda: log.exists() and "starting data transfer loop" in log.read_text(), 15)
        assert not _fd_flags(plain.pid, fd) & os.O_CLOEXEC
        plain.kill()
        plain.wait(10)
    finally:
        os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_user_group_perm_on_an_inherited_descriptor(tmp_path):
    import pwd

    nobody = pwd.getpwnam("nobody")
    path = tmp_path / "owned"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        result = run_pysocat("-u", "-", f"FD:{fd},user=nobody,group={nobody.pw_gid},perm=0640", input=b"x",
                             pass_fds=(fd,))
    finally:
        os.close(fd)
    assert result.returncode == 0, result.stderr
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (nobody.pw_uid, nobody.pw_gid, 0o640)


def test_flock_on_stdout_is_held_while_running(tmp_path):
    path = tmp_path / "locked"
    path.write_bytes(b"")
    with open(path, "ab") as out:
        proc = spawn("pysocat", "-T", "30", "-u", "STDIN", "STDOUT,flock-ex-nb", stdin=subprocess.PIPE, stdout=out)
        probe = os.open(path, os.O_RDONLY)
        try:
            def locked() -> bool:
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return True
                fcntl.flock(probe, fcntl.LOCK_UN)
                return False

            wait_for(locked, 15)
            proc.stdin.close()
            proc.wait(20)
            assert proc.returncode == 0
        finally:
            os.close(probe)


def test_setpipe_size_on_a_pipe_descriptor():
    read_end, write_end = os.pipe()
    try:
        proc = spawn("pysocat", "-T", "30", "-u", "STDIN", f"FD:{write_end},f-setpipe-sz=131072",
                     stdin=subprocess.PIPE, pass_fds=(write_end,))
        wait_for(lambda: fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) == 131072, 15)
        proc.kill()
        proc.wait(10)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_termios_option_on_a_non_terminal_fails_like_socat():
    result = run_pysocat("-u", "-", "STDOUT,echo=0", input=b"x")
    assert result.returncode == 1
    assert diagnostics(result.stderr)[0].startswith("E tcgetattr(1, 0x")
    assert diagnostics(result.stderr)[0].endswith("): Inappropriate ioctl for device")


@needs_socat
def test_notices_same_as_socat():
    mine, theirs = both("-d", "-d", "-u", "-", "STDOUT", input=b"hi\n")
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)
    mine, theirs = both("-d", "-d", "-u", "STDIN", "STDERR", input=b"")
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)


def test_socket_options_reach_an_inherited_socket_descriptor() -> None:
    """FD:<n> on a socket (socket activation, a parent's socketpair): the socket options
    given are set on it, as socat does; the test sees them on its own end of the same socket."""
    import socket as socket_module
    import subprocess as sp

    from tests.conftest import pysocat_command

    ours, theirs = socket_module.socketpair()
    before = theirs.getsockopt(socket_module.SOL_SOCKET, socket_module.SO_KEEPALIVE)
    fd = theirs.fileno()
    proc = sp.Popen(pysocat_command() + ["-u", f"FD:{fd},so-keepalive,rcvbuf=65536", "STDOUT"], pass_fds=(fd,),
                    stdout=sp.PIPE, stderr=sp.PIPE)
    ours.sendall(b"through the inherited socket\n")
    ours.shutdown(socket_module.SHUT_WR)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == b"through the inherited socket\n"
    assert before == 0 and theirs.getsockopt(socket_module.SOL_SOCKET, socket_module.SO_KEEPALIVE) == 1
    assert theirs.getsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF) == 2 * 65536  # the kernel doubles it
    ours.close()
    theirs.close()
