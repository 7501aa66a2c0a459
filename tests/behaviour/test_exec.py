"""EXEC: argv splitting, the three channels (socket, pipes, pty), which ends of the channel a
one-way child gets, the FORK/EXEC/PROCESS options, and socat's exact execvp() errors."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time

import pytest

from tests.behaviour.helpers import no_traceback
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat

CHILD_STAT = "EXEC:cat /proc/self/stat"


def stat_fields(stdout: bytes) -> dict[str, int]:
    """pid, ppid, pgrp, session and tty of the process that printed /proc/self/stat."""
    fields = stdout.decode().rsplit(")", 1)[1].split()
    return {"ppid": int(fields[1]), "pgrp": int(fields[2]), "sid": int(fields[3]), "tty": int(fields[4]),
            "tpgid": int(fields[5]), "pid": int(stdout.split()[0])}



@pytest.mark.parametrize("channel", ["", ",pipes"])
def test_20mb_through_cat_both_ways(channel: str) -> None:
    data = os.urandom(20 * 1024 * 1024)
    result = run_pysocat("-", f"EXEC:cat{channel}", input=data, timeout=30)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(result.stdout).hexdigest() == hashlib.sha256(data).hexdigest()


def test_arguments_split_on_spaces_quotes_dropped() -> None:
    result = run_pysocat("-u", 'EXEC:printf [%s] a "b c" \\"d e\\"', "STDOUT")
    # the address lexer drops the quotes first; EXEC then splits on every space
    assert result.stdout == b"[a][b][c][d e]"
    assert result.returncode == 0


@needs_socat
def test_read_only_child_keeps_pysocat_stdin() -> None:
    """Left of -u the child only writes to pysocat; its stdin is pysocat's own stdin."""
    args = ("-u", "EXEC:cat", "STDOUT")
    ours, theirs = run_pysocat(*args, input=b"from stdin\n"), run_socat(*args, input=b"from stdin\n")
    assert ours.stdout == theirs.stdout == b"from stdin\n"


@needs_socat
def test_write_only_child_keeps_pysocat_stdout() -> None:
    args = ("-u", "-", 'EXEC:sh -c "\\"cat; echo end\\""')
    ours, theirs = run_pysocat(*args, input=b"x\n"), run_socat(*args, input=b"x\n")
    assert ours.stdout == theirs.stdout == b"x\nend\n"


@needs_socat
@pytest.mark.parametrize("command,expected", [
    ("nonexistent_cmd", '"nonexistent_cmd", "nonexistent_cmd"'),
    ("nonexistent_cmd a", '"nonexistent_cmd", "nonexistent_cmd", "a"'),
    ("nonexistent_cmd a b c d", '"nonexistent_cmd", "nonexistent_cmd", "a", "b", ...'),
])
def test_execvp_error_names_arguments_like_socat(command: str, expected: str) -> None:
    ours = run_pysocat("-u", f"EXEC:{command}", "STDOUT")
    theirs = run_socat("-u", f"EXEC:{command}", "STDOUT")
    line = f"E execvp({expected}): No such file or directory"
    assert line in diagnostics(ours.stderr)
    assert line in diagnostics(theirs.stderr)
    # socat 1.8: the child's status is a warning, and the exit status 1
    assert any(re.fullmatch(r"W waitpid\(\): child \d+ exited with status 1", d) for d in diagnostics(ours.stderr))
    assert ours.returncode == 1


def test_path_option_replaces_path() -> None:
    missing = run_pysocat("-u", "EXEC:echo hi,path=/nonexistent", "STDOUT")
    assert 'E execvp("echo", "echo", "hi"): No such file or directory' in diagnostics(missing.stderr)
    found = run_pysocat("-u", "EXEC:echo hi,path=/bin", "STDOUT")
    assert found.stdout == b"hi\n" and found.returncode == 0


def test_login_prefixes_argv0_with_dash() -> None:
    result = run_pysocat("-u", 'EXEC:sh -c "\\"echo $0\\"",login', "STDOUT")
    assert result.stdout == b"-sh\n"
    dash = run_pysocat("-u", 'EXEC:/bin/sh -c "\\"echo $0\\"",dash', "STDOUT")
    assert dash.stdout == b"-/bin/sh\n"


def test_socat_environment_variables() -> None:
    result = run_pysocat("-u", "EXEC:env", "STDOUT")
    env = dict(line.split("=", 1) for line in result.stdout.decode().splitlines() if "=" in line)
    assert env["SOCAT_VERSION"] == "1.8.0.1"
    assert env["SOCAT_PID"].isdigit() and env["SOCAT_PPID"].isdigit()
    assert env["SOCAT_PID"] != str(os.getpid())


def test_socat_pid_is_pysocat() -> None:
    result = run_pysocat("-u", 'EXEC:sh -c "\\"echo $SOCAT_PID $PPID\\""', "STDOUT")
    socat_pid, parent = result.stdout.split()
    assert socat_pid == parent  # the child's parent is the pysocat process itself


def test_stderr_option_sends_stderr_into_the_channel() -> None:
    command = 'EXEC:sh -c "\\"echo out; echo err >&2\\""'
    plain = run_pysocat("-u", command, "STDOUT")
    assert plain.stdout == b"out\n" and b"err" in plain.stderr
    joined = run_pysocat("-u", command + ",stderr", "STDOUT")
    assert joined.stdout == b"out\nerr\n" and b"err" not in joined.stderr


def test_stderr_option_keeps_pysocat_messages_on_stderr() -> None:
    result = run_pysocat("-u", "EXEC:nonexistent_cmd,stderr", "STDOUT")
    assert result.stdout == b""
    assert 'E execvp("nonexistent_cmd", "nonexistent_cmd"): No such file or directory' in diagnostics(result.stderr)


def test_fdin_fdout() -> None:
    result = run_pysocat("-", 'EXEC:sh -c "\\"cat <&3 >&4\\"",fdin=3,fdout=4', input=b"via 3 and 4\n")
    assert result.stdout == b"via 3 and 4\n"
    assert result.returncode == 0


@needs_socat
def test_fdin_useless_read_only() -> None:
    args = ("-u", "EXEC:cat,fdin=3", "STDOUT")
    ours, theirs = run_pysocat(*args), run_socat(*args)
    line = "E _xioopen_foxec(): option fdin is useless in read-only mode"
    assert line in diagnostics(theirs.stderr)
    assert line in diagnostics(ours.stderr)
    assert ours.returncode == theirs.returncode == 1


def test_fdout_useless_write_only() -> None:
    result = run_pysocat("-u", "-", "EXEC:cat,fdout=4", input=b"")
    assert "E _xioopen_foxec(): option fdout is useless in write-only mode" in diagnostics(result.stderr)
    assert result.returncode == 1


def test_pipes_and_pty_together_warns() -> None:
    result = run_pysocat("-u", "EXEC:tty,pty,pipes", "STDOUT")
    assert ('W _xioopen_foxec(): options "pipes" and "pty" must not be specified together; ignoring "pipes"'
            in diagnostics(result.stderr))


def test_pipes_channel_is_pipes() -> None:
    result = run_pysocat("-", 'EXEC:sh -c "\\"ls -l /proc/self/fd/0 /proc/self/fd/1\\"",pipes', input=b"")
    assert result.stdout.count(b"pipe:[") == 2, result.stdout
    socket_channel = run_pysocat("-", 'EXEC:sh -c "\\"ls -l /proc/self/fd/0 /proc/self/fd/1\\""', input=b"")
    assert socket_channel.stdout.count(b"socket:[") == 2, socket_channel.stdout


def test_setsid_makes_a_new_session() -> None:
    plain = stat_fields(run_pysocat("-u", CHILD_STAT, "STDOUT").stdout)
    assert plain["sid"] == os.getsid(0) and plain["pgrp"] != plain["pid"]
    child = stat_fields(run_pysocat("-u", CHILD_STAT + ",setsid", "STDOUT").stdout)
    assert child["sid"] == child["pid"] == child["pgrp"]


def test_setpgid_zero_makes_a_group_leader() -> None:
    child = stat_fields(run_pysocat("-u", CHILD_STAT + ",setpgid=0", "STDOUT").stdout)
    assert child["pgrp"] == child["pid"]
    assert child["sid"] == os.getsid(0)


def test_setpgid_joins_a_group() -> None:
    own = os.getpgrp()
    child = stat_fields(run_pysocat("-u", CHILD_STAT + f",setpgid={own}", "STDOUT").stdout)
    assert child["pgrp"] == own


@needs_socat
def test_setpgid_without_value_warns_and_runs() -> None:
    """No value means 1: setpgid(0, 1) fails, a warning, and the program runs anyway."""
    ours = run_pysocat("-", "EXEC:cat,setpgid", input=b"still runs\n")
    theirs = run_socat("-d", "-", "EXEC:cat,setpgid", input=b"still runs\n")
    assert ours.stdout == theirs.stdout == b"still runs\n"
    line = "W setpgid(0, 1): Operation not permitted"
    assert line in diagnostics(ours.stderr) and line in diagnostics(theirs.stderr)
    assert ours.returncode == 0


@pytest.mark.parametrize("address", ["EXEC:sh -c umask", "SYSTEM:umask"])
def test_umask_applies_to_the_child(address: str) -> None:
    result = run_pysocat("-u", address + ",umask=027", "STDOUT")
    assert result.stdout == b"0027\n"


def test_chdir() -> None:
    result = run_pysocat("-u", "EXEC:pwd,chdir=/usr", "STDOUT")
    assert result.stdout == b"/usr\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot and su need root")
def test_chroot_applies_to_the_child(tmp_path) -> None:
    # an empty root holds no programs: the execvp() inside it must fail
    result = run_pysocat("-u", f"EXEC:/bin/true,chroot={tmp_path}", "STDOUT")
    assert 'E execvp("/bin/true", "/bin/true"): No such file or directory' in diagnostics(result.stderr)
    inside = run_pysocat("-u", "EXEC:pwd,chroot=/", "STDOUT")
    assert inside.stdout == b"/\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="su needs root")
@pytest.mark.parametrize("option", ["su", "substuser"])
def test_su_runs_as_user(option: str) -> None:
    result = run_pysocat("-u", f"EXEC:id -un,{option}=nobody", "STDOUT")
    assert result.stdout == b"nobody\n"


@needs_socat
@pytest.mark.parametrize("value", ["0:0", "0abc"])
def test_user_with_leading_digit_is_a_number(value: str, tmp_path) -> None:
    target = str(tmp_path / "out")
    ours = run_pysocat("-u", "-", f"OPEN:{target},creat,user={value}", input=b"")
    theirs = run_socat("-u", "-", f"OPEN:{target},creat,user={value}", input=b"")
    line = f'E parseopts(): trailing garbage in numerical arg of option "user={value}"'
    assert line in diagnostics(theirs.stderr)
    assert line in diagnostics(ours.stderr)
    assert ours.returncode == 1


def test_user_name_still_looked_up(tmp_path) -> None:
    result = run_pysocat("-u", "-", f"OPEN:{tmp_path / 'out'},creat,user=nosuchuser_x", input=b"")
    assert 'E getpwnam("nosuchuser_x"): no such user' in diagnostics(result.stderr)


def test_wrong_group_and_unknown_option() -> None:
    result = run_pysocat("-", "EXEC:cat,history=x")
    assert 'E parseopts_table(): option "history" not supported with this address type' in diagnostics(result.stderr)
    assert result.returncode == 1
    no_traceback(result)


def test_end_close_keeps_a_shared_exec_child_for_every_forked_connection(tmp_path) -> None:
    """socat's EXECENDCLOSE: one `cat` opened first serves each connection of a forking
    listener in turn; end-close means no shutdown and no kill when a connection ends."""
    import socket as socketlib

    from tests.behaviour.helpers import spawn
    from tests.behaviour.net_helpers import stop, wait_path

    path = str(tmp_path / "sock")
    server = spawn("pysocat", "-t", "0.1", "EXEC:cat,end-close", f"UNIX-LISTEN:{path},fork")
    try:
        wait_path(path)
        for text in (b"one\n", b"two\n", b"three\n"):
            with socketlib.socket(socketlib.AF_UNIX) as client:
                client.settimeout(20)
                client.connect(path)
                client.sendall(text)
                assert client.recv(100) == text
            time.sleep(0.5)  # the finished connection's child is gone (-t), not reading cat
    finally:
        stop(server)
