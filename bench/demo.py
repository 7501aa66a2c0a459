"""make demo: pysocat's main job, a framed TUN tunnel between two network namespaces.

Builds two throwaway namespaces joined by a veth pair (192.0.2.1 <-> 192.0.2.2), starts
`pysocat TCP4-LISTEN:5555,framed TUN:198.18.0.2/24,iff-up` on the right and
`pysocat TCP4:192.0.2.2:5555,framed TUN:198.18.0.1/24,iff-up` on the left, shows the
MTU pysocat chose, a ping and a short iperf3 run through the tunnel, and removes it all.
Without root (or without TUN support) it says what it needs and shows local relays instead.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _netns import RIGHT_TUNNEL, NamespacePair, framed_tunnel, missing_requirements  # noqa: E402

BINDIR = os.path.dirname(sys.executable)
PYSOCAT = shutil.which("pysocat", path=BINDIR) or "pysocat"

LOCAL_STEPS = [
    ("an EXEC'd program as a filter", "echo hello world | pysocat - EXEC:'tr a-z A-Z'"),
    ("LF to CRLF on the way out (crnl)", "printf 'a\\nb\\n' | pysocat -u - STDOUT,crnl | od -c"),
    ("a hex dump of the traffic (-x -v)", "printf 'ping\\n' | pysocat -x -v -u - /dev/null"),
]


def local_demo() -> None:
    for title, command in LOCAL_STEPS:
        print(f"\n# {title}\n$ {command}", flush=True)
        subprocess.run(["bash", "-c", f"PATH={shlex.quote(BINDIR)}:$PATH; {command}"], check=False)


def show(pair: NamespacePair, side: str, argv: list[str], timeout: float = 60) -> int:
    print(f"\n[{side}]$ {' '.join(shlex.quote(a) for a in argv)}", flush=True)
    result = pair.run(side, argv, timeout=timeout)
    sys.stdout.write(result.stdout.decode(errors="replace"))
    sys.stdout.write(result.stderr.decode(errors="replace"))
    return result.returncode


def tunnel_demo() -> int:
    right, left = framed_tunnel([PYSOCAT, "-d", "-d"], 5555)
    with NamespacePair("psdemo") as pair:
        print("two namespaces joined by a veth pair: left 192.0.2.1, right 192.0.2.2")
        print(f"\n[right]$ {' '.join(right)} &")
        print(f"[left]$ {' '.join(left)} &")
        server, client, up = pair.start_tunnel(right, left)
        if not up:
            pair.stop_all()
            for name, process in (("right", server), ("left", client)):
                print(f"--- {name} pysocat said:\n" + (process.stderr.read().decode(errors="replace")
                                                         if process.stderr else ""))
            print("the tunnel did not come up")
            return 1
        show(pair, "left", ["ip", "-br", "link", "show", "type", "tun"])
        status = show(pair, "left", ["ping", "-c", "3", "-i", "0.2", RIGHT_TUNNEL])
        if shutil.which("iperf3"):
            pair.start("right", ["iperf3", "-s", "-p", "5201"])
            time.sleep(0.3)
            show(pair, "left", ["iperf3", "-c", RIGHT_TUNNEL, "-p", "5201", "-t", "3", "-f", "g"], timeout=60)
        pair.stop_all()
        print("\n--- what the left pysocat logged (-d -d):")
        sys.stdout.write(client.stderr.read().decode(errors="replace") if client.stderr else "")
    print("\nnamespaces and tunnel removed.")
    return status


def main() -> int:
    reason = missing_requirements()
    if reason:
        print(f"make demo: the TUN tunnel demo {reason}.")
        print("Showing local relays instead.")
        local_demo()
        return 0
    return tunnel_demo()


if __name__ == "__main__":
    raise SystemExit(main())
