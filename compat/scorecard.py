"""Summarises a run of socat's test suite (../shared/tools/peer-suite output) for
compat/SCORECARD.md: the counts, and each test that failed or could not run, by name.

    python -m compat.scorecard PYSOCAT_LOG [SOCAT_LOG]

With a second log (the same suite run with -s /usr/bin/socat), tests are compared:
which ones real socat passes and pysocat does not, and the reverse.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

RESULT = re.compile(r"^test +(\d+) ([A-Za-z0-9_]+): .*?\.\.\. ?(.*)$")
SUMMARY = re.compile(r"^Summary: (\d+) tests, (\d+) selected; (\d+) ok, (\d+) failed, (\d+) could not be performed")


def outcomes(text: str) -> dict[str, tuple[int, str, str]]:
    """test name -> (number, "ok" | "failed" | "could not", the line's tail)."""
    found: dict[str, tuple[int, str, str]] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = RESULT.match(line)
        if not match:
            continue
        number, name, tail = int(match.group(1)), match.group(2), match.group(3).strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if tail.startswith("./test.sh: line") and following.startswith("OK"):
            tail = "OK"  # the shell's report of a killed child came before the verdict
        if tail.startswith("OK"):
            status = "ok"
        elif "FAILED" in tail or "NO RESULT" in tail or tail.startswith("Terminated"):
            status = "failed"
        elif tail:
            status = "could not"
        else:
            continue  # a line cut off by the suite's own output; the summary still counts it
        found[f"{number:3d} {name}"] = (number, status, tail[:100])
    return found


def summary(text: str) -> str:
    for line in text.splitlines():
        if SUMMARY.match(line):
            return line.strip()
    return "no Summary line (the run did not finish)"


def main(argv: list[str]) -> int:
    ours_text = Path(argv[0]).read_text(errors="replace")
    ours = outcomes(ours_text)
    print(f"pysocat: {summary(ours_text)}")
    if len(argv) > 1:
        theirs_text = Path(argv[1]).read_text(errors="replace")
        theirs = outcomes(theirs_text)
        print(f"socat:   {summary(theirs_text)}")
        worse = [k for k in sorted(ours) if ours[k][1] != "ok" and theirs.get(k, (0, ""))[1] == "ok"]
        better = [k for k in sorted(ours) if ours[k][1] == "ok" and theirs.get(k, (0, ""))[1] != "ok"]
        print(f"\nsocat ok, pysocat not ({len(worse)}):")
        for key in worse:
            print(f"  {key}: {ours[key][1]}: {ours[key][2]}")
        print(f"\npysocat ok, socat not ({len(better)}):")
        for key in better:
            print(f"  {key}")
        return 0
    for status in ("failed", "could not"):
        names = [k for k in sorted(ours) if ours[k][1] == status]
        print(f"\n{status} ({len(names)}):")
        for key in names:
            print(f"  {key}: {ours[key][2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
