"""OPEN (FILE), CREATE (CREAT), GOPEN and the /path shorthand, with the NAMED, OPEN and REG
options, through the real CLI: file contents, modes and owners (os.stat), locks held while
pysocat runs (a second flock fails), seek positions, unlink timing and the notices, most of
them compared with real socat on the same files.
"""
from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tests.behaviour.helpers import no_traceback, run, spawn, wait_for
from tests.conftest import SOCAT, diagnostics, needs_socat, run_pysocat

TEXT = b"one\ntwo\nthree\n"
TOOLS = ["pysocat", "socat"] if SOCAT else ["pysocat"]


def _in(tmp: Path, tool: str) -> Path:
    """A fresh directory per tool, so both run on identical files."""
    path = tmp / tool
    path.mkdir(exist_ok=True)
    return path


def _normalise(lines: list[str], d: Path) -> list[str]:
    """Descriptor numbers and buffer addresses differ between the two programs; W lines are
    hidden by socat 1.7 without -d (pysocat follows 1.8, where they show)."""
    return [re.sub(r"\((\d+), 0x[0-9a-f]+", "(<fd>, 0xPTR", line.replace(str(d), "{d}"))
            for line in lines if not line.startswith("W ")]


def _same(tmp_path: Path, setup: dict[str, bytes], argv: list[str], stdin: bytes = b"", modes: bool = False) -> dict:
    """Runs argv (with {d} = the tool's directory) under each tool; returns per-tool
    (rc, stdout, diagnostics, files) and asserts they are equal."""
    results = {}
    for tool in TOOLS:
        d = _in(tmp_path, tool)
        for name, data in setup.items():
            (d / name).write_bytes(data)
        args = [a.replace("{d}", str(d)) for a in argv]
        proc = run(tool, *args, input=stdin, cwd=d)
        no_traceback(proc)
        files = {p.name: (p.read_bytes() if p.is_file() else "fifo" if p.is_fifo() else "other",
                          oct(p.stat().st_mode & 0o7777) if modes else None)
                 for p in sorted(d.iterdir())}
        results[tool] = (proc.returncode, proc.stdout, _normalise(diagnostics(proc.stderr), d), files)
    if len(results) == 2:
        assert results["pysocat"] == results["socat"]
    return results["pysocat"]


# ---------------------------------------------------------------- contents, compared with socat
@pytest.mark.parametrize("setup,argv,stdin", [
    ({"in": TEXT}, ["-u", "OPEN:in", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "FILE:in,rdonly", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "OPEN:in,seek=4", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "OPEN:in,seek-end=-6", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "OPEN:in,seek=2,seek-cur=2", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "OPEN:in,readbytes=5", "STDOUT"], b""),
    ({"in": b"a\r\nb\r\n"}, ["-u", "OPEN:in,crnl", "STDOUT"], b""),
    ({}, ["-u", "-", "OPEN:out,creat"], TEXT),
    ({"out": b"123456\n"}, ["-u", "-", "OPEN:out"], b"AB"),
    ({"out": b"123456\n"}, ["-u", "-", "OPEN:out,trunc"], b"AB"),
    ({"out": b"123456\n"}, ["-u", "-", "OPEN:out,append"], b"AB\n"),
    ({"out": b"123456\n"}, ["-u", "-", "OPEN:out,seek=3"], b"AB"),
    ({"out": b"123456\n"}, ["-u", "-", "OPEN:out,ftruncate=2"], b"AB"),
    ({"out": b"old\n"}, ["-u", "-", "OPEN:out,creat,excl"], b"AB"),
    ({}, ["-u", "-", "OPEN:out,creat,excl"], b"AB"),
    ({}, ["-u", "-", "OPEN:out,creat,crnl"], b"a\nb\n"),
    ({}, ["-u", "-", "OPEN:out,creat,cr"], b"a\nb\n"),
    ({"out": b"old old old\n"}, ["-u", "-", "OPEN:out,creat,unlink-early"], b"new\n"),
    ({}, ["-u", "-", "OPEN:out,creat,unlink-close"], TEXT),
    ({"out": b"123456\n"}, ["-u", "-", "CREATE:out"], b"AB"),
    ({"out": b"123456\n"}, ["-u", "-", "CREAT:out,append"], b"AB"),
    ({"out": b"123456\n"}, ["-u", "-", "GOPEN:out"], b"AB\n"),
    ({"out": b"123456\n"}, ["-u", "-", "GOPEN:out,trunc"], b"AB\n"),
    ({}, ["-u", "-", "./new"], TEXT),
    ({"in": TEXT}, ["-u", "{d}/in", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "./in,readbytes=3", "STDOUT"], b""),
    ({}, ["-u", "OPEN:missing", "STDOUT"], b""),
    ({}, ["-u", "-", "OPEN:nodir/out,creat"], b"x"),
    ({}, ["-u", "-", "CREATE:nodir/out"], b"x"),
    ({"in": TEXT}, ["-u", "OPEN:in,o-directory", "STDOUT"], b""),
    ({"in": TEXT}, ["-u", "OPEN:in,pty", "STDOUT"], b""),
    ({}, ["-u", "-", "CREATE:out,creat"], b""),
    ({}, ["-g", "-u", "-", "CREATE:out,creat"], b""),
    ({}, ["-g", "-u", "-", "CREATE:out,trunc"], b""),
    ({}, ["-g", "-u", "-", "OPEN:out,creat,symbolic-link=x"], b""),
])
def test_same_as_socat(tmp_path, setup, argv, stdin):
    _same(tmp_path, setup, argv, stdin)


@pytest.mark.parametrize("argv", [
    ["-u", "-", "OPEN:out,creat"], ["-u", "-", "OPEN:out,creat,perm=0600"], ["-u", "-", "OPEN:out,creat,mode=640"],
    ["-u", "-", "OPEN:out,creat,umask=077"], ["-u", "-", "OPEN:out,creat,perm-late=0604"],
    ["-u", "-", "CREATE:out"], ["-u", "-", "CREATE:out,perm=0600"], ["-u", "-", "GOPEN:out"],
])
def test_modes_same_as_socat(tmp_path, argv):
    _same(tmp_path, {}, argv, b"data\n", modes=True)


def test_perm_early_changes_an_existing_file_before_opening(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    path.chmod(0o644)
    result = run_pysocat("-u", "-", f"OPEN:{path},perm-early=0600", input=b"")
    assert result.returncode == 0
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
@pytest.mark.parametrize("opts", ["user=nobody,group=nogroup", "user-late=nobody,group-late=nogroup",
                                  "user-early=nobody,group-early=nogroup", "owner=nobody,gid=nogroup"])
def test_owner_options(tmp_path, opts):
    import grp
    import pwd

    path = tmp_path / "owned"
    path.write_bytes(b"")
    result = run_pysocat("-u", "-", f"OPEN:{path},{opts}", input=b"x")
    assert result.returncode == 0, result.stderr
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)


# ---------------------------------------------------------------- open flags seen from /proc
def _flags_of(pid: int, path: Path) -> int:
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                with open(f"/proc/{pid}/fdinfo/{fd}") as handle:
                    return int(next(l for l in handle if l.startswith("flags:")).split()[1], 8)
        except OSError:
            continue
    return -1


@pytest.mark.parametrize("opts,bits,absent", [
    ("rdonly", os.O_RDONLY, os.O_WRONLY | os.O_RDWR), ("rdwr", os.O_RDWR, os.O_WRONLY), ("sync", os.O_SYNC, 0), ("dsync", os.O_DSYNC, 0),
    ("noatime", os.O_NOATIME, 0), ("nonblock", os.O_NONBLOCK, 0), ("append", os.O_APPEND, 0),
    ("noctty", 0, 0), ("nofollow", 0, 0), ("cloexec", 0o2000000, 0),
])
def test_open_flags_reach_the_descriptor(tmp_path, opts, bits, absent):
    path = tmp_path / "f"
    path.write_bytes(b"")
    proc = spawn("pysocat", "-T", "30", "-u", f"OPEN:{path},ignoreeof,{opts}", "/dev/null")
    try:
        flags = wait_for(lambda: _flags_of(proc.pid, path) + 1, 15) - 1
        assert flags & bits == bits and not flags & absent
    finally:
        proc.kill()
        proc.wait(10)


def test_nofollow_refuses_a_symlink(tmp_path):
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to("target")
    result = run_pysocat("-u", f"OPEN:{tmp_path}/link,nofollow", "STDOUT")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [f'E open("{tmp_path}/link", 0400000, 0666): Too many levels of symbolic links']


# ---------------------------------------------------------------- locks held while running
@pytest.mark.parametrize("opts,kind", [("flock-ex", "flock"), ("flock-ex-nb", "flock"), ("flock-sh", "flock-sh"),
                                       ("lock,rdwr", "fcntl"), ("f-setlk-wr,rdwr", "fcntl"),
                                       ("f-setlkw-wr,rdwr", "fcntl"), ("setlk-rd", "fcntl-rd")])
def test_lock_is_held_while_running(tmp_path, opts, kind):
    path = tmp_path / "locked"
    path.write_bytes(b"data")
    proc = spawn("pysocat", "-T", "30", "-u", f"OPEN:{path},ignoreeof,{opts}", "/dev/null")
    probe = os.open(path, os.O_RDWR)

    def blocked() -> bool:
        try:
            if kind == "flock":
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            elif kind == "flock-sh":
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # a write lock conflicts with both kinds of record lock
                fcntl.lockf(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN) if kind.startswith("flock") else fcntl.lockf(probe, fcntl.LOCK_UN)
        return False

    try:
        wait_for(blocked, 15)
    finally:
        proc.kill()
        proc.wait(10)
        os.close(probe)


def test_flock_nb_fails_when_locked_and_flock_waits(tmp_path):
    path = tmp_path / "locked"
    path.write_bytes(b"data")
    holder = os.open(path, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        result = run_pysocat("-u", f"OPEN:{path},flock-ex-nb", "STDOUT")
        assert result.returncode == 1
        assert "Resource temporarily unavailable" in diagnostics(result.stderr)[0]
        waiting = spawn("pysocat", "-u", f"OPEN:{path},flock-ex", "STDOUT")
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(1.0)  # blocked in flock() while the test holds the lock
        fcntl.flock(holder, fcntl.LOCK_UN)
        out, _ = waiting.communicate(timeout=20)
        assert (waiting.returncode, out) == (0, b"data")
    finally:
        os.close(holder)


# ---------------------------------------------------------------- unlink timing
def test_unlink_late_removes_the_name_while_the_file_stays_open(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"")
    proc = spawn("pysocat", "-T", "30", "-u", "STDIN", f"OPEN:{path},unlink-late", stdin=subprocess.PIPE)
    try:
        wait_for(lambda: not path.exists(), 15)
        assert proc.poll() is None
        proc.stdin.write(b"still writable\n")
        proc.stdin.close()
        assert proc.wait(20) == 0
    finally:
        proc.kill()


def test_unlink_close_removes_the_file_at_the_end_only(tmp_path):
    path = tmp_path / "f"
    proc = spawn("pysocat", "-u", "STDIN", f"OPEN:{path},creat,unlink-close", stdin=subprocess.PIPE)
    wait_for(path.exists, 15)
    proc.stdin.write(b"x")
    proc.stdin.close()
    assert proc.wait(20) == 0
    assert not path.exists()


def test_unlink_before_open_gives_a_new_inode(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    before = path.stat().st_ino
    keep = open(path, "rb")  # keeps the old inode alive, so its number cannot be reused
    try:
        result = run_pysocat("-u", "-", f"OPEN:{path},creat,unlink", input=b"new")
    finally:
        keep.close()
    assert result.returncode == 0
    assert path.read_bytes() == b"new" and path.stat().st_ino != before


# ---------------------------------------------------------------- GOPEN on a UNIX socket; ignoreeof
def test_gopen_connects_to_a_unix_socket(tmp_path):
    path = str(tmp_path / "sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(4096):
                got.append(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = run_pysocat("-u", "-", path, input=TEXT)
        thread.join(20)
        assert result.returncode == 0 and b"".join(got) == TEXT
    finally:
        server.close()


def test_ignoreeof_follows_a_growing_file(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"line 1\n")
    proc = spawn("pysocat", "-u", f"OPEN:{path},ignoreeof,readbytes=14", "STDOUT")
    with open(path, "ab") as writer:
        writer.write(b"line 2\n")
    out, _ = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (0, b"line 1\nline 2\n")


# ---------------------------------------------------------------- notices
@needs_socat
@pytest.mark.parametrize("address", ["OPEN:in", "OPEN:missing", "GOPEN:in", "OPEN:/dev/null", "OPEN:d",
                                     "GOPEN:d", "OPEN:new,creat"])
def test_open_notices_same_as_socat(tmp_path, address):
    lines = {}
    for tool in TOOLS:
        d = _in(tmp_path, tool)
        (d / "in").write_bytes(b"x")  # noqa: the same files for both tools
        (d / "d").mkdir(exist_ok=True)
        proc = run(tool, "-d", "-d", "-u", address, "/dev/null", cwd=d)
        lines[tool] = [l for l in _normalise(diagnostics(proc.stderr), d) if "opening" in l or l.startswith("E ")]
    assert lines["pysocat"] == lines["socat"]


@needs_socat
def test_create_notice_same_as_socat(tmp_path):
    lines = {}
    for tool in TOOLS:
        proc = run(tool, "-d", "-d", "-u", "-", "CREATE:out", cwd=_in(tmp_path, tool), input=b"x")
        lines[tool] = [l for l in diagnostics(proc.stderr) if "creating" in l]
    assert lines["pysocat"] == lines["socat"] != []


def test_ignoreeof_reader_of_a_dual_file_echo_sees_what_was_just_written(tmp_path):
    """socat's test.sh FILE: `- FILE,ignoreeof!!FILE` echoes through a file; the ignoreeof
    side must be read again as soon as data moved, not only after its 1 s poll interval
    (the -t 0.2 close wait would end the relay first)."""
    path = tmp_path / "file9"
    path.touch()
    proc = spawn("pysocat", "-t", "0.2", "-", f"{path},ignoreeof!!{path}", stdin=subprocess.PIPE)
    import time

    time.sleep(0.3)  # the reader has met EOF on the empty file before any data arrives
    out, err = proc.communicate(b"test9 echo line\n", timeout=30)
    assert proc.returncode == 0, err
    assert out == b"test9 echo line\n"
