"""Framed TUN tunnels: over TCP between two namespaces (ping, a TCP transfer with sha256,
auto-MTU 65535), against an independent RFC 4571 implementation written here, and with
malformed frames, which are reported with their offset and never reach the TUN.

The tunnel ends run the pysocat command line through tests/tun/framed_tunnel.py, which
turns a mode name into the options a user writes (`,framed`, `,framed=wide`)."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.tun.conftest import Namespace, requires_netns
from tests.tun.test_tun import echo_reply

pytestmark = requires_netns
ROOT = Path(__file__).resolve().parents[2]
TUNNEL = (sys.executable, "-m", "tests.tun.framed_tunnel")


def tunnel(ns: Namespace, tun: str, stream: str, *extra: str):
    process = ns.popen(*TUNNEL, tun, stream, *extra, cwd=ROOT)
    from tests.tun.conftest import LoggedProcess

    logged = LoggedProcess(process)
    logged.wait_for("starting data transfer loop", 30)
    return logged


@pytest.mark.parametrize("fmt,kind,overhead", [("rfc4571", "", 2), ("wide", "", 4), ("rfc4571", ",tun-type=tap", 2 + 14)],
                         ids=["tun-rfc4571", "tun-wide", "tap-rfc4571"])
def test_framed_tun_over_tcp_carries_ping_and_64mb(veth_pair, fmt, kind, overhead):
    """TUN's IP packets and TAP's Ethernet frames over framed TCP, the MTU fitted so that
    one frame (length header, and a TAP's 14-byte Ethernet header, included) is whole TCP
    segments; the transfer in both directions, sha256 checked."""
    left, right = veth_pair
    server = right.popen(*TUNNEL, f"TUN:198.18.2.2/24,iff-up,iff-no-pi,tun-name=pstf{kind}",
                         "TCP4-LISTEN:5555,reuseaddr", fmt, cwd=ROOT)
    from tests.tun.conftest import LoggedProcess

    server_log = LoggedProcess(server)
    server_log.wait_for("listening on", 30)
    client = tunnel(left, f"TUN:198.18.2.1/24,iff-up,iff-no-pi,tun-name=pstf{kind}", "TCP4:192.0.2.2:5555", fmt)
    server_log.wait_for("starting data transfer loop", 30)
    chosen = re.search(r'"pstf": MTU (\d+): the largest frame TCP sends as whole segments '
                       r'\((\d+) bytes, (\d+) x MSS (\d+)\)', client.text)
    assert chosen, client.text
    mtu, budget, segments, mss = map(int, chosen.groups())
    assert budget == segments * mss <= 65536 - 1 - 320 < budget + mss and mtu == budget - overhead
    assert left.link("pstf")["mtu"] == mtu
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "-s", "30000", "198.18.2.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text + server_log.text
    assert_tcp_transfer(left, right, "198.18.2.2", 64 * 1024 * 1024)
    assert_tcp_transfer(right, left, "198.18.2.1", 64 * 1024 * 1024)


SINK = ("import hashlib, socket, sys\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind((sys.argv[1], 5001)); s.listen(1); print('ready', flush=True)\n"
        "c, _ = s.accept(); h = hashlib.sha256(); n = 0\n"
        "while (b := c.recv(1 << 16)):\n    h.update(b); n += len(b)\n"
        "print(n, h.hexdigest(), flush=True)\n")
SOURCE = ("import socket, sys\n"
          "c = socket.create_connection((sys.argv[1], 5001), timeout=30)\n"
          "c.sendall(sys.stdin.buffer.read()); c.shutdown(socket.SHUT_WR); c.recv(1)\n")


def assert_tcp_transfer(client_ns: Namespace, server_ns: Namespace, address: str, size: int) -> None:
    """`size` random bytes over TCP through the tunnel; the far end checks sha256."""
    payload = os.urandom(size)
    sink = server_ns.popen(sys.executable, "-c", SINK, address)
    assert sink.stdout is not None and sink.stdout.readline().strip() == b"ready"
    sent = client_ns.run(sys.executable, "-c", SOURCE, address, input=payload, check=False, timeout=120)
    assert sent.returncode == 0, sent.stderr.decode()
    count, digest = sink.communicate(timeout=60)[0].split()
    assert int(count) == size and digest.decode() == hashlib.sha256(payload).hexdigest()


def test_udp_tunnel_auto_mtu_is_the_path_mtu_minus_headers(veth_pair):
    """veth MTU 1500: the TUN gets 1472 (no packet information), so a full-size packet
    crosses without fragmentation (ping with DF set)."""
    left, right = veth_pair
    tunnel(right, "TUN:198.18.4.2/24,iff-up,iff-no-pi,tun-name=pstd", "UDP:192.0.2.1:4790,sourceport=4790", "udp")
    end = tunnel(left, "TUN:198.18.4.1/24,iff-up,iff-no-pi,tun-name=pstd", "UDP:192.0.2.2:4790,sourceport=4790",
                 "udp")
    assert '"pstd": MTU 1472: UDP path MTU 1500 minus 20 (IPv4) and 8 (UDP) header bytes' in end.text
    assert left.link("pstd")["mtu"] == 1472
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "-M", "do", "-s", str(1472 - 28), "198.18.4.2",
                      check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + result.stderr.decode() + end.text
    assert_tcp_transfer(left, right, "198.18.4.2", 64 * 1024 * 1024)


def test_framed_tun_against_an_independent_rfc4571_peer(netns: Namespace, tmp_path):
    """The test is the far end, with its own framing code: 2-byte big-endian length, packet."""
    path = str(tmp_path / "framed.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    end = tunnel(netns, "TUN:198.18.3.1/24,iff-up,iff-no-pi,tun-name=pstr", f"UNIX-CONNECT:{path}")
    conn, _ = listener.accept()
    stop = threading.Event()
    frames: list[bytes] = []

    def peer() -> None:
        buffer = b""
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            buffer += chunk
            while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
                length = struct.unpack("!H", buffer[:2])[0]
                packet, buffer = buffer[2:2 + length], buffer[2 + length:]
                frames.append(packet)
                reply = echo_reply(packet)
                if reply is not None:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        result = netns.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "-s", "20000", "198.18.3.2", check=False)
    finally:
        stop.set()
        thread.join(5)
    assert b"3 received" in result.stdout, result.stdout.decode() + end.text
    assert all(struct.unpack("!H", f[2:4])[0] == len(f) for f in frames)
    conn.close()
    listener.close()
    assert end.process.wait(10) == 0


def rx_packets(ns: Namespace, name: str) -> int:
    out = ns.run("cat", f"/sys/class/net/{name}/statistics/rx_packets").stdout
    return int(out)


@pytest.mark.parametrize("tail,message", [
    (b"\xff\xff" + b"x" * 100, "frame length 65535 at byte offset {offset} exceeds the maximum"),
    (b"\x00\x00", "zero-length frame at byte offset {offset} is not allowed"),
    (b"\x01\x00" + b"y" * 40, "stream ended inside the frame at byte offset {offset} (40 of 256 packet bytes)"),
])
def test_malformed_frames_never_reach_the_tun(netns: Namespace, tmp_path, tail, message):
    path = str(tmp_path / "framed.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    # a persistent device outlives pysocat, so its counters can be read after the error
    netns.run("ip", "tuntap", "add", "dev", "pstm", "mode", "tun")  # iproute2 sets IFF_NO_PI unless told "pi"
    end = tunnel(netns, "TUN:198.18.3.1/24,iff-up,iff-no-pi,tun-name=pstm", f"UNIX-CONNECT:{path}")
    conn, _ = listener.accept()
    before = rx_packets(netns, "pstm")
    good = bytes([0x45]) + b"\x00\x00\x1c" + b"\x00" * 4 + b"\x40\x01\x00\x00" + socket.inet_aton("198.18.3.2") + \
        socket.inet_aton("198.18.3.1") + b"\x08\x00\xf7\xff\x00\x00\x00\x00"
    good = good[:10] + struct.pack("!H", _ip_checksum(good[:20])) + good[12:]
    conn.sendall(struct.pack("!H", len(good)) + good + tail)
    conn.shutdown(socket.SHUT_WR)
    code = end.process.wait(15)
    end.stop()
    time.sleep(0.2)
    expected = message.format(offset=2 + len(good))
    if b"\xff\xff" == tail[:2]:
        # rfc4571's maximum is 65535: the length is legal, the stream then ends inside it
        expected = f"stream ended inside the frame at byte offset {2 + len(good)} (100 of 65535 packet bytes)"
    assert code == 1 and expected in end.text, end.text
    assert " E " in end.text
    assert netns.link("pstm") is not None  # persistent: left in place
    assert rx_packets(netns, "pstm") == before + 1  # the good packet, nothing of the bad frame
    conn.close()
    listener.close()


def _ip_checksum(header: bytes) -> int:
    header = header[:10] + b"\0\0" + header[12:]
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _offload_available(ns: Namespace) -> bool:
    proc = ns.started(*__import__("tests.conftest", fromlist=["x"]).pysocat_command(), "-d", "-u",
                      "TUN:198.18.9.1/24,iff-no-pi,tun-offload,tun-name=pstp", "OPEN:/dev/null")
    proc.stop()
    return "offload enabled" in proc.text


def test_offload_on_both_ends_carries_super_packets(veth_pair):
    left, right = veth_pair
    if not _offload_available(left):
        pytest.skip("this kernel refuses TUN offload")
    from tests.tun.conftest import LoggedProcess

    server = LoggedProcess(right.popen(*TUNNEL, "TUN:198.18.5.2/24,iff-up,iff-no-pi,tun-offload,tun-name=psto",
                                       "TCP4-LISTEN:5556,reuseaddr", "offload", cwd=ROOT))
    server.wait_for("listening on", 30)
    client = tunnel(left, "TUN:198.18.5.1/24,iff-up,iff-no-pi,tun-offload,tun-name=psto", "TCP4:192.0.2.2:5556",
                    "offload")
    server.wait_for("starting data transfer loop", 30)
    assert "offload agreed (CSUM+TSO4" in client.text and "offload agreed (CSUM+TSO4" in server.text
    assert left.link("psto")["linkinfo"]["info_data"]["vnet_hdr"] is True
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "198.18.5.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text + server.text
    assert_tcp_transfer(left, right, "198.18.5.2", 16 * 1024 * 1024)


# offload on one end only (fallback to plain frames): tests/tun/test_offload_fallback.py



def _tunnel_waiting(ns: Namespace, tun: str, stream: str, text: str, mode: str = "rfc4571"):
    from tests.tun.conftest import LoggedProcess

    logged = LoggedProcess(ns.popen(*TUNNEL, tun, stream, mode, cwd=ROOT))
    logged.wait_for(text, 30)
    return logged


def _unix_pair(tmp_path: Path, left: Namespace, right: Namespace, kind: str) -> object:
    """A framed tunnel over a UNIX socket (a file that both namespaces see)."""
    path = str(tmp_path / "tunnel.sock")
    _tunnel_waiting(right, f"TUN:198.18.3.2/24,iff-up,tun-name=pstu{kind}", f"UNIX-LISTEN:{path}", "listening on")
    return tunnel(left, f"TUN:198.18.3.1/24,iff-up,tun-name=pstu{kind}", f"UNIX-CONNECT:{path}")


def _exec_pair(tmp_path: Path, left: Namespace, right: Namespace, kind: str) -> object:
    """`TUN:… EXEC:'<reach the far side> pysocat STDIO,framed TUN:…',framed`: the ssh form
    of the tunnel, with `ip netns exec` in place of ssh."""
    from tests.conftest import pysocat_command

    far = " ".join(["ip", "netns", "exec", right.name, *pysocat_command(), "STDIO,framed",
                    f"TUN:198.18.3.2/24,iff-up,tun-name=pstu{kind}"])
    return tunnel(left, f"TUN:198.18.3.1/24,iff-up,tun-name=pstu{kind}", f"EXEC:'{far}'")  # quoted: its commas


@pytest.mark.parametrize("transport, kind", [("unix", ""), ("exec", ""), ("unix", ",tun-type=tap")],
                         ids=["tun-over-unix", "tun-over-exec", "tap-over-unix"])
def test_framed_tunnel_over_unix_and_exec_carries_ping_and_64mb(make_netns, tmp_path, transport, kind):
    """framed keeps packet boundaries on any stream: a UNIX socket, a program's stdio (the
    ssh tunnel), and TAP's Ethernet frames as well as TUN's IP packets."""
    left, right = make_netns(), make_netns()
    maker = _unix_pair if transport == "unix" else _exec_pair
    client = maker(tmp_path, left, right, kind)
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "198.18.3.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text
    assert_tcp_transfer(left, right, "198.18.3.2", 64 * 1024 * 1024)


def test_unframed_tun_over_tcp_behaves_as_socat_and_warns(veth_pair):
    """socat's own command, without framed: the TUN keeps the kernel's MTU, small pings still
    cross (one packet per TCP segment, as they do through socat), and each end says once
    that packet boundaries are lost and that framed keeps them."""
    left, right = veth_pair
    server = _tunnel_waiting(right, "TUN:198.18.5.2/24,iff-up,tun-name=pstn", "TCP4-LISTEN:5556,reuseaddr",
                             "listening on", "unframed")
    client = tunnel(left, "TUN:198.18.5.1/24,iff-up,tun-name=pstn", "TCP4:192.0.2.2:5556", "unframed")
    server.wait_for("starting data transfer loop", 30)
    assert left.link("pstn")["mtu"] == 1500
    result = left.run("ping", "-c", "3", "-i", "0.3", "-W", "3", "198.18.5.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text + server.text
    for end in (client, server):
        warnings = [line for line in end.lines if " W " in line and "without their boundaries" in line]
        assert len(warnings) == 1 and '"framed"' in warnings[0], end.text
