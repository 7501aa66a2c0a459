"""Extracts the command lines of socat(1)'s EXAMPLES section into man_examples.txt.

    .venv/bin/python tests/unit/data/extract_man_examples.py [/usr/share/man/man1/socat.1.gz]

Reads the roff source (rendered text hyphenates and wraps), joins continuation lines and
undoes roff escapes; the result is one shell command line per line, checked by eye.
"""
from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

ROFF = [("\\bf", ""), ("\\fB", ""), ("\\fP", ""), ("\\f(CW", ""), ("\\-", "-"), ("\\&", ""), ("\\%", ""),
        ("\\(dq", '"'), ("\\(cq", "'"), ("\\e", "\\")]


def unroff(text: str) -> str:
    text = text.replace("\\\\", "\0")
    for escape, plain in ROFF:
        text = text.replace(escape, plain)
    return text.replace("\0", "\\")


def examples(source: str) -> list[str]:
    section = source.split('.SH "EXAMPLES"', 1)[1].split('.SH "DIAGNOSTICS"', 1)[0]
    lines, block = [], None
    for raw in section.splitlines():
        item = re.match(r'^\.IP "\\fB\\f\(CW(.*)\\fP\\fP"$', raw)
        if item and item.group(1):
            lines.append(unroff(item.group(1)))
        elif raw.startswith("\\.nf"):
            block = []
        elif raw.startswith("\\.fi") and block is not None:
            joined = " ".join(part.rstrip().removesuffix("\\").strip() for part in block)
            lines.append(joined)
            block = None
        elif block is not None:
            block.append(unroff(raw))
    return lines


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/man/man1/socat.1.gz")
    source = gzip.decompress(path.read_bytes()).decode()
    out = Path(__file__).resolve().parent / "man_examples.txt"
    out.write_text("\n".join(examples(source)) + "\n")
    print(f"{len(examples(source))} example lines written to {out}")


if __name__ == "__main__":
    main()
