"""The entry point for parsing addresses, with a pyparsing-free path for plain text.

Most addresses in scripts contain no quote, backslash or bracket (`TCP4-LISTEN:80,fork`,
`OPEN:/tmp/x,creat`). For those, socat's grammar reduces to splitting at `!!`, `,`,
`:` and `=`, which this module does directly, so a one-shot relay does not pay the
~60 ms that importing pyparsing costs. Everything else, and every error, goes to the
pyparsing grammar in grammar.py, which stays the definition: tests/unit check on random
plain strings that both give identical specs, positions included.
"""
from __future__ import annotations

from .spec import AddressSpec, DualSpec, OptionSpec, Spec, single_spec

NEEDS_GRAMMAR = frozenset("\"'\\([{")
DUAL_SEPARATOR = "!!"


def parse_plain(text: str) -> Spec | None:
    """The spec of a plain address, or None when the full grammar must decide."""
    if not NEEDS_GRAMMAR.isdisjoint(text):
        return None
    parts = text.split(DUAL_SEPARATOR)
    if len(parts) > 2 or any(p.startswith("!") for p in parts[1:]) or any(p.endswith("!") for p in parts[:-1]):
        return None  # runs of "!" and third parts: let the grammar handle (and report) them
    singles = []
    offset = 0
    for part in parts:
        singles.append(_plain_single(part, offset))
        offset += len(part) + len(DUAL_SEPARATOR)
    if len(singles) == 2:
        reader, writer = singles
        return DualSpec(_with_text(reader, parts[0]), _with_text(writer, parts[1]), text)
    return _with_text(singles[0], text)


def _plain_single(text: str, offset: int) -> AddressSpec:
    head, _comma, rest = text.partition(",")
    keyword, *params = head.split(":")
    options = []
    position = offset + len(head) + 1
    if _comma:
        for item in rest.split(","):
            name, equals, value = item.partition("=")
            if name:  # empty options and nameless "=x" are skipped, as socat does
                options.append(OptionSpec(name, value if equals else None, position))
            position += len(item) + 1
    return single_spec(keyword, tuple(params), tuple(options), offset)


def _with_text(spec: AddressSpec, text: str) -> AddressSpec:
    from .record import replace

    return replace(spec, text=text)


def parse_address(text: str) -> Spec:
    """Parses one address argument: the fast path when it is plain, else the grammar."""
    spec = parse_plain(text)
    if spec is not None:
        return spec
    from .grammar import parse_address as parse_with_grammar

    return parse_with_grammar(text)
