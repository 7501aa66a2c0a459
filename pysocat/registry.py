"""The address-type registry and option validation (socat: xioaddrs.c and parseopts_table).

Each address family module declares its AddressType records with `address(...)`; this
module knows nothing of any family. `resolve()` turns a parsed AddressSpec into a
ResolvedAddress: the type looked up by name (case-insensitive), the parameter count
checked, and every option looked up, group-checked and converted to its typed value, all
with socat's diagnostics. Nothing here opens anything.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from collections.abc import Callable

from .errors import SocatError
from .options import UNIVERSAL_GROUPS, Group, Option, OptionValues, lookup_option
from .spec import AddressSpec, DualSpec, Spec

FAMILY_MODULES = (
    "stdio", "file", "pipe", "exec", "pty", "readline",
)


@dataclass(frozen=True, eq=False)
class AddressType:
    """One address type: `names[0]` is canonical, the rest are aliases."""

    names: tuple[str, ...]
    params: tuple[str, ...]  # e.g. ("<host>", "<port>")
    groups: frozenset[Group]
    feature: str  # -V feature name without WITH_, e.g. "STDIO"
    help: str
    opener: Callable[..., object]
    direction: str = "rw"  # "rw", "r" or "w"
    optional_params: int = 0  # how many trailing params may be left out
    usage_override: str | None = None

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def usage(self) -> str:
        if self.usage_override is not None:
            return self.usage_override
        required = self.params[: len(self.params) - self.optional_params]
        optional = self.params[len(required) :]
        text = self.name + "".join(":" + p for p in required)
        if optional:
            text += "[" + "".join(":" + p for p in optional) + "]"
        return text

    def accepts(self, count: int) -> bool:
        return len(self.params) - self.optional_params <= count <= len(self.params)


_ADDRESSES: dict[str, list[AddressType]] = {}
ALL_ADDRESSES: list[AddressType] = []
_loaded = False


def address(
    names: tuple[str, ...],
    params: tuple[str, ...],
    groups: tuple[Group, ...],
    feature: str,
    help: str,
    direction: str = "rw",
    optional_params: int = 0,
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Declares an address type on its opener; variants of one name may differ in parameter count."""

    def register(opener: Callable[..., object]) -> Callable[..., object]:
        record = AddressType(names, params, frozenset(groups), feature, help, opener, direction, optional_params)
        for name in names:
            _ADDRESSES.setdefault(name.upper(), []).append(record)
        ALL_ADDRESSES.append(record)
        return opener

    return register


def load_families() -> None:
    """Imports every family module so that its declarations are registered."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in FAMILY_MODULES:
        importlib.import_module(f"pysocat.addresses.{module}")


def lookup_address(keyword: str) -> list[AddressType]:
    load_families()
    return _ADDRESSES.get(keyword.upper(), [])


@dataclass
class ResolvedAddress:
    """A validated address: its type, its parameters and its typed options."""

    type: AddressType
    keyword: str
    params: tuple[str, ...]
    options: OptionValues
    text: str = ""
    unknown_groups_ok: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "type": self.type.name,
            "keyword": self.keyword,
            "params": list(self.params),
            "groups": sorted(g.value for g in self.type.groups),
            "options": [
                {"name": opt.name, "value": value, "groups": sorted(g.value for g in opt.groups)}
                for opt, value in self.options.occurrences
            ],
        }


@dataclass
class ResolvedDual:
    reader: ResolvedAddress
    writer: ResolvedAddress
    text: str = ""

    def to_json(self) -> dict[str, object]:
        return {"dual": {"read": self.reader.to_json(), "write": self.writer.to_json()}}


Resolved = ResolvedAddress | ResolvedDual


def _count_text(candidates: list[AddressType]) -> str:
    counts = sorted({n for c in candidates for n in range(len(c.params) - c.optional_params, len(c.params) + 1)})
    return " or ".join(str(n) for n in counts)


def resolve_single(spec: AddressSpec, check_groups: bool = True, source: str | None = None) -> ResolvedAddress:
    """Validates one address in socat's order (xioopen.c): every option is looked up,
    group-checked against the groups of all variants of the keyword and converted first;
    only then is the parameter count checked, so `TCP:x,foo` reports the unknown option.

    `source` is the whole argument the option positions refer to (the dual text for
    the halves of `a!!b`); socat's numeric errors quote it from the option onwards."""
    source = spec.text if source is None else source
    candidates = lookup_address(spec.keyword)
    if not candidates:
        raise SocatError(f'unknown device/address "{spec.keyword}"')
    values = OptionValues()
    allowed = frozenset().union(*(c.groups for c in candidates)) | UNIVERSAL_GROUPS
    for opt_spec in spec.options:
        opt = lookup_option(opt_spec.name)
        if opt is None:
            raise SocatError(f'parseopts_table(): unknown option "{opt_spec.name}"', position=opt_spec.position)
        if check_groups and not (opt.groups & allowed):
            raise SocatError(
                f'parseopts_table(): option "{opt_spec.name}" not supported with this address type',
                position=opt_spec.position,
            )
        values.add(opt, opt.parse(opt_spec.name, opt_spec.value, source[opt_spec.position :]))
    matching = [c for c in candidates if c.accepts(len(spec.params))]
    if not matching:
        message = f"{spec.keyword}: wrong number of parameters ({len(spec.params)} instead of {_count_text(candidates)})"
        with_params = [c for c in candidates if c.params]
        if len(candidates) == 1 and with_params:
            message += f": usage: {candidates[0].usage}"
        raise SocatError(message)
    addr_type = matching[0]
    if check_groups:
        # valid for another variant of the keyword only (`PIPE,creat`): socat fails when applying
        variant_allowed = addr_type.groups | UNIVERSAL_GROUPS
        for opt, _value in values.occurrences:
            if not (opt.groups & variant_allowed):
                raise SocatError(f'applyopts(): option "{opt.name}" not implemented')
    return ResolvedAddress(addr_type, spec.keyword, spec.params, values, spec.text, not check_groups)


def resolve(spec: Spec, check_groups: bool = True) -> Resolved:
    if isinstance(spec, DualSpec):
        return ResolvedDual(
            resolve_single(spec.reader, check_groups, spec.text),
            resolve_single(spec.writer, check_groups, spec.text),
            spec.text,
        )
    return resolve_single(spec, check_groups)


def features() -> list[tuple[str, bool]]:
    """-V's feature list in socat's order, with whether pysocat really has each one."""
    load_families()
    have = {a.feature for a in ALL_ADDRESSES}
    have |= {"HELP", "STATS", "FDNUM", "TERMIOS", "RETRY", "MSGLEVEL"} - {"RETRY"}
    return [(name, name in have) for name in SOCAT_FEATURE_ORDER]


SOCAT_FEATURE_ORDER = (
    "HELP", "STATS", "STDIO", "FDNUM", "FILE", "CREAT", "GOPEN", "TERMIOS", "PIPE", "SOCKETPAIR", "UNIX",
    "ABSTRACT_UNIXSOCKET", "IP4", "IP6", "RAWIP", "GENERICSOCKET", "INTERFACE", "TCP", "UDP", "SCTP", "DCCP",
    "UDPLITE", "LISTEN", "POSIXMQ", "SOCKS4", "SOCKS4A", "SOCKS5", "VSOCK", "NAMESPACES", "PROXY", "SYSTEM",
    "SHELL", "EXEC", "READLINE", "TUN", "PTY", "OPENSSL", "FIPS", "LIBWRAP", "SYCLS", "FILAN", "RETRY",
    "DEVTESTS",
)


def options_for(addr_type: AddressType) -> list[Option]:
    from .options import ALL_OPTIONS

    allowed = addr_type.groups | UNIVERSAL_GROUPS
    return [o for o in ALL_OPTIONS if o.groups & allowed]


__all__ = ["AddressType", "ResolvedAddress", "ResolvedDual", "address", "resolve", "lookup_address", "field"]
