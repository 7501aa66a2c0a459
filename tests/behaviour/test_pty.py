"""PTY (the address) and EXEC/SYSTEM with `pty`: the slave is a real terminal, link/wait-slave/
pty-interval, termios options checked on the terminal itself, ctty and setsid, and a quiet
end of a program on a pty."""
from __future__ import annotations

import os
import re
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat


def start_pty(tmp: Path, options: str, *extra: str, stderr: object = subprocess.PIPE) -> tuple[subprocess.Popen, str]:
    """pysocat PTY,link=<tmp>/tty<options> -, with its stdin open; returns it and the link."""
    link = str(tmp / "tty")
    proc = spawn("pysocat", *extra, f"PTY,link={link}{options}", "-", stdin=subprocess.PIPE, stderr=stderr)
    wait_for(lambda: os.path.islink(link), timeout=10)
    return proc, link


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 15) -> None:
    """Reads the process's stderr until a line holds `text` (its diagnostics at -d -d)."""
    import select

    assert proc.stderr is not None
    fd = proc.stderr.fileno()  # raw reads: a buffered readline would hide lines from select
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
        if text.encode() in seen:
            return
    raise AssertionError(f"no line with {text!r} within {timeout} s: {seen.decode(errors='replace')}")


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def test_pty_relays_both_ways_and_removes_link(tmp_path) -> None:
    proc, link = start_pty(tmp_path, ",rawer", "-d", "-d")
    try:
        assert os.readlink(link).startswith("/dev/pts/")
        slave = os.open(link, os.O_RDWR | os.O_NOCTTY)
        os.write(slave, b"to stdout\n")
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == b"to stdout\n"
        proc.stdin.write(b"to slave\n")
        proc.stdin.flush()
        got = b""
        deadline = time.monotonic() + 10
        while not got.endswith(b"\n") and time.monotonic() < deadline:
            got += os.read(slave, 100)
        assert got == b"to slave\n"
        proc.stdin.close()
        assert proc.wait(timeout=15) == 0
        os.close(slave)
        assert proc.stderr is not None
        lines = diagnostics(proc.stderr.read())
        assert any(re.fullmatch(r"N PTY is /dev/pts/\d+", line) for line in lines)
    finally:
        stop(proc)
    assert not os.path.lexists(link)


@pytest.mark.parametrize("options,check", [
    (",rawer", lambda a: not a[3] & termios.ECHO and not a[3] & termios.ICANON and not a[1] & termios.OPOST),
    (",raw", lambda a: not a[3] & termios.ICANON and not a[1] & termios.OPOST and a[6][termios.VMIN] == 1),
    (",cfmakeraw", lambda a: not a[3] & termios.ECHO and a[2] & termios.CSIZE == termios.CS8),
    (",echo=0,icanon=0", lambda a: not a[3] & (termios.ECHO | termios.ICANON)),
    (",echo=0,sane", lambda a: a[3] & termios.ECHO and a[3] & termios.ICANON),
    (",b19200", lambda a: a[4] == a[5] == termios.B19200),
    (",parodd,cstopb", lambda a: a[2] & termios.PARODD and a[2] & termios.CSTOPB),
    (",crtscts,clocal", lambda a: a[2] & termios.CRTSCTS and a[2] & termios.CLOCAL),
    (",icrnl=0,onlcr=0,igncr", lambda a: not a[0] & termios.ICRNL and not a[1] & termios.ONLCR and a[0] & termios.IGNCR),
    (",isig=0,icanon=0,min=5,time=3",
     lambda a: not a[3] & termios.ISIG and a[6][termios.VMIN] == 5 and a[6][termios.VTIME] == 3),
    (",intr=3,eof=4", lambda a: a[6][termios.VINTR] == b"\x03" and a[6][termios.VEOF] == b"\x04"),
])
def test_termios_options_on_the_terminal(tmp_path, options: str, check) -> None:
    # the link appears before the termios options are applied (socat's order too): wait
    # until the relay has started, when every option is in place
    proc, link = start_pty(tmp_path, options, "-d", "-d")
    try:
        wait_for_line(proc, "starting data transfer loop")
        slave = os.open(link, os.O_RDWR | os.O_NOCTTY)
        try:
            attrs = termios.tcgetattr(slave)
        finally:
            os.close(slave)
        assert check(attrs), (options, attrs)
    finally:
        stop(proc)


def test_stty_sees_the_settings(tmp_path) -> None:
    proc, link = start_pty(tmp_path, ",rawer,b9600", "-d", "-d")
    try:
        wait_for_line(proc, "starting data transfer loop")
        out = subprocess.run(["stty", "-a", "-F", link], capture_output=True, timeout=10).stdout.decode()
    finally:
        stop(proc)
    assert "speed 9600 baud" in out
    assert re.search(r"(^|\s)-echo(\s|$)", out) and re.search(r"(^|\s)-icanon(\s|$)", out)


@needs_socat
@pytest.mark.parametrize("option,call", [("ispeed", "cfsetispeed"), ("ospeed", "cfsetospeed")])
def test_speed_is_a_constant_not_a_rate(option: str, call: str) -> None:
    args = ("-u", "-", f"PTY,{option}=9600")
    ours, theirs = run_pysocat(*args, input=b"x"), run_socat(*args, input=b"x")
    pattern = rf"E {call}\(0x[0-9a-f]+, 9600\): Invalid argument"
    assert any(re.fullmatch(pattern, line) for line in diagnostics(theirs.stderr))
    assert any(re.fullmatch(pattern, line) for line in diagnostics(ours.stderr)), ours.stderr
    assert ours.returncode == theirs.returncode == 1
    constant = (f"PTY,{option}=13",)  # B9600 (a Linux pty keeps its own line speed)
    accepted = run_pysocat("-u", "-", *constant, input=b"x")
    assert accepted.returncode == 0 and accepted.stderr == b""


@needs_socat
def test_csize_on_a_pty_fails_like_socat() -> None:
    """Linux ptys refuse a character size other than CS8: socat's tcsetattr() error, exit 1."""
    ours, theirs = run_pysocat("-u", "-", "PTY,cs7", input=b"x"), run_socat("-u", "-", "PTY,cs7", input=b"x")
    assert any(line.startswith("E tcsetattr(") and line.endswith("): Invalid argument")
               for line in diagnostics(theirs.stderr))
    assert any(line.startswith("E tcsetattr(") and line.endswith("): Invalid argument")
               for line in diagnostics(ours.stderr))
    assert ours.returncode == theirs.returncode == 1


def test_wait_slave_waits_for_the_slave(tmp_path) -> None:
    log = tmp_path / "log"
    with open(log, "wb") as handle:
        proc, link = start_pty(tmp_path, ",rawer,wait-slave,pty-interval=0.05", "-d", "-d", stderr=handle)
    try:
        time.sleep(0.3)
        assert b"starting data transfer loop" not in log.read_bytes()
        assert proc.poll() is None
        slave = os.open(link, os.O_RDWR | os.O_NOCTTY)
        wait_for(lambda: b"starting data transfer loop" in log.read_bytes(), timeout=10)
        os.write(slave, b"hello\n")
        assert proc.stdout is not None and proc.stdout.readline() == b"hello\n"
        os.close(slave)  # the last close of the slave is EOF for a wait-slave pty
        assert proc.wait(timeout=15) == 0
    finally:
        stop(proc)


def test_exec_pty_is_a_terminal() -> None:
    result = run_pysocat("-", "EXEC:tty,pty", input=b"")
    assert re.fullmatch(rb"/dev/pts/\d+\r?\n", result.stdout), result.stdout


@needs_socat
def test_read_only_exec_gets_pty_as_stdout_only() -> None:
    args = ("-u", "EXEC:tty,pty", "STDOUT")
    ours, theirs = run_pysocat(*args), run_socat(*args)
    assert ours.stdout.replace(b"\r", b"") == b"not a tty\n"
    # socat reacts to the child's death and may close before reading its last output
    assert theirs.stdout.replace(b"\r", b"") in (b"not a tty\n", b"")


def test_exec_pty_rawer_stty() -> None:
    result = run_pysocat("-", "EXEC:stty -a,pty,rawer", input=b"")
    out = result.stdout.decode()
    assert re.search(r"(^|\s)-echo(\s|$)", out) and re.search(r"(^|\s)-icanon(\s|$)", out), out
    cooked = run_pysocat("-", "EXEC:stty -a,pty", input=b"").stdout.decode()
    assert re.search(r"(^|\s)icanon(\s|$)", cooked), cooked


def _stat(stdout: bytes) -> dict[str, int]:
    text = stdout.decode().replace("\r", "")
    fields = text.rsplit(")", 1)[1].split()
    return {"pid": int(text.split()[0]), "pgrp": int(fields[2]), "sid": int(fields[3]), "tty": int(fields[4]),
            "tpgid": int(fields[5])}


def test_pty_alone_keeps_session() -> None:
    child = _stat(run_pysocat("-", "EXEC:cat /proc/self/stat,pty", input=b"").stdout)
    # socat does not start a session for `pty` alone: the pty is not the controlling terminal
    assert child["sid"] == os.getsid(0)
    assert child["pgrp"] != child["pid"]


def test_setsid_ctty_makes_pty_the_controlling_terminal() -> None:
    result = run_pysocat("-", "EXEC:cat /proc/self/stat,pty,setsid,ctty", input=b"")
    child = _stat(result.stdout)
    assert child["sid"] == child["pid"] == child["tpgid"]
    assert child["tty"] != 0
    no_ctty = _stat(run_pysocat("-", "EXEC:cat /proc/self/stat,pty,setsid", input=b"").stdout)
    assert no_ctty["sid"] == no_ctty["pid"] and no_ctty["tty"] == 0


@needs_socat
def test_ctty_without_setsid_warns_like_socat() -> None:
    ours = run_pysocat("-d", "-", "EXEC:true,pty,ctty", input=b"")
    theirs = run_socat("-d", "-", "EXEC:true,pty,ctty", input=b"")

    def shape(stderr: bytes) -> list[str]:
        return [re.sub(r"\(\d+", "(N", line) for line in diagnostics(stderr) if "TIOCSCTTY" in line or "tcsetpgrp" in line]

    assert shape(ours.stderr) == shape(theirs.stderr) == ["W ioctl(N, TIOCSCTTY, NULL): Operation not permitted",
                                                          "W tcsetpgrp(N): Inappropriate ioctl for device"]


def test_program_on_pty_ends_quietly() -> None:
    """At close the child gets SIGTERM before the master closes: no read error from cat."""
    result = run_pysocat("-", "EXEC:cat,pty,rawer", input=b"hello\n")
    assert result.stdout == b"hello\n"
    assert result.stderr == b""
    assert result.returncode == 0
