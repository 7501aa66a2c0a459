"""Throughput of a TLS transfer, pysocat against real socat, in the same run.

For each program a server `PROG -u OPENSSL-LISTEN:p,cert=... OPEN:out` receives a file
that a client `PROG -u OPEN:data OPENSSL:localhost:p,cafile=...` of the same program sends
(TLS 1.3 over loopback, the certificate verified as by default); the rounds alternate the
programs so machine load hits both alike. Each round checks that the received file's
sha256 is the sent file's, and prints MB/s (median of the rounds) and the pysocat/socat
ratio. The time runs from the client's start to the server's end (start-up and handshake
included, which a large transfer makes small).

    TLS_BYTES=1073741824 .venv/bin/python bench/tls.py    # 1 GiB (default 64 MiB)
    TLS_ROUNDS=3, TLS_BUFSIZE=131072 (-b for both programs; default theirs, 8192)
"""
from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from _util import free_port, programs, table, wait_listening

BYTES = int(os.environ.get("TLS_BYTES", str(64 << 20)))
ROUNDS = int(os.environ.get("TLS_ROUNDS", "3"))
BUFSIZE = os.environ.get("TLS_BUFSIZE")
CHUNK = 1 << 20


def make_certificates(directory: str) -> None:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=bench CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "7",
            "-out", "server.crt", "-days", "2")
    with open(os.path.join(directory, "server.pem"), "wb") as pem:
        for name in ("server.crt", "server.key"):
            with open(os.path.join(directory, name), "rb") as part:
                pem.write(part.read())


def make_data(path: str) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with open(path, "wb") as out:
        left = BYTES
        while left > 0:
            piece = block[: min(CHUNK, left)]
            block = hashlib.sha512(block[:64]).digest() + block[64:]  # no two MiB alike
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def transfer(program: str, directory: str, expected: str) -> float:
    """One transfer; returns MB/s (10^6 bytes per second)."""
    port = free_port()
    received = os.path.join(directory, "received")
    buffer = ["-b", BUFSIZE] if BUFSIZE else []
    server = subprocess.Popen([program, *buffer, "-u", f"OPENSSL-LISTEN:{port},reuseaddr,bind=127.0.0.1,"
                               "cert=server.pem,verify=0", f"OPEN:{received},creat,trunc"], cwd=directory,
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(port)
        started = time.monotonic()
        client = subprocess.run([program, *buffer, "-u", "OPEN:data", f"OPENSSL:localhost:{port},cafile=ca.crt"],
                                cwd=directory, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=600 + BYTES / 5e6)
        server.wait(timeout=60)
        seconds = time.monotonic() - started
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    if client.returncode != 0 or server.returncode != 0:
        raise SystemExit(f"{program} failed: client {client.returncode} {client.stderr.decode(errors='replace')}"
                         f" server {server.returncode} {server.stderr.read().decode(errors='replace')}")  # type: ignore[union-attr]
    if file_sha256(received) != expected:
        raise SystemExit(f"{program}: the received data's sha256 differs from the sent data's")
    os.unlink(received)
    return BYTES / seconds / 1e6


def main() -> int:
    if not shutil.which("openssl"):
        print("the openssl command is not installed")
        return 1
    found = programs()
    if "pysocat" not in found:
        print("pysocat is not installed (run make bench)")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as directory:
        make_certificates(directory)
        expected = make_data(os.path.join(directory, "data"))
        results: dict[str, list[float]] = {}
        for _ in range(ROUNDS):
            for name, path in found.items():
                results.setdefault(name, []).append(transfer(path, directory, expected))
    medians = {name: statistics.median(values) for name, values in results.items()}
    rows = []
    for name in found:
        ratio = f"{medians[name] / medians['socat']:.2f}x" if "socat" in medians else "n/a"
        rows.append([name, f"{medians[name]:.0f}", ratio, " ".join(f"{v:.0f}" for v in results[name])])
    table(f"tls: {BYTES} bytes through OPENSSL -> OPENSSL-LISTEN (TLS 1.3, loopback, -b {BUFSIZE or 'default'}), "
          f"sha256 checked, median of {ROUNDS}", ["program", "MB/s", "vs socat", "rounds"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
