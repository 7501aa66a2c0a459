"""Ancillary messages of received datagrams (ip-recvttl, ip-pktinfo, so-timestamp, ...) over
loopback: the -d -d -d log lines and the SOCAT_IP_* variables an EXEC/SYSTEM child sees,
pysocat against real socat 1.7.4.4 with the same sender (socat's UDP4SCM_*, UDP4ENV_* ...
tests). Raw IP cases need root."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import free_port, stop, udp_bound
from tests.conftest import SOCAT, diagnostics, needs_socat, pysocat_command

IP_OPTIONS, IP_TOS, IP_TTL = 4, 1, 2
IPV6_UNICAST_HOPS, IPV6_TCLASS = 16, 67
RAW_PROTOCOL = 233  # unassigned; only these tests' sockets use it

# (name, family, receiver option, sender setsockopt calls, expected log line, expected variables)
CASES = [
    ("ttl", socket.AF_INET, "ip-recvttl", [(socket.IPPROTO_IP, IP_TTL, 53)],
     "I ancillary message: IP_TTL: ttl=53", {"SOCAT_IP_TTL": "53"}),
    ("tos", socket.AF_INET, "ip-recvtos", [(socket.IPPROTO_IP, IP_TOS, 7)],
     "I ancillary message: IP_TOS: tos=7", {"SOCAT_IP_TOS": "7"}),
    ("options", socket.AF_INET, "ip-recvopts", [(socket.IPPROTO_IP, IP_OPTIONS, b"\x01\x00\x00\x00")],
     "I ancillary message: IP_OPTIONS: options=x01000000", {"SOCAT_IP_OPTIONS": "x01000000"}),
    ("pktinfo", socket.AF_INET, "ip-pktinfo", [],
     "I ancillary message: IP_PKTINFO: dstaddr=127.0.0.1",
     {"SOCAT_IP_IF": "lo", "SOCAT_IP_LOCADDR": "127.0.0.1", "SOCAT_IP_DSTADDR": "127.0.0.1"}),
    ("timestamp", socket.AF_INET, "so-timestamp", [],
     "I ancillary message: SCM_TIMESTAMP: timestamp=<time>", {"SOCAT_TIMESTAMP": "<time>"}),
    ("pktinfo6", socket.AF_INET6, "ipv6-recvpktinfo", [],
     "I ancillary message: IPV6_PKTINFO: if=lo",
     {"SOCAT_IPV6_DSTADDR": "[0000:0000:0000:0000:0000:0000:0000:0001]", "SOCAT_IPV6_IF": "lo"}),
    ("hoplimit6", socket.AF_INET6, "ipv6-recvhoplimit", [(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS, 35)],
     "I ancillary message: IPV6_HOPLIMIT: hoplimit=35", {"SOCAT_IPV6_HOPLIMIT": "35"}),
    ("tclass6", socket.AF_INET6, "ipv6-recvtclass", [(socket.IPPROTO_IPV6, IPV6_TCLASS, 0xAA)],
     "I ancillary message: IPV6_TCLASS: tclass=x000000aa", {"SOCAT_IPV6_TCLASS": "x000000aa"}),
]
IDS = [case[0] for case in CASES]
TIMESTAMP = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}, \d{6} usecs")


def _masked(text: str) -> str:
    return TIMESTAMP.sub("<time>", text)


def _ancillary_lines(stderr: bytes) -> list[str]:
    return [_masked(line) for line in diagnostics(stderr) if "ncillary message" in line]


def _send(family: int, port: int, setup: list[tuple[int, int, object]], raw: bool = False) -> None:
    kind, proto = (socket.SOCK_RAW, RAW_PROTOCOL) if raw else (socket.SOCK_DGRAM, 0)
    with socket.socket(family, kind, proto) as sock:
        for level, name, value in setup:
            sock.setsockopt(level, name, value)  # type: ignore[call-overload]
        sock.sendto(b"XYZ\n", ("127.0.0.1" if family == socket.AF_INET else "::1", 0 if raw else port))


def _raw_bound() -> bool:
    for table in ("/proc/net/raw", "/proc/net/raw6"):
        with open(table) as handle:
            if any(int(line.split()[1].rsplit(":", 1)[1], 16) == RAW_PROTOCOL for line in handle.readlines()[1:]):
                return True
    return False


def _recvfrom_environment(tool: str, address: str, family: int, port: int, setup: list, raw: bool = False,
                          fork: bool = False) -> tuple[dict[str, str], list[str]]:
    """The SOCAT_* variables (the ancillary ones and PEERADDR) that a SYSTEM child of
    RECVFROM sees, and the ancillary log lines. The child writes to the server's stdout, a
    file here, so that a forking server (which never ends by itself) can be read too."""
    options = f"{address},reuseaddr" + (",fork" if fork else "")
    with tempfile.TemporaryFile() as output:
        proc = spawn(tool, "-d", "-d", "-d", "-u", "-lpsocat", options, "SYSTEM:env", stdout=output,
                     start_new_session=True)
        try:
            wait_for(_raw_bound if raw else (lambda: udp_bound(port)), 20)
            _send(family, port, setup, raw)
            if fork:
                wait_for(lambda: os.pread(output.fileno(), 1 << 16, 0).count(b"\n") > 3, 20)
                time.sleep(0.3)  # the rest of the child's output
            else:
                proc.wait(timeout=20)
        finally:
            _out, err = stop(proc)
        text = os.pread(output.fileno(), 1 << 20, 0).decode(errors="replace")
    variables = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if name.startswith("SOCAT_") and name not in ("SOCAT_PID", "SOCAT_PPID", "SOCAT_VERSION", "SOCAT_PEERPORT"):
            variables[name] = _masked(value)
    return variables, _ancillary_lines(err)


def _recv_log(tool: str, address: str, family: int, port: int, setup: list, raw: bool = False) -> list[str]:
    """The ancillary lines a RECV logs for two datagrams."""
    proc = spawn(tool, "-d", "-d", "-d", "-u", f"{address},reuseaddr", "-", start_new_session=True)
    try:
        wait_for(_raw_bound if raw else (lambda: udp_bound(port)), 20)
        _send(family, port, setup, raw)
        _send(family, port, setup, raw)
        time.sleep(0.8)  # both datagrams read and logged (the log is read after stopping)
    finally:
        _out, err = stop(proc)
    return _ancillary_lines(err)


def _udp(family: int) -> tuple[int, str, str]:
    port = free_port(socket.SOCK_DGRAM, family)
    version = "4" if family == socket.AF_INET else "6"
    return port, f"UDP{version}-RECVFROM:{port}", f"UDP{version}-RECV:{port}"


def _require_ipv6(family: int) -> None:
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6")


@needs_socat
@pytest.mark.parametrize("name, family, option, setup, line, expected", CASES, ids=IDS)
def test_recvfrom_exports_the_variables_as_socat(name, family, option, setup, line, expected) -> None:
    _require_ipv6(family)
    results = {}
    for tool in ("socat", "pysocat"):
        port, recvfrom, _recv = _udp(family)
        results[tool] = _recvfrom_environment(tool, f"{recvfrom},{option}", family, port, setup)
    variables, lines = results["pysocat"]
    assert {k: v for k, v in variables.items() if k in expected} == expected
    assert line in lines
    ancillary_variables = {k: v for k, v in variables.items() if k not in ("SOCAT_PEERADDR",)}
    reference = {k: v for k, v in results["socat"][0].items() if k not in ("SOCAT_PEERADDR",)}
    assert ancillary_variables == reference
    assert lines == results["socat"][1]


@needs_socat
@pytest.mark.parametrize("name, family, option, setup, line, expected", CASES, ids=IDS)
def test_recv_logs_every_datagram_as_socat(name, family, option, setup, line, expected) -> None:
    _require_ipv6(family)
    logs = {}
    for tool in ("socat", "pysocat"):
        port, _recvfrom, recv = _udp(family)
        logs[tool] = _recv_log(tool, f"{recv},{option}", family, port, setup)
    assert logs["pysocat"].count(line) == 2
    assert logs["pysocat"] == logs["socat"]


def test_without_the_options_nothing_is_reported() -> None:
    port, recvfrom, _recv = _udp(socket.AF_INET)
    variables, lines = _recvfrom_environment("pysocat", recvfrom, socket.AF_INET, port, [(socket.IPPROTO_IP, IP_TTL, 53)])
    assert lines == []
    assert "SOCAT_IP_TTL" not in variables
    assert variables.get("SOCAT_PEERADDR") == "127.0.0.1"


def test_forked_child_sees_the_variables() -> None:
    port, recvfrom, _recv = _udp(socket.AF_INET)
    variables, lines = _recvfrom_environment("pysocat", f"{recvfrom},ip-recvttl,ip-pktinfo", socket.AF_INET, port,
                                             [(socket.IPPROTO_IP, IP_TTL, 47)], fork=True)
    assert variables.get("SOCAT_IP_TTL") == "47"
    assert variables.get("SOCAT_IP_DSTADDR") == "127.0.0.1"
    assert "Ancillary message: ttl=47" in [line[2:] for line in lines]


@needs_socat
@pytest.mark.skipif(os.geteuid() != 0, reason="raw IP sockets need root")
@pytest.mark.parametrize("family, option, setup", [
    (socket.AF_INET, "ip-recvttl,ip-recvtos,ip-pktinfo", [(socket.IPPROTO_IP, IP_TTL, 53), (socket.IPPROTO_IP, IP_TOS, 7)]),
    (socket.AF_INET, "ip-recvopts", [(socket.IPPROTO_IP, IP_OPTIONS, b"\x01\x00\x00\x00")]),
    (socket.AF_INET6, "ipv6-recvpktinfo,ipv6-recvhoplimit,ipv6-recvtclass",
     [(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS, 35), (socket.IPPROTO_IPV6, IPV6_TCLASS, 0xAA)]),
], ids=["ip4", "ip4-options", "ip6"])
def test_raw_ip_recvfrom_and_recv_as_socat(family, option, setup) -> None:
    version = "4" if family == socket.AF_INET else "6"
    results = {}
    for tool in ("socat", "pysocat"):
        wait_for(lambda: not _raw_bound(), 10)
        environment = _recvfrom_environment(tool, f"IP{version}-RECVFROM:{RAW_PROTOCOL},{option}", family, 0, setup,
                                            raw=True)
        wait_for(lambda: not _raw_bound(), 10)
        log = _recv_log(tool, f"IP{version}-RECV:{RAW_PROTOCOL},{option}", family, 0, setup, raw=True)
        results[tool] = (environment[0].items() - {("SOCAT_PEERADDR", "")}, environment[1], log)
    assert results["pysocat"][1], "no ancillary lines logged"
    assert results["pysocat"] == results["socat"]


@needs_socat
@pytest.mark.parametrize("keyword, logged", [("UDP4-DATAGRAM", True), ("UDP4-SENDTO", False)])
def test_datagram_reads_log_and_sendto_reads_do_not(keyword, logged) -> None:
    """An address bound to the port it sends to reads its own datagram back (ttl=200)."""
    lines = {}
    for tool in ("socat", "pysocat"):
        port = free_port(socket.SOCK_DGRAM)
        result = subprocess.run([*_command(tool), "-d", "-d", "-d", "-t", "0.5", "-",
                                 f"{keyword}:127.0.0.1:{port},bind=127.0.0.1:{port},ip-recvttl,ip-ttl=200"],
                                input=b"hi\n", capture_output=True, timeout=20)
        assert result.stdout == b"hi\n"
        lines[tool] = _ancillary_lines(result.stderr)
    assert lines["pysocat"] == lines["socat"]
    assert ("I ancillary message: IP_TTL: ttl=200" in lines["pysocat"]) is logged


def _command(tool: str) -> list[str]:
    return pysocat_command() if tool == "pysocat" else [str(SOCAT)]
