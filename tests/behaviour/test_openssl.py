"""OPENSSL and OPENSSL-LISTEN over loopback: pysocat against openssl s_server/s_client and
against real socat both ways, the verification failures with socat's words and exit codes,
mutual TLS, the SOCAT_OPENSSL_* variables, fork, TLS half-close, framed over TLS and a bulk
transfer. Certificates are made for each run with the openssl command (EC P-256, fast)."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.behaviour.helpers import no_traceback, spawn
from tests.behaviour.net_helpers import free_port, stop, wait_tcp, wait_udp
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
pytestmark = needs_openssl


# ---------------------------------------------------------------- certificates

def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(d: Path, name: str, subject: str, days: str = "30", san: str | None = None) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", subject, cwd=d)
    extra: list[str] = []
    if san:
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        extra = ["-extfile", f"{name}.ext"]
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
             str(abs(hash(name)) % 100000 + 2), "-out", f"{name}.crt", "-days", days, *extra, cwd=d)
    (d / f"{name}.pem").write_bytes((d / f"{name}.crt").read_bytes() + (d / f"{name}.key").read_bytes())


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    for ca, subject in (("ca", "/CN=Test CA"), ("other", "/CN=Other CA")):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 f"{ca}.key", "-out", f"{ca}.crt", "-days", "30", "-subj", subject, cwd=d)
    _issue(d, "server", "/C=XX/O=Org/CN=localhost", san="DNS:localhost,DNS:foo.example,IP:127.0.0.1")
    _issue(d, "expired", "/CN=localhost", days="-1", san="DNS:localhost")
    _issue(d, "client", "/O=Clients/CN=client")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             "rogue.key", "-out", "rogue.crt", "-days", "30", "-subj", "/CN=rogue", cwd=d)
    (d / "rogue.pem").write_bytes((d / "rogue.crt").read_bytes() + (d / "rogue.key").read_bytes())
    return d


def _tool(name: str) -> str:
    return name if name == "pysocat" else "socat"


def _server(tool: str, certs: Path, options: str, right: str = "PIPE", *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = spawn(tool, "-d", "-d", *extra, f"OPENSSL-LISTEN:{port},reuseaddr,{options}", right, cwd=certs,
                 start_new_session=True)
    wait_tcp(port, proc)
    return proc, port


def _client(tool: str, certs: Path, port: int, options: str, data: bytes = b"hello\n", *extra: str,
            host: str = "localhost") -> subprocess.CompletedProcess:
    runner = run_pysocat if tool == "pysocat" else run_socat
    return runner("-d", "-d", *extra, "-", f"OPENSSL:{host}:{port},{options}", input=data, cwd=certs, timeout=30)


SSL_NOTICES = re.compile(r"^[NEW] (SSL |trusting|no peer|option openssl|certificate|no certificate|SSL_)")


def _tls_lines(stderr: bytes) -> list[str]:
    """The TLS part of the diagnostics (notices, warnings and errors), comparable between runs."""
    return [line for line in diagnostics(stderr) if SSL_NOTICES.match(line)]


# ---------------------------------------------------------------- interoperability

def test_client_against_openssl_s_server(certs: Path) -> None:
    port = free_port()
    server = subprocess.Popen([OPENSSL, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "server.pem",
                               "-naccept", "1", "-quiet"], cwd=certs, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_tcp(port, server)
        assert server.stdin is not None
        server.stdin.write(b"from-s_server\n")
        server.stdin.flush()
        result = run_pysocat("-t", "1", "-", f"OPENSSL:localhost:{port},cafile=ca.crt", input=b"to-s_server\n",
                             cwd=certs, timeout=30)
    finally:
        out, _err = stop(server)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"from-s_server\n"
    assert b"to-s_server\n" in out


def test_openssl_s_client_against_listen(certs: Path) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0", "SYSTEM:echo from-pysocat; head -1")
    client = subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", "ca.crt",
                             "-verify_return_error", "-servername", "localhost", "-quiet"], cwd=certs,
                            input=b"to-pysocat\n", capture_output=True, timeout=30)
    _out, err = stop(server)
    assert b"from-pysocat\n" in client.stdout
    assert b"verify return:1" in client.stderr  # s_client verified pysocat's certificate
    assert "N SSL proto version used: TLSv1.3" in diagnostics(err)


@pytest.mark.parametrize("tool", ["pysocat", pytest.param("socat", marks=needs_socat)])
def test_a_refused_renegotiation_reaches_the_client(certs: Path, tool: str) -> None:
    """socat's OPENSSLRENEG1: s_client asks for a TLS 1.2 renegotiation ("R"); OpenSSL
    refuses it, and the refusal must be sent (s_client then stops with "no renegotiation")
    rather than left in pysocat's buffer, where s_client would wait for ever."""
    server, port = _server(tool, certs, "cert=server.pem,verify=0")
    try:
        client = subprocess.Popen([OPENSSL, "s_client", "-4", "-tls1_2", "-connect", f"127.0.0.1:{port}"], cwd=certs,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert client.stdin is not None
        client.stdin.write(b"R\n")
        client.stdin.flush()
        out, _ = client.communicate(timeout=20)  # with the refusal unsent: a TimeoutExpired here
    finally:
        stop(server)
    assert b"no renegotiation" in out


@needs_socat
@pytest.mark.parametrize("server_tool, client_tool", [("socat", "pysocat"), ("pysocat", "socat"),
                                                      ("pysocat", "pysocat")])
def test_echo_between_socat_and_pysocat(certs: Path, server_tool: str, client_tool: str) -> None:
    server, port = _server(server_tool, certs, "cert=server.pem,cafile=ca.crt")
    payload = bytes(range(256)) * 200
    result = _client(client_tool, certs, port, "cafile=ca.crt,cert=client.pem", payload)
    _out, err = stop(server)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == payload
    assert _tls_lines(result.stderr) == [
        "N trusting certificate, commonName matches", "N SSL proto version used: TLSv1.3",
        "N SSL connection using TLS_AES_256_GCM_SHA384", 'N SSL connection compression "none"',
        'N SSL connection expansion "none"']
    assert "N trusting certificate, no check of commonName" in diagnostics(err)


@needs_socat
def test_client_diagnostics_equal_socat_against_the_same_server(certs: Path) -> None:
    server, port = _server("socat", certs, "cert=server.pem,verify=0,fork")
    try:
        ours = _client("pysocat", certs, port, "cafile=ca.crt,cn=foo.example")
        theirs = _client("socat", certs, port, "cafile=ca.crt,cn=foo.example")
    finally:
        stop(server)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout == b"hello\n"
    assert _tls_lines(ours.stderr) == _tls_lines(theirs.stderr)


@needs_socat
def test_half_close_server_answers_after_eof(certs: Path) -> None:
    """stdin's EOF becomes a close_notify, and what the server sends afterwards still arrives."""
    server, port = _server("socat", certs, "cert=server.pem,verify=0", "SYSTEM:cat >/dev/null; sleep 0.3; echo late")
    result = _client("pysocat", certs, port, "cafile=ca.crt", b"ignored\n", "-t", "3")
    stop(server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"late\n"


@needs_socat
def test_socat_client_half_close_against_pysocat_server(certs: Path) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0",
                           "SYSTEM:cat >/dev/null; sleep 0.3; echo late")
    result = _client("socat", certs, port, "cafile=ca.crt", b"ignored\n", "-t", "3")
    _out, err = stop(server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"late\n"
    assert "W xioshutdown_openssl(): SSL_shutdown() -> -1" not in diagnostics(err)


@needs_socat
@pytest.mark.parametrize("left, right", [("-u OPENSSL", "STDOUT"), ("OPENSSL", "STDOUT"),
                                         ("OPENSSL!!OPEN:/dev/null", "STDOUT")])
def test_close_notify_in_the_same_read_as_the_data(certs: Path, left: str, right: str) -> None:
    """A server that answers and ends at once sends its data and its close_notify together:
    the end must still be seen (nothing makes the socket readable again)."""
    server, port = _server("socat", certs, "cert=server.pem,verify=0", "SYSTEM:echo at-once")
    flags, keyword = (["-u"], left[3:]) if left.startswith("-u ") else ([], left)
    first = keyword.replace("OPENSSL", f"OPENSSL:localhost:{port},cafile=ca.crt", 1)
    started = time.monotonic()
    result = run_pysocat(*flags, "-t", "1", first, right, cwd=certs, timeout=20)
    stop(server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"at-once\n"
    assert time.monotonic() - started < 8


# ---------------------------------------------------------------- verification failures (socat's words, exit 1)

@needs_socat
@pytest.mark.parametrize("case, server_options, client_options, error", [
    ("wrong CA", "cert=server.pem,verify=0", "cafile=other.crt",
     "E SSL_connect(): error:0A000086:SSL routines::certificate verify failed"),
    ("wrong name", "cert=server.pem,verify=0", "cafile=ca.crt,commonname=wrong.example",
     'E certificate is valid but its commonName does not match hostname "wrong.example"'),
    ("expired", "cert=expired.pem,verify=0", "cafile=ca.crt",
     "E SSL_connect(): error:0A000086:SSL routines::certificate verify failed"),
    ("no server certificate", "verify=0", "cafile=ca.crt",
     "E SSL_connect(): error:0A000410:SSL routines::sslv3 alert handshake failure"),
])
def test_client_verification_failure_as_socat(certs: Path, case: str, server_options: str, client_options: str,
                                              error: str) -> None:
    results = {}
    for tool in ("pysocat", "socat"):
        server, port = _server("socat", certs, server_options)
        results[tool] = _client(tool, certs, port, client_options)
        stop(server)
    ours, theirs = results["pysocat"], results["socat"]
    no_traceback(ours)
    assert ours.returncode == theirs.returncode == 1
    assert error in diagnostics(ours.stderr)
    assert [line for line in diagnostics(ours.stderr) if line.startswith("E ")] == \
        [line for line in diagnostics(theirs.stderr) if line.startswith("E ")]
    assert ours.stdout == b""


@needs_socat
@pytest.mark.parametrize("case, server_options, client_options, error", [
    ("no client certificate", "cert=server.pem,cafile=ca.crt", "cafile=ca.crt",
     "E SSL_accept(): error:0A0000C7:SSL routines::peer did not return a certificate"),
    ("untrusted client", "cert=server.pem,cafile=ca.crt", "cafile=ca.crt,cert=rogue.pem",
     "E SSL_accept(): error:0A000086:SSL routines::certificate verify failed"),
    ("no certificate", "verify=0", "cafile=ca.crt", "E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher"),
    ("client name", "cert=server.pem,cafile=ca.crt,commonname=someone", "cafile=ca.crt,cert=client.pem",
     'E certificate is valid but its commonName does not match hostname "someone"'),
])
def test_server_verification_failure_as_socat(certs: Path, case: str, server_options: str, client_options: str,
                                              error: str) -> None:
    errors = {}
    for tool in ("pysocat", "socat"):
        server, port = _server(tool, certs, server_options)
        _client("socat", certs, port, client_options)
        try:
            server.wait(timeout=20)
        finally:
            _out, err = stop(server)
        assert server.returncode == 1, (tool, err)
        errors[tool] = [line for line in diagnostics(err) if line[:2] in ("E ", "W ")]
        assert b"Traceback" not in err
    assert error in errors["pysocat"]
    assert errors["pysocat"] == errors["socat"]


@needs_socat
def test_connection_refused_as_socat() -> None:
    port = free_port()
    ours = run_pysocat("-d", "-d", "-", f"OPENSSL:127.0.0.1:{port}")
    theirs = run_socat("-d", "-d", "-", f"OPENSSL:127.0.0.1:{port}")
    assert ours.returncode == theirs.returncode == 1
    pattern = re.compile(r"\((\d+),")
    assert [pattern.sub("(<fd>,", line) for line in diagnostics(ours.stderr)] == \
        [pattern.sub("(<fd>,", line) for line in diagnostics(theirs.stderr)]


@needs_socat
@pytest.mark.parametrize("options", ["cert=missing.pem", "cert=ca.crt", "cert=server.crt,key=missing.key",
                                     "cert=server.key", "cert=server.pem,key=client.key", "cafile=missing.crt",
                                     "cafile=server.key", "cipher=NO-SUCH-CIPHER", "min-version=TLS9",
                                     "max-version=SSL2", "min-version=SSL2", "compress=zlib2"])
def test_option_errors_as_socat(certs: Path, options: str) -> None:
    ours = run_pysocat("-", f"OPENSSL:127.0.0.1:1,{options}", cwd=certs)
    theirs = run_socat("-", f"OPENSSL:127.0.0.1:1,{options}", cwd=certs)
    no_traceback(ours)
    assert ours.returncode == theirs.returncode == 1
    assert diagnostics(ours.stderr)[:1] == diagnostics(theirs.stderr)[:1]


# ---------------------------------------------------------------- mutual TLS and the variables

ENV_DUMP = "SYSTEM:env | grep _OPENSSL_ | grep ^SOCAT | sort"


@needs_socat
def test_mutual_tls_variables_of_the_client_certificate(certs: Path) -> None:
    """pysocat and socat as servers give a SYSTEM child the same SOCAT_OPENSSL_* of the client."""
    dumps = {}
    for tool in ("pysocat", "socat"):
        server, port = _server(tool, certs, "cert=server.pem,cafile=ca.crt", ENV_DUMP)
        result = _client("socat", certs, port, "cafile=ca.crt,cert=client.pem", b"")
        stop(server)
        assert result.returncode == 0, result.stderr
        dumps[tool] = result.stdout.decode()
    assert "SOCAT_OPENSSL_X509_COMMONNAME=client\n" in dumps["pysocat"]
    assert "SOCAT_OPENSSL_X509_SUBJECT=O = Clients, CN = client\n" in dumps["pysocat"]
    assert "SOCAT_OPENSSL_X509_ISSUER=CN = Test CA\n" in dumps["pysocat"]
    assert dumps["pysocat"] == dumps["socat"]


@needs_socat
@pytest.mark.parametrize("options", ["cafile=ca.crt", "cafile=ca.crt,cn=foo.example", "verify=0"])
def test_client_variables_of_the_server_certificate(certs: Path, tmp_path: Path, options: str) -> None:
    """socat sets the subjectAltName variables only when verifying, up to the entry that matched."""
    server, port = _server("socat", certs, "cert=server.pem,verify=0,fork", "SYSTEM:sleep 0.5")
    dumps = {}
    try:
        for tool in ("pysocat", "socat"):
            out = tmp_path / f"{tool}.env"
            runner = run_pysocat if tool == "pysocat" else run_socat
            result = runner(f"OPENSSL:localhost:{port},{options}", f"{ENV_DUMP} >{out}", cwd=certs, timeout=30)
            assert result.returncode == 0, result.stderr
            dumps[tool] = out.read_text()
    finally:
        stop(server)
    assert "SOCAT_OPENSSL_X509_COUNTRYNAME=XX\n" in dumps["pysocat"]
    assert dumps["pysocat"] == dumps["socat"]
    if options == "cafile=ca.crt,cn=foo.example":
        assert "SOCAT_OPENSSL_X509V3_SUBJECTALTNAME_DNS=localhost // foo.example\n" in dumps["pysocat"]


def test_server_name_sent_as_sni(certs: Path) -> None:
    """SNI: the name checked, else snihost; nothing with no-sni (read by s_server -tlsextdebug)."""
    for options, expected in (("", b"localhost"), (",snihost=sni.example", b"sni.example"),
                              (",cn=foo.example", b"foo.example"), (",no-sni", None)):
        port = free_port()
        server = subprocess.Popen([OPENSSL, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "server.pem",
                                   "-naccept", "1", "-tlsextdebug"], cwd=certs, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_tcp(port, server)
            run_pysocat("-t", "0.3", "-", f"OPENSSL:localhost:{port},cafile=ca.crt{options}", input=b"x",
                        cwd=certs, timeout=30)
        finally:
            out, _ = stop(server)
        dump = b"".join(line.split(b"   ")[-1].strip() for line in out.splitlines() if line.startswith(b"0000 -"))
        if expected is None:
            assert b"server name" not in out
        else:
            assert b"server name" in out and expected in dump, out


@pytest.mark.parametrize("options, version", [("max-version=TLS1.2", "TLSv1.2"), ("method=TLS1.2", "TLSv1.2"),
                                              ("min-proto-version=TLS1.3", "TLSv1.3"), ("compress=none", "TLSv1.3"),
                                              ("compress=auto", "TLSv1.3")])
def test_protocol_options(certs: Path, options: str, version: str) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0")
    result = _client("pysocat", certs, port, f"cafile=ca.crt,{options}")
    _out, err = stop(server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello\n"
    assert f"N SSL proto version used: {version}" in diagnostics(result.stderr)
    assert f"N SSL proto version used: {version}" in diagnostics(err)


def test_versions_that_do_not_meet(certs: Path) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0,max-version=TLS1.2")
    result = _client("pysocat", certs, port, "cafile=ca.crt,min-version=TLS1.3")
    _out, err = stop(server)
    assert result.returncode == 1
    assert diagnostics(result.stderr)[-2].startswith("E SSL_connect(): error:0A00")
    assert any(line.startswith("E SSL_accept(): error:0A00") for line in diagnostics(err))


def test_ipv6_client_checks_the_ip_address_entry(certs: Path) -> None:
    """[::1] is checked against the certificate's IP entries (server6.pem carries IP:::1)."""
    if not (certs / "server6.pem").exists():
        _issue(certs, "server6", "/CN=not-the-address", san="DNS:localhost,IP:::1")
    port = free_port(family=socket.AF_INET6)
    server = spawn("pysocat", f"OPENSSL-LISTEN:{port},pf=ip6,reuseaddr,cert=server6.pem,verify=0", "PIPE", cwd=certs,
                   start_new_session=True)
    try:
        wait_tcp(port, server)
        result = run_pysocat("-d", "-d", "-", f"OPENSSL:[::1]:{port},cafile=ca.crt", input=b"six\n", cwd=certs,
                             timeout=30)
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"six\n"
    assert "N trusting certificate, commonName matches" in diagnostics(result.stderr)


def test_retry_makes_the_handshake_again(certs: Path) -> None:
    """retry=1: the first failed verification is an I message, the second one the error."""
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0,fork")
    result = run_pysocat("-d", "-d", "-d", "-", f"OPENSSL:localhost:{port},cafile=other.crt,retry=1,interval=0.1",
                         cwd=certs, timeout=30)
    stop(server)
    lines = diagnostics(result.stderr)
    failure = "SSL_connect(): error:0A000086:SSL routines::certificate verify failed"
    assert result.returncode == 1
    assert [line[:2] for line in lines if line.endswith(failure)] == ["I ", "E "]


def test_inherited_openssl_variables_are_dropped(certs: Path, tmp_path: Path) -> None:
    """socat clears SOCAT_OPENSSL_* it inherited before it connects: a child sees this peer's only."""
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0")
    out = tmp_path / "env"
    env = {**os.environ, "SOCAT_OPENSSL_X509_STALE": "yes", "SOCAT_OPENSSL_CIPHER": "old"}
    result = run_pysocat(f"OPENSSL:localhost:{port},verify=0", f"{ENV_DUMP} >{out}", cwd=certs, env=env, timeout=30)
    stop(server)
    assert result.returncode == 0, result.stderr
    dump = out.read_text()
    assert "STALE" not in dump and "SOCAT_OPENSSL_CIPHER=TLS_AES_256_GCM_SHA384\n" in dump


# ---------------------------------------------------------------- fork, framed, bulk

def test_listen_fork_serves_concurrent_clients(certs: Path) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,cafile=ca.crt,fork",
                           'SYSTEM:echo "$SOCAT_OPENSSL_X509_COMMONNAME:$(cat)"')
    try:
        clients = [spawn("pysocat", "-", f"OPENSSL:localhost:{port},cafile=ca.crt,cert=client.pem", cwd=certs,
                         stdin=subprocess.PIPE) for _ in range(6)]
        outputs = [client.communicate(f"msg{i}\n".encode(), timeout=30) for i, client in enumerate(clients)]
    finally:
        stop(server)
    assert [out for out, _err in outputs] == [f"client:msg{i}\n".encode() for i in range(6)]
    assert all(client.returncode == 0 for client in clients)


def test_listen_fork_goes_on_after_a_failed_handshake(certs: Path) -> None:
    server, port = _server("pysocat", certs, "cert=server.pem,cafile=ca.crt,fork", "SYSTEM:echo served")
    try:
        rejected = _client("pysocat", certs, port, "cafile=ca.crt")  # no client certificate: the child fails
        accepted = _client("pysocat", certs, port, "cafile=ca.crt,cert=client.pem", b"")
    finally:
        _out, err = stop(server)
    assert b"served" not in rejected.stdout
    assert accepted.returncode == 0 and accepted.stdout == b"served\n"
    assert "E SSL_accept(): error:0A0000C7:SSL routines::peer did not return a certificate" in diagnostics(err)


def test_connect_fork_makes_a_child_per_connection(certs: Path, tmp_path: Path) -> None:
    """OPENSSL,fork connects and completes the handshake, then forks, and connects again."""
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0,fork", "SYSTEM:echo hi; sleep 0.2")
    log = tmp_path / "got"
    client = spawn("pysocat", f"OPENSSL:localhost:{port},cafile=ca.crt,fork,interval=0.05",
                   f"OPEN:{log},creat,append", cwd=certs, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not log.exists() or log.read_bytes().count(b"hi\n") < 3):
            time.sleep(0.05)
    finally:
        stop(client)
        stop(server)
    assert log.read_bytes().count(b"hi\n") >= 3


def test_framed_over_tls_keeps_datagram_boundaries(certs: Path) -> None:
    """UDP datagrams -> OPENSSL,framed -> OPENSSL-LISTEN,framed -> UDP: every size arrives whole."""
    out_port, in_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", out_port))
    receiver.settimeout(10)
    server, port = _server("pysocat", certs, "cert=server.pem,verify=0,framed", f"UDP4-SENDTO:127.0.0.1:{out_port}")
    client = spawn("pysocat", f"UDP4-RECV:{in_port}", f"OPENSSL:localhost:{port},cafile=ca.crt,framed", cwd=certs)
    sizes = [1, 100, 1400, 5000, 17000, 40000, 65000, 3]
    try:
        wait_udp(in_port)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        time.sleep(0.3)  # the handshake after the first open; the datagrams then queue on the socket
        for size in sizes:
            sender.sendto(bytes([size % 251]) * size, ("127.0.0.1", in_port))
        got = [receiver.recvfrom(70000)[0] for _ in sizes]
    finally:
        stop(client)
        stop(server)
        receiver.close()
    assert [len(packet) for packet in got] == sizes
    assert all(packet == bytes([size % 251]) * size for packet, size in zip(got, sizes))


@needs_socat
@pytest.mark.parametrize("server_tool", ["pysocat", "socat"])
def test_bulk_transfer_sha256(certs: Path, tmp_path: Path, server_tool: str) -> None:
    """16 MB through TLS to a server that hashes it: the digest is the sender's."""
    data = os.urandom(1 << 20) * 16
    digest_file = tmp_path / "digest"
    server, port = _server(server_tool, certs, "cert=server.pem,verify=0",
                           f"SYSTEM:sha256sum >{digest_file}")
    result = run_pysocat("-u", "-", f"OPENSSL:localhost:{port},cafile=ca.crt", input=data, cwd=certs, timeout=120)
    server.wait(timeout=60)
    stop(server)
    assert result.returncode == 0, result.stderr
    assert digest_file.read_text().split()[0] == hashlib.sha256(data).hexdigest()


def test_version_lists_openssl() -> None:
    result = run_pysocat("-V")
    assert "  #define WITH_OPENSSL 1" in result.stdout.decode()
    assert "  #undef WITH_FIPS" in result.stdout.decode()


def test_ssl_is_imported_only_when_opened() -> None:
    """A one-liner without TLS does not pay for the ssl module."""
    script = ("import os, sys; from pysocat.cli import main; main(['pysocat', '-u', 'OPEN:/dev/null', 'STDOUT']); "
              "os.write(2, repr(sorted({'ssl', '_ssl', 'OpenSSL'} & set(sys.modules))).encode())")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.stderr.strip().endswith(b"[]"), result


# ---------------------------------------------------------------- DTLS (pyOpenSSL)

def _has_pyopenssl() -> bool:
    try:
        import OpenSSL.SSL  # noqa: F401
    except ImportError:
        return False
    return True


needs_pyopenssl = pytest.mark.skipif(not _has_pyopenssl(), reason="pyOpenSSL is not installed")


def _dtls_relay(certs: Path, server_tool: str, client_tool: str, sizes: list[int]) -> list[bytes]:
    """UDP -> OPENSSL-DTLS-CLIENT -> OPENSSL-DTLS-SERVER -> UDP; the datagrams that arrive
    (-b 65536: a UDP read is cut at -b, in socat too)."""
    out_port, in_port, port = (free_port(socket.SOCK_DGRAM) for _ in range(3))
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", out_port))
    receiver.settimeout(10)
    server = spawn(server_tool, "-b", "65536", f"OPENSSL-DTLS-SERVER:{port},bind=127.0.0.1,cert=server.pem,verify=0",
                   f"UDP4-SENDTO:127.0.0.1:{out_port}", cwd=certs, start_new_session=True)
    client = None
    try:
        wait_udp(port)
        client = spawn(client_tool, "-b", "65536", f"UDP4-RECV:{in_port}",
                       f"OPENSSL-DTLS-CLIENT:localhost:{port},cafile=ca.crt",
                       cwd=certs, start_new_session=True)
        wait_udp(in_port)
        time.sleep(0.5)  # the handshake after the first address is open
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for size in sizes:
            sender.sendto(bytes([size % 251]) * size, ("127.0.0.1", in_port))
            time.sleep(0.01)
        return [receiver.recvfrom(70000)[0] for _ in sizes]
    finally:
        if client is not None:
            stop(client)
        stop(server)
        receiver.close()


@needs_pyopenssl
@pytest.mark.parametrize("server_tool, client_tool", [("pysocat", "pysocat"), pytest.param(
    "socat", "pysocat", marks=needs_socat), pytest.param("pysocat", "socat", marks=needs_socat)])
def test_dtls_keeps_datagrams(certs: Path, server_tool: str, client_tool: str) -> None:
    sizes = [1, 100, 1400, 5000, 16000, 7]
    got = _dtls_relay(certs, server_tool, client_tool, sizes)
    assert [len(packet) for packet in got] == sizes
    assert all(packet == bytes([size % 251]) * size for packet, size in zip(got, sizes))


@needs_pyopenssl
@needs_socat
@pytest.mark.parametrize("client_options, error", [
    ("cafile=other.crt", "E SSL_connect(): error:0A000086:SSL routines::certificate verify failed"),
    ("cafile=ca.crt,cn=wrong.example", 'E certificate is valid but its commonName does not match hostname '
                                       '"wrong.example"'),
])
def test_dtls_client_verification_failure_as_socat(certs: Path, client_options: str, error: str) -> None:
    results = {}
    for tool in ("pysocat", "socat"):
        port = free_port(socket.SOCK_DGRAM)
        server = spawn("socat", f"OPENSSL-DTLS-SERVER:{port},bind=127.0.0.1,cert=server.pem,verify=0", "PIPE",
                       cwd=certs, start_new_session=True)
        try:
            wait_udp(port)
            runner = run_pysocat if tool == "pysocat" else run_socat
            results[tool] = runner("-", f"OPENSSL-DTLS-CLIENT:localhost:{port},{client_options}", input=b"x\n",
                                   cwd=certs, timeout=30)
        finally:
            stop(server)
    assert results["pysocat"].returncode == results["socat"].returncode == 1
    assert error in diagnostics(results["pysocat"].stderr)
    assert [line for line in diagnostics(results["pysocat"].stderr) if line.startswith("E ")] == \
        [line for line in diagnostics(results["socat"].stderr) if line.startswith("E ")]


def test_dtls_without_pyopenssl_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "OpenSSL"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = run_pysocat("-", "OPENSSL-DTLS-CLIENT:127.0.0.1:1", env=env)
    no_traceback(result)
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [
        "E OPENSSL-DTLS-CLIENT: DTLS is not available (pyOpenSSL is not installed)"]
    tls = run_pysocat("-", "OPENSSL:127.0.0.1:1", env=env)  # TLS does not need it
    assert "Connection refused" in tls.stderr.decode()
