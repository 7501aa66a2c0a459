"""pysocat: a drop-in replacement for socat, in Python.

Python API (see README):
    parse_address(text)   -> AddressSpec | DualSpec    (pure, no I/O)
    open_address(spec)    -> Endpoint                  (opens it)
    relay(a, b, **opts)   -> Statistics                (moves data until EOF/timeout)
"""
from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing is not imported: it costs start-up time on every run
if TYPE_CHECKING:
    from typing import Any

    from .endpoint import Endpoint
    from .transfer.engine import Statistics
    from .spec import Spec


def parse_address(text: str) -> "Spec":
    from .quickparse import parse_address as parse

    return parse(text)


def open_address(spec: "Spec | str", readable: bool = True, writable: bool = True) -> "Endpoint":
    from .opening import open_spec

    if isinstance(spec, str):
        spec = parse_address(spec)
    return open_spec(spec, readable=readable, writable=writable)


def relay(left: "Endpoint", right: "Endpoint", **options: "Any") -> "Statistics":
    """Relays between two open endpoints; options are RelaySettings fields (bufsize, direction,
    close_timeout, inactivity_timeout, verbose, hexdump, raw_left, raw_right)."""
    from .transfer.engine import RelaySettings, relay as run

    return run(left, right, RelaySettings(**options))
