"""ACCEPT-FD (socat 1.8; 1.7.4.4 lacks it): pysocat started with a listening socket on fd 3,
as systemd socket activation or inetd's wait mode start a service. TCP and UNIX sockets,
with and without fork; peer checks; SOCAT_PEERADDR for the child; the errors for a
descriptor that is no listening socket."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.behaviour.helpers import children_of, wait_for
from tests.behaviour.net_helpers import echo_roundtrip, stop, zombies_of
from tests.conftest import diagnostics, pysocat_command


def start_with_fd3(sock_or_fd: socket.socket | int, *args: str, **kw) -> subprocess.Popen:
    """pysocat with `sock_or_fd` on descriptor 3, the way a service manager passes it
    (dup2()ed by the bash that execs pysocat: dash takes one-digit descriptors only); the
    caller closes its own copy afterwards."""
    fd = sock_or_fd if isinstance(sock_or_fd, int) else sock_or_fd.fileno()
    command = pysocat_command() + list(args)
    script = f'exec "$@" 3<&{fd} {fd}<&-' if fd != 3 else 'exec "$@"'
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(["bash", "-c", script, "bash", *command], pass_fds=(fd,), **kw)


def tcp_listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def test_tcp_without_fork_serves_one_connection_and_closes_the_socket():
    listener = tcp_listener()
    port = listener.getsockname()[1]
    proc = start_with_fd3(listener, "-d", "-d", "ACCEPT-FD:3", "PIPE")
    listener.close()  # from now on only pysocat holds the listening socket
    try:
        assert echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), b"hello\n") == b"hello\n"
        out, err = proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == 0
    lines = diagnostics(err)
    assert lines[0] == "N using file descriptor 3 accepting a connection for reading and writing"
    assert lines[1] == f"N listening on AF=2 127.0.0.1:{port}"
    assert lines[2].startswith("N accepting connection from AF=2 127.0.0.1:")
    with pytest.raises(ConnectionRefusedError):  # the listening socket was closed with the first accept
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_tcp_peer_variables_reach_the_child():
    listener = tcp_listener()
    port = listener.getsockname()[1]
    proc = start_with_fd3(listener, "ACCEPT:3",
                          'SYSTEM:echo "$SOCAT_PEERADDR $SOCAT_PEERPORT $SOCAT_SOCKADDR $SOCAT_SOCKPORT"')
    listener.close()
    try:
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        data = b""
        while chunk := client.recv(1000):
            data += chunk
        mine = client.getsockname()[1]
        client.close()
        proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert data == f"127.0.0.1 {mine} 127.0.0.1 {port}\n".encode()


def test_tcp_with_fork_serves_concurrent_clients_and_keeps_accepting():
    from concurrent.futures import ThreadPoolExecutor

    listener = tcp_listener()
    port = listener.getsockname()[1]
    proc = start_with_fd3(listener, "ACCEPT-FD:3,fork", "PIPE", start_new_session=True)
    listener.close()
    payloads = [os.urandom(size) for size in (0, 1, 1000, 70000, 300000) * 4]
    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            echoed = list(pool.map(lambda p: echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), p), payloads))
        assert echoed == payloads
        assert proc.poll() is None  # the parent keeps accepting on the inherited socket
        assert echo_roundtrip(socket.AF_INET, ("127.0.0.1", port), b"again") == b"again"
        wait_for(lambda: not children_of(proc.pid), timeout=30, interval=0.05)
        assert zombies_of(proc.pid) == []
    finally:
        stop(proc)


def test_max_children_bounds_the_children_of_an_inherited_socket():
    import time

    listener = tcp_listener()
    port = listener.getsockname()[1]
    proc = start_with_fd3(listener, "-d", "-d", "ACCEPT-FD:3,fork,max-children=1", "SYSTEM:sleep 0.4; echo done")
    listener.close()
    peak = 0
    try:
        clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(3)]
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            peak = max(peak, len(children_of(proc.pid)))
            time.sleep(0.01)
        for client in clients:
            client.settimeout(30)
            data = b""
            while chunk := client.recv(100):
                data += chunk
            assert data == b"done\n"
            client.close()
    finally:
        _out, err = stop(proc)
    assert peak == 1
    assert "N maxchildren are active, waiting" in diagnostics(err)


def unix_listener(path: str, kind: int = socket.SOCK_STREAM) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, kind)
    sock.bind(path)
    sock.listen(8)
    return sock


@pytest.mark.parametrize("fork", [False, True], ids=["no-fork", "fork"])
def test_unix_listening_socket(tmp, fork: bool):
    path = str(tmp / "activated.sock")
    listener = unix_listener(path)
    address = "ACCEPT-FD:3,fork" if fork else "ACCEPT-FD:3"
    proc = start_with_fd3(listener, "-d", "-d", address, 'SYSTEM:echo "sock=$SOCAT_SOCKADDR"; cat',
                          start_new_session=True)
    listener.close()
    try:
        rounds = 3 if fork else 1
        for _ in range(rounds):
            got = echo_roundtrip(socket.AF_UNIX, path, b"payload\n")
            assert got == f"sock={path}\npayload\n".encode()
        if fork:
            assert proc.poll() is None
        else:
            proc.communicate(timeout=30)
            assert proc.returncode == 0
    finally:
        _out, err = stop(proc)
    assert f'N listening on AF=1 "{path}"' in diagnostics(err)
    assert os.path.exists(path)  # pysocat did not create the entry and does not remove it


def test_range_refuses_a_peer_and_goes_on_accepting():
    listener = tcp_listener()
    port = listener.getsockname()[1]
    proc = start_with_fd3(listener, "ACCEPT-FD:3,range=10.0.0.0/8", "PIPE")
    listener.close()
    try:
        refused = socket.create_connection(("127.0.0.1", port), timeout=30)
        assert refused.recv(10) == b""  # closed by pysocat, never served
        refused.close()
        assert proc.poll() is None
    finally:
        _out, err = stop(proc)
    assert any(line.startswith("W refusing connection from AF=2 127.0.0.1:") and line.endswith("due to range option")
               for line in diagnostics(err)), err


def test_a_descriptor_that_is_no_socket():
    read_end, write_end = os.pipe()
    try:
        proc = start_with_fd3(read_end, "ACCEPT-FD:3", "-")
        _out, err = proc.communicate(timeout=30)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert proc.returncode == 1
    assert diagnostics(err) == ["W getsockname(fd=3, ...): Socket operation on non-socket",
                                "E accept(3, ...): Socket operation on non-socket"]


def test_a_descriptor_that_is_not_open():
    proc = subprocess.run(pysocat_command() + ["ACCEPT-FD:9", "-"], capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert diagnostics(proc.stderr) == ["W fcntl(9, F_SETFD, FD_CLOEXEC): Bad file descriptor",
                                        "W getsockname(fd=9, ...): Bad file descriptor",
                                        "E accept(9, ...): Bad file descriptor"]


def test_a_socket_that_does_not_listen():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listen()ed
    proc = start_with_fd3(sock, "ACCEPT-FD:3", "-")
    sock.close()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert diagnostics(err)[-1] == "E accept(3, ...): Invalid argument"


def test_the_fd_number_is_checked():
    proc = subprocess.run(pysocat_command() + ["ACCEPT-FD:3x", "-"], capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert diagnostics(proc.stderr) == ['E error in FD number "3x"']


def test_fork_is_in_its_groups_but_backlog_is_not():
    proc = subprocess.run(pysocat_command() + ["ACCEPT-FD:3,backlog=5", "-"], capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert diagnostics(proc.stderr) == ['E parseopts_table(): option "backlog" not supported with this address type']
