"""The one list of intended differences between pysocat and the real socat it is compared with.

Each entry: id -> {"reason": why pysocat differs, "socat": which real socat versions the
difference applies to ("any", or a version prefix such as "1.7")}.

A scenario names an entry with `"intended": "<id>"` and gives pysocat's own expected values
in `"pysocat": {...}` (any of "rc", "stdout", "stderr", normalised like the rest). When the
entry applies to the socat being compared with, those fields of pysocat's run are checked
against the scenario's expected values instead of socat's; every other field is still
compared with socat. When it does not apply (e.g. a 1.7-only difference while comparing
with socat 1.8), the scenario is an ordinary comparison.

pysocat follows socat 1.8 where 1.7.4.4 and 1.8 differ (see
/work/shared/reference/socat-behaviour.md), so most entries are "1.7" ones. Every "1.7"
entry but param-count-1.7-quirks (1.7.4.4's crashes and miscounts) can be switched to 1.7's
behaviour with --compat=1.7 or PYSOCAT_COMPAT=1.7 (pysocat/compat.py); the scenarios in
compat/scenarios_compat17.py run pysocat so and must equal socat 1.7.4.4.
"""
from __future__ import annotations

INTENDED_DIFFERENCES: dict[str, dict[str, str]] = {
    "framed": {
        "socat": "any",
        "reason": "the address option framed (pysocat's own) keeps packet boundaries on a stream with a "
                  "length before every packet; socat reports it as an unknown option. A packet address "
                  "relayed to an unframed stream also gets one W line saying the boundaries are lost.",
    },
    "auto-mtu": {
        "socat": "any",
        "reason": "a TUN created without interface-mtu takes its MTU from its transport (the UDP path MTU "
                  "minus headers, or the largest framed packet); socat leaves the kernel's 1500. Over an "
                  "unframed stream pysocat does as socat. A TUN read is never cut at -b.",
    },
    "help-subcommand": {
        "socat": "any",
        "reason": "`pysocat help TYPE` prints one address type's forms and accepted options with their "
                  "help (from the same tables as -hhh), `pysocat help` every type with its line of help; "
                  "socat reports the unknown address \"help\" (or that 2 addresses are required) and "
                  "exits 1.",
    },
    "compat-option": {
        "socat": "any",
        "reason": "--compat=1.7 and --compat=1.8 (pysocat's own) choose which socat pysocat behaves as "
                  "(also PYSOCAT_COMPAT); socat rejects the option: `E unknown option \"--compat=1.8\"`.",
    },
    "tun-offload": {
        "socat": "any",
        "reason": "the TUN option tun-offload (pysocat's own) opens the device with IFF_VNET_HDR and "
                  "TUNSETOFFLOAD and carries checksum and segmentation offload over a framed stream, after "
                  "a handshake (FRAMING in pysocat(1)); socat reports it as an unknown option. It needs a "
                  "TUN device, so no scenario here runs it; tests/tun does.",
    },
    "program-name": {
        "socat": "any",
        "reason": "pysocat names itself pysocat in diagnostics, and socat only when invoked through a "
                  "link named socat. The runner always runs pysocat through such a link, so no "
                  "scenario needs this entry; it is listed so the difference is on record.",
    },
    "unterminated-single-quote": {
        "socat": "any",
        "reason": "socat's lexer does not detect an unterminated single quote and reads past the end "
                  "of the argument into the next argv string (running e.g. `echo unterm-`); pysocat "
                  "reports it like an unterminated double quote: E unexpected end of address, exit 1.",
    },
    "default-level-shows-W": {
        "socat": "1.7",
        "reason": "socat 1.8: without -d, F, E and W messages are shown (1.7.4: only F and E); -d "
                  "alone therefore adds nothing in 1.8 and -d -d adds notices.",
    },
    "d-digit-levels": {
        "socat": "1.7",
        "reason": "-d0 .. -d4 set the level directly in socat 1.8 (0: F+E ... 4: all); 1.7.4 does not "
                  "know them, prints the usage to stderr and exits 1.",
    },
    "bad-d-digit-continues": {
        "socat": "1.7",
        "reason": "socat 1.8 prints the usage text for a bad -d digit (-d5) and then carries on, exit "
                  "status from the transfer; 1.7.4 prints the usage and exits 1.",
    },
    "usage-text-1.8": {
        "socat": "1.7",
        "reason": "the usage text (-h, and on stderr after -Vx / a bad -d digit) follows socat 1.8's "
                  "layout and option list (-d0..4, --experimental, --statistics, -S, -0).",
    },
    "version-text": {
        "socat": "any",
        "reason": "-V names pysocat and its own feature list (1.8 layout: WITH_HELP, WITH_STATS, ...); "
                  "line 2 claims socat 1.8.0.1 for socat's test.sh.",
    },
    "param-count-usage-tail": {
        "socat": "1.7",
        "reason": "socat 1.8 appends `: usage: <syntax>` to `wrong number of parameters` errors "
                  "(1.8: `E EXEC: wrong number of parameters (2 instead of 1): usage: "
                  "EXEC:<command-line>`).",
    },
    "param-count-1.7-quirks": {
        "socat": "1.7",
        "reason": "socat 1.7.4.4 mishandles a missing or extra parameter: FD, EXEC crash with SIGSEGV "
                  "(rc 139), SYSTEM with no parameter exits 0, OPEN/CREATE say `(1 instead of 1)`, "
                  "FD:1:2 names the keyword `FD:1`. pysocat gives socat 1.8's message: `E <KW>: wrong "
                  "number of parameters (N instead of M): usage: <syntax>`, exit 1.",
    },
    "options-1.8": {
        "socat": "1.7",
        "reason": "options new in socat 1.8 (or newly allowed for an address type there): chdir (cd), "
                  "umask for EXEC/SYSTEM (PROCESS group), f-setpipe-sz, unix-bind-tempname (bind-tempname), "
                  "sctp-nodelay/sctp-maxseg (absent from Debian's 1.7.4.4 build); 1.7.4 rejects them.",
    },
    "exec-child-status-warning": {
        "socat": "1.7",
        "reason": "socat 1.8: an EXEC/SYSTEM child that exits non-zero gives `W waitpid(): child N "
                  "exited with status S` and exit status 1 at the end; 1.7.4 logs E and exits at once "
                  "(or, when the child's EOF was seen first, nothing at all and exit 0).",
    },
    "inactivity-timeout-zero": {
        "socat": "1.7",
        "reason": "-T 0 is a timeout of 0 seconds since socat 1.8.0.1 (the transfer ends at once) and a "
                  "negative -T means none; in 1.7.4 -T 0 means no timeout and a negative one makes poll() "
                  "fail (`E xiopoll(...): Invalid argument`, exit 1).",
    },
    "read-reset-error": {
        "socat": "1.7",
        "reason": "socat 1.8: EPIPE/ECONNRESET on read is `E read(...): Connection reset by peer`, exit 1 "
                  "(ipfs/kubo#10683 added -s for it); 1.7.4: a W line, `N socket 2 to socket 1 is in error`, "
                  "the direction ends as at EOF, exit 0.",
    },
    "statistics-option": {
        "socat": "1.7",
        "reason": "--statistics is new in socat 1.8 (`W statistics are experimental`, then I "
                  "STATISTICS lines at exit); 1.7.4: `E unknown option \"--statistics\"`. Likewise SIGUSR1 "
                  "logs the statistics in 1.8 and ends socat 1.7.4 (status 138).",
    },
    "experimental-option": {
        "socat": "1.7",
        "reason": "--experimental is new in socat 1.8; 1.7.4: `E unknown option \"--experimental\"`.",
    },
    "new-global-flags-1.8": {
        "socat": "1.7",
        "reason": "-0 (no IP version preference) and -S<sigmask> are new in socat 1.8; 1.7.4 rejects "
                  "them as unknown options.",
    },
    "explain-option": {
        "socat": "any",
        "reason": "--explain is a pysocat extension (parse and validate the addresses, print JSON, "
                  "open nothing); socat rejects it as an unknown option.",
    },
    "address-types-1.8": {
        "socat": "1.7",
        "reason": "SOCKETPAIR, SHELL and ACCEPT-FD (ACCEPT) are new address types in socat 1.8; 1.7.4 says "
                  "`E unknown device/address`. (Scenarios that need them working are skipped under 1.7.)",
    },
    "libwrap-daemon-name": {
        "socat": "any",
        "reason": "tcpwrap without a value passes libwrap the program name as daemon name, as socat does; "
                  "pysocat's program name is pysocat (socat when invoked through a link named socat, or the "
                  "-lp value), so hosts.allow lines written for `socat:` match pysocat only with tcpwrap=socat, "
                  "-lp socat or the socat link. libwrap itself is real (ctypes on libwrap.so.0, loaded only when "
                  "an address has a tcpwrap option; -V says #define WITH_LIBWRAP 1 only where it loads; where it "
                  "does not, such an address fails at open: `E option \"tcpwrappers\": libwrap (tcp wrappers) is "
                  "not available: <reason>`).",
    },
    "env-socat-prefix-always": {
        "socat": "any",
        "reason": "children always get SOCAT_PID/SOCAT_PPID/SOCAT_VERSION (scripts expect them, and pysocat's "
                  "own name is pysocat), plus the <PROGNAME>_* set when the name differs (-lp); socat sets only "
                  "the upper-cased program name's set (pysocat/opening.py base_environment).",
    },
    "readline-available": {
        "socat": "any",
        "reason": "Debian's socat is built without READLINE (`E unknown device/address \"READLINE\"`); "
                  "pysocat has it, as upstream builds do.",
    },
    "interface-options-1.8": {
        "socat": "1.7",
        "reason": "INTERFACE takes the INTERFACE option group (iff-*, interface-mtu) as in socat 1.8 "
                  "(xio-interface.c: GROUP_FD|GROUP_SOCKET|GROUP_INTERFACE); 1.7.4.4 accepts FD and SOCKET "
                  "options only (`option \"iff-promisc\" not supported with this address type`).",
    },
    "dalan-unparsable-text": {
        "socat": "1.7",
        "reason": "dalan data (generic socket addresses, their bind= and range=, setsockopt-bin) with text its "
                  "current type cannot read (`SOCKET-CONNECT:2:6:127.0.0.1`, `x01 zz`): socat 1.7.4.4 loops on it "
                  "(it hangs, dies of SIGSEGV or passes hundreds of zero bytes); pysocat reports `syntax error in "
                  "\"...\"` (`parseopts_table(): problem with \"...\" data` for setsockopt-bin), as socat 1.8's "
                  "dalan() does (\"Nothing was parsed\").",
    },
    "proxy-param-count": {
        "socat": "1.7",
        "reason": "PROXY, SOCKS4 and SOCKS4A with a wrong parameter count: socat 1.7.4.4's openers say "
                  "`PROXY: 3 parameters required`; pysocat gives socat 1.8's count error with the usage, as for "
                  "every other address (`PROXY: wrong number of parameters (2 instead of 3): usage: "
                  "PROXY:<proxy-server>:<host>:<port>`). --compat=1.7 gives 1.7.4.4's words.",
    },
    "socks5-1.8": {
        "socat": "1.7",
        "reason": "SOCKS5-CONNECT (SOCKS5) and SOCKS5-LISTEN (SOCKS5-BIND) are socat 1.8 address types; "
                  "1.7.4.4 says `E unknown device/address`. pysocat follows socat 1.8.1: the SOCKS server port "
                  "may be left out (socksport=, default 1080), sockspass= authenticates (RFC 1929), and "
                  "--experimental is not required (socat 1.8.0.1 requires it; pysocat accepts it).",
    },
    "proxy-options-1.8": {
        "socat": "1.7",
        "reason": "http-version (PROXY, socat 1.8) and sockspass (SOCKS, socat 1.8.1) are unknown options to "
                  "socat 1.7.4.4 (`E parseopts_table(): unknown option`); pysocat takes them.",
    },
    "openssl-method": {
        "socat": "any",
        "reason": "the OPENSSL option method (openssl-method: SSL3, SSL23, TLS1, TLS1.1, TLS1.2 with socat's "
                  "mapping to one fixed protocol version) is accepted; socat knows it only when built with "
                  "--enable-openssl-method (Debian's 1.7.4.4 is not: unknown option). --compat=1.7 refuses it.",
    },
    "openssl-sni-ip": {
        "socat": "any",
        "reason": "an OPENSSL client that names its server by IP address sends no SNI (Python's ssl never "
                  "sends an IP address there, as RFC 6066 forbids); socat 1.7.4.4 sends the address text. "
                  "snihost=<name> sends a name.",
    },
    "openssl-proto-version-aliases": {
        "socat": "1.7",
        "reason": "min-proto-version and max-proto-version, the names socat's manual gives, are aliases of "
                  "openssl-min-proto-version and openssl-max-proto-version; socat 1.7.4.4 knows only "
                  "min-version and max-version besides the long names.",
    },
}


def applies(difference_id: str, socat_version: str) -> bool:
    """Whether an intended difference applies when comparing with this socat version."""
    entry = INTENDED_DIFFERENCES[difference_id]
    wanted = entry["socat"]
    return wanted == "any" or socat_version == wanted or socat_version.startswith(wanted + ".")
