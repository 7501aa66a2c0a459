"""Runs real socat as an oracle for the address grammar.

For a SYSTEM address socat logs, at ``-d -d -d``, the line ``I executing shell command
"<param>"`` just before it runs ``/bin/sh -c <param>``; so the lexed parameter, as socat
itself saw it, can be read back. When socat rejects the address instead, its first
``E`` line is the outcome. pysocat's outcome is computed the same way from
parse_address and resolve, so the two can be compared case by case.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pysocat.errors import SocatError
from pysocat.grammar import parse_address
from pysocat.registry import resolve
from pysocat.spec import DualSpec

SOCAT = "/usr/bin/socat" if Path("/usr/bin/socat").exists() else shutil.which("socat")

Outcome = tuple[str, str]  # ("exec", shell command) or ("error", diagnostic text)

_EXEC = re.compile(
    # the next line is socat's next log line, the shell's complaint ("sh: 1: ..."), or the end
    r'socat\[\d+\] I executing shell command "(.*?)"\n(?=\d{4}/\d\d/\d\d \d\d:\d\d:\d\d socat\[|sh: |\Z)',
    re.DOTALL,
)
_ERROR = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d socat\[\d+\] [EF] (.*)$", re.MULTILINE)


OVERREAD_PROBE = "/dev/null,creat"  # valid here, but not for SYSTEM if socat reads into it


def socat_outcome(address: str, cwd: str, second: str = "/dev/null") -> Outcome:
    """What real socat does with `address` as its first (read-only) address."""
    assert SOCAT, "real socat is not installed"
    proc = subprocess.run(
        [SOCAT, "-d", "-d", "-d", "-u", address, second],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, timeout=10,
    )
    stderr = proc.stderr.decode("utf-8", errors="surrogateescape")
    found = _EXEC.search(stderr)
    if found:
        return ("exec", found.group(1))
    error = _ERROR.search(stderr)
    if error:
        return ("error", error.group(1))
    return ("other", f"exit {proc.returncode}")


def socat_outcomes(addresses: list[str], cwd: str, probe: bool = False) -> dict[str, Outcome]:
    """Runs the cases in parallel (each call is ~10 ms, mostly start-up). Where socat's
    lexer runs past the end of the argument (an unterminated quote or bracket inside
    brackets or quotes) its result depends on the next argv: such cases come back as
    ("overread", what socat executed or said with /dev/null as the next argument)."""
    def one(address: str) -> Outcome:
        first = socat_outcome(address, cwd)
        if probe and socat_outcome(address, cwd, OVERREAD_PROBE) != first:
            return ("overread", first[1] if first[0] == "exec" else "")
        return first

    with ThreadPoolExecutor(max_workers=16) as pool:
        return dict(zip(addresses, pool.map(one, addresses)))


def pysocat_outcome(address: str) -> Outcome:
    """The same outcome computed by pysocat without running anything."""
    try:
        spec = parse_address(address)
        resolve(spec)
    except SocatError as exc:
        return ("error", exc.text)
    reader = spec.reader if isinstance(spec, DualSpec) else spec
    return ("exec", reader.params[0] if reader.params else "")
