"""Connections per second through a forking listener, pysocat against real socat.

Each program runs `PROG TCP-LISTEN:p,fork,reuseaddr TCP:127.0.0.1:echo`; clients from
several threads connect, send 64 bytes, read them back and close, for a fixed time.
The echo server is the same for both (a small non-forking Python server), so the ratio
shows the cost of the relay's accept + fork + connect. Goal: pysocat >= 0.7x socat.
"""
from __future__ import annotations

import os
import selectors
import socket
import statistics
import threading
import time
from multiprocessing import Process

from _util import Background, free_port, programs, table, wait_listening

SECONDS = float(os.environ.get("FORK_RATE_SECONDS", "4"))
ROUNDS = int(os.environ.get("FORK_RATE_ROUNDS", "3"))
CLIENTS = int(os.environ.get("FORK_RATE_CLIENTS", "8"))
MESSAGE = b"x" * 64


def echo_server(port: int) -> None:
    selector = selectors.DefaultSelector()
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if sock is listener:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                selector.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if data:
                sock.send(data)
            else:
                selector.unregister(sock)
                sock.close()


def client_loop(port: int, stop_at: float, counts: list[int], errors: list[int], index: int) -> None:
    while time.monotonic() < stop_at:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(MESSAGE)
                received = b""
                while len(received) < len(MESSAGE):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    received += chunk
            if received == MESSAGE:
                counts[index] += 1
            else:
                errors[index] += 1
        except OSError:
            errors[index] += 1


def cpu_seconds(pid: int) -> float:
    """CPU time of the relay and of its reaped children (/proc: utime, stime, cutime, cstime)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure(port: int) -> tuple[float, int]:
    counts, errors = [0] * CLIENTS, [0] * CLIENTS
    stop_at = time.monotonic() + SECONDS
    threads = [threading.Thread(target=client_loop, args=(port, stop_at, counts, errors, i)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / SECONDS, sum(errors)


def main() -> int:
    found = programs()
    if "pysocat" not in found:
        print("pysocat is not installed (run make bench)")
        return 1
    echo_port = free_port()
    server = Process(target=echo_server, args=(echo_port,), daemon=True)
    server.start()
    wait_listening(echo_port)
    rates: dict[str, list[float]] = {name: [] for name in found}
    failures: dict[str, int] = {name: 0 for name in found}
    # CPU per connection, parent and children: what a connection costs, whatever else the
    # machine is doing (conn/s also depends on the share of the cores the run gets)
    costs: dict[str, list[float]] = {name: [] for name in found}
    try:
        for _ in range(ROUNDS):
            for name, path in found.items():
                port = free_port()
                argv = [path, f"TCP-LISTEN:{port},fork,reuseaddr,bind=127.0.0.1", f"TCP:127.0.0.1:{echo_port}"]
                with Background(argv) as relay:
                    wait_listening(port)
                    before = cpu_seconds(relay.pid)
                    rate, errors = measure(port)
                    time.sleep(0.3)  # the last children end and are reaped
                    costs[name].append((cpu_seconds(relay.pid) - before) * 1000 / max(1.0, rate * SECONDS))
                rates[name].append(rate)
                failures[name] += errors
    finally:
        server.terminate()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    rows = []
    for name in found:
        ratio = f"{medians[name] / medians['socat']:.2f}x" if "socat" in medians else "n/a"
        rows.append([name, f"{medians[name]:.0f}", str(failures[name]), ratio,
                     f"{statistics.median(costs[name]):.2f}"])
    table(f"fork_rate: {CLIENTS} clients, {SECONDS:g} s, median of {ROUNDS} rounds (connect, 64 B echo, close)",
          ["program", "conn/s", "failed", "vs socat", "CPU ms/conn"], rows)
    if "socat" in medians:
        ratio = medians["pysocat"] / medians["socat"]
        print(f"goal pysocat >= 0.7x socat: {'met' if ratio >= 0.7 else 'NOT met'} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
