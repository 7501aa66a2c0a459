"""Two throwaway network namespaces joined by a veth pair, for the tunnel benchmark and
the demo. Underlay 192.0.2.1/24 (left) and 192.0.2.2/24 (right); tunnels use
198.18.0.1 and 198.18.0.2. Nothing here touches the host's own interfaces, and
everything is removed on exit, also after an error."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

LEFT_UNDERLAY, RIGHT_UNDERLAY = "192.0.2.1", "192.0.2.2"
LEFT_TUNNEL, RIGHT_TUNNEL = "198.18.0.1", "198.18.0.2"
PUMP_OFF = ["env", "PYSOCAT_PUMP=0"]  # prefix: pysocat without its C packet pump


def framed_tunnel(program: list[str], port: int, right: str = "", left: str = "") -> tuple[list[str], list[str]]:
    """The right (listening) and left argvs of a TUN tunnel over framed TCP; `right` and
    `left` are options added to that end's TUN (",tun-offload")."""
    return ([*program, f"TCP4-LISTEN:{port},reuseaddr,framed", f"TUN:{RIGHT_TUNNEL}/24,iff-up{right}"],
            [*program, f"TCP4:{RIGHT_UNDERLAY}:{port},framed", f"TUN:{LEFT_TUNNEL}/24,iff-up{left}"])


def missing_requirements() -> str | None:
    """Why the namespaces cannot be built here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, a veth pair and TUN devices); run: sudo make demo"
    if not os.path.exists("/dev/net/tun"):
        return "needs /dev/net/tun (the tun kernel module)"
    if not shutil.which("ip"):
        return "needs the ip command (Debian package iproute2; make installs it as root)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class NamespacePair:
    def __init__(self, tag: str = "psbench") -> None:
        suffix = f"{os.getpid()}"
        self.left, self.right = f"{tag}L{suffix}", f"{tag}R{suffix}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> "NamespacePair":
        try:
            _ip("netns", "add", self.left)
            _ip("netns", "add", self.right)
            _ip("link", "add", "psv0", "netns", self.left, "type", "veth", "peer", "name", "psv1", "netns", self.right)
            for ns, dev, addr in ((self.left, "psv0", LEFT_UNDERLAY), (self.right, "psv1", RIGHT_UNDERLAY)):
                _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        for ns in (self.left, self.right):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)

    def run(self, side: str, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        ns = self.left if side == "left" else self.right
        return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, timeout=timeout)

    def start(self, side: str, argv: list[str]) -> subprocess.Popen[bytes]:
        ns = self.left if side == "left" else self.right
        process = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, 15)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
        self.processes.clear()

    def start_tunnel(self, right: list[str], left: list[str]) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], bool]:
        """Starts the right end (the listener), then the left, and waits for both tunnel
        addresses; returns both processes and whether the tunnel came up (if not, their
        stderr says why; stop_all() ends them)."""
        server = self.start("right", right)
        time.sleep(0.5)
        client = self.start("left", left)
        up = self.wait_for_address("right", RIGHT_TUNNEL) and self.wait_for_address("left", LEFT_TUNNEL)
        return server, client, up

    def ping(self, target: str, count: int, interval: str = "0.05", wait: str = "2") -> float | None:
        """The average round trip of `count` pings from the left side, in ms (None if none came back)."""
        result = self.run("left", ["ping", "-c", str(count), "-i", interval, "-W", wait, target], timeout=count + 60)
        match = re.search(rb"= [\d.]+/([\d.]+)/", result.stdout)
        return float(match.group(1)) if match else None

    def wait_for_address(self, side: str, address: str, timeout: float = 15) -> bool:
        """Polls until `address` is configured on some interface of the namespace."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.run(side, ["ip", "-o", "addr", "show"]).stdout.decode()
            if f" {address}/" in out:
                return True
            time.sleep(0.05)
        return False
