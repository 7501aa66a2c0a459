"""Ping latency through a TUN tunnel between two network namespaces, and the relays' CPU
time per ping, for real socat, the smallest possible C and Python relays
(bench/_minimal_relay.c, compiled for the run where a C compiler exists, and
bench/_minimal_relay.py) and pysocat, all in the same run, as ratios to socat TUN/UDP.

Why it exists: the TUN issue asks for a framed ping <= 1.2x socat TUN/UDP's. The minimal
Python relay shows what CPython itself costs per packet on this machine (the floor for any
Python relay), so the table tells how much of pysocat's latency is its own code and how
much is the interpreter's. pysocat runs twice: with its C packet pump
(pysocat/transfer/_pump.c, the default where it compiled) and without (PYSOCAT_PUMP=0,
every packet through the Python engine). CPU time is the relays' run time from /proc/PID/schedstat,
both ends together, divided by the number of pings. TUN_LATENCY_COMPARE names a second
pysocat (a wrapper running another checkout) for an A/B in the same rounds. Needs root.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from _netns import (
    LEFT_TUNNEL, PUMP_OFF, RIGHT_TUNNEL, RIGHT_UNDERLAY, NamespacePair, framed_tunnel, missing_requirements,
)
from _util import programs, table

PINGS = int(os.environ.get("TUN_LATENCY_PINGS", "100"))
ROUNDS = int(os.environ.get("TUN_LATENCY_ROUNDS", "2"))
PORT = 5556
HERE = os.path.dirname(os.path.abspath(__file__))
MINIMAL = [sys.executable, os.path.join(HERE, "_minimal_relay.py")]


def minimal_c_relay(folder: str) -> str | None:
    """bench/_minimal_relay.c compiled into `folder` (None without a C compiler)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return None
    binary = os.path.join(folder, "minimal_relay")
    built = subprocess.run([compiler, "-O2", "-o", binary, os.path.join(HERE, "_minimal_relay.c")],
                           capture_output=True)
    return binary if built.returncode == 0 else None


def configurations(found: dict[str, str], c_relay: str | None) -> list[tuple[str, list[str], list[str]]]:
    socat, pysocat = found.get("socat"), found.get("pysocat")
    right_tun, left_tun = f"TUN:{RIGHT_TUNNEL}/24,iff-up", f"TUN:{LEFT_TUNNEL}/24,iff-up"
    configs = []
    if socat:
        configs += [
            ("socat TUN/UDP", [socat, f"UDP4-LISTEN:{PORT}", right_tun], [socat, f"UDP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
            ("socat TUN/TCP (pings only)", [socat, f"TCP4-LISTEN:{PORT},reuseaddr", right_tun],
             [socat, f"TCP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
        ]
    for label, relay in (("minimal C", [c_relay] if c_relay else None), ("minimal Python", MINIMAL)):
        for name, transport in (("TUN/UDP", "udp"), ("framed TCP", "framed")) if relay else ():
            configs.append((f"{label} {name}", [*relay, transport, RIGHT_TUNNEL, "listen", str(PORT)],
                            [*relay, transport, LEFT_TUNNEL, RIGHT_UNDERLAY, str(PORT)]))
    if pysocat:  # the same pysocat without the C packet pump: every packet through the Python engine
        configs.append(("pysocat framed TCP, pump off", *framed_tunnel([*PUMP_OFF, pysocat], PORT)))
    # TUN_LATENCY_COMPARE=/path/to/another/pysocat adds its rows, measured in the same rounds:
    # the host's timing drifts by more than a code change gains, so an A/B needs interleaving
    for label, program in (("pysocat", pysocat), ("compared pysocat", os.environ.get("TUN_LATENCY_COMPARE"))):
        if program:
            configs += [
                (f"{label} TUN/UDP", [program, f"UDP4-LISTEN:{PORT}", right_tun],
                 [program, f"UDP4:{RIGHT_UNDERLAY}:{PORT}", left_tun]),
                (f"{label} framed TCP", *framed_tunnel([program], PORT)),
            ]
    return configs


def _cpu_ns(pid: int) -> int:
    """Time on a CPU, in ns (the process is `ip netns exec`'s exec of the relay)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stats:
            return int(stats.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def measure(pair: NamespacePair, right: list[str], left: list[str]) -> tuple[float | None, float | None]:
    server, client, up = pair.start_tunnel(right, left)
    if not up:
        pair.stop_all()
        return None, None
    pair.ping(RIGHT_TUNNEL, 3, "0.2", "1")  # wakes UDP listeners, fills ARP
    before = _cpu_ns(server.pid) + _cpu_ns(client.pid)
    latency = pair.ping(RIGHT_TUNNEL, PINGS)
    used = _cpu_ns(server.pid) + _cpu_ns(client.pid) - before
    pair.stop_all()
    return latency, (used / PINGS / 1000 if used > 0 else None)


def main() -> int:
    reason = missing_requirements()
    if reason:
        print(f"bench/tun_latency: skipped: {reason}")
        return 0
    if not shutil.which("ping"):
        print("bench/tun_latency: skipped: ping is not installed")
        return 0
    samples: dict[str, list[tuple[float, float]]] = {}
    with NamespacePair("pslat") as pair, tempfile.TemporaryDirectory() as folder:
        configs = configurations(programs(), minimal_c_relay(folder))
        for _round in range(ROUNDS):  # rounds alternate the configurations: the host's drift hits all alike
            for name, right, left in configs:
                ms, cpu = measure(pair, right, left)
                print(f"  {name}: {ms} ms, {cpu} us CPU per ping", file=sys.stderr)
                if ms is not None and cpu is not None:
                    samples.setdefault(name, []).append((ms, cpu))
    averages = {name: (sum(s[0] for s in runs) / len(runs), sum(s[1] for s in runs) / len(runs))
                for name, runs in samples.items()}
    base = averages.get("socat TUN/UDP")
    rows = []
    for name, (ms, cpu) in averages.items():
        rows.append([name, f"{ms:.3f}", f"{ms / base[0]:.2f}x" if base else "-", f"{cpu:.0f}",
                     f"{cpu / base[1]:.2f}x" if base else "-"])
    table(f"tun latency: ping -c {PINGS} -i 0.05 through the tunnel, {ROUNDS} rounds (avg); relays' CPU per ping",
          ["configuration", "ping ms", "vs socat TUN/UDP", "CPU us/ping", "CPU vs socat"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
