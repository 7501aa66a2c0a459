"""Scenarios for the pysocat extensions the man page lists under DIFFERENCES FROM SOCAT
that no other family file runs: each shows socat's refusal next to pysocat's result."""
from __future__ import annotations

from compat.scenarios import HELLO

SCENARIOS: list[dict] = [
    {"id": "docs-framed-stdout", "argv": ["-u", "-", "STDOUT,framed"], "stdin": HELLO,
     "intended": "framed", "pysocat": {"rc": 0, "stdout": b"\x00\x06" + HELLO, "stderr": []},
     "note": "a stream read (one packet here) becomes one RFC 4571 frame: 2-byte length, then the bytes"},
    {"id": "docs-help-subcommand", "argv": ["help", "TCP4"], "compare": ("rc", "stderr"),
     "intended": "help-subcommand", "pysocat": {"rc": 0, "stderr": []}},
    {"id": "docs-help-alone", "argv": ["help"], "compare": ("rc", "stderr"),
     "intended": "help-subcommand", "pysocat": {"rc": 0, "stderr": []}},
    {"id": "docs-compat-option", "argv": ["--compat=1.8", "-u", "-", "STDOUT"], "stdin": HELLO,
     "intended": "compat-option", "pysocat": {"rc": 0, "stdout": HELLO, "stderr": []}},
]
