"""Shared helpers: run pysocat (and real socat) as a user would, through the CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYSOCAT = str(BIN / "pysocat") if (BIN / "pysocat").exists() else None
SOCAT = shutil.which("socat")
# the suite describes pysocat's default (socat 1.8) behaviour; a user's PYSOCAT_COMPAT=1.7
# would change what every child prints, so the tests that want 1.7 ask for it themselves
os.environ.pop("PYSOCAT_COMPAT", None)


def pysocat_command() -> list[str]:
    return [PYSOCAT] if PYSOCAT else [sys.executable, "-m", "pysocat"]


def run_pysocat(*args: str, input: bytes | None = None, timeout: float = 20, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(pysocat_command() + list(args), input=input, capture_output=True, timeout=timeout, **kw)


def run_socat(*args: str, input: bytes | None = None, timeout: float = 20, **kw) -> subprocess.CompletedProcess:
    assert SOCAT, "real socat is not installed"
    return subprocess.run([SOCAT, *args], input=input, capture_output=True, timeout=timeout, **kw)


def diagnostics(stderr: bytes) -> list[str]:
    """Log lines without the timestamp and program[pid] prefix: 'E text'."""
    out = []
    for line in stderr.decode(errors="replace").splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and "[" in parts[2] and parts[2].endswith("]"):
            out.append(parts[3])
        else:
            out.append(line)
    return out


needs_socat = pytest.mark.skipif(SOCAT is None, reason="real socat is not installed (make test installs it as root)")


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
