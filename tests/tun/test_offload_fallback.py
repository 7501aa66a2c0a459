"""tun-offload on one end of a framed TCP tunnel only: the offload end falls back to plain
frames with a warning, and ping and 64 MB TCP transfers (sha256 checked, both directions)
cross with no checksum error on either side; offload on both ends still agrees. One test
keeps the TUN's offloads on (tests/tun/software_offload.py) so that every packet goes
through the software segmentation and checksum path against the real kernel.

Two namespaces joined by a veth pair (192.0.2.1, 192.0.2.2), tunnel 198.18.7.0/24."""
from __future__ import annotations

import sys

import pytest

from tests.tun.conftest import LoggedProcess, Namespace, requires_netns
from tests.tun.test_framed_tunnel import ROOT, TUNNEL, _offload_available, assert_tcp_transfer

pytestmark = requires_netns
MB = 1024 * 1024
SOFTWARE = (sys.executable, "-m", "tests.tun.software_offload")


def tcp_checksum_errors(ns: Namespace) -> int:
    """InCsumErrors of the namespace's TCP (a partial checksum that reached a plain end
    would be counted here and the segment dropped)."""
    lines = [line.split() for line in ns.run("cat", "/proc/net/snmp").stdout.decode().splitlines()
             if line.startswith("Tcp:")]
    return int(lines[1][lines[0].index("InCsumErrors")])


def start_tunnel(left: Namespace, right: Namespace, offload_left: bool, offload_right: bool, port: int,
                 extra: str = ",iff-no-pi", left_program: tuple[str, ...] = TUNNEL) -> tuple[LoggedProcess, LoggedProcess]:
    def tun(address: str, offload: bool) -> str:
        return f"TUN:{address}/24,iff-up{extra},tun-name=pstg" + (",tun-offload" if offload else "")

    server = LoggedProcess(right.popen(*TUNNEL, tun("198.18.7.2", offload_right), f"TCP4-LISTEN:{port},reuseaddr",
                                       "offload" if offload_right else "rfc4571", cwd=ROOT))
    server.wait_for("listening on", 30)
    if left_program is TUNNEL:
        argv = (*TUNNEL, tun("198.18.7.1", offload_left), f"TCP4:192.0.2.2:{port}", "offload")
    else:
        argv = (*left_program, "-d", "-d", tun("198.18.7.1", offload_left), f"TCP4:192.0.2.2:{port},framed")
    client = LoggedProcess(left.popen(*argv, cwd=ROOT))
    client.wait_for("starting data transfer loop", 30)
    server.wait_for("starting data transfer loop", 30)
    return client, server


@pytest.mark.parametrize("where,extra", [
    ("client", ",iff-no-pi"), ("server", ",iff-no-pi"), ("client", ""), ("client", ",tun-type=tap,iff-no-pi"),
    ("both", ",iff-no-pi"), ("both", ",tun-type=tap,iff-no-pi"),
], ids=["offload-client", "offload-server", "offload-client-packet-info", "offload-client-tap", "offload-both",
        "offload-both-tap"])
def test_offload_on_one_end_falls_back_and_carries_ping_and_64mb_both_ways(veth_pair, where, extra):
    left, right = veth_pair
    if not _offload_available(left):
        pytest.skip("this kernel refuses TUN offload")
    before = tcp_checksum_errors(left), tcp_checksum_errors(right)
    client, server = start_tunnel(left, right, where in ("client", "both"), where in ("server", "both"), 5558, extra)
    offload_end, plain_end = (client, server) if where == "client" else (server, client)
    if where == "both":
        assert "offload agreed (CSUM+TSO4" in client.text and "offload agreed (CSUM+TSO4" in server.text
    else:
        assert " W " in offload_end.text and "the peer end does not offload" in offload_end.text, offload_end.text
        assert "falling back to plain frames" in offload_end.text
        assert "the peer asks for offload; this end has no tun-offload" in plain_end.text
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "198.18.7.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text + server.text
    result = left.run("ping", "-c", "2", "-i", "0.2", "-W", "3", "-s", "30000", "198.18.7.2", check=False)
    assert b"2 received" in result.stdout, result.stdout.decode() + client.text + server.text
    assert_tcp_transfer(left, right, "198.18.7.2", 64 * MB)
    assert_tcp_transfer(right, left, "198.18.7.1", 64 * MB)
    assert (tcp_checksum_errors(left), tcp_checksum_errors(right)) == before
    for process in (client, server):
        process.stop()
        assert " E " not in process.text and "Traceback" not in process.text, process.text


def test_every_offload_packet_finished_in_software_crosses_intact(veth_pair):
    """With the TUN's offloads left on, the kernel keeps handing over TSO super-packets
    and partial checksums: pysocat.net.segment makes them plain (MTU 1500, so the
    super-packets really are cut into segments), and the plain end's kernel accepts every
    one (no checksum error, sha256 equal)."""
    left, right = veth_pair
    if not _offload_available(left):
        pytest.skip("this kernel refuses TUN offload")
    before = tcp_checksum_errors(right)
    client, server = start_tunnel(left, right, True, False, 5559, ",iff-no-pi,interface-mtu=1500",
                                  left_program=SOFTWARE)
    assert "falling back to plain frames" in client.text
    result = left.run("ping", "-c", "3", "-i", "0.2", "-W", "3", "198.18.7.2", check=False)
    assert b"3 received" in result.stdout, result.stdout.decode() + client.text + server.text
    assert_tcp_transfer(left, right, "198.18.7.2", 16 * MB)
    assert_tcp_transfer(right, left, "198.18.7.1", 16 * MB)
    assert tcp_checksum_errors(right) == before
    client.stop()
    finished = [line for line in client.lines if "packets from the TUN finished in software" in line]
    assert finished, client.text
    count = int(finished[0].split("tun-offload fallback: ")[1].split()[0])
    assert count > 1000  # 16 MB of TCP from the left, every segment of it through the software path
    assert ", 0 dropped" in finished[0]


def test_offload_probe_passes_and_injects_nothing(netns: Namespace):
    """The probe writes happen while the device is down (EIO: the header was taken), so
    nothing reaches the namespace's stack; -d -d -d reports the probe."""
    from tests.conftest import pysocat_command

    process = netns.started(*pysocat_command(), "-d", "TUN:198.18.8.1/24,iff-up,iff-no-pi,tun-offload,"
                            "tun-name=pstp", "PIPE")  # started() adds -d -d
    text = process.text
    rx = int(netns.run("cat", "/sys/class/net/pstp/statistics/rx_packets").stdout)
    process.stop()
    if "offload enabled" not in text:
        pytest.skip("this kernel refuses TUN offload")
    assert '"pstp": offload probe passed (TUNSETOFFLOAD 0x' in text, text
    assert rx == 0
