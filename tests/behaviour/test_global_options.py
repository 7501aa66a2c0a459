"""Global options with an observable effect: -u/-U direction, -t close timeout, -T
inactivity, -b block size, the -v/-x dumps and -r/-R raw copies (byte-for-byte equal to
real socat's apart from timestamps), --statistics, -L/-W lock files, -s, -g, -4/-6 and
the log options. Timing checks only assert lower bounds or generous upper bounds.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.behaviour.helpers import both, no_traceback, spawn, wait_for
from tests.conftest import diagnostics, needs_socat, run_pysocat

TEXT = b"one\ntwo\nthree\n"
DATA = b"hello\tworld\r\n\x01bin\nmore text here\x7f\xff\n"


def _dump(stderr: bytes) -> bytes:
    """A -v/-x dump with the timestamps (the only varying part) masked."""
    return re.sub(rb"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{9}", b"<time>", stderr)


# ---------------------------------------------------------------- direction
def test_u_relays_left_to_right_only(tmp_path):
    (tmp_path / "left").write_bytes(b"L")
    (tmp_path / "right").write_bytes(b"R")
    result = run_pysocat("-u", f"OPEN:{tmp_path}/left", f"OPEN:{tmp_path}/right")
    assert result.returncode == 0
    assert (tmp_path / "left").read_bytes() == b"L" and (tmp_path / "right").read_bytes() == b"L"


def test_U_relays_right_to_left_only(tmp_path):
    (tmp_path / "left").write_bytes(b"L")
    (tmp_path / "right").write_bytes(b"R")
    result = run_pysocat("-U", f"OPEN:{tmp_path}/left", f"OPEN:{tmp_path}/right")
    assert result.returncode == 0
    assert (tmp_path / "left").read_bytes() == b"R" and (tmp_path / "right").read_bytes() == b"R"


# ---------------------------------------------------------------- timeouts
def test_t_keeps_the_other_direction_open_for_its_timeout(tmp_path):
    """stdin is at EOF at once; the named pipe never is: pysocat waits -t, then exits 0."""
    proc = spawn("pysocat", "-t", "3", "-", f"PIPE:{tmp_path}/fifo")
    time.sleep(1.0)
    assert proc.poll() is None  # a lower bound: load can only make it later
    assert proc.wait(30) == 0


def test_t_short_ends_soon(tmp_path):
    proc = spawn("pysocat", "-t", "0.1", "-", f"PIPE:{tmp_path}/fifo")
    assert proc.wait(20) == 0


def test_T_ends_an_idle_relay_with_status_0(tmp_path):
    proc = spawn("pysocat", "-d", "-d", "-T", "0.5", "-", f"PIPE:{tmp_path}/fifo", stdin=subprocess.PIPE)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "N inactivity timeout triggered" in diagnostics(err)


def test_T_is_reset_by_traffic(tmp_path):
    proc = spawn("pysocat", "-T", "2", "-u", "STDIN", "STDOUT", stdin=subprocess.PIPE)
    for _ in range(3):
        proc.stdin.write(b"x")
        proc.stdin.flush()
        time.sleep(0.5)
        assert proc.poll() is None
    proc.stdin.close()
    assert proc.wait(20) == 0


# ---------------------------------------------------------------- block size and dumps
@pytest.mark.parametrize("flags", [("-x",), ("-v",), ("-x", "-v"), ("-b", "7", "-x"), ("-b", "5", "-v", "-x"),
                                   ("-b3", "-v")])
@needs_socat
def test_dumps_equal_socat_byte_for_byte(tmp_path, flags):
    """Input from a file so that both read the same blocks (-b bytes at most each)."""
    (tmp_path / "in").write_bytes(DATA * 3)
    mine, theirs = both(*flags, "-u", f"OPEN:{tmp_path}/in", "STDOUT")
    assert mine.stdout == theirs.stdout == DATA * 3
    assert _dump(mine.stderr) == _dump(theirs.stderr)


@needs_socat
def test_v_both_directions_equal_socat():
    mine, theirs = both("-v", "-", "PIPE", input=b"ping\n")
    assert _dump(mine.stderr) == _dump(theirs.stderr)


def test_b_limits_each_read(tmp_path):
    (tmp_path / "in").write_bytes(b"x" * 10)
    result = run_pysocat("-b", "4", "-x", "-u", f"OPEN:{tmp_path}/in", "/dev/null")
    assert re.findall(rb"length=(\d+)", result.stderr) == [b"4", b"4", b"2"]


@needs_socat
@pytest.mark.parametrize("flag,argv", [("-r", ("-u", "-", "STDOUT")), ("-R", ("-", "PIPE")), ("-r", ("-", "PIPE"))])
def test_raw_copies_equal_socat(tmp_path, flag, argv):
    copies = {}
    for tool in ("pysocat", "socat"):
        path = tmp_path / f"{tool}.raw"
        result = (run_pysocat if tool == "pysocat" else __import__("tests.conftest").conftest.run_socat)(
            flag, str(path), *argv, input=TEXT)
        assert result.returncode == 0
        copies[tool] = path.read_bytes()
    assert copies["pysocat"] == copies["socat"] == TEXT


# ---------------------------------------------------------------- statistics
def test_statistics_count_blocks_and_bytes(tmp_path):
    (tmp_path / "in").write_bytes(b"y" * 10)
    result = run_pysocat("--statistics", "-b", "4", "-u", f"OPEN:{tmp_path}/in", "/dev/null")
    assert result.returncode == 0
    assert diagnostics(result.stderr) == [
        "W statistics are experimental",
        "I STATISTICS: left to right: 3 packets(s), 10 byte(s)",
        "I STATISTICS: right to left: 0 packets(s), 0 byte(s)",
    ]


# ---------------------------------------------------------------- lock files
def test_L_lock_file_holds_the_pid_and_is_removed(tmp_path):
    lock = tmp_path / "lock"
    proc = spawn("pysocat", "-L", str(lock), "-u", "STDIN", "STDOUT", stdin=subprocess.PIPE)
    wait_for(lambda: lock.exists() and lock.read_text().strip(), 15)
    assert lock.read_text().strip() == str(proc.pid)
    proc.stdin.close()
    assert proc.wait(20) == 0
    assert not lock.exists()


@needs_socat
def test_L_fails_when_the_lock_exists_like_socat(tmp_path):
    lock = tmp_path / "lock"
    lock.write_text("1\n")
    mine, theirs = both("-L", str(lock), "-u", "-", "STDOUT", input=b"x")
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout) == (1, b"")
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)
    assert lock.read_text() == "1\n"


def test_W_waits_for_the_lock_to_go(tmp_path):
    lock = tmp_path / "lock"
    lock.write_text("1\n")
    proc = spawn("pysocat", "-W", str(lock), "-u", "-", "STDOUT", stdin=subprocess.PIPE)
    proc.stdin.write(b"after the lock\n")
    proc.stdin.close()
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting
    lock.unlink()
    assert proc.wait(30) == 0
    assert proc.stdout.read() == b"after the lock\n"


# ---------------------------------------------------------------- -s and -g
@needs_socat
@pytest.mark.parametrize("args", [
    ("-s", "-u", "-", "STDOUT,foo"), ("-s", "-u", "-", "STDOUT,crnl=2"), ("-s", "-u", "-", "STDOUT:x"),
    ("-s", "-u", "-", "FOO"), ("-s", "-u", "-", "STDOUT,user=no-such-user-xyz"), ("-s", "-u", "STDIN,foo!!STDOUT", "PIPE"),
    ("-s", "-g", "-u", "-", "STDOUT,unlink-close"), ("-g", "-u", "-", "STDOUT,unlink-close"),
    ("-g", "-u", "-", "STDOUT,rdonly"), ("-g", "-u", "-", "STDOUT,creat"), ("-s", "-u", "-", "STDOUT,readbytes=2x"),
])
def test_sloppy_and_group_options_same_as_socat(args):
    mine, theirs = both(*args, input=TEXT)
    no_traceback(mine)
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout)
    assert diagnostics(mine.stderr) == diagnostics(theirs.stderr)


@needs_socat
def test_g_option_left_unused_same_as_socat():
    mine, theirs = both("-g", "-u", "-", "STDOUT,fork", input=TEXT)
    assert mine.returncode == theirs.returncode == 1
    # pysocat shows socat 1.8's default W level: the W showleft() line is extra against 1.7
    assert [l for l in diagnostics(mine.stderr) if not l.startswith("W ")] == diagnostics(theirs.stderr)


def test_s_keeps_the_partial_number_like_strtoul(tmp_path):
    """-s: perm=0600x logs trailing garbage and uses 0600, as socat does."""
    out = tmp_path / "out"
    result = run_pysocat("-s", "-u", "-", f"OPEN:{out},creat,perm=0600x", input=b"x")
    assert result.returncode == 0
    assert out.stat().st_mode & 0o777 == 0o600


def test_an_error_in_the_second_address_comes_after_the_first_is_open(tmp_path):
    """socat parses each address just before opening it: the first file is created."""
    result = run_pysocat("-u", f"OPEN:{tmp_path}/first,creat", "STDOUT,foo")
    assert result.returncode == 1
    assert (tmp_path / "first").exists()


# ---------------------------------------------------------------- addresses text limits, !!
@needs_socat
def test_a_third_part_after_bang_bang_is_ignored_like_socat():
    mine, theirs = both("STDIN!!STDOUT!!FOO,bar", "PIPE", input=TEXT)
    assert (mine.returncode, mine.stdout, mine.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr) == \
        (0, TEXT, b"")


@pytest.mark.parametrize("address,message", [
    ("SYSTEM:echo " + "a" * 507, 'E address "SYSTEM:echo ' + "a" * 507 + '" too long'),
    ("A" * 512, 'E keyword too long, in address "' + "A" * 512 + '"'),
])
def test_token_limit_of_512_bytes(address, message):
    result = run_pysocat("-u", address, "STDOUT")
    assert (result.returncode, result.stdout) == (1, b"")
    assert diagnostics(result.stderr) == [message]


def test_511_bytes_are_fine():
    result = run_pysocat("-u", "SYSTEM:echo " + "a" * 506, "STDOUT")
    assert (result.returncode, result.stdout) == (0, b"a" * 506 + b"\n")


# ---------------------------------------------------------------- -4 -6, logging
@pytest.mark.parametrize("flag", ["-4", "-6"])
def test_ip_preference_flags_are_accepted(flag):
    result = run_pysocat(flag, "-u", "-", "STDOUT", input=b"x")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"x", b"")


@needs_socat
@pytest.mark.parametrize("flags", [("-d", "-d"), ("-d", "-d", "-d", "-d")])
def test_notice_lines_same_as_socat(tmp_path, flags):
    (tmp_path / "in").write_bytes(b"abc")
    mine, theirs = both(*flags, "-u", f"OPEN:{tmp_path}/in", "/dev/null")
    pick = lambda err: [l for l in diagnostics(err) if l[:1] == "N"]  # noqa: E731
    assert [re.sub(r"fd \d+|\[\d+,\d+\]", "fd", l) for l in pick(mine.stderr)] == \
        [re.sub(r"fd \d+|\[\d+,\d+\]", "fd", l) for l in pick(theirs.stderr)]


def test_lm_logs_to_stderr_while_starting(tmp_path):
    result = run_pysocat("-lm", "FOO", "-")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == ['E unknown device/address "FOO"']


def test_ly_sends_nothing_to_stderr():
    result = run_pysocat("-ly", "FOO", "-")
    assert (result.returncode, result.stderr) == (1, b"")


def test_lp_lu_lh_format(tmp_path):
    log = tmp_path / "log"
    result = run_pysocat("-lf", str(log), "-lpmyname", "-lu", "-lh", "FOO", "-")
    assert result.returncode == 1 and result.stderr == b""
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \S+ myname\[\d+\] E unknown device/address \"FOO\"\n",
                        log.read_text())


def test_D_lists_the_descriptors(tmp_path):
    (tmp_path / "in").write_bytes(b"x")
    result = run_pysocat("-D", "-u", f"OPEN:{tmp_path}/in", "/dev/null")
    assert result.returncode == 0
    assert result.stderr.decode().splitlines()[0].startswith("  FD  type")
