"""Data-level transforms of the APPL options: line terminators (cr, crnl) and escape.

Pure functions on bytes. socat converts only when the two sides' terminators differ:
data read from a side is normalised to LF, then written in the other side's form; crnl
strips every CR on reading, as socat documents.
"""
from __future__ import annotations

RAW, CR, CRNL = "raw", "cr", "crnl"


def to_lf(data: bytes, lineterm: str) -> bytes:
    if lineterm == CRNL:
        return data.replace(b"\r", b"")
    if lineterm == CR:
        return data.replace(b"\r", b"\n")
    return data


def from_lf(data: bytes, lineterm: str) -> bytes:
    if lineterm == CRNL:
        return data.replace(b"\n", b"\r\n")
    if lineterm == CR:
        return data.replace(b"\n", b"\r")
    return data


def convert_lineterm(data: bytes, source: str, target: str) -> bytes:
    if source == target:
        return data
    return from_lf(to_lf(bytes(data), source), target)  # bytes(): a framed packet may be a view


def split_at_escape(data: bytes, escape: int | None) -> tuple[bytes, bool]:
    """Returns the data before the escape byte and whether the escape byte was seen."""
    if escape is None:
        return data, False
    data = bytes(data)  # a framed packet may be a view
    index = data.find(bytes([escape]))
    if index < 0:
        return data, False
    return data[:index], True
