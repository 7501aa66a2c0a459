"""The address-type registry and option validation (socat: xioaddrs.c and parseopts_table).

Each address family module declares its AddressType records with `address(...)`; this
module knows nothing of any family. `resolve()` turns a parsed AddressSpec into a
ResolvedAddress: the type looked up by name (case-insensitive), the parameter count
checked, and every option looked up, group-checked and converted to its typed value, all
with socat's diagnostics. Nothing here opens anything.
"""
from __future__ import annotations

import importlib
from .record import replace
from .record import dataclass, field
from collections.abc import Callable, Mapping

from .compat import current as compat_level
from .errors import SocatError
from .options import UNIVERSAL_GROUPS, Group, NumericError, Option, OptionValues, lookup_option
from .spec import AddressSpec, DualSpec, Spec

# Each family module and the keyword stems it declares (a stem is the keyword up to its
# first "-", without the 4/6 suffix: TCP6-LISTEN -> TCP). Opening one address then imports
# one family, not all of them; a unit test checks this index against the declarations.
FAMILY_MODULES: dict[str, tuple[str, ...]] = {
    "stdio": ("-", "FD", "STDERR", "STDIN", "STDIO", "STDOUT"),
    "file": ("CREAT", "CREATE", "FILE", "GOPEN", "OPEN"),
    "pipe": ("ECHO", "FIFO", "PIPE", "SOCKETPAIR"),
    "exec": ("EXEC", "SHELL", "SYSTEM"),
    "pty": ("PTY",),
    "readline": ("READLINE",),
    "tcp": ("INET", "TCP"),
    "udp": ("UDP",),
    "unix": ("ABSTRACT", "LOCAL", "UNIX"),
    "tun": ("TUN",),
    "acceptfd": ("ACCEPT",),
    "vsock": ("VSOCK",),
    "sctp": ("SCTP",),
    "rawip": ("IP",),
    "interface": ("IF", "INTERFACE"),
    "generic": ("DATAGRAM", "DGRAM", "SENDTO", "SOCKET"),
    "proxy": ("PROXY",),
    "socks": ("SOCKS", "SOCKS4", "SOCKS4A", "SOCKS5"),
    "openssl": ("DTLS", "OPENSSL", "SSL"),
}


def keyword_stem(keyword: str) -> str:
    if keyword == "-":
        return keyword
    return keyword.upper().split("-", 1)[0].rstrip("46")


_STEM_HOMES = {stem: module for module, stems in FAMILY_MODULES.items() for stem in stems}


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
    # the option phases socat's opener of this type runs applyopts() for (None: all of them);
    # decides what an option outside the type's groups does under -g (see foreign_disposition)
    phases: frozenset[str] | None = None
    # whether the running kernel supports the type (None: always): -V's feature line is
    # #undef where it says no (SCTP without the kernel module, for example)
    available: Callable[[], bool] | None = None
    # socat 1.7.4's own count error of this type's opener (`PROXY: 3 parameters required`,
    # {keyword} as written), given where the compat level has no `usage:` tail (1.7)
    count_error_1_7: str | None = None

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
    phases: frozenset[str] | None = None,
    available: Callable[[], bool] | None = None,
    usage: str | None = None,
    count_error_1_7: str | None = None,
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Declares an address type on its opener; variants of one name may differ in parameter count.

    The record's opener is wrapped (open_checked) so that every family gets socat's handling
    of -s deferred parse errors and of -g options from other groups, without knowing of them."""

    def register(opener: Callable[..., object]) -> Callable[..., object]:
        record = AddressType(names, params, frozenset(groups), feature, help, opener, direction, optional_params,
                             usage_override=usage, phases=phases, available=available,
                             count_error_1_7=count_error_1_7)
        object.__setattr__(record, "opener", _checked(opener))
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
    found = _ADDRESSES.get(keyword.upper())
    if found:
        return found
    home = _STEM_HOMES.get(keyword_stem(keyword))
    if home is not None and not _loaded:
        importlib.import_module(f"pysocat.addresses.{home}")
        found = _ADDRESSES.get(keyword.upper())
        if found:
            return found
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
    # -s: errors found while resolving, logged when the address is opened (socat parses an
    # address just before opening it, so its errors come after the first address's notices)
    deferred: list[SocatError] = field(default_factory=list)
    # options outside the type's groups (accepted by -g or -s): socat fails only when applying
    foreign: list[Option] = field(default_factory=list)

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


# socat's lexer copies the keyword and each parameter into a 512-byte buffer (xioopen.c)
TOKEN_LIMIT = 512


def _check_lengths(spec: AddressSpec) -> None:
    """socat's token limits, checked while lexing, so before the keyword is looked up."""
    if len(spec.keyword.encode()) >= TOKEN_LIMIT:
        raise SocatError(f'keyword too long, in address "{spec.text}"')
    if any(len(param.encode()) >= TOKEN_LIMIT for param in spec.params):
        raise SocatError(f'address "{spec.text}" too long')


def _parse_value(opt: Option, written: str, raw: str | None, source: str, deferred: list[SocatError] | None) -> object:
    """The option's typed value; under -s (deferred is a list) a bad number is logged and
    replaced by what strtoul made of it, as socat goes on with that value."""
    try:
        return opt.parse(written, raw, source)
    except NumericError as err:
        if deferred is None:
            raise
        deferred.extend(SocatError(text) for text in err.messages)
        return opt.parse(written, err.prefix or "0", None)


def resolve_single(spec: AddressSpec, check_groups: bool = True, source: str | None = None,
                   sloppy: bool = False) -> ResolvedAddress:
    """Validates one address in socat's order (xioopen.c): every option is looked up,
    group-checked against the groups of all variants of the keyword and converted first;
    only then is the parameter count checked, so `TCP:x,foo` reports the unknown option.

    `source` is the whole argument the option positions refer to (the dual text for
    the halves of `a!!b`); socat's numeric errors quote it from the option onwards.

    With `sloppy` (-s) an error in an option is logged and the option dropped (a bad number
    keeps its partial value, an option of another group is kept and fails only when applied),
    as socat goes on after errors; the errors are logged when the address is opened."""
    source = spec.text if source is None else source
    _check_lengths(spec)
    candidates = lookup_address(spec.keyword)
    compat = compat_level()
    if not candidates or not compat.knows_address(spec.keyword):
        raise SocatError(f'unknown device/address "{spec.keyword}"')
    values = OptionValues()
    deferred: list[SocatError] = []
    allowed = frozenset().union(*(_groups_of(c, compat.address_groups) for c in candidates)) | UNIVERSAL_GROUPS
    for opt_spec in spec.options:
        try:
            opt = lookup_option(opt_spec.name)
            if opt is None or not compat.knows_option(opt.name):
                raise SocatError(f'parseopts_table(): unknown option "{opt_spec.name}"', position=opt_spec.position)
            if check_groups and not (_groups_of(opt, compat.option_groups) & allowed):
                error = SocatError(f'parseopts_table(): option "{opt_spec.name}" not supported with this address type',
                                   position=opt_spec.position)
                if not sloppy:
                    raise error
                deferred.append(error)
            value = _parse_value(opt, opt_spec.name, opt_spec.value, source[opt_spec.position :],
                                 deferred if sloppy else None)
        except SocatError as err:
            if not sloppy:
                raise
            deferred.append(err)
            continue
        values.add(opt, value)
    matching = [c for c in candidates if c.accepts(len(spec.params))]
    if not matching and sloppy:
        # socat logs the count error and opens the address with the parameters it has
        deferred.append(SocatError(_count_message(spec, candidates)))
        matching = [candidates[0]]
        wanted = len(candidates[0].params)
        spec = replace(spec, params=(spec.params + ("",) * wanted)[:wanted])
    if not matching:
        raise SocatError(_count_message(spec, candidates))
    addr_type = matching[0]
    variant_allowed = addr_type.groups | UNIVERSAL_GROUPS
    # outside this variant's groups: accepted by -g or -s, or valid for another variant of the
    # keyword only (`PIPE,creat`); socat fails (or not) when it applies them
    foreign = [opt for opt in values.values if not (opt.groups & variant_allowed)]
    return ResolvedAddress(addr_type, spec.keyword, spec.params, values, spec.text, not check_groups,
                           deferred, foreign)


def _groups_of(item: Option | AddressType, overrides: Mapping[str, frozenset[str]]) -> frozenset[Group]:
    """An option's or address type's groups, or those of the socat version pysocat behaves
    as (compat.Compat.option_groups, address_groups)."""
    names = overrides.get(item.name)
    return item.groups if names is None else frozenset(Group(name) for name in names)


def _count_message(spec: AddressSpec, candidates: list[AddressType]) -> str:
    """socat's parameter count error. For a keyword with variants of different counts
    (PIPE, PIPE:<filename>) socat 1.7.4.4 names the last variant's count and no usage:
    `PIPE: wrong number of parameters (2 instead of 1)`."""
    if len(candidates) > 1:
        return f"{spec.keyword}: wrong number of parameters ({len(spec.params)} instead of {len(candidates[-1].params)})"
    if candidates[0].count_error_1_7 is not None and not compat_level().count_error_usage_tail:
        return candidates[0].count_error_1_7.format(keyword=spec.keyword)
    message = f"{spec.keyword}: wrong number of parameters ({len(spec.params)} instead of {_count_text(candidates)})"
    with_params = [c for c in candidates if c.params]
    if len(candidates) == 1 and with_params and compat_level().count_error_usage_tail:
        # socat 1.8's xio_syntax() names the keyword as written: `tcp4: ... usage: tcp4:<host>:<port>`
        usage = candidates[0].usage
        if spec.keyword.upper() in (n.upper() for n in candidates[0].names):
            usage = spec.keyword + usage[len(candidates[0].name):]
        message += f": usage: {usage}"
    return message


def resolve(spec: Spec, check_groups: bool = True, sloppy: bool = False) -> Resolved:
    if isinstance(spec, DualSpec):
        return ResolvedDual(
            resolve_single(spec.reader, check_groups, spec.text, sloppy),
            resolve_single(spec.writer, check_groups, spec.text, sloppy),
            spec.text,
        )
    return resolve_single(spec, check_groups, sloppy=sloppy)


# ---------------------------------------------------------------- options of other groups (-g)
# socat's applyopts() runs per phase over the options of that phase; what an option outside
# the address's groups does depends on its kind and on whether the opener applies its phase
# (verified with socat 1.7.4.4 for STDOUT, PIPE, PIPE:<name>, OPEN and CREATE):
ALL_PHASES = None
# openers of existing descriptors (STDIO, FD): applyopts2(INIT..FD), then LATE
FD_PHASES = frozenset({"INIT", "EARLY", "PREOPEN", "OPEN", "PASTOPEN", "PRESOCKET", "SOCKET", "PASTSOCKET",
                       "PREBIGEN", "BIGEN", "PASTBIGEN", "FD", "LATE", "LATE2"})
# openers of file system entries (OPEN, GOPEN, PIPE:<name>)
NAMED_PHASES = frozenset({"INIT", "EARLY", "PREOPEN", "OPEN", "PASTOPEN", "FD", "LATE", "LATE2"})
# phases that socat applies before the descriptor exists: their failure comes before the open
BEFORE_FD_PHASES = frozenset({"INIT", "EARLY", "PREOPEN", "OPEN", "PRESOCKET", "SOCKET", "PREBIGEN", "BIGEN"})
# OFUNC_OFLAG / OFUNC_OFFSET options: "does not apply" instead of "not implemented"
NOT_APPLYING = frozenset({"o-rdonly", "o-wronly", "o-rdwr", "connect-timeout", "accept-timeout",
                          "unix-tightsocklen"})
# applied by socat to the process or retrieved by every opener: accepted without effect
QUIETLY_ACCEPTED = frozenset({"setpgid", "tiocsctty"})
# groups whose options pysocat's generic descriptor applier performs on any descriptor (a seek
# on a pipe then fails with the system's error, as in socat)
FD_APPLIED_GROUPS = frozenset({Group.FD, Group.REG, Group.BLK, Group.TERMIOS, Group.FIFO, Group.CHR})


def foreign_disposition(addr_type: AddressType, opt: Option) -> str:
    """What socat does with an option outside the type's groups: "apply", "ignore",
    "not implemented", "does not apply" or "left" (never inquired: `N option(s) could not
    be used` once the address is open)."""
    if opt.phase == "INIT" or opt.name in QUIETLY_ACCEPTED:
        return "ignore"
    if Group.PARENT in opt.groups:  # signal options are read by EXEC/SYSTEM only
        return "left"
    phases = addr_type.phases
    if phases is not None and opt.phase not in phases:
        return "left"
    if opt.name in NOT_APPLYING:
        return "does not apply"
    if opt.groups & FD_APPLIED_GROUPS:
        return "apply"
    return "not implemented"


def _in_group_unused(addr: ResolvedAddress) -> tuple[list[Option], list[Option]]:
    """Options of the type's own groups that its opener does not use (verified with socat
    1.7.4.4 for STDIN): those in a phase it never applies, and the multicast joins that only
    socket openers make, are left (`N option(s) could not be used`); a socket's
    connect-timeout "does not apply" to a descriptor."""
    phases = addr.type.phases
    if phases is None:
        return [], []
    foreign = set(addr.foreign)
    left, not_applying = [], []
    for opt in addr.options.values:
        if opt in foreign or opt.phase == "INIT" or opt.name in QUIETLY_ACCEPTED:
            continue
        if opt.phase not in phases or (phases is FD_PHASES and opt.name in DESCRIPTOR_LEFT):
            left.append(opt)
        elif phases is FD_PHASES and opt.name in NOT_APPLYING:
            not_applying.append(opt)
    return left, not_applying


# socket options a STDIO or FD address never applies (socat's socket openers do)
DESCRIPTOR_LEFT = frozenset({"ip-add-membership", "ipv6-join-group"})


def _without(options: OptionValues, dropped: set[Option]) -> OptionValues:
    kept = OptionValues()
    for opt, value in options.occurrences:
        if opt not in dropped:
            kept.add(opt, value)
    return kept


def _checked(opener: Callable[..., object]) -> Callable[..., object]:
    """Wraps an opener with socat's treatment of deferred (-s) errors and foreign options."""

    def open_checked(addr: ResolvedAddress, ctx: object) -> object:
        from .log import LOG

        for err in addr.deferred:
            LOG.log(err.level, err.text)
        addr.deferred = []
        unapplied, not_applying = _in_group_unused(addr)
        if not addr.foreign and not unapplied and not not_applying:
            return opener(addr, ctx)
        kinds = {opt: foreign_disposition(addr.type, opt) for opt in addr.foreign}
        kinds.update((opt, "left") for opt in unapplied)
        kinds.update((opt, "does not apply") for opt in not_applying)

        def fail(opt: Option) -> None:
            text = f'applyopts(): option "{opt.name}" {kinds[opt]}'
            if not LOG.sloppy:
                raise SocatError(text)
            LOG.error(text)

        failing = [opt for opt, kind in kinds.items() if kind in ("not implemented", "does not apply")]
        for opt in failing:
            if opt.phase in BEFORE_FD_PHASES:
                fail(opt)
        from .record import replace as _replace

        dropped = {opt for opt, kind in kinds.items() if kind != "apply"}
        endpoint = opener(_replace(addr, options=_without(addr.options, dropped), foreign=[]), ctx)
        try:
            for opt in failing:
                if opt.phase not in BEFORE_FD_PHASES:
                    fail(opt)
            left = [opt for opt, kind in kinds.items() if kind == "left"]
            if left:
                for opt in left:
                    if opt not in unapplied:  # socat 1.7.4.4 names only the foreign ones
                        LOG.warn(f'showleft(): option "{opt.name}" not inquired')
                raise SocatError(f"{len(left)} option(s) could not be used")
        except SocatError:
            endpoint.close()  # type: ignore[attr-defined]
            raise
        return endpoint

    open_checked.__wrapped__ = opener  # type: ignore[attr-defined]
    return open_checked


def features() -> list[tuple[str, bool]]:
    """-V's feature list in socat's order, with whether pysocat really has each one."""
    load_families()
    probes = {a.feature: a.available for a in ALL_ADDRESSES if a.available is not None}
    working = {feature: probe() for feature, probe in probes.items()}  # one probe per feature
    have = {a.feature for a in ALL_ADDRESSES if working.get(a.feature, True)}
    have |= {"HELP", "STATS", "FDNUM", "TERMIOS", "MSGLEVEL"}
    # group-derived features: an address type that takes the group's options implements it
    groups = frozenset().union(*(a.groups for a in ALL_ADDRESSES))
    have |= {name for name in ("IP4", "IP6", "LISTEN", "RETRY") if Group(name) in groups}
    if Group.RANGE in groups:  # tcpwrap options: only where libwrap.so.0 really loads
        from .net import libwrap

        if libwrap.available():
            have.add("LIBWRAP")
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
