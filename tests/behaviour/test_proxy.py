"""PROXY (HTTP CONNECT) through real servers on 127.0.0.1: tinyproxy with and without Basic
authentication, socat's own proxyecho.sh run by a listener (as socat's test.sh does), and
scripted fake proxies for what a real one will not do on request. Diagnostics are compared
with the real socat 1.7.4.4 where it is installed."""
from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest

from tests.behaviour.helpers import no_traceback, spawn
from tests.behaviour.net_helpers import error_lines, free_port, same_errors_as_socat, stop, wait_tcp, wait_udp
from tests.behaviour.proxy_servers import EchoServer, FakeProxy, start_script_server, start_tinyproxy, tunnel
from tests.conftest import SOCAT, diagnostics, run_pysocat, run_socat

PAYLOAD = random.Random(5).randbytes(1 << 20)


# ---------------------------------------------------------------- tinyproxy

def test_tinyproxy_tunnel_carries_every_byte(tmp_path):
    with EchoServer() as target:
        proxy, port = start_tinyproxy(tmp_path, target.port)
        try:
            rc, out, err = tunnel("-d", "-d", "-", f"PROXY:127.0.0.1:127.0.0.1:{target.port},proxyport={port}",
                                  payload=PAYLOAD)
        finally:
            stop(proxy)
    assert rc == 0, err.decode()
    assert out == PAYLOAD
    lines = diagnostics(err)
    assert f"N opening connection to 127.0.0.1:{target.port} via proxy 127.0.0.1:{port}" in lines
    assert f"N successfully connected to 127.0.0.1:{target.port} via proxy 127.0.0.1:{port}" in lines


def test_tinyproxy_basic_authentication(tmp_path):
    (tmp_path / "auth").write_bytes(b"pxuser:s3cret")  # no newline: socat sends every byte of the file
    with EchoServer() as target:
        proxy, port = start_tinyproxy(tmp_path, target.port, auth=("pxuser", "s3cret"))
        address = f"PROXY:127.0.0.1:127.0.0.1:{target.port},proxyport={port}"
        try:
            good = tunnel("-", f"{address},proxyauth=pxuser:s3cret", payload=b"hello\n")
            from_file = tunnel("-", f"{address},proxy-authorization-file={tmp_path / 'auth'}", payload=b"file\n")
            missing = run_pysocat("-", address, input=b"")
            wrong = run_pysocat("-", f"{address},proxy-authorization=pxuser:wrong", input=b"")
            same_errors_as_socat("-", address, pysocat_stderr=missing.stderr)
            same_errors_as_socat("-", f"{address},proxy-authorization=pxuser:wrong", pysocat_stderr=wrong.stderr)
        finally:
            stop(proxy)
    assert good[:2] == (0, b"hello\n") and from_file[:2] == (0, b"file\n")
    assert (missing.returncode, error_lines(missing.stderr)) == (
        1, [f"E CONNECT 127.0.0.1:{target.port}: Proxy Authentication Required"])
    assert (wrong.returncode, error_lines(wrong.stderr)) == (1, [f"E CONNECT 127.0.0.1:{target.port}: Unauthorized"])
    assert target.connections == 2


def test_tinyproxy_refuses_a_target_its_filter_denies(tmp_path):
    with EchoServer() as target:
        proxy, port = start_tinyproxy(tmp_path, target.port)
        address = f"PROXY:127.0.0.1:127.0.0.2:{target.port},proxyport={port}"  # loopback, but not allowed
        try:
            result = run_pysocat("-d", "-d", "-d", "-", address, input=b"")
            same_errors_as_socat("-", address, pysocat_stderr=result.stderr)
        finally:
            stop(proxy)
    lines = diagnostics(result.stderr)
    assert result.returncode == 1
    assert 'I proxy_connect: received answer "HTTP/1.0 403 Filtered\\r\\n"' in lines
    assert lines[-2:] == [f"E CONNECT 127.0.0.2:{target.port}: Filtered", "N exit(1)"]
    assert target.connections == 0


def test_forking_listener_through_tinyproxy(tmp_path):
    """The usual deployment: every client of a forking listener gets its own tunnel."""
    with EchoServer() as target:
        proxy, port = start_tinyproxy(tmp_path, target.port)
        listen = free_port()
        server = spawn("pysocat", f"TCP4-LISTEN:{listen},bind=127.0.0.1,fork,reuseaddr",
                       f"PROXY:127.0.0.1:127.0.0.1:{target.port},proxyport={port}", start_new_session=True)
        try:
            wait_tcp(listen, server)
            results: dict[int, bytes] = {}

            def client(n: int) -> None:
                with socket.create_connection(("127.0.0.1", listen), timeout=20) as sock:
                    data = bytes([n]) * 50000
                    sock.sendall(data)
                    got = b""
                    while len(got) < len(data):
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    results[n] = got

            threads = [threading.Thread(target=client, args=(n,)) for n in range(1, 4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        finally:
            stop(server)
            stop(proxy)
    assert results == {n: bytes([n]) * 50000 for n in range(1, 4)}
    assert target.connections == 3


def test_framed_packets_keep_their_boundaries_through_the_proxy(tmp_path):
    """After the handshake the address is a plain TCP stream, so `framed` works on it:
    datagrams -> PROXY,framed -> tinyproxy -> framed listener -> datagrams."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(20)
    far = free_port()
    near = free_port()
    receiver = spawn("pysocat", "-u", f"TCP4-LISTEN:{far},bind=127.0.0.1,reuseaddr,framed",
                     f"UDP4-SENDTO:127.0.0.1:{sink.getsockname()[1]}")
    proxy = sender = None
    try:
        wait_tcp(far, receiver)
        proxy, port = start_tinyproxy(tmp_path, far)
        sender = spawn("pysocat", "-u", f"UDP4-RECV:{near},bind=127.0.0.1",
                       f"PROXY:127.0.0.1:127.0.0.1:{far},proxyport={port},framed")
        wait_udp(near)
        time.sleep(0.3)  # the tunnel opens after the first datagram's address is open
        sizes = [1, 1400, 30000, 7]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for size in sizes:
                out.sendto(bytes([size % 251]) * size, ("127.0.0.1", near))
                time.sleep(0.05)
        got = [len(sink.recv(65536)) for _ in sizes]
    finally:
        for proc in (sender, receiver, proxy):
            if proc is not None:
                stop(proc)
        sink.close()
    assert got == sizes


# ---------------------------------------------------------------- socat's proxyecho.sh

@pytest.mark.parametrize("spaces", [(), ("-w", "2")], ids=["PROXYCONNECT_TCP4", "PROXY2SPACES"])
def test_socat_test_suites_proxyecho(spaces):
    """socat's test.sh PROXYCONNECT_TCP4 and PROXY2SPACES with pysocat as the client."""
    server, port = start_script_server("socat", "proxyecho.sh", *spaces, crlf=True)
    try:
        data = b"test proxy " + str(os.getpid()).encode() + b"\r\n"
        result = run_pysocat("-", f"proxy:127.0.0.1:127.0.0.1:1000,pf=ip4,proxyport={port}", input=data)
    finally:
        stop(server)
    assert (result.returncode, result.stdout) == (0, data), result.stderr.decode()
    no_traceback(result)


@pytest.mark.skipif(SOCAT is None, reason="real socat is not installed")
def test_real_socat_client_through_proxyecho_run_by_pysocat():
    """The other way round: pysocat runs socat's fake proxy, real socat's PROXY is the client."""
    server, port = start_script_server("pysocat", "proxyecho.sh", crlf=True)
    try:
        data = b"interop\r\n"
        result = run_socat("-", f"proxy:127.0.0.1:127.0.0.1:1000,pf=ip4,proxyport={port}", input=data)
    finally:
        stop(server)
    assert (result.returncode, result.stdout) == (0, data), result.stderr.decode()


# ---------------------------------------------------------------- scripted proxies

def test_bytes_the_proxy_sends_behind_its_answer_are_not_lost():
    with FakeProxy(b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\nEARLY", echo=True) as proxy:
        rc, out, err = tunnel("-", f"PROXY:127.0.0.1:127.0.0.1:1000,proxyport={proxy.port}",
                              payload=b"x" * 100000)
    assert rc == 0, err.decode()
    assert out[:5] == b"EARLY" and out[5:] == b"x" * (len(out) - 5) and len(out) >= 100000


def test_authorization_file_is_sent_byte_for_byte(tmp_path):
    """socat's test.sh PROXYAUTHFILE: the file's newline is part of the credentials."""
    auth = tmp_path / "auth"
    auth.write_bytes(b"user:s3cr3t\n")
    with FakeProxy(b"HTTP/1.0 200 OK\r\n\r\n", linger=0.2) as proxy:
        result = run_pysocat("FILE:/dev/null", f"PROXY-CONNECT:127.0.0.1:127.0.0.1:1000,pf=ip4,"
                             f"proxyport={proxy.port},proxy-authorization-file={auth}")
    assert result.returncode == 0, result.stderr.decode()
    assert proxy.requests == [b"CONNECT 127.0.0.1:1000 HTTP/1.0\r\n"
                              b"Proxy-authorization: Basic dXNlcjpzM2NyM3QK\r\n\r\n"]


def test_http_version_and_proxy_resolve_shape_the_request():
    hosts = open("/etc/hosts").read().split()
    if "localhost" not in hosts:
        pytest.skip("/etc/hosts has no localhost entry (no name may be resolved off this host)")
    with FakeProxy(b"HTTP/1.1 200 OK\r\n\r\n", linger=0.2) as proxy:
        result = run_pysocat("FILE:/dev/null", f"PROXY:127.0.0.1:localhost:http,proxyport={proxy.port},"
                             "http-version=1.1,resolve")
    assert result.returncode == 0, result.stderr.decode()
    assert proxy.requests == [b"CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n"]


def test_retry_connects_again_after_a_refusal():
    with FakeProxy(b"HTTP/1.0 403 Forbidden\r\n\r\n", connections=2, linger=0.1) as proxy:
        result = run_pysocat("-d", "-d", "-d", "-", f"PROXY:127.0.0.1:127.0.0.1:1000,proxyport={proxy.port},"
                             "retry=1,interval=0.1", input=b"", timeout=30)
    lines = diagnostics(result.stderr)
    assert result.returncode == 1
    assert len(proxy.requests) == 2
    assert "I CONNECT 127.0.0.1:1000: Forbidden" in lines
    assert lines[-2:] == ["E CONNECT 127.0.0.1:1000: Forbidden", "N exit(1)"]


@pytest.mark.parametrize("answer", [b"HTTP/1.0 403 Forbidden\r\nX: y\r\n\r\n", b"FOO/1.0 200 OK\r\n\r\n", b"",
                                    b"HTTP/1.0 200\r\n"], ids=["403", "invalid", "closed", "cut-off"])
def test_refusals_read_as_real_socats(answer):
    """Notice, info and error lines equal socat 1.7.4.4's (the local port aside)."""
    if SOCAT is None:
        pytest.skip("real socat is not installed")
    runs = []
    for runner in (run_pysocat, run_socat):
        with FakeProxy(answer) as proxy:
            result = runner("-d", "-d", "-d", "-", f"PROXY:127.0.0.1:127.0.0.1:1000,proxyport={proxy.port},"
                            "proxyauth=user:pass", input=b"", timeout=30)
        keep = ("proxy", "sending", "CONNECT", "opening", "exit(")
        lines = [line.replace(str(proxy.port), "<proxyport>") for line in diagnostics(result.stderr)]
        runs.append((result.returncode, [line for line in lines if any(word in line for word in keep)
                                         and not line.startswith("I setting option")]))  # not pysocat's
    assert runs[0] == runs[1]
    assert runs[0][0] == 1


def test_the_proxy_endpoint_is_a_plain_stream_socket():
    """What the engine gets: the connected TCP socket itself (so splice applies), with the
    proxy's early bytes still queued in it."""
    import pysocat
    from pysocat.transfer.splice import spliceable

    with FakeProxy(b"HTTP/1.0 200 OK\r\n\r\nqueued", linger=1.0) as proxy:
        endpoint = pysocat.open_address(f"PROXY:127.0.0.1:127.0.0.1:1000,proxyport={proxy.port}")
        try:
            sock = socket.socket(fileno=os.dup(endpoint.read_fd))
            assert sock.type == socket.SOCK_STREAM and sock.getpeername()[1] == proxy.port
            sock.close()
            assert endpoint.read_fd == endpoint.write_fd and not endpoint.keeps_boundaries
            assert spliceable(endpoint.read_fd)
            assert os.read(endpoint.read_fd, 100) == b"queued"
        finally:
            endpoint.close()


def test_bad_option_values_fail_before_connecting():
    listen = socket.socket()
    listen.bind(("127.0.0.1", 0))
    listen.listen(1)
    port = listen.getsockname()[1]
    try:
        both = run_pysocat("-", f"PROXY:127.0.0.1:127.0.0.1:1,proxyport={port},proxyauth=a:b,proxyauthfile=/x")
        missing = run_pysocat("-", f"PROXY:127.0.0.1:127.0.0.1:1,proxyport={port},proxyauthfile=/nonexistent")
        listen.setblocking(False)
        with pytest.raises(BlockingIOError):
            listen.accept()  # nobody connected
    finally:
        listen.close()
    assert error_lines(both.stderr) == ["E Only one of options proxy-authorization and proxy-authorization-file allowed"]
    assert error_lines(missing.stderr) == ['E open("/nonexistent", O_RDONLY): No such file or directory']
