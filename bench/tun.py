"""A TUN tunnel between two network namespaces: iperf3 throughput and ping latency
through socat and pysocat in the same run, as a table with ratios.

Configurations: the underlay itself (veth, no tunnel); socat TUN over TCP and over UDP;
pysocat TUN over UDP, over framed TCP (auto-MTU), the same with the C packet pump turned
off (PYSOCAT_PUMP=0: every packet through the Python engine), over framed TCP with
tun-offload, with tun-offload on the near end only (the fallback to plain frames), and
over framed TLS (OPENSSL, with a certificate made for the run).
A configuration pysocat cannot run yet is reported as such, not left out.
Goals (TUN issue): framed >= 10x socat TUN/UDP; framed+offload >= 60% of the underlay
and >= 15x socat TUN/UDP; pysocat TUN/UDP >= socat TUN/UDP; framed ping <= 1.2x socat
TUN/UDP's. Needs root.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from _netns import (
    LEFT_TUNNEL, PUMP_OFF, RIGHT_TUNNEL, RIGHT_UNDERLAY, NamespacePair, framed_tunnel, missing_requirements,
)
from _util import programs, table

SECONDS = int(os.environ.get("TUN_SECONDS", "5"))
# TUN_MTUS=65531,65000: framed TCP again with each interface-mtu, against auto-MTU's choice
MTUS = [int(mtu) for mtu in os.environ.get("TUN_MTUS", "").split(",") if mtu.strip()]
PORT = 5555
PINGS = 20


def configurations(found: dict[str, str]) -> list[tuple[str, list[str] | None, list[str] | None]]:
    """(name, right-side argv, left-side argv); None argv means: underlay, no tunnel."""
    socat, pysocat = found.get("socat"), found.get("pysocat")
    right_tun, left_tun = f"TUN:{RIGHT_TUNNEL}/24,iff-up", f"TUN:{LEFT_TUNNEL}/24,iff-up"
    configs: list[tuple[str, list[str] | None, list[str] | None]] = [("underlay TCP (veth)", None, None)]
    if socat:
        configs += [
            ("socat TUN/TCP", [socat, f"TCP4-LISTEN:{PORT},reuseaddr", right_tun],
             [socat, f"TCP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
            ("socat TUN/UDP", [socat, f"UDP4-LISTEN:{PORT}", right_tun],
             [socat, f"UDP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
        ]
    if pysocat:
        configs += [
            ("pysocat TUN/UDP", [pysocat, f"UDP4-LISTEN:{PORT}", right_tun],
             [pysocat, f"UDP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
            ("pysocat framed TCP", *framed_tunnel([pysocat], PORT)),
            ("pysocat framed TCP, pump off", *framed_tunnel([*PUMP_OFF, pysocat], PORT)),
            *((f"pysocat framed TCP, interface-mtu={mtu}",
               *framed_tunnel([pysocat], PORT, f",interface-mtu={mtu}", f",interface-mtu={mtu}")) for mtu in MTUS),
            ("pysocat framed TCP+offload", *framed_tunnel([pysocat], PORT, ",tun-offload", ",tun-offload")),
            ("pysocat framed TCP, offload one end", *framed_tunnel([pysocat], PORT, left=",tun-offload")),
        ]
        certificate = _certificate()
        if certificate:
            tls = f"cert={certificate[0]},key={certificate[1]}"
            configs.append(("pysocat framed TLS", [pysocat, f"OPENSSL-LISTEN:{PORT},reuseaddr,framed,{tls},verify=0", right_tun],
                            [pysocat, f"OPENSSL:{RIGHT_UNDERLAY}:{PORT},framed,verify=0", left_tun]))
    return configs


def _certificate() -> tuple[str, str] | None:
    """A throw-away self-signed certificate and key for the TLS row (openssl req)."""
    if not shutil.which("openssl"):
        return None
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench-tun-tls-")
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                           "-days", "1", "-subj", "/CN=bench"], capture_output=True)
    return (cert, key) if made.returncode == 0 else None


def iperf(pair: NamespacePair, server: str) -> float | None:
    result = pair.run("left", ["iperf3", "-c", server, "-p", "5201", "-t", str(SECONDS), "-J", "--connect-timeout",
                               "3000"], timeout=SECONDS + 60)
    try:
        report = json.loads(result.stdout or b"{}")
        return report["end"]["sum_received"]["bits_per_second"] / 1e9
    except (ValueError, KeyError):
        return None


def measure(pair: NamespacePair, right: list[str] | None, left: list[str] | None) -> tuple[float | None, float | None, str]:
    target = RIGHT_UNDERLAY
    if right is not None and left is not None:
        server, client, up = pair.start_tunnel(right, left)
        if not up:
            pair.stop_all()
            errors = b"".join((p.stderr.read(4000) if p.stderr else b"") for p in (server, client))
            lines = [line.split(" ", 3)[-1] for line in errors.decode(errors="replace").splitlines() if line.strip()]
            return None, None, "did not start: " + (lines[-1] if lines else "no message")
        target = RIGHT_TUNNEL
        pair.ping(target, 3, "0.2", "1")  # wakes UDP listeners, fills ARP
    iperf_server = pair.start("right", ["iperf3", "-s", "-p", "5201"])
    time.sleep(0.3)
    throughput = iperf(pair, target)
    latency = pair.ping(target, PINGS)
    pair.stop_all()
    del iperf_server
    return throughput, latency, ""


def main() -> int:
    reason = missing_requirements()
    if reason:
        print(f"bench/tun: skipped: {reason}")
        return 0
    for tool in ("iperf3", "ping"):
        if not shutil.which(tool):
            print(f"bench/tun: skipped: {tool} is not installed (make bench installs iperf3 and iputils as root)")
            return 0
    found = programs()
    rows_data: dict[str, tuple[float | None, float | None, str]] = {}
    with NamespacePair() as pair:
        for name, right, left in configurations(found):
            rows_data[name] = measure(pair, right, left)
            print(f"  {name}: {rows_data[name]}", file=sys.stderr)
    base = rows_data.get("socat TUN/UDP", (None, None, ""))
    underlay = rows_data.get("underlay TCP (veth)", (None, None, ""))[0]
    rows = []
    for name, (gbit, ms, note) in rows_data.items():
        ratio = f"{gbit / base[0]:.1f}x" if gbit and base[0] else "-"
        share = f"{100 * gbit / underlay:.0f}%" if gbit and underlay else "-"
        ping_ratio = f"{ms / base[1]:.2f}x" if ms and base[1] else "-"
        rows.append([name, f"{gbit:.3f}" if gbit else "failed", share, ratio, f"{ms:.3f}" if ms else "-", ping_ratio,
                     note])
    table(f"tun: iperf3 -t {SECONDS} left->right through the tunnel, ping -c {PINGS} (avg)",
          ["configuration", "Gbit/s", "of underlay", "vs socat TUN/UDP", "ping ms", "ping vs socat UDP", "note"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
