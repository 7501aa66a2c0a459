"""The typed result of parsing: what the grammar hands to the registry.

Specs are plain immutable values with source positions, so they can be compared in
tests, printed by --explain, and produced without any I/O.
"""
from __future__ import annotations

from .record import dataclass, field


@dataclass(frozen=True)
class OptionSpec:
    name: str
    value: str | None  # None: written without "="; "" : written as "name="
    position: int = 0

    def text(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value}"


@dataclass(frozen=True)
class AddressSpec:
    keyword: str
    params: tuple[str, ...] = ()
    options: tuple[OptionSpec, ...] = ()
    text: str = ""
    position: int = 0
    shorthand: str | None = field(default=None, compare=False)  # "fd" / "gopen" when implied

    def to_json(self) -> dict[str, object]:
        return {
            "keyword": self.keyword,
            "params": list(self.params),
            "options": [{"name": o.name, "value": o.value} for o in self.options],
        }


@dataclass(frozen=True)
class DualSpec:
    """`read!!write`: data is read from `reader` and written to `writer`."""

    reader: AddressSpec
    writer: AddressSpec
    text: str = ""

    def to_json(self) -> dict[str, object]:
        return {"dual": {"read": self.reader.to_json(), "write": self.writer.to_json()}}


Spec = AddressSpec | DualSpec


def single_spec(keyword: str, params: tuple[str, ...], options: tuple[OptionSpec, ...], position: int) -> AddressSpec:
    """Applies socat's shorthands for an unknown keyword: one digit is FD:<n>, a token with
    "/" is GOPEN:<token> (no registered keyword is either, so the grammar can decide)."""
    if len(keyword) == 1 and keyword.isdigit():
        return AddressSpec("FD", (keyword, *params), options, "", position, "fd")
    if "/" in keyword:
        return AddressSpec("GOPEN", (keyword, *params), options, "", position, "gopen")
    return AddressSpec(keyword, params, options, "", position)
