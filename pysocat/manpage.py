"""Renders man/pysocat.1 from the registry, the option table and the prose in manpage.in.

The lists a user looks things up in (global options, address types, address options by
group, value types, intended differences from socat, compatibility levels, examples, the
wire format and what auto-MTU logs) are generated from the same tables and code the
program runs with, so the page cannot drift from it; the prose around them lives in
manpage.in, and troff.py keeps the result lint-clean. `python -m pysocat.manpage` rewrites man/pysocat.1 in a
checkout; `--check` only says whether it is stale (a test runs that).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .framing import FrameFormat
from .help import GLOBAL_OPTION_HELP, _group_order
from .net.mtu import MtuInputs, Transport, choose_mtu
from .options import ALL_OPTIONS, UNIVERSAL_GROUPS, Option, all_option_names
from .registry import ALL_ADDRESSES, AddressType, load_families
from .troff import bold_tag, docstring_section, escape, inline, sentence, tidy

SOURCE = Path(__file__).with_name("manpage.in")
CHECKOUT_PAGE = Path(__file__).resolve().parent.parent / "man" / "pysocat.1"

# The EXAMPLES section: (command line, what it does), the TUN tunnel first. A test runs
# every pysocat invocation here through `pysocat --explain`, so an example cannot rot; the
# hosts are numeric (192.0.2.0/24 is for documentation), so nothing is looked up.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("pysocat TCP4-LISTEN:5555,reuseaddr,framed TUN:198.18.0.2/24,iff-up",
     "on the far host (192.0.2.2, as root): a TUN interface with address 198.18.0.2 whose "
     "packets travel over the first TCP connection to port 5555, one frame each (see FRAMING); "
     "its MTU is chosen to fit the frames (see AUTO-MTU)."),
    ("pysocat TCP4:192.0.2.2:5555,framed TUN:198.18.0.1/24,iff-up",
     "on the near host: the other end of that tunnel; ping 198.18.0.2 then goes through it. "
     "Both ends need framed (or both framed=wide): without it TCP merges and splits the packets."),
    ("pysocat TCP4:192.0.2.2:5555,framed TUN:198.18.0.1/24,iff-up,tun-offload",
     "the same near end with checksum and segmentation offload: 64 KiB super-packets cross the "
     "stream in one frame each. The far end needs tun-offload too; if it has none, this end warns "
     "and carries plain packets."),
    ("pysocat UDP4:192.0.2.2:5555,bind=:5555 TUN:198.18.0.1/24,iff-up",
     "the tunnel over UDP, as with socat (the far end runs the same with the addresses swapped): one "
     "datagram per packet, the MTU taken from the path MTU so that no datagram is fragmented."),
    ("pysocat - -",
     "copies standard input to standard output; the smallest relay there is."),
    ("pysocat TCP4-LISTEN:8080,fork,reuseaddr TCP4:192.0.2.10:80",
     "forwards every connection to port 8080 to 192.0.2.10 port 80, one child process per connection."),
    ("pysocat - TCP:127.0.0.1:25,crnl",
     "talks to a local mail server from the terminal, sending CRLF line ends as SMTP wants."),
    ("pysocat TCP4-LISTEN:2222,fork,range=127.0.0.0/8 PROXY:127.0.0.1:192.0.2.10:22,proxyport=3128",
     "reaches 192.0.2.10 port 22 through the HTTP proxy on port 3128 (CONNECT), for local clients only."),
    ("pysocat - SOCKS5:127.0.0.1:1080:192.0.2.10:5432,socksuser=me,sockspass=secret",
     "a connection through a SOCKS5 server that asks for a user name and password."),
    ("pysocat OPENSSL-LISTEN:4433,fork,reuseaddr,cert=server.pem,cafile=clients.crt TCP:127.0.0.1:80",
     "a TLS front end for a local web server; each client must show a certificate that clients.crt "
     "trusts (verify=0 lets anybody in)."),
    ("pysocat - OPENSSL:192.0.2.10:4433,cafile=ca.crt,commonname=server.example",
     "a TLS client that checks the server's certificate against ca.crt and its name against server.example."),
    ("pysocat -u UDP4-RECV:5000 OPENSSL:192.0.2.10:4433,cafile=ca.crt,framed",
     "carries UDP datagrams over TLS; framed keeps each datagram whole."),
    ("pysocat ACCEPT-FD:3,fork TCP:127.0.0.1:8080",
     "serves a socket that systemd (or inetd) passes in on descriptor 3, one child per connection."),
    ("pysocat UNIX-LISTEN:/tmp/app.sock,fork,unlink-early TCP:127.0.0.1:8080",
     "makes a local TCP service reachable through a UNIX socket."),
    ("pysocat VSOCK-LISTEN:2222,fork TCP:127.0.0.1:22",
     "inside a virtual machine: lets the host reach the machine's ssh server over vsock "
     "(the host connects with VSOCK-CONNECT:<the machine's CID>:2222)."),
    ("pysocat -u UDP4-RECV:5000 STDOUT,framed",
     "writes every datagram to port 5000 to standard output as a length-prefixed frame."),
    ("pysocat -u -x OPEN:/etc/hostname STDOUT",
     "shows the bytes of a file as a hexadecimal dump on standard error while copying it."),
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
    ("pysocat READLINE,history=$HOME/.cmd_history EXEC:'sh',pty,ctty",
     "adds line editing and history to a program that has none."),
    ("pysocat -u PIPE:/tmp/fifo STDOUT",
     "creates the named pipe /tmp/fifo when missing and prints what is written into it."),
    ("pysocat OPEN:in.txt,crnl!!STDOUT EXEC:'tr a-z A-Z'",
     "a dual address: reads in.txt (turning CRLF into LF), writes the upper-cased result to stdout."),
    ("pysocat --explain TCP4-LISTEN:8080,fork TUN:198.18.0.1/24,iff-up",
     "prints how both addresses are understood and the MTU the TUN would get, as JSON; opens nothing."),
    ("pysocat help TUN",
     "lists the forms of TUN and every option it accepts, with a line of help each."),
)

def _groups(groups: frozenset[object]) -> str:
    return ", ".join(getattr(g, "value", str(g)) for g in sorted(groups, key=_group_order))


def global_options() -> str:
    out = []
    for flag, text in GLOBAL_OPTION_HELP:
        out += bold_tag(flag) + [escape(sentence(text)) + "."]
    return "\n".join(out)


def address_types() -> str:
    load_families()
    out: list[str] = []
    seen: set[str] = set()
    for record in sorted(ALL_ADDRESSES, key=lambda r: (r.name, r.usage)):
        if record.usage in seen:
            continue
        seen.add(record.usage)
        out += bold_tag(record.usage)
        out.append(escape(sentence(record.help)) + ".")
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
        out.append(f".SS {group} options")
        for opt in sorted(by_group[group], key=lambda o: o.name):
            head = f"{opt.name}=<{opt.vtype.socat_name}>" if opt.vtype.socat_name not in ("CONST",) else opt.name
            out += bold_tag(head)
            out.append(escape(sentence(opt.help)) + ".")
            details = [f"type {opt.vtype.socat_name}", f"groups {_groups(opt.groups)}", f"phase {opt.phase}"]
            aliases = sorted(opt.aliases)
            if aliases:
                details.insert(0, "aliases " + ", ".join(aliases))
            out += [".br", escape("; ".join(details)) + "."]
    return "\n".join(out)


def universal_groups() -> str:
    """The groups whose options every address takes (registry: UNIVERSAL_GROUPS)."""
    return " and ".join(sorted(g.value for g in UNIVERSAL_GROUPS))


# DATA VALUES: how a value of each option type is written. A test checks that every type
# the option table uses is here, so a new type cannot go undocumented.
VALUE_TYPES: dict[str, str] = {
    "BOOL": "0 or 1, read as INT (any value but 0 is 1); the option alone, without =, means 1. "
            "As in socat, yes and no are not numbers: `missing numerical value`.",
    "INT": "A number as C's strtoul(3) reads it: decimal, hexadecimal after 0x, octal after a leading 0 "
           "(010 is 8); a sign is allowed. Text after the number is an error (`trailing garbage`). "
           "Written without =value, the option means 1.",
    "UNSIGNED-INT": "Like INT.",
    "SIZE_T": "A byte count, like INT.",
    "UNSIGNED-SHORT": "Like INT, and a value is required; only the low 16 bits are used (a port number).",
    "OFF64": "A file offset or length, like INT, 64 bits wide.",
    "BYTE": "Like INT, and a value is required; only the low 8 bits are used (vintr=3 is ^C).",
    "MODE_T": "Permission bits, always read as octal: 600 and 0600 are the same.",
    "UIDT": "A user: a number when it starts with a digit, otherwise a name looked up with getpwnam(3).",
    "GIDT": "A group: a number when it starts with a digit, otherwise a name looked up with getgrnam(3).",
    "STRUCT-TIMEVAL": "Seconds as a decimal fraction, read with the rules of strtod(3): 0.5, 2, 1e-3.",
    "STRUCT-TIMESPEC": "Seconds, like STRUCT-TIMEVAL.",
    "STRUCT-LINGER": "Seconds close() waits for unsent data (SO_LINGER switched on), like INT.",
    "STRING": "Any text; a value is required. Quoting and escaping as in ADDRESS SPECIFICATIONS.",
    "STRING/NULL": "Text, which may be left out: the option alone is valid (framed, framed=wide).",
    "STRING-NULL": "Like STRING/NULL (tcpwrap alone uses the program name as daemon name).",
    "CONST": "No value: the option is a flag, and option=value is an error (`no value permitted`).",
    "INT/NULL": "Like INT; an empty value (so-reuseaddr=) leaves the system's default alone.",
    "INT:INT:INT": "<level>:<optname>:<value>, three numbers as INT: setsockopt(2) with an int.",
    "INT:INT:BIN": "<level>:<optname>:<data>, two numbers as INT and the value as dalan data (below).",
    "INT:INT:STRING": "<level>:<optname>:<text>, two numbers as INT and the value as text.",
    "BIN": "Bytes in dalan notation (below), e.g. x01000000.",
    "IP4NAME": "An IPv4 address or a host name.",
    "STRUCT-IP_MREQN": "<group>:<interface>: a multicast group address and the interface (its address, "
                       "name or index) to join it on.",
}


def data_values() -> str:
    """One item per value type the option table uses, in the order of VALUE_TYPES."""
    all_option_names()
    used = {opt.vtype.socat_name for opt in ALL_OPTIONS}
    out: list[str] = []
    for name, text in VALUE_TYPES.items():
        if name in used:
            out += bold_tag(name) + [inline(text)]
    return "\n".join(out)


def differences() -> str:
    entries = intended_differences()
    out: list[str] = []
    for name, entry in sorted(entries.items()):
        versions = entry.get("socat", "any")
        scope = "" if versions == "any" else f" (against socat {versions})"
        out += bold_tag(name + scope) + [inline(sentence(entry["reason"]))]
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
        out += bold_tag(name.replace("_", " ")) + [inline(sentence(reason)) + "."]
    return "\n".join(out)


def examples() -> str:
    out: list[str] = []
    for command, text in EXAMPLES:
        out += bold_tag(command) + [escape(sentence(text))]
    return "\n".join(out)


def framing_section() -> str:
    from . import framing

    doc = framing.__doc__ or ""
    return docstring_section(doc[doc.index("Wire formats"):])


def auto_mtu_cases() -> tuple[tuple[str, MtuInputs], ...]:
    """Typical TUN configurations, for the worked examples of AUTO-MTU."""
    udp, framed, stream = Transport.UDP, Transport.FRAMED, Transport.STREAM
    return (
        ("TUN over UDP4, path MTU 1500", MtuInputs(transport=udp, path_mtu=1500, ip_version=4)),
        ("TUN,iff-no-pi over UDP6, path MTU 1500",
         MtuInputs(transport=udp, path_mtu=1500, ip_version=6, packet_info=False)),
        ("TUN over framed TCP, MSS 1448 (a 1500-byte path)", MtuInputs(transport=framed, stream_mss=1448)),
        ("TUN over a framed UNIX stream or EXEC", MtuInputs(transport=framed)),
        ("TUN,iff-no-pi over a framed stream", MtuInputs(transport=framed, packet_info=False)),
        ("TUN,tun-type=tap over a framed stream", MtuInputs(transport=framed, link="tap")),
        ("TUN,tun-offload over framed TCP, MSS 1448 (wide frames once offload is agreed)",
         MtuInputs(transport=framed, offload=True, frame_max=FrameFormat.WIDE.default_max, frame_header=4,
                   stream_mss=1448)),
        ("TUN over an unframed stream (TCP without framed)", MtuInputs(transport=stream)),
        ("TUN,interface-mtu=9000 over UDP4, path MTU 1500",
         MtuInputs(explicit=9000, transport=udp, path_mtu=1500, ip_version=4)),
    )


def auto_mtu_examples() -> str:
    """What pysocat -d -d logs for each case of auto_mtu_cases(), worked out by the policy
    itself (pysocat/net/mtu.py), so the page shows the program's own numbers and words."""
    out: list[str] = []
    for title, inputs in auto_mtu_cases():
        decision = choose_mtu(inputs)
        lines = []
        if decision.warning:
            lines.append(f'W "tun0": {decision.warning}')
        lines.append(f'N "tun0": MTU {decision.effective}: {decision.reason}')
        out += bold_tag(title)
        for index, line in enumerate(lines):
            if index:
                out.append(".br")
            out.append(escape(line))
    return "\n".join(out)


def render() -> str:
    from . import __version__

    page = SOURCE.read_text()
    replacements = {
        "@VERSION@": __version__,
        "@GLOBAL_OPTIONS@": global_options(),
        "@ADDRESS_TYPES@": address_types(),
        "@ADDRESS_OPTIONS@": address_options(),
        "@UNIVERSAL_GROUPS@": universal_groups(),
        "@DATA_VALUES@": data_values(),
        "@DIFFERENCES@": differences(),
        "@COMPAT_LEVELS@": compat_levels(),
        "@EXAMPLES@": examples(),
        "@FRAMING@": framing_section(),
        "@AUTO_MTU_EXAMPLES@": auto_mtu_examples(),
    }
    for key, value in replacements.items():
        page = page.replace(key, value)
    return tidy(page)


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


__all__ = ["render", "main", "EXAMPLES", "VALUE_TYPES", "AddressType", "escape"]
