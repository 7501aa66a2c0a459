"""-h, -hh, -hhh and -V, rendered from the registry and the option table in socat 1.8's
layout (socat's test suite reads them: features from -V, option names from -hhh); under
--compat=1.7 in socat 1.7.4's (help_socat17.py)."""
from __future__ import annotations

import os
import time

from . import __version__
from .compat import SOCAT_1_8, current as compat_level
from .options import ALL_OPTIONS, Option, all_option_names
from .registry import ALL_ADDRESSES, AddressType, load_families

SOCAT_COMPAT_VERSION = SOCAT_1_8.socat_version

# The global options: (usage text, help) in socat's order; cli.py parses them.
GLOBAL_OPTION_HELP = (
    ("-V", "print version and feature information to stdout, and exit"),
    ("-h|-?", "print a help text describing command line options and addresses"),
    ("-hh", "like -h, plus a list of all common address option names"),
    ("-hhh", "like -hh, plus a list of all available address option names"),
    ("-d[ddd]", "increase verbosity (use up to 4 times; 2 are recommended)"),
    ("-d0|1|2|3|4", "set verbosity level (0: Errors; 4 all including Debug)"),
    ("-D", "analyze file descriptors before loop"),
    ("--experimental", "enable experimental features"),
    ("--statistics", "output transfer statistics on exit"),
    ("--explain", "parse and validate both addresses, print them as JSON, open nothing (pysocat)"),
    ("--compat=<level>", "behave as socat 1.8 (default) or 1.7; also PYSOCAT_COMPAT=<level> (pysocat)"),
    ("-ly[facility]", "log to syslog, using facility (default is daemon)"),
    ("-lf<logfile>", "log to file"),
    ("-ls", "log to stderr (default if no other log)"),
    ("-lm[facility]", "mixed log mode (stderr during initialization, then syslog)"),
    ("-lp<progname>", "set the program name used for logging and vars"),
    ("-lu", "use microseconds for logging timestamps"),
    ("-lh", "add hostname to log messages"),
    ("-v", "verbose text dump of data traffic"),
    ("-x", "verbose hexadecimal dump of data traffic"),
    ("-r <file>", "raw dump of data flowing from left to right"),
    ("-R <file>", "raw dump of data flowing from right to left"),
    ("-b<size_t>", "set data buffer size (8192)"),
    ("-s", "sloppy (continue on error)"),
    ("-S<sigmask>", "log these signals, override default"),
    ("-t<timeout>", "wait seconds before closing second channel"),
    ("-T<timeout>", "total inactivity timeout in seconds"),
    ("-u", "unidirectional mode (left to right)"),
    ("-U", "unidirectional mode (right to left)"),
    ("-g", "do not check option groups"),
    ("-L <lockfile>", "try to obtain lock, or fail"),
    ("-W <lockfile>", "try to obtain lock, or wait"),
    ("-0", "do not prefer an IP version"),
    ("-4", "prefer IPv4 if version is not explicitly specified"),
    ("-6", "prefer IPv6 if version is not explicitly specified"),
)


def flag_row(flag: str, text: str, column: int | None = None) -> str:
    """`      -V     text`: socat gives a plain flag 7 columns, one with a value (and every -l) 15."""
    column = column or (7 if len(flag) < 7 and not flag.startswith("-l") else 15)
    return f"      {flag:<{column - 1}} {text}"


def _tab_to(text: str, column: int) -> str:
    """Pads with tabs to `column` (at least one tab), as socat's help does."""
    width = len(text.expandtabs())
    tabs = 1
    while (width // 8 + tabs) * 8 < column:
        tabs += 1
    return text + "\t" * tabs


def _address_lines(with_aliases: bool) -> list[str]:
    load_families()
    lines: list[tuple[str, str]] = []
    for record in ALL_ADDRESSES:
        usage = record.usage
        groups = ",".join(g.value for g in sorted(record.groups, key=_group_order))
        lines.append((record.name, _tab_to(f"      {usage}", 48) + f"groups={groups}"))
        if with_aliases:
            for alias in record.names[1:]:
                lines.append((alias, _tab_to(f"      {alias}", 48) + f"is an alias name for {record.name}"))
    seen: set[str] = set()
    out = []
    for key, line in sorted(lines, key=lambda item: (item[0].upper(), item[1])):
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


GROUP_ORDER = ("FD", "FIFO", "CHR", "BLK", "REG", "SOCKET", "NAMED", "OPEN", "EXEC", "FORK", "LISTEN", "SHELL",
               "CHILD", "RETRY", "TERMIOS", "RANGE", "PTY", "PARENT", "UNIX", "IP4", "IP6", "INTERFACE", "UDP",
               "TCP", "SOCKS4", "HTTP", "SCTP", "READLINE", "APPL", "PROCESS")


def _group_order(group: object) -> int:
    value = getattr(group, "value", str(group))
    return GROUP_ORDER.index(value) if value in GROUP_ORDER else len(GROUP_ORDER)


def _option_line(opt: Option) -> str:
    groups = ",".join(g.value for g in sorted(opt.groups, key=_group_order))
    line = _tab_to(f"      {opt.name}", 24) + f"groups={groups}"
    line = _tab_to(line, 48) + f"phase={opt.phase}"
    return _tab_to(line, 64) + f"type={opt.vtype.socat_name}"


def _option_lines(level: int) -> list[str]:
    entries: list[tuple[str, str]] = []
    if level >= 3:
        for name, opt in all_option_names().items():
            if name == opt.name:
                entries.append((name, _option_line(opt)))
            else:
                entries.append((name, _tab_to(f"      {name}", 24) + f"is an alias for {opt.name}"))
    else:
        entries = [(o.name, _option_line(o)) for o in ALL_OPTIONS if o.common]
    return [line for _, line in sorted(entries)]


def usage(program: str, level: int, brief: bool = False) -> str:
    """The -h text; level 2 adds common option names, level 3 all options and aliases.
    `brief`: the text after a bad option (socat 1.7.4 prints only the options part then)."""
    head = [
        f"{program} by the pysocat developers, after socat by Gerhard Rieger and contributors - see www.dest-unreach.org",
        "Usage:",
        f"{program} [options] <bi-address> <bi-address>",
    ]
    compat = compat_level()
    if compat.help_layout == "1.7":
        from . import help_socat17

        return help_socat17.usage(compat, head, dict(GLOBAL_OPTION_HELP), level, brief)
    out = head + ["   options (general command line options):"]
    for flag, text in GLOBAL_OPTION_HELP:
        out.append(flag_row(flag, text))
    out += [
        "   bi-address:  /* is an address that may act both as data sync and source */",
        "      <single-address>",
        "      <single-address>!!<single-address>",
        "   single-address:",
        "      <address-head>[,<opts>]",
        "   address-head:",
    ]
    out += _address_lines(with_aliases=level >= 3)
    out += [
        "         <num> is a short form for fd:<num>",
        "         <filename> is a short form for gopen:<filename>",
    ]
    if level >= 2:
        out += ["   opts:", "      <opt>{,<opts>}:", "   opt:"]
        out += _option_lines(level)
    return "\n".join(out) + "\n"


def version_text(features: list[tuple[str, bool]]) -> str:
    """-V in socat's layout: line 2 carries the socat version scripts compare against."""
    built = os.path.getmtime(__file__)
    build = time.strftime("%b %d %Y %H:%M:%S", time.localtime(built))
    uname = os.uname()
    credit = f"pysocat {__version__} by the pysocat developers, after socat by Gerhard Rieger and contributors - see www.dest-unreach.org"
    running_on = f"   running on {uname.sysname} version {uname.version}, release {uname.release}, machine {uname.machine}"
    compat = compat_level()
    if compat.version_layout == "1.7":
        from . import help_socat17

        return help_socat17.version_text(compat, credit, built, running_on, features)
    out = [credit, f"socat version {compat.socat_version} on {build}", running_on, "features:"]
    for name, present in features:
        out.append(f"  #define WITH_{name} 1" if present else f"  #undef WITH_{name}")
    out.append("  #define WITH_MSGLEVEL 0 /*debug*/")
    out.append("  #define WITH_DEFAULT_IPV 4")
    return "\n".join(out) + "\n"


def describe_address(record: AddressType) -> dict[str, object]:
    return {"name": record.name, "aliases": list(record.names[1:]), "usage": record.usage, "help": record.help}


def address_list() -> str:
    """`pysocat help`: every address type's form with its line of help, under a heading
    that says how to see one type's options (socat has no such list; -h shows no help)."""
    from .registry import ALL_ADDRESSES, load_families

    load_families()
    records = sorted({r.usage: r for r in ALL_ADDRESSES}.values(), key=lambda r: (r.name, r.usage))
    out = ["address types (pysocat help TYPE shows one type's options):"]
    out += [f"    {record.usage}\n        {record.help}" for record in records]
    return "\n".join(out) + "\n"


def address_help(keyword: str) -> str | None:
    """`pysocat help TYPE`: one address type's forms, parameters and accepted options with
    their help, from the same tables as -hhh (None when the keyword is unknown)."""
    from .registry import lookup_address, options_for

    all_option_names()  # loads the option table that options_for() filters
    records = lookup_address(keyword)
    if not records:
        return None
    out: list[str] = []
    for record in records:
        out.append(f"{record.usage}")
        out.append(f"    {record.help}")
        if len(record.names) > 1:
            out.append(f"    aliases: {', '.join(record.names[1:])}")
        out.append(f"    option groups: {','.join(g.value for g in sorted(record.groups, key=_group_order))}")
    out.append("options:")
    seen: set[str] = set()
    for record in records:
        for opt in sorted(options_for(record), key=lambda o: o.name):
            if opt.name in seen:
                continue
            seen.add(opt.name)
            value = "" if opt.vtype.socat_name in ("CONST", "BOOL") else f"=<{opt.vtype.socat_name.lower()}>"
            aliases = f" (also {', '.join(opt.aliases)})" if opt.aliases else ""
            out.append(f"    {opt.name}{value}{aliases}: {opt.help}")
    return "\n".join(out) + "\n"
