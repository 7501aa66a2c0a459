"""Option records and value types, with socat's parsing rules (xioopts.c parseopts_table).

An Option is data: its name, aliases, value type, groups, phase and help. Value types
turn the raw text after ``=`` into a Python value exactly as socat does (``strtoul`` with
base 0 or 8, ``strtod`` seconds, required or forbidden values) and fail with socat's
diagnostics. The table itself lives in option_table.py.
"""
from __future__ import annotations

import enum
from .record import dataclass, field
from collections.abc import Callable

from .errors import SocatError


class Group(str, enum.Enum):
    """socat's option groups; an address accepts the options of its groups only."""

    FD = "FD"
    FIFO = "FIFO"
    CHR = "CHR"
    BLK = "BLK"
    REG = "REG"
    NAMED = "NAMED"
    OPEN = "OPEN"
    EXEC = "EXEC"
    FORK = "FORK"
    SHELL = "SHELL"
    TERMIOS = "TERMIOS"
    PTY = "PTY"
    PARENT = "PARENT"
    SOCKET = "SOCKET"
    UNIX = "UNIX"
    READLINE = "READLINE"
    PROCESS = "PROCESS"
    APPL = "APPL"
    IP4 = "IP4"
    IP6 = "IP6"
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"
    LISTEN = "LISTEN"
    CHILD = "CHILD"
    RETRY = "RETRY"
    RANGE = "RANGE"
    INTERFACE = "INTERFACE"  # network interfaces: TUN/TAP (socat's GROUP_TUN is the same group)
    HTTP = "HTTP"  # the HTTP CONNECT proxy (PROXY)
    SOCKS4 = "SOCKS4"  # SOCKS servers: socat names the group SOCKS4, and SOCKS5 takes its options too
    OPENSSL = "OPENSSL"  # TLS and DTLS (OPENSSL, OPENSSL-LISTEN, OPENSSL-DTLS-*)


# Options of these groups are valid on every address (socat applies them to any address).
UNIVERSAL_GROUPS = frozenset({Group.APPL, Group.PROCESS})


# ---------------------------------------------------------------- value parsing (pure)

def strtoul(text: str, base: int) -> tuple[int, str]:
    """C's strtoul: returns the value and the unparsed rest (rest == text when no digits)."""
    i = 0
    while i < len(text) and text[i] in " \t\n\r\f\v":
        i += 1
    negative = False
    if i < len(text) and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    if base == 0:
        if text[i : i + 2].lower() == "0x" and i + 2 < len(text) and text[i + 2] in "0123456789abcdefABCDEF":
            base, i = 16, i + 2
        elif text[i : i + 1] == "0":
            base = 8
        else:
            base = 10
    elif base == 16 and text[i : i + 2].lower() == "0x" and text[i + 2 : i + 3] in tuple("0123456789abcdefABCDEF"):
        i += 2  # "0x" with no hex digit after it is the number 0 followed by "x", as in C
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    start = i
    while i < len(text) and text[i].lower() in digits:
        i += 1
    if i == start:
        return 0, text
    value = int(text[start:i], base)
    if negative:
        value = (-value) & 0xFFFFFFFFFFFFFFFF
    return value, text[i:]


def strtod(text: str) -> tuple[float, str]:
    """C's strtod for the decimal forms socat's users write ("0.5", "1e3", ".1")."""
    import re

    match = re.match(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", text)
    if not match:
        return 0.0, text
    return float(match.group(1)), text[match.end() :]


class NumericError(SocatError):
    """A bad number in an option value. socat (xioopts.c) logs the error and, under -s,
    goes on with what strtoul/strtod made of it: `prefix` is the text they consumed
    ("" when nothing: the value is 0), and `messages` every line socat logs for it
    (no digits at all gives "missing numerical value" and then "trailing garbage")."""

    def __init__(self, messages: list[str], prefix: str) -> None:
        super().__init__(messages[0])
        self.messages = messages
        self.prefix = prefix


def _number_errors(option_text: str, raw: str, rest: str) -> None:
    missing = f'parseopts(): missing numerical value of option "{option_text}"'
    garbage = f'parseopts(): trailing garbage in numerical arg of option "{option_text}"'
    if rest == raw:
        raise NumericError([missing, garbage] if raw else [missing], "")
    if rest:
        raise NumericError([garbage], raw[: len(raw) - len(rest)])


def numeric(option_text: str, raw: str, base: int = 0) -> int:
    value, rest = strtoul(raw, base)
    _number_errors(option_text, raw, rest)
    return value


def seconds(option_text: str, raw: str) -> float:
    value, rest = strtod(raw)
    _number_errors(option_text, raw, rest)
    return value


@dataclass(frozen=True)
class ValueType:
    """How an option's value is written; `socat_name` is what -hhh prints as type=."""

    socat_name: str
    parse: Callable[[str, str, "str | None"], object]  # (name, option text, raw) -> value
    needs_value: bool = False  # socat: `option "<name as written>": value required`


def _bool(name: str, text: str, raw: str | None) -> object:
    return True if raw is None else bool(numeric(text, raw))


def _int(name: str, text: str, raw: str | None) -> object:
    return 1 if raw is None else numeric(text, raw)


def _signed(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        return 1
    value = numeric(text, raw)
    return value - (1 << 64) if value >= 1 << 63 else value


def _mode(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    return numeric(text, raw, 8)


def _timeval(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    return seconds(text, raw)


def _string(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    return raw


def _string_null(name: str, text: str, raw: str | None) -> object:
    return raw


def _const(name: str, text: str, raw: str | None) -> object:
    if raw is not None:
        raise SocatError(f'no value permitted for option "{name}"')
    return True


def _int_null(name: str, text: str, raw: str | None) -> object:
    if raw == "":
        return None  # "leave the system default"
    return 1 if raw is None else numeric(text, raw)


def _user(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    if raw[:1].isdigit():  # socat: a leading digit means a number, "0:0" is trailing garbage
        return numeric(text, raw)
    import pwd

    try:
        return pwd.getpwnam(raw).pw_uid
    except KeyError:
        raise SocatError(f'getpwnam("{raw}"): no such user') from None


def _group(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    if raw[:1].isdigit():  # socat: a leading digit means a number, "0:0" is trailing garbage
        return numeric(text, raw)
    import grp

    try:
        return grp.getgrnam(raw).gr_gid
    except KeyError:
        raise SocatError(f'getgrnam("{raw}"): no such group') from None


def _byte(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    return numeric(text, raw) & 0xFF


BOOL = ValueType("BOOL", _bool)
INT = ValueType("INT", _int)
SIZE = ValueType("SIZE_T", _int)


def _read_limit(name: str, text: str, raw: str | None) -> object:
    """readbytes: 0 means no limit in socat (xfd->readbytes is tested for non-zero), so it
    is stored as None, the engine's "unlimited"."""
    value = _int(name, text, raw)
    return value or None


READ_LIMIT = ValueType("SIZE_T", _read_limit)
OFF = ValueType("OFF64", _signed)
MODE = ValueType("MODE_T", _mode, needs_value=True)
TIMEVAL = ValueType("STRUCT-TIMEVAL", _timeval, needs_value=True)
STRING = ValueType("STRING", _string, needs_value=True)
FILENAME = ValueType("FILENAME", _string, needs_value=True)
STRING_NULL = ValueType("STRING/NULL", _string_null)
CONST = ValueType("CONST", _const)
INT_NULL = ValueType("INT/NULL", _int_null)
USER = ValueType("UIDT", _user, needs_value=True)
GROUP = ValueType("GIDT", _group, needs_value=True)
BYTE = ValueType("BYTE", _byte, needs_value=True)


# Network value types (socat: TYPE_UINT, TYPE_USHORT, TYPE_TIMESPEC, TYPE_LINGER, TYPE_INT_INT_BIN ...).
def _ushort(name: str, text: str, raw: str | None) -> object:
    if raw is None:
        raise SocatError(f'option "{name}": value required')
    return numeric(text, raw) & 0xFFFF


SOCKOPT_BUFFER = 256  # socat's buffer for setsockopt-bin data (measured, 1.7.4.4)


def sockopt_bytes(text: str) -> bytes:
    """The dalan data of a setsockopt-bin value, with socat's error; the stderr line that
    socat's dalan() writes first travels as the error's preamble."""
    from .dalan import DalanError, parse

    try:
        return parse(text, "i", SOCKOPT_BUFFER)
    except DalanError as err:
        raise SocatError(f'parseopts_table(): problem with "{text}" data', position=err.position,
                         preamble=err.note or "") from None


def _sockopt_triple(kind: str) -> Callable[[str, str, "str | None"], object]:
    """`<level>:<optname>:<value>`: two numbers, then an int, a string or dalan bytes, with
    socat 1.7.4.4's diagnostics for each part. The value stays text here (so that it can be
    shown); dalan data is checked now, as socat parses it with the option."""
    prefix = "" if kind == "bin" else "parseopts(): "

    def parse(name: str, text: str, raw: str | None) -> object:
        if raw is None:
            raise SocatError(f'option "{name}": value required')
        missing = SocatError(f'{prefix}option "{name}": 3 arguments required')
        level, rest = strtoul(raw, 0)
        if rest == raw:
            raise SocatError(f'parseopts(): missing numerical value of option "{text}"')
        if not rest:
            raise missing
        if rest[0] != ":":
            raise SocatError(f'parseopts(): trailing garbage in 1st numerical arg of option "{text}"')
        optname, rest = strtoul(rest[1:], 0)
        if not rest:
            raise missing
        if rest[0] != ":":
            raise SocatError(f'parseopts(): trailing garbage in 2nd numerical arg of option "{text}"')
        value: object = rest[1:]
        if kind == "int":
            value = numeric(text, rest[1:])
        elif kind == "bin":
            sockopt_bytes(rest[1:])
        return (level, optname, kind, value)

    return parse


UINT = ValueType("UNSIGNED-INT", _int)
USHORT = ValueType("UNSIGNED-SHORT", _ushort, needs_value=True)
TIMESPEC = ValueType("STRUCT-TIMESPEC", _timeval, needs_value=True)
LINGER = ValueType("STRUCT-LINGER", _int)
STRING_NULL_DASH = ValueType("STRING-NULL", _string_null)
SOCKOPT_BIN = ValueType("INT:INT:BIN", _sockopt_triple("bin"), needs_value=True)
SOCKOPT_INT = ValueType("INT:INT:INT", _sockopt_triple("int"), needs_value=True)
SOCKOPT_STRING = ValueType("INT:INT:STRING", _sockopt_triple("string"), needs_value=True)
IP_MREQN = ValueType("STRUCT-IP_MREQN", _string, needs_value=True)


def _bin(name: str, text: str, raw: str | None) -> object:
    """dalan bytes (ip-options=x01000000), checked and converted now."""
    return sockopt_bytes(raw or "")


BIN = ValueType("BIN", _bin, needs_value=True)
IP4NAME = ValueType("IP4NAME", _string, needs_value=True)


# ---------------------------------------------------------------- the option record

@dataclass(frozen=True, eq=False)
class Option:
    """One address option, declared once; code refers to the record, never to its name."""

    name: str
    vtype: ValueType
    groups: frozenset[Group]
    phase: str
    help: str
    aliases: tuple[str, ...] = ()
    common: bool = False  # listed by -hh

    def parse(self, written_name: str, raw: str | None, source: str | None = None) -> object:
        """`source` is the address text from this option's first character to the end of
        the argument: socat quotes that (unlexed, later options included) in its numeric
        errors, e.g. `missing numerical value of option "rdonly=yes,creat"`."""
        if raw is None and self.vtype.needs_value:
            raise SocatError(f'option "{written_name}": value required')
        text = source if source else (written_name if raw is None else f"{written_name}={raw}")
        return self.vtype.parse(self.name, text, raw)


_TABLE: dict[str, Option] = {}
ALL_OPTIONS: list[Option] = []


def option(
    name: str,
    vtype: ValueType,
    groups: Group | tuple[Group, ...],
    phase: str,
    help: str,
    aliases: tuple[str, ...] = (),
    common: bool = False,
) -> Option:
    """Declares an option and enters it and its aliases into the lookup table."""
    group_set = frozenset(groups if isinstance(groups, tuple) else (groups,))
    record = Option(name, vtype, group_set, phase, help, aliases, common)
    for key in (name, *aliases):
        if key in _TABLE:
            raise ValueError(f"option name {key!r} declared twice")
        _TABLE[key] = record
    ALL_OPTIONS.append(record)
    return record


def _load_table() -> None:
    """The table module declares every option; importing it fills _TABLE."""
    from . import option_table  # noqa: F401


def lookup_option(name: str) -> Option | None:
    _load_table()
    return _TABLE.get(name.lower())


def all_option_names() -> dict[str, Option]:
    _load_table()
    return dict(_TABLE)


@dataclass
class OptionValues:
    """The validated options of one address: last value wins, every occurrence kept in order."""

    values: dict[Option, object] = field(default_factory=dict)
    occurrences: list[tuple[Option, object]] = field(default_factory=list)

    def add(self, opt: Option, value: object) -> None:
        self.values[opt] = value
        self.occurrences.append((opt, value))

    def __contains__(self, opt: Option) -> bool:
        return opt in self.values

    def get(self, opt: Option, default: object = None) -> object:
        return self.values.get(opt, default)

    def flag(self, opt: Option) -> bool:
        return bool(self.values.get(opt, False))

    def all(self, opt: Option) -> list[object]:
        return [v for o, v in self.occurrences if o is opt]
