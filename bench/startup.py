"""Start-to-exit time of a one-shot relay, pysocat against real socat, in the same run.

Runs `PROG -u OPEN:/dev/null STDOUT` repeatedly (alternating the two programs so that
machine load affects both alike) and prints the medians and their ratio.
Goal from the core issue: pysocat <= 80 ms.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("STARTUP_RUNS", "30"))
ARGS = ["-u", "OPEN:/dev/null", "STDOUT"]


# An installed package has compiled bytecode (pip writes it); measure that state even when
# the caller's environment forbids writing .pyc files.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {result.stderr.decode(errors='replace')}")
    return elapsed


def main() -> int:
    pysocat = shutil.which("pysocat", path=os.path.dirname(sys.executable)) or shutil.which("pysocat")
    socat = shutil.which("socat")
    if not pysocat:
        print("pysocat is not installed (run make bench)")
        return 1
    programs = {"pysocat": [pysocat, *ARGS]}
    if socat:
        programs["socat"] = [socat, *ARGS]
    samples: dict[str, list[float]] = {name: [] for name in programs}
    for name, argv in programs.items():
        timed(argv)  # warm the page cache once
    for _ in range(RUNS):
        for name, argv in programs.items():
            samples[name].append(timed(argv))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print(f"startup: `PROG {' '.join(ARGS)}`, median of {RUNS} runs each")
    print(f"{'program':<10} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, values in samples.items():
        print(f"{name:<10} {medians[name]:>10.1f} {min(values) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
    if "socat" in medians:
        print(f"ratio pysocat/socat: {medians['pysocat'] / medians['socat']:.1f}x")
    goal = 80.0
    print(f"goal pysocat <= {goal:.0f} ms: {'met' if medians['pysocat'] <= goal else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
