"""-v / -x transfer dumps and -r / -R raw dumps, in socat's exact format.

socat prints the sub-second part of the timestamp as nine digits holding microseconds
(`.000539093`); -x alone writes all bytes on one line, -x with -v writes 16 bytes (or up
to a line feed) per line with the text beside them and ends the block with `--`.
"""
from __future__ import annotations

import os
import time
from io import BufferedIOBase as BinaryIO


def _printable(byte: int) -> bool:
    return 0x20 <= byte < 0x7F


def header(direction: str, length: int, start: int, now: float | None = None) -> str:
    now = time.time() if now is None else now
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now))
    micros = int((now % 1) * 1_000_000)
    return f"{direction} {stamp}.{micros:09d}  length={length} from={start} to={start + length - 1}\n"


def text_dump(data: bytes) -> str:
    out = []
    for byte in data:
        if byte == 0x0D:
            out.append("\\r")
        elif byte in (0x09, 0x0A) or _printable(byte):
            out.append(chr(byte))
        else:
            out.append(".")
    return "".join(out)


def hex_only(data: bytes) -> str:
    return "".join(f" {b:02x}" for b in data) + "\n"


def hex_and_text(data: bytes) -> str:
    lines = []
    chunk = bytearray()
    for byte in data:
        chunk.append(byte)
        if len(chunk) == 16 or byte == 0x0A:
            lines.append(chunk)
            chunk = bytearray()
    if chunk:
        lines.append(chunk)
    out = []
    for line in lines:
        hexes = "".join(f" {b:02x}" for b in line)
        text = "".join(chr(b) if _printable(b) else "." for b in line)
        out.append(f"{hexes:<48}  {text}\n")
    out.append("--\n")
    return "".join(out)


class Dumper:
    """Writes the -v/-x dump of every transferred block to stderr, -r/-R copies to files."""

    def __init__(self, verbose: bool, hexdump: bool, raw_left: str | None, raw_right: str | None) -> None:
        self.verbose = verbose
        self.hexdump = hexdump
        self.raw: dict[str, BinaryIO] = {}
        for direction, path in ((">", raw_left), ("<", raw_right)):
            if path:
                self.raw[direction] = open(expand_raw_name(path), "ab", buffering=0)
        self.offsets = {">": 0, "<": 0}

    @property
    def active(self) -> bool:
        return self.verbose or self.hexdump or bool(self.raw)

    def block(self, direction: str, data: bytes) -> None:
        start = self.offsets[direction]
        self.offsets[direction] += len(data)
        if direction in self.raw:
            self.raw[direction].write(data)
        if not (self.verbose or self.hexdump):
            return
        data = bytes(data)  # a framed packet may be a view
        text = header(direction, len(data), start)
        if self.hexdump and self.verbose:
            text += hex_and_text(data)
        elif self.hexdump:
            text += hex_only(data)
        else:
            text += text_dump(data)
        os.write(2, text.encode("latin-1"))

    def close(self) -> None:
        for handle in self.raw.values():
            handle.close()


def expand_raw_name(path: str) -> str:
    """socat expands $$, $PROGNAME, $TIMESTAMP, $MICROS and environment variables in -r/-R names."""
    from .. import log

    now = time.time()
    values = {
        "$$": str(os.getpid()),
        "$PROGNAME": log.LOG.program,
        "$TIMESTAMP": time.strftime("%Y%m%dT%H%M%S", time.localtime(now)),
        "$MICROS": f"{int((now % 1) * 1_000_000):06d}",
    }
    for key, value in values.items():
        path = path.replace(key, value)
    return os.path.expandvars(path)
