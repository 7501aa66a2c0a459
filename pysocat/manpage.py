"""Renders man/pysocat.1 from the registry, the option table and the prose in manpage.in.

The lists a user looks things up in (global options, address types, address options by
group, intended differences from socat, examples) are generated from the same tables
the program validates with, so the page cannot drift from the code; the prose around
them lives in manpage.in. `python -m pysocat.manpage` rewrites man/pysocat.1 in a
checkout; `--check` only says whether it is stale (a test runs that).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .help import GLOBAL_OPTION_HELP, _group_order
from .options import ALL_OPTIONS, Option, all_option_names
from .registry import ALL_ADDRESSES, AddressType, load_families

SOURCE = Path(__file__).with_name("manpage.in")
CHECKOUT_PAGE = Path(__file__).resolve().parent.parent / "man" / "pysocat.1"

# The EXAMPLES section: (command line, what it does). A test runs every pysocat
# invocation here through `pysocat --explain`, so an example cannot rot.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("pysocat - -",
     "copies standard input to standard output; the smallest relay there is."),
    ("pysocat -u OPEN:/var/log/syslog,ignoreeof STDOUT",
     "follows a growing log file like tail -f: ignoreeof keeps reading after the end."),
    ("pysocat -u STDIN OPEN:out.log,creat,append,perm=0600",
     "appends standard input to out.log, creating it with mode 0600 when missing."),
    ("pysocat - EXEC:'sort -u'",
     "runs sort(1) as a child and relays the terminal to it and back."),
    ("pysocat -d -d - EXEC:'bash -li',pty,stderr,setsid,sigint,sane",
     "gives an interactive shell on a pseudo terminal, with job control and ^C passed on."),
    ("pysocat PTY,link=/tmp/ttyV0,raw,echo=0 PTY,link=/tmp/ttyV1,raw,echo=0",
     "makes a pair of connected virtual serial ports, /tmp/ttyV0 and /tmp/ttyV1."),
    ("pysocat -u -x OPEN:/etc/hostname STDOUT",
     "shows the bytes of a file as a hexadecimal dump on standard error while copying it."),
    ("pysocat READLINE,history=$HOME/.cmd_history EXEC:'sh',pty,ctty",
     "adds line editing and history to a program that has none."),
    ("pysocat -u PIPE:/tmp/fifo STDOUT",
     "creates the named pipe /tmp/fifo when missing and prints what is written into it."),
    ("pysocat OPEN:in.txt,crnl!!STDOUT EXEC:'tr a-z A-Z'",
     "a dual address: reads in.txt (turning CRLF into LF), writes the upper-cased result to stdout."),
)


def escape(text: str) -> str:
    """troff escapes: backslash, a leading dot or quote, and hyphens in option names."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def _groups(groups: frozenset[object]) -> str:
    return ", ".join(getattr(g, "value", str(g)) for g in sorted(groups, key=_group_order))


def global_options() -> str:
    out = []
    for flag, text in GLOBAL_OPTION_HELP:
        out += [".TP", f".B {escape(flag)}", escape(text[0].upper() + text[1:]) + "."]
    return "\n".join(out)


def address_types() -> str:
    load_families()
    out: list[str] = []
    seen: set[str] = set()
    for record in sorted(ALL_ADDRESSES, key=lambda r: (r.name, r.usage)):
        if record.usage in seen:
            continue
        seen.add(record.usage)
        out += [".TP", f".B {escape(record.usage)}"]
        if len(record.usage) > 64:  # wider than a line (SOCKS5-CONNECT): set unadjusted
            out[-2:] = [".TP", ".na", f".B {escape(record.usage)}", ".ad"]
        out.append(escape(record.help[0].upper() + record.help[1:]) + ".")
        aliases = [n for n in record.names[1:]]
        if aliases:
            out += [".br", "Aliases: " + escape(", ".join(aliases)) + "."]
        out += [".br", f"Option groups: {escape(_groups(record.groups))}."]
    return "\n".join(out)


def address_options() -> str:
    load_families()
    all_option_names()  # loads the table
    by_group: dict[str, list[Option]] = {}
    for opt in ALL_OPTIONS:
        first = sorted(opt.groups, key=_group_order)[0]
        by_group.setdefault(getattr(first, "value", str(first)), []).append(opt)
    out: list[str] = []
    for group in sorted(by_group, key=_group_order):
        out += [".SS", f"{group} options"]
        for opt in sorted(by_group[group], key=lambda o: o.name):
            head = f"{opt.name}=<{opt.vtype.socat_name}>" if opt.vtype.socat_name not in ("CONST",) else opt.name
            out += [".TP", f".B {escape(head)}"]
            out.append(escape(opt.help[0].upper() + opt.help[1:]) + ".")
            details = [f"type {opt.vtype.socat_name}", f"groups {_groups(opt.groups)}", f"phase {opt.phase}"]
            aliases = sorted(opt.aliases)
            if aliases:
                details.insert(0, "aliases " + ", ".join(aliases))
            out += [".br", escape("; ".join(details)) + "."]
    return "\n".join(out)


def differences() -> str:
    entries = intended_differences()
    out: list[str] = []
    for name, entry in sorted(entries.items()):
        versions = entry.get("socat", "any")
        scope = "" if versions == "any" else f" (against socat {versions})"
        out += [".TP", f".B {escape(name)}{escape(scope)}", escape(entry["reason"])]
    return "\n".join(out)


def intended_differences() -> dict[str, dict[str, str]]:
    """The one list of intended differences lives with the compat suite (compat/)."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from compat.intended_differences import INTENDED_DIFFERENCES
    except ImportError as err:
        raise SystemExit(f"pysocat.manpage: run from a checkout (compat/ not found: {err})") from None
    return INTENDED_DIFFERENCES


def compat_levels() -> str:
    """One item per field of the compatibility record: what --compat=1.7 changes, and why."""
    from .compat import REASONS

    out: list[str] = []
    for name, reason in REASONS.items():
        if name == "level":
            continue
        text = reason if reason.startswith("socat") else reason[0].upper() + reason[1:]
        out += [".TP", f".B {escape(name.replace('_', ' '))}", escape(text) + "."]
    return "\n".join(out)


def examples() -> str:
    out: list[str] = []
    for command, text in EXAMPLES:
        out += [".TP", f".B {escape(command)}", escape(text[0].upper() + text[1:])]
    return "\n".join(out)


def docstring_section(text: str) -> str:
    """A module's design notes as a man page section: headings underlined with = become
    .SS, text indented four spaces (the byte tables) stays as it is, the rest is filled."""
    out: list[str] = []
    lines = text.strip("\n").splitlines()
    in_table = False
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if set(line.strip()) == {"="}:
            continue
        if following.strip() and set(following.strip()) == {"="}:
            out += [".SS", escape(line.strip())]
            continue
        table_line = line.startswith("    ")
        if table_line and not in_table:
            out += [".PP", ".nf"]
            in_table = True
        elif not table_line and in_table and line.strip():
            out += [".fi"]
            in_table = False
        if not line.strip():
            if not in_table:
                out.append(".PP")
            continue
        text = line[4:] if table_line else line.strip()
        if text.endswith("::"):
            text = text[:-1]
        out.append(escape(text.replace("``", "").replace("`", "")))
    if in_table:
        out.append(".fi")
    return "\n".join(out)


def framing_section() -> str:
    from . import framing

    doc = framing.__doc__ or ""
    return docstring_section(doc[doc.index("Wire formats"):])


def mtu_section() -> str:
    from .net import mtu

    return docstring_section(mtu.__doc__ or "")


def render() -> str:
    from . import __version__

    page = SOURCE.read_text()
    replacements = {
        "@VERSION@": __version__,
        "@GLOBAL_OPTIONS@": global_options(),
        "@ADDRESS_TYPES@": address_types(),
        "@ADDRESS_OPTIONS@": address_options(),
        "@DIFFERENCES@": differences(),
        "@COMPAT_LEVELS@": compat_levels(),
        "@EXAMPLES@": examples(),
        "@FRAMING@": framing_section(),
        "@AUTO_MTU@": mtu_section(),
    }
    for key, value in replacements.items():
        page = page.replace(key, value)
    return page


def emit(text: str, checkout_file: Path, module: str, args: list[str]) -> int:
    """The command line of a generator: no argument rewrites the checkout's file, `-`
    prints, `--check` says whether the file is stale, a path writes there."""
    if args[:1] == ["--check"]:
        current = checkout_file.read_text() if checkout_file.exists() else ""
        if current != text:
            print(f"{checkout_file} is stale: run python -m {module}", file=sys.stderr)
            return 1
        return 0
    if args[:1] == ["-"]:
        sys.stdout.write(text)
        return 0
    target = Path(args[0]) if args else checkout_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    return emit(render(), CHECKOUT_PAGE, "pysocat.manpage", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["render", "main", "EXAMPLES", "AddressType"]
