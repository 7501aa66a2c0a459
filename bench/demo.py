"""make demo: pysocat's main job, shown on this machine.

Until the TUN issue lands this demonstrates local relays through the real CLI: a
program behind EXEC, line-ending conversion and a hex dump, printing each command.
"""
from __future__ import annotations

import shlex
import subprocess
import sys

STEPS = [
    ("an EXEC'd program as a filter", "echo hello world | pysocat - EXEC:'tr a-z A-Z'"),
    ("LF to CRLF on the way out (crnl)", "printf 'a\\nb\\n' | pysocat -u - STDOUT,crnl | od -c"),
    ("a hex dump of the traffic (-x -v)", "printf 'ping\\n' | pysocat -x -v -u - /dev/null"),
    ("a shell command and its exit status", "pysocat -u SYSTEM:'echo from sh; exit 3' -; echo exit=$?"),
]


def main() -> int:
    bindir = sys.executable.rsplit("/", 1)[0]
    for title, command in STEPS:
        print(f"\n# {title}\n$ {command}", flush=True)
        subprocess.run(["bash", "-c", f"PATH={shlex.quote(bindir)}:$PATH; {command}"], check=False)
    print("\nThe framed TUN tunnel demo arrives with the TUN issue (see README).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
