"""Throwaway network namespaces for the TUN tests (root only; skipped with a reason otherwise).

Every test gets its own namespaces, named pst<pid>x<n>, with IPv6 off (no router
solicitations on a fresh TUN: only the test's own traffic crosses it) and loopback up.
Addresses come from 192.0.2.0/24 and 198.18.0.0/15 only. Processes started in a namespace
are killed and the namespace deleted in the finalizer, also when the test fails.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import pysocat_command

_counter = itertools.count()


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN) for network namespaces and TUN devices"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"pst{os.getpid()}probe"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if result.returncode != 0:
        return f"cannot create a network namespace: {result.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


SKIP_REASON = _skip_reason()
requires_netns = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


class Namespace:
    """One network namespace and the processes the test started in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.processes: list[subprocess.Popen] = []

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, timeout: float = 30, check: bool = True, **kw) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*argv), capture_output=True, timeout=timeout, **kw)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} failed: {result.stderr.decode()}")
        return result

    def popen(self, *argv: str, **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        process = subprocess.Popen(self.command(*argv), **kw)
        self.processes.append(process)
        return process

    def pysocat(self, *args: str, **kw) -> subprocess.Popen:
        return self.popen(*pysocat_command(), *args, **kw)

    def started(self, *argv: str, timeout: float = 20, **kw) -> LoggedProcess:
        """Runs socat or pysocat with -d -d and waits until its transfer loop runs (all
        addresses open, the TUN configured), so a test never races the opening."""
        process = LoggedProcess(self.popen(argv[0], "-d", "-d", *argv[1:], **kw))
        process.wait_for("starting data transfer loop", timeout)
        return process

    def link(self, name: str) -> dict | None:
        """`ip -d -j addr show dev NAME` as a dict, None when the device does not exist."""
        result = self.run("ip", "-d", "-j", "addr", "show", "dev", name, check=False)
        if result.returncode != 0:
            return None
        data = json.loads(result.stdout or b"[]")
        return data[0] if data else None

    def wait_link(self, name: str, present: bool = True, timeout: float = 20,
                  process: subprocess.Popen | None = None) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.link(name)
            if (info is not None) == present:
                return info
            if present and process is not None and process.poll() is not None:
                raise AssertionError(f"pysocat exited ({process.returncode}) before {name} appeared: "
                                     f"{process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.05)
        raise AssertionError(f"device {name} {'did not appear' if present else 'was not removed'} in {timeout} s")

    def cleanup(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        # anything still running in the namespace (a forked child) goes too
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class LoggedProcess:
    """A process whose stderr is collected by a thread, so the test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(needle in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._changed.wait(0.2)):
                    raise AssertionError(f"no {needle!r} (exit {self.process.poll()}): " + "\n".join(self.lines))
                self._changed.wait(min(left, 0.2))

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, wait; the collected diagnostics stay in `lines`."""
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code


@pytest.fixture
def make_netns() -> Iterator:
    """A factory: make_netns() -> Namespace; all of them are removed after the test."""
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    created: list[Namespace] = []

    def make() -> Namespace:
        name = f"pst{os.getpid()}x{next(_counter)}"
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        ns = Namespace(name)
        created.append(ns)
        ns.run("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        ns.run("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    try:
        yield make
    finally:
        for ns in reversed(created):
            ns.cleanup()


@pytest.fixture
def netns(make_netns) -> Namespace:
    return make_netns()


@pytest.fixture
def veth_pair(make_netns) -> tuple[Namespace, Namespace]:
    """Two namespaces joined by a veth pair: 192.0.2.1/24 (first) and 192.0.2.2/24 (second)."""
    left, right = make_netns(), make_netns()
    left.run("ip", "link", "add", "pstva", "type", "veth", "peer", "name", "pstvb", "netns", right.name)
    left.run("ip", "addr", "add", "192.0.2.1/24", "dev", "pstva")
    right.run("ip", "addr", "add", "192.0.2.2/24", "dev", "pstvb")
    left.run("ip", "link", "set", "pstva", "up")
    right.run("ip", "link", "set", "pstvb", "up")
    return left, right
