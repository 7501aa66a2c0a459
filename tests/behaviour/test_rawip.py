"""Raw IP over loopback (IP4-/IP6- SENDTO, RECV, RECVFROM, DATAGRAM), as root: one packet
read is one packet written, the IPv4 header stripped as socat strips it, interop with real
socat both ways, and socat's diagnostics for bad parameters. Broadcast and multicast run in a
private network namespace. Every test has its own unassigned protocol number (146..252), so
that tests running at the same time never see each other's packets."""
from __future__ import annotations

import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

from tests.behaviour.helpers import spawn, wait_for
from tests.behaviour.net_helpers import free_port, normalised, stop, wait_udp
from tests.conftest import PYSOCAT, SOCAT, diagnostics, needs_socat, run_pysocat, run_socat

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="raw IP sockets need root (CAP_NET_RAW)")
LOOP = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
IN_ADDRESS = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "[::1]"}  # as written in an address
VERSION = {socket.AF_INET: "4", socket.AF_INET6: "6"}
BOTH = pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ip4", "ip6"])


def raw_sockets(proto: int, family: int) -> int:
    """How many raw sockets of `proto` exist (/proc/net/raw lists the protocol as the port)."""
    table = "/proc/net/raw" if family == socket.AF_INET else "/proc/net/raw6"
    with open(table) as handle:
        rows = handle.read().splitlines()[1:]
    return sum(1 for row in rows if int(row.split()[1].rsplit(":", 1)[1], 16) == proto)


def wait_raw(proto: int, family: int, count: int = 1, proc: subprocess.Popen | None = None) -> None:
    def ready() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}")
        return raw_sockets(proto, family) >= count

    wait_for(ready, 20)


def raw_socket(family: int, proto: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_RAW, proto)
    sock.settimeout(20)
    return sock


def payload_of(family: int, packet: bytes) -> bytes:
    return packet[4 * (packet[0] & 0x0F):] if family == socket.AF_INET else packet


def receive_payloads(sock: socket.socket, family: int, count: int, skip: set[bytes] = frozenset()) -> list[bytes]:
    """`count` payloads read from a raw socket (our own packets, seen on loopback, skipped)."""
    got: list[bytes] = []
    while len(got) < count:
        payload = payload_of(family, sock.recv(70000))
        if payload not in skip:
            got.append(payload)
    return got


def udp_receiver() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(20)
    return sock, sock.getsockname()[1]


PACKETS = [b"one", b"second packet", bytes(range(256)) * 4, b"x" * 1400, b"last"]


@needs_root
@BOTH
def test_sendto_writes_one_packet_per_datagram_read(family):
    """UDP datagrams in, raw packets of the protocol out: each datagram exactly one packet."""
    proto = 200 + (family == socket.AF_INET6)
    sniffer = raw_socket(family, proto)
    port = free_port(socket.SOCK_DGRAM)
    relay = spawn("pysocat", "-u", f"UDP4-RECV:{port}", f"IP{VERSION[family]}-SENDTO:{IN_ADDRESS[family]}:{proto}")
    try:
        wait_udp(port)
        wait_raw(proto, family, 2, relay)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for packet in PACKETS:
                sender.sendto(packet, ("127.0.0.1", port))
                time.sleep(0.01)
            assert receive_payloads(sniffer, family, len(PACKETS)) == PACKETS
    finally:
        stop(relay)
        sniffer.close()


@needs_root
@BOTH
def test_recv_delivers_payloads_without_the_ip_header_and_keeps_boundaries(family):
    proto = 202 + (family == socket.AF_INET6)
    receiver, port = udp_receiver()
    relay = spawn("pysocat", "-u", f"IP{VERSION[family]}-RECV:{proto}", f"UDP4-SENDTO:127.0.0.1:{port}")
    try:
        wait_raw(proto, family, 1, relay)
        with raw_socket(family, proto) as sender:
            for packet in PACKETS:
                sender.sendto(packet, (LOOP[family], 0))
        assert [receiver.recv(70000) for _ in PACKETS] == PACKETS
    finally:
        stop(relay)
        receiver.close()


@needs_root
def test_an_empty_ipv4_packet_is_eof_as_in_socat():
    """socat strips the 20 header bytes and reads 0 bytes: EOF (verified with 1.7.4.4)."""
    proto = 204
    reader = spawn("pysocat", "-u", f"IP4-RECV:{proto}", "STDOUT")
    try:
        wait_raw(proto, socket.AF_INET, 1, reader)
        with raw_socket(socket.AF_INET, proto) as sender:
            sender.sendto(b"data", ("127.0.0.1", 0))
            time.sleep(0.1)
            sender.sendto(b"", ("127.0.0.1", 0))
            time.sleep(0.1)
            sender.sendto(b"after", ("127.0.0.1", 0))
        out, err = reader.communicate(timeout=20)
    finally:
        stop(reader)
    assert reader.returncode == 0, err
    assert out == b"data"


@needs_root
def test_recvfrom_replies_to_the_sender_and_forks_a_child_per_packet():
    """The server is bound to one loopback address and the client to another: a reply to the
    client would otherwise reach the server's own raw socket as a new packet (on loopback
    every raw socket of the protocol sees every packet, with socat too). IPv6 loopback has
    one address only; IP6-RECVFROM is covered without fork below."""
    family, proto = socket.AF_INET, 206
    here, there = "127.0.0.1", "127.0.0.2"
    server = spawn("pysocat", "-d", "-d", f"IP4-RECVFROM:{proto},fork,bind={here}", "SYSTEM:tr a-z A-Z",
                   start_new_session=True)
    try:
        wait_raw(proto, family, 1, server)
        with raw_socket(family, proto) as client:
            client.bind((there, 0))
            for word in (b"first", b"second"):
                client.sendto(word, (here, 0))
                assert receive_payloads(client, family, 1) == [word.upper()]
    finally:
        _out, err = stop(server)
    lines = diagnostics(err)
    parent = f"[{server.pid}] N forked off child process "
    children = {line.rsplit(" ", 1)[1] for line in err.decode().splitlines() if parent in line}
    assert len(children) == 2, lines  # one per packet (each child forks the SYSTEM shell as well)
    assert not any(line.startswith(("E ", "F ")) for line in lines), lines


@needs_root
@BOTH
def test_recvfrom_sets_socat_peeraddr_only(family):
    """Raw IP has no ports: socat sets SOCAT_PEERADDR and no SOCAT_PEERPORT (verified)."""
    proto = 208 + (family == socket.AF_INET6)
    server = spawn("pysocat", f"IP{VERSION[family]}-RECVFROM:{proto}",
                   "SYSTEM:cat >/dev/null; echo ${SOCAT_PEERADDR}/${SOCAT_PEERPORT:-none}")
    expected = b"127.0.0.1/none\n" if family == socket.AF_INET else b"[" + b"0000:" * 7 + b"0001]/none\n"
    try:
        wait_raw(proto, family, 1, server)
        with raw_socket(family, proto) as client:
            client.sendto(b"hi", (LOOP[family], 0))
            assert receive_payloads(client, family, 1, skip={b"hi"}) == [expected]
        server.wait(20)
    finally:
        stop(server)
    assert server.returncode == 0


@needs_root
def test_ip4_sendto_reads_only_what_its_peer_sends():
    """socat's IP4-SENDTO compares the source address of what it reads with its peer's
    (on 127.0.0.1 its own packets come back, as they do with socat)."""
    proto = 210
    receiver, port = udp_receiver()
    relay = spawn("pysocat", "-U", f"UDP4-SENDTO:127.0.0.1:{port}", f"IP4-SENDTO:127.0.0.2:{proto}")
    try:
        wait_raw(proto, socket.AF_INET, 1, relay)
        with raw_socket(socket.AF_INET, proto) as stranger, raw_socket(socket.AF_INET, proto) as peer:
            stranger.bind(("127.0.0.3", 0))
            peer.bind(("127.0.0.2", 0))
            stranger.sendto(b"from a stranger", ("127.0.0.1", 0))
            peer.sendto(b"from the peer", ("127.0.0.1", 0))
            assert receiver.recv(1000) == b"from the peer"
            receiver.settimeout(0.3)
            with pytest.raises(socket.timeout):
                receiver.recv(1000)
    finally:
        stop(relay)
        receiver.close()


@needs_root
def test_range_refuses_other_senders_with_socats_warning():
    proto = 205
    reader = spawn("pysocat", "-u", f"IP4-RECV:{proto},range=10.0.0.0/8", "STDOUT")
    try:
        wait_raw(proto, socket.AF_INET, 1, reader)
        with raw_socket(socket.AF_INET, proto) as sender:
            sender.sendto(b"refused", ("127.0.0.1", 0))
        time.sleep(0.5)
    finally:
        out, err = stop(reader)
    assert out == b""
    assert "W refusing connection from AF=2 127.0.0.1:0 due to range option" in diagnostics(err)


@needs_root
@pytest.mark.parametrize("address,proto", [("IP4-SENDTO:127.0.0.1:255", 218),
                                           ("IP4-SENDTO:127.0.0.1:217,ip-hdrincl=1", 217)])
def test_protocol_255_and_ip_hdrincl_write_whole_packets(address, proto):
    """The data written is the IP packet itself, header and all (it names the protocol)."""
    loop = socket.inet_aton("127.0.0.1")  # length, id and checksum 0: the kernel fills them in
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, proto, 0, loop, loop)
    with raw_socket(socket.AF_INET, proto) as sniffer:
        result = run_pysocat("-u", "-", address, input=header + b"whole packet")
        assert result.returncode == 0, result.stderr
        assert receive_payloads(sniffer, socket.AF_INET, 1) == [b"whole packet"]


@needs_root
@needs_socat
@BOTH
@pytest.mark.parametrize("sender_tool,receiver_tool", [("pysocat", "socat"), ("socat", "pysocat")])
def test_interop_with_real_socat(family, sender_tool, receiver_tool):
    proto = {("pysocat", socket.AF_INET): 211, ("socat", socket.AF_INET): 212,
             ("pysocat", socket.AF_INET6): 213, ("socat", socket.AF_INET6): 214}[(sender_tool, family)]
    v = VERSION[family]
    receiver = spawn(receiver_tool, "-u", f"IP{v}-RECV:{proto}", "STDOUT")
    try:
        wait_raw(proto, family, 1, receiver)
        sender = subprocess.run([*(_command(sender_tool)), "-u", "-", f"IP{v}-SENDTO:{IN_ADDRESS[family]}:{proto}"],
                                input=b"across tools\n", capture_output=True, timeout=20)
        assert sender.returncode == 0, sender.stderr
        wait_for(lambda: _readable(receiver), 10)
        data = os.read(receiver.stdout.fileno(), 1000)
    finally:
        stop(receiver)
    assert data == b"across tools\n"


@needs_root
@needs_socat
def test_recvfrom_answers_a_socat_client_like_socat_does():
    """socat IP4-SENDTO reads its own packet (loopback) and the reply, in that order, from
    either server; both servers end after the one packet."""
    outputs = []
    for index, tool in enumerate(("socat", "pysocat")):
        proto = 215 + index
        server = spawn(tool, f"IP4-RECVFROM:{proto}", "SYSTEM:cat; echo -n X")
        try:
            wait_raw(proto, socket.AF_INET, 1, server)
            client = subprocess.Popen([SOCAT, "-t", "1", "-", f"IP4-SENDTO:127.0.0.1:{proto}"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            client.stdin.write(b"ping")
            client.stdin.flush()
            server.wait(20)
            time.sleep(0.3)
            out, _err = client.communicate(timeout=20)
        finally:
            stop(server)
        outputs.append((server.returncode, out))
    assert outputs[0] == outputs[1] == (0, b"pingpingX")


def _command(tool: str) -> list[str]:
    from tests.conftest import pysocat_command

    return pysocat_command() if tool == "pysocat" else [SOCAT]


def _readable(proc: subprocess.Popen) -> bool:
    return bool(select.select([proc.stdout], [], [], 0)[0])


# unknown hosts are numeric ([...]: AI_NUMERICHOST), so no name ever goes to a DNS server
ERRORS = [
    "IP4-SENDTO:[nosuch]:220",
    "IP-SENDTO:[nosuch]:220",
    "IP6-SENDTO:[nosuch]:220",
    "IP4-SENDTO:[::1]:220",
    "IP6-SENDTO:127.0.0.1:220",
    "IP4-SENDTO::220",
    "IP4-SENDTO:127.0.0.1:256",
    "IP-DATAGRAM:127.0.0.1:0x1ff",
    "IP4-RECV:300",
    "IP6-RECVFROM:999",
    "IP4-SENDTO:127.0.0.1:220,bind=127.0.0.2:5",
    "IP4-SENDTO:127.0.0.1:220,bind=[nosuch]",
    "IP4-SENDTO:127.0.0.1:220,range=127.0.0.0/8",
    "IP4-RECV:220,fork",
]
ROOT_ERRORS = [
    "IP4-SENDTO:127.0.0.1:",
    "IP-SENDTO:127.0.0.1:-1",
    "IP4-RECVFROM:x",
    "IP6-SENDTO:[::1]:abc",
    "IP4-SENDTO:127.0.0.1:220,bind=192.0.2.77",
]


def _compare_errors(address: str) -> None:
    ours = run_pysocat("-d", "-u", "-", address, input=b"")
    theirs = run_socat("-d", "-u", "-", address, input=b"")
    assert ours.returncode == theirs.returncode == 1, (ours.stderr, theirs.stderr)
    assert normalised(diagnostics(ours.stderr)) == normalised(diagnostics(theirs.stderr))


@needs_socat
@pytest.mark.parametrize("address", ERRORS)
def test_errors_are_socats(address):
    _compare_errors(address)


@needs_root
@needs_socat
@pytest.mark.parametrize("address", ROOT_ERRORS)
def test_socket_errors_are_socats(address):
    _compare_errors(address)


@pytest.mark.parametrize("address,count,usage", [
    ("IP4-SENDTO:127.0.0.1", "1 instead of 2", "IP4-SENDTO:<host>:<protocol>"),
    ("IP:127.0.0.1:220:x", "3 instead of 2", "IP:<host>:<protocol>"),
    ("IP6-DGRAM:x", "1 instead of 2", "IP6-DGRAM:<host>:<protocol>"),
    ("IP-RECVFROM:1:2", "2 instead of 1", "IP-RECVFROM:<protocol>"),
    ("IP4-RECV", "0 instead of 1", "IP4-RECV:<protocol>"),
])
def test_wrong_parameter_count_in_socat_18_words(address, count, usage):
    keyword = address.split(":", 1)[0]
    result = run_pysocat("-u", "-", address, input=b"")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == [f"E {keyword}: wrong number of parameters ({count}): usage: {usage}"]
    if SOCAT:  # socat 1.7.4.4 says the same without the usage
        theirs = run_socat("-u", "-", address, input=b"")
        assert diagnostics(theirs.stderr) == [f"E {keyword}: wrong number of parameters ({count})"]


@needs_socat
@pytest.mark.parametrize("address", ["IP4-SENDTO:127.0.0.1:25x", "IP4-RECV:221x"])
def test_trailing_garbage_in_the_protocol_is_only_a_warning(address):
    ours = run_pysocat("-d", "-T", "0.2", "-u", address, "/dev/null") if "RECV" in address else \
        run_pysocat("-d", "-u", "-", address, input=b"")
    theirs = run_socat("-d", "-T", "0.2", "-u", address, "/dev/null") if "RECV" in address else \
        run_socat("-d", "-u", "-", address, input=b"")
    assert ours.returncode == theirs.returncode
    warning = [line for line in diagnostics(theirs.stderr) if "trailing garbage" in line]
    assert warning and warning == [line for line in diagnostics(ours.stderr) if "trailing garbage" in line]


@needs_socat
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare for a network namespace without routes")
def test_a_host_name_that_cannot_be_resolved_is_socats_error():
    """A real name lookup, in a namespace with no interface up: the resolver cannot reach any
    server (so nothing leaves the host) and both programs report the same failure."""
    pysocat = " ".join(_command("pysocat"))
    script = (f"echo | {SOCAT} -u - IP4-SENDTO:nosuchhost.invalid:220; "
              f"echo | {pysocat} -u - IP4-SENDTO:nosuchhost.invalid:220; true")
    result = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, timeout=60)
    lines = diagnostics(result.stderr)
    assert len(lines) == 2 and lines[0] == lines[1], lines
    assert lines[0].startswith('E getaddrinfo("nosuchhost.invalid", "NULL", {1,2,3,220}, {}): '), lines


def test_version_advertises_rawip_and_interface():
    out = run_pysocat("-V").stdout.decode()
    assert "#define WITH_RAWIP 1" in out and "#define WITH_INTERFACE 1" in out


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None,
                    reason="broadcast/multicast tests need root, unshare and ip for a private network namespace")
def test_datagram_broadcast_and_multicast_in_a_private_network_namespace(tmp_path):
    pysocat = PYSOCAT or f"{sys.executable} -m pysocat"
    script = f"""
set -e
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
ip addr add 198.18.0.1/15 dev lo
{pysocat} -u IP4-RECV:230,ip-add-membership=239.1.2.3:127.0.0.1 OPEN:{tmp_path}/mcast,creat,append & m=$!
{pysocat} -u IP4-RECV:231 OPEN:{tmp_path}/bcast,creat,append & b=$!
for i in $(seq 200); do [ $(grep -c ':00E[67] ' /proc/net/raw) -ge 2 ] && break; sleep 0.05; done
echo mcast | {pysocat} -u - IP4-DATAGRAM:239.1.2.3:230,ip-multicast-loop=1,ip-multicast-ttl=1
echo bcast | {pysocat} -u - IP4-DATAGRAM:198.19.255.255:231,broadcast
for i in $(seq 200); do [ -s {tmp_path}/mcast ] && [ -s {tmp_path}/bcast ] && break; sleep 0.05; done
kill $m $b
echo x | {pysocat} -u - IP4-DATAGRAM:198.19.255.255:231 || true
"""
    result = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, timeout=60)
    if result.returncode != 0 and b"Operation not permitted" in result.stderr:
        pytest.skip("cannot create a network namespace here")
    assert (tmp_path / "mcast").read_bytes() == b"mcast\n", result.stderr
    assert (tmp_path / "bcast").read_bytes() == b"bcast\n", result.stderr
    assert b"Permission denied" in result.stderr  # sendto() a broadcast address needs so-broadcast
