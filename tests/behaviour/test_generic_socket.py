"""The generic socket addresses SOCKET-CONNECT, -LISTEN, -SENDTO, -RECVFROM, -RECV and
-DATAGRAM over loopback, UNIX sockets in a temporary directory and user netlink (a
family pysocat knows nothing of): connect, listen with fork, message boundaries,
SOCAT_* variables, interop with real socat both ways, and socat's diagnostics."""
from __future__ import annotations

import os
import re
import socket
import struct
import threading

import pytest

from tests.behaviour.helpers import run, spawn, wait_for
from tests.behaviour.net_helpers import echo_roundtrip, free_port, stop, wait_path, wait_tcp, wait_udp, zombies_of
from tests.conftest import diagnostics, needs_socat, run_pysocat, run_socat

UDP = socket.SOCK_DGRAM
NETLINK_USERSOCK = 2  # netlink between user processes: nothing reaches the kernel's tables


def inet(port: int, ip: str = "127.0.0.1") -> str:
    """The dalan form of an AF_INET address: port and address in network order, 8 zero bytes."""
    return f"x{port:04x}x{socket.inet_aton(ip).hex()}x0000000000000000"


def inet6_loopback(port: int) -> str:
    return f"x{port:04x}x00000000x{socket.inet_pton(socket.AF_INET6, '::1').hex()}x00000000"


def unix(path: str) -> str:
    return "x" + path.encode().hex()


def _udp_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, UDP)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(20)
    return sock


def _tcp_listener() -> tuple[socket.socket, int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(30)
    return listener, listener.getsockname()[1]


# ---------------------------------------------------------------- SOCKET-CONNECT

def test_socket_connect_talks_to_a_tcp_listener_both_ways():
    listener, port = _tcp_listener()
    seen: dict[str, bytes] = {}

    def serve() -> None:
        conn, _peer = listener.accept()
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            seen["data"] = data
            conn.sendall(data[::-1])

    thread = threading.Thread(target=serve)
    thread.start()
    payload = os.urandom(200_000)
    result = run_pysocat("-", f"SOCKET-CONNECT:2:6:{inet(port)}", input=payload, timeout=60)
    thread.join(30)
    listener.close()
    assert result.returncode == 0, result.stderr
    assert seen["data"] == payload
    assert result.stdout == payload[::-1]


def test_socket_connect_over_ipv6_loopback():
    listener = socket.socket(socket.AF_INET6)
    try:
        listener.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    listener.listen(1)
    listener.settimeout(30)
    port = listener.getsockname()[1]
    thread = threading.Thread(target=lambda: _echo_once(listener))
    thread.start()
    result = run_pysocat("-d", "-d", "-", f"SOCKET-CONNECT:10:6:{inet6_loopback(port)}", input=b"six\n")
    thread.join(30)
    listener.close()
    assert result.stdout == b"six\n"
    assert f"N opening connection to AF=10 [0000:0000:0000:0000:0000:0000:0000:0001]:{port}" in diagnostics(
        result.stderr)


def _echo_once(listener: socket.socket) -> None:
    conn, _peer = listener.accept()
    with conn:
        while chunk := conn.recv(65536):
            conn.sendall(chunk)


def test_socket_connect_seqpacket_keeps_message_boundaries(tmp_path):
    """A UNIX seqpacket connection (so-type=5) relayed to UDP: each message one datagram."""
    path = str(tmp_path / "seq")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(path)
    server.listen(1)
    server.settimeout(30)
    receiver = _udp_socket()
    target = receiver.getsockname()[1]
    messages = [b"one", b"two two", b"x" * 3000, b"four"]

    def serve() -> None:
        conn, _peer = server.accept()
        with conn:
            for message in messages:
                conn.send(message)

    thread = threading.Thread(target=serve)
    thread.start()
    relay = spawn("pysocat", "-u", f"SOCKET-CONNECT:1:0:{unix(path)},so-type=5", f"SOCKET-SENDTO:2:2:0:{inet(target)}")
    try:
        got = [receiver.recv(65536) for _ in messages]
        assert relay.wait(timeout=30) == 0
    finally:
        thread.join(30)
        stop(relay)
        server.close()
        receiver.close()
    assert got == messages


# ---------------------------------------------------------------- SOCKET-LISTEN

def test_socket_listen_accepts_one_connection_and_ends():
    port = free_port()
    server = spawn("pysocat", "-d", "-d", f"SOCKET-LISTEN:2:6:{inet(port)}", "PIPE")
    try:
        wait_tcp(port, server)
        assert echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), b"listen\n") == b"listen\n"
        assert server.wait(timeout=30) == 0
    finally:
        _out, err = stop(server)
    lines = diagnostics(err)
    assert lines[0] == f"N listening on AF=2 127.0.0.1:{port}"
    assert lines[1].startswith("N accepting connection from AF=2 127.0.0.1:")
    assert lines[1].endswith(f" on AF=2 127.0.0.1:{port}")


def test_socket_listen_fork_serves_concurrent_clients():
    port = free_port()
    server = spawn("pysocat", f"SOCKET-LISTEN:2:6:{inet(port)},fork", "PIPE", start_new_session=True)
    try:
        wait_tcp(port, server)
        results: dict[int, bytes] = {}

        def client(i: int) -> None:
            results[i] = echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), f"client {i}\n".encode() * 1000)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert results == {i: f"client {i}\n".encode() * 1000 for i in range(5)}
        wait_for(lambda: not zombies_of(server.pid), 20)
        assert server.poll() is None  # the parent keeps listening
    finally:
        stop(server)


def test_socket_listen_on_a_unix_path_and_connect_to_it(tmp_path):
    path = str(tmp_path / "stream")
    server = spawn("pysocat", f"SOCKET-LISTEN:1:0:{unix(path)}", "PIPE")
    try:
        wait_path(path)
        result = run_pysocat("-", f"SOCKET-CONNECT:1:0:{unix(path)}", input=b"over unix\n")
        assert result.stdout == b"over unix\n"
        assert server.wait(timeout=30) == 0
    finally:
        stop(server)
    assert os.path.exists(path)  # generic sockets leave their file system entry, as socat's do


@needs_socat
@pytest.mark.parametrize("protocol", [6, 0])
def test_socket_listen_variables_like_socat(protocol: int):
    """SOCAT_PEERPORT/SOCKPORT only when the protocol parameter is TCP (or UDP, SCTP)."""
    found = {}
    for tool in ("socat", "pysocat"):
        port = free_port()
        server = spawn(tool, f"SOCKET-LISTEN:2:{protocol}:{inet(port)}",
                       "SYSTEM:env | grep -e ^SOCAT_PEER -e ^SOCAT_SOCK | sort")
        try:
            wait_tcp(port, server)
            text = echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), b"").decode()
        finally:
            stop(server)
        found[tool] = [line.split("=")[0] for line in text.splitlines()]
        assert f"SOCAT_SOCKADDR=127.0.0.1" in text
    assert found["pysocat"] == found["socat"]
    assert ("SOCAT_PEERPORT" in found["pysocat"]) == (protocol == 6)


def test_socket_listen_range_refuses_other_peers():
    port = free_port()
    # 10.0.0.0/8 only: the loopback client is refused, and the server keeps listening
    server = spawn("pysocat", "-d", "-d", f"SOCKET-LISTEN:2:6:{inet(port)},range=x0000x0a000000:x0000xff000000",
                   "PIPE")
    try:
        wait_tcp(port, server)
        for _attempt in range(2):  # the second is accepted (and refused) too: the server went on listening
            with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
                try:
                    assert client.recv(100) == b""  # closed at once
                except ConnectionResetError:
                    pass
        assert server.poll() is None
    finally:
        _out, err = stop(server)
    assert any(line.startswith("W refusing connection from AF=2 127.0.0.1:") and line.endswith("due to range option")
               for line in diagnostics(err))


# ---------------------------------------------------------------- datagrams

def test_sendto_and_recv_keep_datagram_boundaries():
    """SOCKET-RECV on one port relays to SOCKET-SENDTO: each datagram arrives as it was sent."""
    inbound = free_port(UDP)
    receiver = _udp_socket()
    relay = spawn("pysocat", "-u", f"SOCKET-RECV:2:2:0:{inet(inbound)}",
                  f"SOCKET-SENDTO:2:2:0:{inet(receiver.getsockname()[1])}")
    sender = _udp_socket()
    datagrams = [b"a", b"bb" * 100, b"", b"c" * 8000, b"last"]
    try:
        wait_udp(inbound)
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", inbound))
        got = [receiver.recv(65536) for datagram in datagrams if datagram]
    finally:
        stop(relay)
        sender.close()
        receiver.close()
    assert got == [datagram for datagram in datagrams if datagram]  # empty ones are not relayed


def test_recvfrom_replies_to_each_sender_with_fork():
    port = free_port(UDP)
    server = spawn("pysocat", f"SOCKET-RECVFROM:2:2:0:{inet(port)},fork", "SYSTEM:tr a-z A-Z",
                   start_new_session=True)
    try:
        wait_udp(port)
        for i in range(3):
            client = _udp_socket()
            client.sendto(f"peer {i}".encode(), ("127.0.0.1", port))
            assert client.recvfrom(100) == (f"PEER {i}".encode(), ("127.0.0.1", port))
            client.close()
        assert server.poll() is None
    finally:
        stop(server)


@needs_socat
def test_recvfrom_peer_variables_like_socat():
    found = {}
    for tool in ("socat", "pysocat"):
        port = free_port(UDP)
        server = spawn(tool, f"SOCKET-RECVFROM:2:2:17:{inet(port)}",
                       "SYSTEM:env | grep -e ^SOCAT_PEER -e ^SOCAT_SOCK | sort")
        try:
            wait_udp(port)
            client = _udp_socket()
            client.sendto(b"x", ("127.0.0.1", port))
            found[tool] = client.recv(1000).decode().replace(str(client.getsockname()[1]), "<port>")
            client.close()
        finally:
            stop(server)
    assert found["pysocat"] == found["socat"] == "SOCAT_PEERADDR=127.0.0.1\nSOCAT_PEERPORT=<port>\n"


def test_datagram_sends_from_its_bind_address_and_reads_replies():
    peer = _udp_socket()
    local = free_port(UDP)
    relay = spawn("pysocat", f"SOCKET-DATAGRAM:2:2:0:{inet(peer.getsockname()[1])},bind={inet(local)}", "PIPE")
    try:
        wait_udp(local)
        peer.sendto(b"echo me", ("127.0.0.1", local))  # read by the DATAGRAM address, echoed by PIPE
        assert peer.recvfrom(100) == (b"echo me", ("127.0.0.1", local))
    finally:
        stop(relay)
        peer.close()


def test_unix_datagrams_in_a_temporary_directory(tmp_path):
    inbound, outbound = str(tmp_path / "in"), str(tmp_path / "out")
    receiver = socket.socket(socket.AF_UNIX, UDP)
    receiver.bind(outbound)
    receiver.settimeout(20)
    relay = spawn("pysocat", "-u", f"SOCKET-RECV:1:2:0:{unix(inbound)}", f"SOCKET-SENDTO:1:2:0:{unix(outbound)}")
    sender = socket.socket(socket.AF_UNIX, UDP)
    try:
        wait_path(inbound)
        for datagram in (b"first", b"second datagram", b"3"):
            sender.sendto(datagram, inbound)
        got = [receiver.recv(1000) for _ in range(3)]
    finally:
        stop(relay)
        sender.close()
        receiver.close()
    assert got == [b"first", b"second datagram", b"3"]


def test_any_domain_number_works_user_netlink():
    """AF_NETLINK (16) is no family pysocat has code for: the address is just dalan data
    (sockaddr_nl: 2 bytes padding, the port id, the groups)."""
    base = 3_000_000 + os.getpid() % 500_000
    try:
        peer = socket.socket(socket.AF_NETLINK, UDP, NETLINK_USERSOCK)
        peer.bind((base, 0))
    except OSError as err:
        pytest.skip(f"no user netlink here: {err}")
    peer.settimeout(20)
    server = spawn("pysocat", "-d", "-d", f"SOCKET-RECVFROM:16:2:{NETLINK_USERSOCK}:x0000 i{base + 1} i0", "PIPE")
    try:
        wait_for(lambda: _netlink_bound(base + 1), 20)
        peer.sendto(b"hello netlink", (base + 1, 0))
        assert peer.recvfrom(100) == (b"hello netlink", (base + 1, 0))
    finally:
        _out, err = stop(server)
        peer.close()
    port_id = struct.pack("I", base + 1).hex()
    assert f"N receiving on AF=16 AF=16 0x0000{port_id}{'00' * 8}" in diagnostics(err)


def _netlink_bound(port_id: int) -> bool:
    with open("/proc/net/netlink") as handle:
        rows = handle.read().splitlines()[1:]
    return any(row.split()[1:3] == [str(NETLINK_USERSOCK), str(port_id)] for row in rows)


# ---------------------------------------------------------------- interop with real socat

@needs_socat
@pytest.mark.parametrize("server_tool,client_tool", [("socat", "pysocat"), ("pysocat", "socat")])
def test_generic_stream_interop_with_real_socat(server_tool: str, client_tool: str):
    port = free_port()
    server = spawn(server_tool, f"SOCKET-LISTEN:2:6:{inet(port)}", "EXEC:cat")
    try:
        wait_tcp(port, server)
        result = run(client_tool, "-", f"SOCKET-CONNECT:2:6:{inet(port)}", input=b"both ways\n" * 1000)
        assert result.stdout == b"both ways\n" * 1000
    finally:
        stop(server)


@needs_socat
@pytest.mark.parametrize("server_tool,client_tool", [("socat", "pysocat"), ("pysocat", "socat")])
def test_generic_datagram_interop_with_real_socat(tmp_path, server_tool: str, client_tool: str):
    path = str(tmp_path / "dgram")
    server = spawn(server_tool, f"SOCKET-RECVFROM:1:2:0:{unix(path)}", "PIPE")
    try:
        wait_path(path)
        result = run(client_tool, "-T", "2", "-", f"SOCKET-DATAGRAM:1:2:0:{unix(path)},bind={unix(path + '.c')}",
                     input=b"datagram\n")
        assert result.stdout == b"datagram\n"
    finally:
        stop(server)


# ---------------------------------------------------------------- diagnostics as socat's

_ERRORS = [
    ["-", "SOCKET-CONNECT:2:6"],
    ["-", "SOCKET-LISTEN:2:6:x00:x00"],
    ["-", "SENDTO:1:2:0"],
    ["-", "DGRAM:1"],
    ["-", "SOCKET-CONNECT:2:6:x1"],
    ["-", 'SOCKET-CONNECT:2:6:\\"abc'],
    ["-", "SOCKET-RECV:1:2:0:\\'"],
    ["-", "SOCKET-CONNECT:1:0:x" + "00" * 113],
    ["-d", "-d", "-", "SOCKET-CONNECT:2:6:" + inet(1)],
    ["-d", "-d", "-", "SOCKET-CONNECT:2x:6y:" + inet(1)],
    ["-d", "-d", "-", "SOCKET-CONNECT:99:0:x0102 x" + "00" * 12],  # 14 bytes: socat shows no stack garbage
    ["-d", "-d", "-", "SOCKET-CONNECT:2:6:x1f90x7f000001"],
    ["-d", "-d", "-", "SOCKET-CONNECT:2:6:" + inet(1) + ",pf=foo"],
    ["-d", "-d", "-", "SOCKET-CONNECT:2:6:" + inet(1) + ",type=2"],
    ["-d", "-d", "-", 'SOCKET-CONNECT:1:0:\\"{tmp}/missing\\"'],
    ["-", "SOCKET-LISTEN:2:6:" + inet(1) + ",bind=x00"],
    ["-", "SOCKET-LISTEN:2:6:" + inet(1) + ",max-children=1"],
    ["-", "SOCKET-LISTEN:2:6:" + inet(1) + ",range=127.0.0.1/8"],
    ["-", "SOCKET-LISTEN:2:6:" + inet(1) + ",range=x00:x0000"],
    ["-u", "-", "SOCKET-SENDTO:1:2:0:" + unix("{tmp}/nobody")],
    ["-u", "/dev/null", "UDP4-SENDTO:127.0.0.1:9,setsockopt-bin=1234:1:x1"],
    ["-u", "/dev/null", "UDP4-SENDTO:127.0.0.1:9,setsockopt-bin=1x:1:x00"],
    ["-u", "/dev/null", "UDP4-SENDTO:127.0.0.1:9,setsockopt-int=1:2"],
]


@needs_socat
@pytest.mark.parametrize("args", _ERRORS, ids=lambda args: " ".join(args)[:60])
def test_diagnostics_and_status_equal_socats(tmp_path, args: list[str]):
    """Against socat 1.7.4.4 with pysocat's --compat=1.7 (no `: usage:` tail, no W lines
    without -d); descriptor numbers and pointers differ between the two programs."""
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    ours = run_pysocat("--compat=1.7", *argv, input=b"data\n")
    theirs = run_socat(*argv, input=b"data\n")

    def shown(result) -> list[str]:
        lines = diagnostics(result.stderr)
        return [re.sub(r"0x[0-9a-f]+", "0xPTR", re.sub(r"\((\d+), ", "(<fd>, ", line)) for line in lines
                if "without their boundaries" not in line]  # pysocat's own framed hint (intended)

    assert (ours.returncode, shown(ours)) == (theirs.returncode, shown(theirs))
    assert b"Traceback" not in ours.stderr


def test_text_socat_1_7_cannot_parse_is_a_syntax_error():
    """socat 1.7.4.4 dies of SIGSEGV here; pysocat answers as socat 1.8 does."""
    result = run_pysocat("-", "SOCKET-CONNECT:2:6:127.0.0.1", input=b"")
    assert result.returncode == 1
    assert diagnostics(result.stderr)[0] == 'E syntax error in "127.0.0.1"'


def test_recv_ends_with_the_inactivity_timeout(tmp_path):
    path = str(tmp_path / "quiet")
    result = run_pysocat("-T", "0.3", "-u", f"SOCKET-RECV:1:2:0:{unix(path)}", "-")
    assert (result.returncode, result.stdout) == (0, b"")
    assert os.path.exists(path)


def test_unix_connect_failure_is_an_info_message_and_status_255(tmp_path):
    """socat's _xioopen_connect logs a UNIX connect() failure at I and fails without an error."""
    path = str(tmp_path / "missing")
    result = run_pysocat("-d", "-d", "-d", "-", f"SOCKET-CONNECT:1:0:{unix(path)}", input=b"")
    assert result.returncode == 255
    lines = [re.sub(r"connect\(\d+,", "connect(<fd>,", line) for line in diagnostics(result.stderr)]
    assert f'I connect(<fd>, AF=1 "{path}", {2 + len(path)}): No such file or directory' in lines
    assert lines[-1] == "N exiting with status -1"
    assert not any(line.startswith("E ") for line in lines)
