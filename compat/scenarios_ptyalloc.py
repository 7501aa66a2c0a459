"""PTY allocation options ptmx and openpty (socat: which way the pty is made; on Linux both
end at /dev/ptmx, and pysocat accepts both with the same pty). Format: compat/scenarios.py."""
from __future__ import annotations

SCENARIOS: list[dict] = [
    {"id": "ptyalloc-help-lists-ptmx-openpty", "argv": ["-hhh"], "compat": "1.7",
     "stdout_filter": r"^\s+(ptmx|openpty)\s"},
    {"id": "ptyalloc-ptmx-wrong-group", "argv": ["-u", "-", "OPEN:/dev/null,ptmx"]},
    {"id": "ptyalloc-openpty-bad-value", "argv": ["-u", "PTY,openpty=x", "-"]},
]
