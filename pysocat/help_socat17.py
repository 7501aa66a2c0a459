"""-h, -hh, -hhh and -V in socat 1.7.4.4's layout (--compat=1.7).

Scripts written for 1.7 and Debian's copy of socat's test.sh read these texts: test.sh
finds protocols with `socat -h | grep ' udp6-'`, which only 1.7's lower-case keywords
match. The lines have 1.7's shape exactly (one tab between columns, `x is an alias name
for y`, the -hh selection by nickname); what is listed is what pysocat implements, minus
what 1.7 does not know (compat.Compat.unknown_*). Compared line by line with the real
socat 1.7.4.4 in tests/behaviour/test_compat_level.py.
"""
from __future__ import annotations

from .compat import Compat
from .help import flag_row
from .options import Option, all_option_names
from .registry import ALL_ADDRESSES, AddressType, load_families

# socat 1.7.4.4's global options, in its order, with its texts
GLOBAL_OPTIONS_1_7 = (
    ("-V", "print version and feature information to stdout, and exit"),
    ("-h|-?", "print a help text describing command line options and addresses"),
    ("-hh", "like -h, plus a list of all common address option names"),
    ("-hhh", "like -hh, plus a list of all available address option names"),
    ("-d[ddd]", "increase verbosity (use up to 4 times; 2 are recommended)"),
    ("-D", "analyze file descriptors before loop"),
    ("-ly[facility]", "log to syslog, using facility (default is daemon)"),
    ("-lf<logfile>", "log to file"),
    ("-ls", "log to stderr (default if no other log)"),
    ("-lm[facility]", "mixed log mode (stderr during initialization, then syslog)"),
    ("-lp<progname>", "set the program name used for logging"),
    ("-lu", "use microseconds for logging timestamps"),
    ("-lh", "add hostname to log messages"),
    ("-v", "verbose text dump of data traffic"),
    ("-x", "verbose hexadecimal dump of data traffic"),
    ("-r <file>", "raw dump of data flowing from left to right"),
    ("-R <file>", "raw dump of data flowing from right to left"),
    ("-b<size_t>", "set data buffer size (8192)"),
    ("-s", "sloppy (continue on error)"),
    ("-t<timeout>", "wait seconds before closing second channel"),
    ("-T<timeout>", "total inactivity timeout in seconds"),
    ("-u", "unidirectional mode (left to right)"),
    ("-U", "unidirectional mode (right to left)"),
    ("-g", "do not check option groups"),
    ("-L <lockfile>", "try to obtain lock, or fail"),
    ("-W <lockfile>", "try to obtain lock, or wait"),
    ("-4", "prefer IPv4 if version is not explicitly specified"),
    ("-6", "prefer IPv6 if version is not explicitly specified"),
)
# socat 1.7.4.4 pads this one flag a column further than the others
FLAG_COLUMNS_1_7 = {"-d[ddd]": 16}
# pysocat's own global options (texts from help.GLOBAL_OPTION_HELP), listed after -D as
# socat 1.8 lists its long options
PYSOCAT_OWN_FLAGS = ("--explain", "--compat=<level>")
# socat 1.7.4.4's order of option groups (xiohelp.c addressgroupnames)
GROUP_ORDER_1_7 = ("FD", "FIFO", "CHR", "BLK", "REG", "SOCKET", "READLINE", "NAMED", "OPEN", "EXEC", "FORK",
                   "LISTEN", "DEVICE", "CHILD", "RETRY", "TERMIOS", "RANGE", "PTY", "PARENT", "UNIX", "IP4", "IP6",
                   "INTERFACE", "UDP", "TCP", "SOCKS4", "OPENSSL", "PROCESS", "APPL", "HTTP", "SCTP")


def _group_list(names: frozenset[str] | set[str]) -> str:
    order = {name: index for index, name in enumerate(GROUP_ORDER_1_7)}
    return ",".join(sorted(names, key=lambda name: (order.get(name, len(order)), name)))


def _address_groups(compat: Compat, record: AddressType) -> str:
    groups = compat.address_groups.get(record.name) or {getattr(g, "value", str(g)) for g in record.groups}
    return _group_list(set(groups))


def _known_addresses(compat: Compat) -> list[AddressType]:
    load_families()
    return [r for r in ALL_ADDRESSES if compat.knows_address(r.name)]


def _unnamed_variant(record: AddressType) -> bool:
    """PIPE without a name: 1.7 shows it as the bi-address `pipe[,<opts>]`, not as a head."""
    return not record.params and any(
        other.params and other.name == record.name for other in ALL_ADDRESSES if other is not record)


def _bi_address_lines(compat: Compat, level: int) -> list[str]:
    out = []
    for record in _known_addresses(compat):
        if not _unnamed_variant(record):
            continue
        name = record.name.lower()
        out.append(f"      {name}[,<opts>]\tgroups={_address_groups(compat, record)}")
        if level >= 3:
            out += [f"      {alias.lower()} is an alias for {name}" for alias in record.names[1:]
                    if compat.knows_address(alias)]
    return out


def _address_head_lines(compat: Compat, level: int) -> list[str]:
    entries: dict[str, str] = {}
    for record in _known_addresses(compat):
        if _unnamed_variant(record):
            aliases_of = record.name.lower()
        else:
            usage = record.usage
            key = record.name.lower()
            entries.setdefault(key, f"      {key}{usage[len(record.name):].lower()}\tgroups={_address_groups(compat, record)}")
            aliases_of = key
        if level >= 3:
            for alias in record.names[1:]:
                if compat.knows_address(alias):
                    entries.setdefault(alias.lower(), f"         {alias.lower()} is an alias name for {aliases_of}")
    return [entries[key] for key in sorted(entries)]


def option_line(compat: Compat, opt: Option, shown_name: str) -> str:
    """socat 1.7.4.4's xiohelp_option(): name, groups, phase and type, one tab apart."""
    groups = compat.option_groups.get(opt.name) or {getattr(g, "value", str(g)) for g in opt.groups}
    phase, vtype = compat.option_help_attributes.get(opt.name, (opt.phase, opt.vtype.socat_name))
    vtype = compat.option_type_names.get(vtype, vtype)
    return f"      {shown_name}\tgroups={_group_list(set(groups))}\tphase={phase}\ttype={vtype}"


def nickname(compat: Compat, opt: Option, names: list[str]) -> str | None:
    """The name 1.7's -hh lists the option under: its shortest, unless compat names another
    (None: not listed); a nickname pysocat does not accept is never shown."""
    if opt.name in compat.option_nicknames:
        chosen = compat.option_nicknames[opt.name]
        if chosen is None or chosen in names:
            return chosen
    return min(names, key=lambda name: (len(name), name))


def _option_lines(compat: Compat, level: int) -> list[str]:
    names: dict[Option, list[str]] = {}
    for name, opt in all_option_names().items():
        if compat.knows_option(opt.name):
            names.setdefault(opt, []).append(name)
    entries: list[tuple[str, str]] = []
    for opt, all_names in names.items():
        if level >= 3:
            for name in all_names:
                line = option_line(compat, opt, name) if name == opt.name else f"      {name} is an alias for {opt.name}"
                entries.append((name, line))
        else:
            shown = nickname(compat, opt, all_names)
            if shown is not None:
                entries.append((shown, option_line(compat, opt, shown)))
    return [line for _, line in sorted(entries)]


def usage(compat: Compat, head: list[str], own_flags: dict[str, str], level: int, brief: bool) -> str:
    """The help text; `brief` is what 1.7 prints after a bad option: the options part only."""
    out = head + ["   options:"]
    for flag, text in GLOBAL_OPTIONS_1_7:
        out.append(flag_row(flag, text, FLAG_COLUMNS_1_7.get(flag)))
        if flag == "-D":
            out += [flag_row(own, own_flags[own]) for own in PYSOCAT_OWN_FLAGS if own in own_flags]
    if brief:
        return "\n".join(out) + "\n"
    out.append("   bi-address:")
    out += _bi_address_lines(compat, level)
    out += ["      <single-address>!!<single-address>", "      <single-address>", "   single-address:",
            "      <address-head>[,<opts>]", "   address-head:"]
    out += _address_head_lines(compat, level)
    if level >= 3:
        out += ["         <num> is a short form for fd:<num>",
                "         <filename> is a short form for gopen:<filename>"]
    if level >= 2:
        out += ["   opts:", "      <opt>{,<opts>}:", "   opt:"]
        out += _option_lines(compat, level)
    return "\n".join(out) + "\n"


def version_text(compat: Compat, head: str, build_time: float, running_on: str,
                 features: list[tuple[str, bool]]) -> str:
    """-V: line 2 in 1.7.4.4's date format (test.sh reads the version from it), 1.7's
    feature list in its order, each present only where pysocat really has it."""
    import time

    present = dict(features)
    out = [head, f"socat version {compat.socat_version} on "
                 f"{time.strftime('%d %b %Y %H:%M:%S', time.localtime(build_time))}", running_on, "features:"]
    for name in compat.features or tuple(present):
        out.append(f"  #define WITH_{name} 1" if present.get(name) else f"  #undef WITH_{name}")
    out.append("  #define WITH_MSGLEVEL 0 /*debug*/")
    return "\n".join(out) + "\n"
