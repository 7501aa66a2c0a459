"""Throughput of a TCP port forwarder, pysocat against real socat, in the same run.

iperf3 runs over loopback through `PROG [-b N] TCP-LISTEN:p,fork,reuseaddr TCP:127.0.0.1:q`
for each program and buffer size, alternating the programs so machine load hits both
alike; prints Gbit/s (median of the rounds) and the pysocat/socat ratio.
Goal from the network issue: pysocat >= 1.3x socat with -b 131072.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess

from _util import Background, free_port, programs, table, wait_listening

SECONDS = int(os.environ.get("TCP_RELAY_SECONDS", "4"))
ROUNDS = int(os.environ.get("TCP_RELAY_ROUNDS", "3"))
BUFFERS = [None, 131072]


def iperf(port: int) -> float:
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECONDS), "-J"],
                         capture_output=True, timeout=SECONDS + 30)
    report = json.loads(out.stdout or b"{}")
    if "error" in report or out.returncode != 0:
        raise SystemExit(f"iperf3 failed: {report.get('error', out.stderr.decode(errors='replace'))}")
    return report["end"]["sum_received"]["bits_per_second"] / 1e9


def main() -> int:
    if not shutil.which("iperf3"):
        print("iperf3 is not installed (make bench installs it as root)")
        return 1
    found = programs()
    if "pysocat" not in found:
        print("pysocat is not installed (run make bench)")
        return 1
    server_port = free_port()
    results: dict[tuple[str, int | None], list[float]] = {}
    with Background(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(server_port)]):
        wait_listening(server_port)
        direct = [iperf(server_port) for _ in range(ROUNDS)]
        for _ in range(ROUNDS):
            for bufsize in BUFFERS:
                for name, path in found.items():
                    port = free_port()
                    argv = [path] + (["-b", str(bufsize)] if bufsize else []) + [
                        f"TCP-LISTEN:{port},fork,reuseaddr,bind=127.0.0.1", f"TCP:127.0.0.1:{server_port}"]
                    with Background(argv):
                        wait_listening(port)
                        results.setdefault((name, bufsize), []).append(iperf(port))
    rows = [["direct (no relay)", "-", f"{statistics.median(direct):.2f}", ""]]
    for bufsize in BUFFERS:
        medians = {name: statistics.median(results[(name, bufsize)]) for name in found}
        for name in found:
            ratio = f"{medians[name] / medians['socat']:.2f}x" if "socat" in medians else "n/a"
            rows.append([name, str(bufsize or "default"), f"{medians[name]:.2f}", ratio])
    table(f"tcp_relay: iperf3 -t {SECONDS} over loopback through a forking TCP forwarder, median of {ROUNDS}",
          ["program", "-b", "Gbit/s", "vs socat"], rows)
    if "socat" in found:
        ratio = statistics.median(results[("pysocat", 131072)]) / statistics.median(results[("socat", 131072)])
        print(f"goal pysocat >= 1.3x socat with -b 131072: {'met' if ratio >= 1.3 else 'NOT met'} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
