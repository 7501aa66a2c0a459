"""Which socat pysocat behaves as: 1.8 (the default) or 1.7.4 (`--compat=1.7`, or
`PYSOCAT_COMPAT=1.7` in the environment; the option wins).

pysocat follows socat 1.8 where 1.7.4.4 and 1.8 differ, but many distributions still ship
1.7 (Debian's socat is 1.7.4.4), and scripts written for it, and Debian's copy of socat's
own test.sh, expect 1.7's behaviour. Every difference is one field of the frozen `Compat`
record below, with its reason in REASONS; the code that differs reads that field from
`current()` and never compares version strings. The command line selects the level once,
before anything else is parsed.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

from .errors import SocatError
from .record import dataclass

ENVIRONMENT_VARIABLE = "PYSOCAT_COMPAT"
OPTION = "--compat"


@dataclass(frozen=True, eq=False)
class Compat:
    """One socat version's behaviour, where 1.7.4 and 1.8 differ (reasons in REASONS)."""

    level: str
    socat_version: str
    default_log_level: str
    d_digit_levels: bool
    bad_d_digit_exits: bool
    zero_timeout_disables: bool
    negative_timeout_fails: bool
    read_reset_ends_direction: bool
    child_failure_exits: bool
    count_error_usage_tail: bool
    help_layout: str
    version_layout: str
    unknown_global_options: frozenset[str]
    sigusr1_statistics: bool
    unknown_addresses: frozenset[str]
    unknown_options: frozenset[str]
    address_groups: Mapping[str, frozenset[str]]
    option_groups: Mapping[str, frozenset[str]]
    option_help_attributes: Mapping[str, tuple[str, str]]
    option_type_names: Mapping[str, str]
    option_nicknames: Mapping[str, str | None]
    features: tuple[str, ...] | None

    def knows_address(self, keyword: str) -> bool:
        return keyword.upper() not in self.unknown_addresses

    def knows_option(self, canonical_name: str) -> bool:
        return canonical_name not in self.unknown_options

    def knows_global_option(self, arg: str) -> bool:
        return arg not in self.unknown_global_options and arg[:2] not in self.unknown_global_options


REASONS: dict[str, str] = {
    "level": "the name --compat and PYSOCAT_COMPAT take",
    "socat_version": "-V line 2 and the SOCAT_VERSION of children: scripts (test.sh) compare against it",
    "default_log_level": "socat 1.8 shows F, E and W without -d; 1.7.4 shows only F and E (-d adds W, -d -d N)",
    "d_digit_levels": "-d0 .. -d4 set the level directly in 1.8; 1.7.4 does not know them (usage, exit 1)",
    "bad_d_digit_exits": "a bad -d digit (-d5, -dx): 1.8 prints the usage and carries on, 1.7.4 exits 1",
    "zero_timeout_disables": "-T 0: 1.8 (since 1.8.0.1) times out at once; in 1.7.4 0 means no timeout",
    "negative_timeout_fails": "-T <0: no timeout in 1.8; 1.7.4 passes it to poll(), which fails (E ... Invalid "
                              "argument, exit 1)",
    "read_reset_ends_direction": "EPIPE/ECONNRESET on read: an error in 1.8 (exit 1); in 1.7.4 a warning, and "
                                 "the direction ends as at EOF (exit 0)",
    "child_failure_exits": "an EXEC/SYSTEM child that fails: 1.8 warns and exits 1 at the end; 1.7.4 logs E "
                           "and exits at once while transferring, and says nothing once the transfer is over",
    "count_error_usage_tail": "1.8 appends `: usage: <syntax>` to `wrong number of parameters`; 1.7.4 does not",
    "help_layout": "-h/-hh/-hhh: 1.7.4 prints lower-case keywords, no `options (...)` heading, `X is an alias "
                   "name for Y` lines, one tab between columns, its own global option list and -hh selection; "
                   "the usage after a bad option is the options part only",
    "version_layout": "-V: 1.7.4's date format on line 2 and no WITH_DEFAULT_IPV line",
    "unknown_global_options": "-0, -S, --statistics and --experimental are new in 1.8; 1.7.4: unknown option",
    "sigusr1_statistics": "SIGUSR1 logs the transfer statistics in 1.8; 1.7.4 does not catch it (its default "
                          "action ends the process, status 138)",
    "unknown_addresses": "address types and aliases new in 1.8 (SOCKETPAIR, SHELL, ACCEPT-FD, ABSTRACT-L, ...); "
                         "1.7.4: unknown device/address",
    "unknown_options": "address options new in 1.8 (chdir, f-setpipe-sz, so-rcvtimeo, interface-mtu, ...); "
                       "1.7.4: unknown option",
    "address_groups": "address types whose option groups grew in 1.8 (INTERFACE takes the INTERFACE group); "
                      "1.7.4: the option is not supported with this address type",
    "option_groups": "options whose groups grew in 1.8 (umask for EXEC/SYSTEM); 1.7.4: not supported with "
                     "this address type",
    "option_help_attributes": "-hh/-hhh: the phase and type 1.7.4 names for options whose record changed in 1.8",
    "option_type_names": "-hh/-hhh: 1.7.4's spelling of some type names (UID_T, GID_T, OFF64_T, INT)",
    "option_nicknames": "-hh: 1.7.4 lists every option once under its nickname (None: not at all); where the "
                        "nickname is not the option's shortest name it is named here",
    "features": "-V: 1.7.4's feature list and order (None: the registry's 1.8 list)",
}

# socat 1.7.4.4's -V feature lines, in its order (verified with /usr/bin/socat -V)
FEATURES_1_7 = (
    "STDIO", "FDNUM", "FILE", "CREAT", "GOPEN", "TERMIOS", "PIPE", "UNIX", "ABSTRACT_UNIXSOCKET", "IP4", "IP6",
    "RAWIP", "GENERICSOCKET", "INTERFACE", "TCP", "UDP", "SCTP", "LISTEN", "SOCKS4", "SOCKS4A", "VSOCK", "PROXY",
    "SYSTEM", "EXEC", "READLINE", "TUN", "PTY", "OPENSSL", "FIPS", "LIBWRAP", "SYCLS", "FILAN", "RETRY",
)

SOCAT_1_8 = Compat(
    level="1.8",
    socat_version="1.8.0.1",
    default_log_level="W",
    d_digit_levels=True,
    bad_d_digit_exits=False,
    zero_timeout_disables=False,
    negative_timeout_fails=False,
    read_reset_ends_direction=False,
    child_failure_exits=False,
    count_error_usage_tail=True,
    help_layout="1.8",
    version_layout="1.8",
    unknown_global_options=frozenset(),
    sigusr1_statistics=True,
    unknown_addresses=frozenset(),
    unknown_options=frozenset(),
    address_groups=MappingProxyType({}),
    option_groups=MappingProxyType({}),
    option_help_attributes=MappingProxyType({}),
    option_type_names=MappingProxyType({}),
    option_nicknames=MappingProxyType({}),
    features=None,
)

SOCAT_1_7 = Compat(
    level="1.7",
    socat_version="1.7.4.4",
    default_log_level="E",
    d_digit_levels=False,
    bad_d_digit_exits=True,
    zero_timeout_disables=True,
    negative_timeout_fails=True,
    read_reset_ends_direction=True,
    child_failure_exits=True,
    count_error_usage_tail=False,
    help_layout="1.7",
    version_layout="1.7",
    unknown_global_options=frozenset({"-0", "-S", "--statistics", "--experimental"}),
    sigusr1_statistics=False,
    # new in socat 1.8 (1.8.0.0 release notes; the aliases verified against 1.7.4.4)
    unknown_addresses=frozenset({
        "SOCKETPAIR", "SHELL", "ACCEPT", "ACCEPT-FD", "ABSTRACT-L", "ABSTRACT-SEND",
        "SOCKS5", "SOCKS5-CONNECT", "SOCKS5-LISTEN", "SOCKS5-BIND", "POSIXMQ-READ", "POSIXMQ-RECEIVE", "POSIXMQ-SEND",
        "POSIXMQ-BIDIRECTIONAL", "DCCP", "DCCP-CONNECT", "DCCP-LISTEN", "DCCP4", "DCCP4-CONNECT", "DCCP4-LISTEN",
        "DCCP6", "DCCP6-CONNECT", "DCCP6-LISTEN", "UDPLITE", "UDPLITE-CONNECT", "UDPLITE-LISTEN", "UDPLITE-SENDTO",
        "UDPLITE-RECVFROM", "UDPLITE-RECV", "UDPLITE-DATAGRAM", "UDPLITE4", "UDPLITE6", "TEXT", "STALL",
    }),
    # canonical names; all verified `E parseopts_table(): unknown option` with socat 1.7.4.4
    unknown_options=frozenset({
        "chdir", "f-setpipe-sz", "so-rcvtimeo", "so-sndtimeo", "interface-mtu", "iff-dynamic", "shell",
        "unix-bind-tempname", "http-version", "sockspass", "openssl-method",
    }),
    address_groups=MappingProxyType({"INTERFACE": frozenset({"FD", "SOCKET"})}),
    option_groups=MappingProxyType({"umask": frozenset({"NAMED"})}),
    # (phase, type) as socat 1.7.4.4 -hhh names them
    option_help_attributes=MappingProxyType({
        "accept-timeout": ("LISTEN", "STRUCT-TIMEVAL"),
        "fork": ("PASTACCEPT", "BOOL"),
        "fdin": ("PASTBIGEN", "UNSIGNED-SHORT"),
        "fdout": ("PASTBIGEN", "UNSIGNED-SHORT"),
        "pty-interval": ("EARLY", "STRUCT-TIMESPEC"),
        "csize": ("FD", "UNSIGNED-INT"),
        "ispeed": ("FD", "UNSIGNED-INT"),
        "ospeed": ("FD", "UNSIGNED-INT"),
    }),
    option_type_names=MappingProxyType({"UIDT": "UID_T", "GIDT": "GID_T", "OFF64": "OFF64_T", "INT/NULL": "INT"}),
    # where socat 1.7.4.4's -hh name is not the option's shortest name (its whole table:
    # options pysocat lacks are listed too, so that a new one is shown right at once)
    option_nicknames=MappingProxyType({
        "accept-timeout": "listen-timeout", "crnl": "crnl", "dash": "login", "echoctl": "echoctl",
        "f-setlkw-wr": "setlkw", "fs-append": None, "fs-journal-data": "journal-data", "fs-noatime": None,
        "fs-notail": None, "fs-sync": None, "group-early": "group-early", "hupcl": "hupcl",
        "iff-multicast": "iff-multicast", "ignoreeof": "ignoreeof", "ipv6-pktinfo": None, "ipv6-recverr": None,
        "ipv6-recvpathmtu": None, "ipv6-recvtclass": None, "ipv6-tclass": None, "ipv6-v6only": "ipv6only",
        "lseek32-set": "lseek32-set", "max-children": "max-children", "o-nonblock": "nonblock",
        "openssl-cipherlist": "ciphers", "proxy-resolve": "resolve", "pty-wait-slave": "wait-slave",
        "tcp-md5sig": None, "tcpwrappers": "tcpwrap", "unlink": "unlink", "unlink-early": "unlink-early",
        "user-early": "user-early", "vreprint": "reprint",
        # 1.7's aliases that pysocat lacks (not shown until pysocat accepts them)
        "ip-multicast-ttl": "multicastttl", "ip-multicast-loop": "multicastloop",
        "ip-add-membership": "membership", "ipv6-unicast-hops": "unicast-hops",
    }),
    features=FEATURES_1_7,
)

LEVELS: dict[str, Compat] = {SOCAT_1_8.level: SOCAT_1_8, SOCAT_1_7.level: SOCAT_1_7}
DEFAULT = SOCAT_1_8

_current = DEFAULT


def current() -> Compat:
    return _current


def lookup(text: str, source: str) -> Compat:
    """A level by name: `1.7`, or a longer version such as `1.7.4.4`; `source` names
    where the text came from (the option or the variable) in the error."""
    for name, level in LEVELS.items():
        if text == name or text.startswith(name + "."):
            return level
    known = " or ".join(sorted(LEVELS))
    raise SocatError(f'{source}: unknown compatibility level "{text}" (use {known})')


def select(level: Compat) -> Compat:
    global _current
    _current = level
    return level


def choose(option_value: str | None, environ: Mapping[str, str] | None = None) -> Compat:
    """The level for this run: the option's value, else the variable's, else 1.8."""
    if option_value is not None:
        return lookup(option_value, OPTION)
    environ = os.environ if environ is None else environ
    text = environ.get(ENVIRONMENT_VARIABLE, "")
    return lookup(text, ENVIRONMENT_VARIABLE) if text else DEFAULT
