"""--compat=1.7 and PYSOCAT_COMPAT=1.7 through the real command line: socat 1.7.4.4's help
layout (compared line by line with /usr/bin/socat when that is 1.7.4), -V, log levels,
-T 0, a reset peer, a failing child, and which of the two ways of choosing wins."""
from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import threading
import time

import pytest

from pysocat import compat
from pysocat.options import all_option_names
from pysocat.registry import lookup_address
from tests.behaviour.net_helpers import free_port
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat


def _socat_version() -> str:
    if SOCAT is None:
        return ""
    out = subprocess.run([SOCAT, "-V"], capture_output=True, timeout=20).stdout.decode(errors="replace")
    match = re.search(r"socat version (\S+)", out)
    return match.group(1) if match else ""


SOCAT_VERSION = _socat_version()
needs_socat17 = pytest.mark.skipif(not SOCAT_VERSION.startswith("1.7.4"),
                                   reason=f"needs real socat 1.7.4 to compare with (have {SOCAT_VERSION or 'none'})")


def pysocat17(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    """pysocat under socat 1.7's behaviour, chosen by the environment variable."""
    environment = {**os.environ, **(env or {}), compat.ENVIRONMENT_VARIABLE: "1.7"}
    return run_pysocat(*args, env=environment, **kw)


# ---------------------------------------------------------------- -h, -hh, -hhh against socat 1.7.4.4

SECTION_HEADS = ("   options:", "   bi-address:", "   single-address:", "   address-head:", "   opts:", "   opt:")
# where pysocat's line differs from socat's on purpose or by a fault outside the help layout
KNOWN_LINE_DIFFERENCES = {
    ("", "0"): "line 1 is pysocat's credit line (after socat by Gerhard Rieger and contributors)",
    ("   address-head:", "tun"): "pysocat's TUN names its parameter <if-addr> (socat 1.7 and 1.8: <ip-addr>)",
}
SHAPES = {
    "   options:": r"^      -\S+( <\w+>)? +\S.*$",
    "   bi-address:": r"^      (\S+\[,<opts>\]\tgroups=[A-Z0-9,]+|\S+ is an alias for \S+|<single-address>.*)$",
    "   address-head:": r"^(      [a-z0-9-]+\S*\tgroups=[A-Z0-9,]+|         \S+ is (an alias name|a short form) for \S+)$",
    "   opt:": r"^      ([a-z0-9-]+\tgroups=[A-Z0-9,]+\tphase=[A-Z0-9]+\ttype=\S+|[a-z0-9_-]+ is an alias for \S+)$",
}


def _sections(text: str) -> dict[str, dict[str, str]]:
    """Section head -> {what a line describes: the line}; the lines before the first head
    (credit, Usage, synopsis) go under ""."""
    sections: dict[str, dict[str, str]] = {"": {}}
    head = ""
    for line in text.splitlines():
        if line in SECTION_HEADS:
            head = line
            sections[head] = {}
            continue
        words = line.split()
        key = re.split(r"[:\[\t]", words[0])[0] if words else line
        if head == "":
            key = str(len(sections[head]))
        sections[head][key] = line
    return sections


def _implemented(head: str, key: str) -> bool:
    level = compat.SOCAT_1_7
    if head == "   address-head:":
        return key.startswith("<") or (bool(lookup_address(key)) and level.knows_address(key))
    if head == "   bi-address:":
        return key.startswith("<") or bool(lookup_address(key))
    if head == "   opt:":
        opt = all_option_names().get(key)
        return opt is not None and level.knows_option(opt.name)
    return True  # every global option, section head and synopsis line of socat 1.7


@needs_socat17
@pytest.mark.parametrize("flag", ["-h", "-hh", "-hhh"])
def test_help_matches_socat_1_7_line_by_line(flag):
    ours = pysocat17(flag)
    theirs = run_socat(flag)
    assert ours.returncode == theirs.returncode == 0
    # invoked as pysocat, the synopsis names pysocat (as socat through a link named socat)
    mine = _sections(ours.stdout.decode().replace("pysocat [options]", "socat [options]"))
    real = _sections(theirs.stdout.decode())
    assert list(mine) == list(real), "the same sections, in the same order"
    for head, lines in mine.items():
        for key, line in lines.items():
            if key in real[head]:
                if (head, key) not in KNOWN_LINE_DIFFERENCES:
                    assert line == real[head][key], (head, key)
            elif head in SHAPES:
                assert re.match(SHAPES[head], line), (head, line)  # a thing Debian's socat lacks
        common = [key for key in lines if key in real[head]]
        assert common == [key for key in real[head] if key in lines], f"{head} in socat's order"
        missing = [key for key in real[head] if key not in lines and _implemented(head, key)]
        assert not missing, f"{head}: pysocat implements these but does not list them: {missing}"


def test_test_sh_finds_protocols_only_in_the_1_7_layout():
    """test.sh's runstcp4 ... runsudp6: `$SOCAT -h | grep ' udp6-'` (lower case)."""
    layout17 = pysocat17("-h").stdout.decode()
    layout18 = run_pysocat("-h").stdout.decode()
    for proto in ("tcp4", "tcp6", "udp4", "udp6"):
        assert f" {proto}-" in layout17
        assert f" {proto}-" not in layout18
    assert len(re.findall(r" -[rR] ", layout17)) == 2  # test.sh's check for -r/-R


@needs_socat17
@pytest.mark.parametrize("args", [["-d0", "-", "-"], ["-Vx"], ["-dx", "-", "-"]])
def test_usage_after_a_bad_option_is_socat_1_7s(args):
    ours, theirs = pysocat17(*args), run_socat(*args)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stdout == theirs.stdout == b""
    own = [line for line in ours.stderr.decode().splitlines()[1:] if "--explain" not in line and "--compat" not in line]
    real = theirs.stderr.decode().splitlines()[1:]
    assert [line.replace("pysocat", "socat") for line in own] == real


# ---------------------------------------------------------------- -V

def test_version_gives_test_sh_socat_1_7_and_honest_features():
    out = pysocat17("-V").stdout.decode()
    line2 = out.splitlines()[1]
    version = re.sub(r".* ([0-9][1-9]*\.[0-9][0-9]*\.[0-9][^\s]*).*", r"\1", line2)
    assert version == "1.7.4.4"
    assert re.match(r"^socat version 1\.7\.4\.4 on \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d$", line2)
    assert "WITH_DEFAULT_IPV" not in out and "WITH_HELP" not in out and "WITH_SOCKETPAIR" not in out
    defined = set(re.findall(r"^  #define WITH_(\w+) 1$", out, re.M))
    assert {"STDIO", "EXEC", "SYSTEM", "PTY", "PIPE", "TCP", "UDP", "IP6"} <= defined
    for keyword in ("EXEC", "SYSTEM", "PTY", "PIPE", "TCP", "UDP", "UNIX-CONNECT"):
        result = pysocat17(f"{keyword}:::::", "/dev/null", input=b"")
        assert "E unknown device/address" not in result.stderr.decode(), keyword
    for keyword in ("SOCKETPAIR", "SHELL"):  # testaddrs: a type 1.7 lacks
        result = pysocat17(f"{keyword}:::::", "/dev/null", input=b"")
        assert diagnostics(result.stderr) == [f'E unknown device/address "{keyword}"']


# ---------------------------------------------------------------- choosing the level

def test_the_option_wins_over_the_variable():
    assert pysocat17("-d0", "-u", "-", "STDOUT", input=b"x").returncode == 1
    chosen = pysocat17("--compat=1.8", "-d0", "-u", "-", "STDOUT", input=b"x")
    assert (chosen.returncode, chosen.stdout) == (0, b"x")
    also_after = run_pysocat("-d0", "--compat=1.7", "-u", "-", "STDOUT", input=b"x")
    assert also_after.returncode == 1 and b"Usage:" in also_after.stderr


@pytest.mark.parametrize("how", ["option", "variable"])
def test_an_unknown_level_is_an_error(how):
    if how == "option":
        result = run_pysocat("--compat=2.0", "-", "-")
        expected = 'E --compat: unknown compatibility level "2.0" (use 1.7 or 1.8)'
    else:
        result = run_pysocat("-", "-", env={**os.environ, compat.ENVIRONMENT_VARIABLE: "2.0"})
        expected = 'E PYSOCAT_COMPAT: unknown compatibility level "2.0" (use 1.7 or 1.8)'
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [expected]


def test_children_get_socat_1_7s_version():
    assert pysocat17("-u", "SYSTEM:echo $SOCAT_VERSION", "STDOUT").stdout == b"1.7.4.4\n"
    assert run_pysocat("-u", "SYSTEM:echo $SOCAT_VERSION", "STDOUT").stdout == b"1.8.0.1\n"


# ---------------------------------------------------------------- behaviour

def test_warnings_show_without_d_only_in_1_8():
    args = ("-g", "-u", "-", "STDOUT,fork")
    assert [l for l in diagnostics(pysocat17(*args, input=b"x").stderr) if l.startswith("W ")] == []
    assert [l for l in diagnostics(run_pysocat(*args, input=b"x").stderr) if l.startswith("W ")] == \
        ['W showleft(): option "fork" not inquired']


def test_zero_inactivity_timeout_waits_in_1_7_and_ends_at_once_in_1_8():
    args = ("-T", "0", "-u", "SYSTEM:sleep 0.3; echo late", "STDOUT")
    assert pysocat17(*args).stdout == b"late\n"
    started = time.monotonic()
    assert run_pysocat(*args).stdout == b""
    assert time.monotonic() - started < 5


def test_negative_inactivity_timeout_fails_in_1_7():
    result = pysocat17("-T", "-1", "-u", "-", "STDOUT", input=b"x")
    assert result.returncode == 1 and result.stdout == b""
    assert re.fullmatch(r"E xiopoll\(\{0,1\}\{-1,0\}\{-1,0\}\{1,4\}, 4, \{-1\.000000\}\): Invalid argument",
                        diagnostics(result.stderr)[0])
    assert run_pysocat("-T", "-1", "-u", "-", "STDOUT", input=b"x").returncode == 0


def test_a_failing_child_ends_the_run_at_once_in_1_7():
    # the background sleep keeps the child's output open: no EOF before the child dies
    args = ("-u", "SYSTEM:sleep 4 2>/dev/null & sleep 0.2; exit 3", "STDOUT")
    started = time.monotonic()
    result = pysocat17(*args)
    assert time.monotonic() - started < 3
    assert result.returncode == 1
    assert [re.sub(r"child \d+", "child N", l) for l in diagnostics(result.stderr)] == \
        ["E waitpid(): child N exited with status 3"]


def test_a_child_failing_after_its_eof_is_no_error_in_1_7():
    result = pysocat17("-u", "-", "SYSTEM:sleep 0.2; exit 3", input=b"hello\n")
    assert (result.returncode, result.stderr) == (0, b"")
    assert run_pysocat("-u", "-", "SYSTEM:sleep 0.2; exit 3", input=b"hello\n").returncode == 1


def _resetting_server(port: int, ready: threading.Event) -> None:
    """Accepts one connection, reads what comes, and resets it (SO_LINGER 0)."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(1)
        server.settimeout(20)
        ready.set()
        conn, _ = server.accept()
        with conn:
            conn.recv(100)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _against_resetting_peer(run, *global_args: str) -> subprocess.CompletedProcess:
    port = free_port()
    ready = threading.Event()
    server = threading.Thread(target=_resetting_server, args=(port, ready), daemon=True)
    server.start()
    ready.wait(20)
    # stdin stays open for a while, so the reset arrives while the relay still runs
    feeder = subprocess.Popen(["sh", "-c", "echo hi; sleep 1"], stdout=subprocess.PIPE)
    try:
        return run(*global_args, "-", f"TCP4:127.0.0.1:{port}", stdin=feeder.stdout)
    finally:
        feeder.kill()
        feeder.wait()
        server.join(20)


def _reset_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [re.sub(r"read\(\d+, 0x[0-9a-f]+, ", "read(<fd>, 0xPTR, ", l) for l in diagnostics(result.stderr)
            if "reset" in l or "in error" in l]


def test_a_reset_peer_is_a_warning_in_1_7_and_an_error_in_1_8():
    ours = _against_resetting_peer(pysocat17, "-d", "-d")
    assert ours.returncode == 0
    assert _reset_lines(ours) == ["W read(<fd>, 0xPTR, 8192): Connection reset by peer",
                                  "N socket 2 to socket 1 is in error"]
    assert "N exiting with status 0" in diagnostics(ours.stderr)
    newer = _against_resetting_peer(run_pysocat)
    assert newer.returncode == 1
    assert _reset_lines(newer) == ["E read(<fd>, 0xPTR, 8192): Connection reset by peer"]


@needs_socat17
def test_a_reset_peer_gives_what_socat_1_7_gives():
    ours, theirs = _against_resetting_peer(pysocat17, "-d", "-d"), _against_resetting_peer(run_socat, "-d", "-d")
    assert ours.returncode == theirs.returncode == 0
    assert _reset_lines(ours) == _reset_lines(theirs)


@pytest.mark.parametrize("level", ["1.7", "1.8"])
def test_sigusr1_logs_statistics_in_1_8_and_ends_1_7(tmp_path, level):
    import signal

    from tests.behaviour.helpers import spawn, wait_for

    log = tmp_path / "log"
    proc = spawn("pysocat", f"--compat={level}", "-d", "-d", "-lf", str(log), "-u", "SYSTEM:sleep 5", "STDOUT")
    try:
        wait_for(lambda: log.exists() and "starting data transfer loop" in log.read_text(), 20)
        proc.send_signal(signal.SIGUSR1)
        if level == "1.7":
            assert proc.wait(10) == -signal.SIGUSR1  # socat 1.7.4.4: killed, status 138
        else:
            wait_for(lambda: "STATISTICS: left to right" in log.read_text(), 20)
            assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
