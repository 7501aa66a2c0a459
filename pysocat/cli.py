"""The command line: socat's global options and quirks, --explain, opening, the relay,
signals and exit codes. The only place where a SocatError becomes a log line and an exit
status; nothing below prints.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable

from .record import dataclass, field

from . import children, compat
from .errors import SocatError
from .log import LEVELS, LOG

FLAG_OPTIONS = {"-D", "-v", "-x", "-s", "-u", "-U", "-g", "-4", "-6", "-0"}
LONG_FLAGS = {"--experimental", "--statistics", "--explain"}
# the global options whose value may be the next argument (-b 512, -lf file)
VALUE_FLAGS = {"-b", "-t", "-T", "-r", "-R", "-L", "-W", "-S", "-lf", "-lp"}


class UsageExit(Exception):
    """Print the usage text to stderr and exit with `code` (socat's reaction to -V2, -d5)."""

    def __init__(self, code: int) -> None:
        self.code = code


class SignalExit(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


@dataclass
class Settings:
    debug_level: int = LEVELS.index("W")
    bufsize: int = 8192
    bufsize_given: bool = False  # -b was on the command line (auto-MTU warns when it is too small)
    close_timeout: float = 0.5
    inactivity_timeout: float | None = None
    direction: str = "both"
    verbose: bool = False
    hexdump: bool = False
    raw_left: str | None = None
    raw_right: str | None = None
    sloppy: bool = False
    check_groups: bool = True
    lock_fail: str | None = None
    lock_wait: str | None = None
    statistics: bool = False
    explain: bool = False
    experimental: bool = False
    analyze_fds: bool = False
    ip_preference: str = "4"
    signal_mask: int | None = None
    help_level: int = 0
    version: bool = False
    addresses: list[str] = field(default_factory=list)


def program_name(argv0: str) -> str:
    """Invoked through a link named socat, diagnostics say socat, so scripts keep matching."""
    name = os.path.basename(argv0)
    return "socat" if name == "socat" else "pysocat"


ULONG_MAX = 2 ** 64 - 1
SSIZE_MAX = 2 ** 63 - 1  # the largest -b socat takes (a read cannot return more)


def _numeric(flag: str, text: str) -> int:
    from .options import strtoul

    value, rest = strtoul(text, 0)
    if rest == text:
        raise SocatError(f'parseopts(): missing numerical value of option "{flag}"')
    if rest:
        raise SocatError(f'parseopts(): trailing garbage in numerical arg of option "{flag}"')
    return value


def _seconds(flag: str, text: str) -> float:
    from .options import strtod

    value, rest = strtod(text)
    if rest == text:
        raise SocatError(f'parseopts(): missing numerical value of option "{flag}"')
    if rest:
        raise SocatError(f'parseopts(): trailing garbage in numerical arg of option "{flag}"')
    return value


def _ends_options(arg: str) -> bool:
    """An address ("-", "-!!…", "-,opts" and "-:…" are STDIO), or -h/-V, after which socat
    looks at nothing more."""
    return not arg.startswith("-") or arg[1:2] in ("", "!", ",", ":") or arg[:2] in ("-h", "-?", "-V")


def compat_argument(args: list[str]) -> str | None:
    """The value of the last --compat=<level> among the global options. It is looked for
    before the other options are parsed, because the level decides how they are parsed
    (-d0 and -S exist in 1.8 only), wherever --compat stands."""
    value = None
    i = 0
    while i < len(args) and not _ends_options(args[i]):
        arg = args[i]
        if arg.startswith(compat.OPTION + "="):
            value = arg[len(compat.OPTION) + 1:]
        elif arg in VALUE_FLAGS:
            i += 1  # its value is the next argument
        i += 1
    return value


def _inactivity_timeout(seconds: float, level: compat.Compat) -> float | None:
    """-T: None for no timeout. 1.8: <0 is none, 0 is zero seconds; 1.7.4: 0 is none and
    <0 is kept (it fails when the transfer starts, see negative_timeout_fails)."""
    if seconds < 0:
        return seconds if level.negative_timeout_fails else None
    if seconds == 0 and level.zero_timeout_disables:
        return None
    return seconds


def parse_arguments(args: list[str]) -> Settings:
    """socat's main() option loop: options until the first argument that is not one. The
    compatibility level (--compat=<level>, else PYSOCAT_COMPAT) is chosen first."""
    level = compat.select(compat.choose(compat_argument(args)))
    settings = Settings(debug_level=LEVELS.index(level.default_log_level))
    i = 0
    d_count = 0

    def value_of(arg: str, flag: str) -> str:
        """The value attached (-b512) or the next argument (-b 512); socat: "requires an argument"."""
        nonlocal i
        if len(arg) > len(flag):
            return arg[len(flag):]
        if i + 1 >= len(args):
            raise SocatError(f'option {flag} requires an argument; use option "-h" for help')
        i += 1
        return args[i]

    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or arg[1:2] in ("", "!", ",", ":"):
            break  # "-", "-!!…", "-,opts" and "-:…" are STDIO addresses, as in socat
        if not level.knows_global_option(arg):
            raise SocatError(f'unknown option "{arg}"; use option "-h" for help')
        if arg.startswith(compat.OPTION + "="):
            pass  # chosen before the loop (compat_argument)
        elif arg == compat.OPTION:
            raise SocatError(f'option {arg} requires a value ({arg}=1.7 or {arg}=1.8); use option "-h" for help')
        elif arg in LONG_FLAGS:
            setattr(settings, arg[2:], True)
        elif arg.startswith("--"):
            raise SocatError(f'unknown option "{arg}"; use option "-h" for help')
        elif arg[:2] in ("-h", "-?"):
            # socat prints the help at once and exits: nothing after -h is looked at
            if arg[1:] in ("h", "hh", "hhh", "?", "??", "???"):
                settings.help_level = len(arg) - 1
            else:
                settings.help_level = 1
            return settings
        elif arg[:2] == "-V":
            if len(arg) > 2:
                raise UsageExit(1)
            settings.version = True
            return settings  # like -h: socat prints the version at once
        elif arg[:2] == "-d":
            rest = arg[2:]
            if rest == "" or set(rest) == {"d"}:
                # every d lowers the level by one from E: -d = W, -d -d = N (1.8 and 1.7 alike;
                # only the level without -d differs)
                d_count += len(arg) - 1
                settings.debug_level = max(0, LEVELS.index("E") - d_count)
            elif rest in ("0", "1", "2", "3", "4") and level.d_digit_levels:
                settings.debug_level = LEVELS.index("E") - int(rest)
            elif level.bad_d_digit_exits:
                raise UsageExit(1)  # socat 1.7.4: usage on stderr, exit 1
            else:
                sys.stderr.write(_usage_text(1, brief=True))  # socat 1.8 prints usage and carries on
        elif arg[:2] == "-l":
            kind = arg[2:3]
            if kind == "f":
                path = value_of(arg, "-lf")
                LOG.stream = open(path, "a", buffering=1)
            elif kind in ("y", "m"):
                LOG.syslog_facility = arg[3:] or "daemon"
                LOG.mixed = kind == "m"
            elif kind == "s":
                LOG.stream = sys.stderr
            elif kind == "p":
                LOG.program = value_of(arg, "-lp")
            elif kind == "u":
                LOG.microseconds = True
            elif kind == "h":
                import socket

                LOG.hostname = socket.gethostname().split(".")[0]
            else:
                raise SocatError(f'unknown log option "{arg}"; use option "-h" for help')
        elif arg[:2] in ("-b", "-t", "-T", "-r", "-R", "-L", "-W", "-S"):
            flag = arg[:2]
            text = value_of(arg, flag)
            if flag == "-b":
                settings.bufsize = min(_numeric(flag, text), ULONG_MAX)  # strtoul() saturates
                if settings.bufsize > SSIZE_MAX:
                    raise SocatError(f"buffer size option (-b) to big - {settings.bufsize} (max is {SSIZE_MAX})")
                settings.bufsize_given = True
            elif flag == "-t":
                settings.close_timeout = _seconds(flag, text)
            elif flag == "-T":
                settings.inactivity_timeout = _inactivity_timeout(_seconds(flag, text), level)
            elif flag == "-r":
                settings.raw_left = text
            elif flag == "-R":
                settings.raw_right = text
            elif flag == "-S":
                settings.signal_mask = _numeric(flag, text)
            else:
                if settings.lock_fail or settings.lock_wait:
                    raise SocatError("only one -L and -W option allowed")
                if flag == "-L":
                    settings.lock_fail = text
                else:
                    settings.lock_wait = text
        elif arg[:2] in FLAG_OPTIONS:
            if len(arg) > 2:
                raise SocatError(
                    f'Do not merge single character options, i.e. use "{arg[:2]} -{arg[2]}" instead of "{arg}"',
                    level="plain",
                )
            flag = arg[1]
            if flag == "D":
                settings.analyze_fds = True
            elif flag == "v":
                settings.verbose = True
            elif flag == "x":
                settings.hexdump = True
            elif flag == "s":
                settings.sloppy = True
            elif flag in "uU":
                wanted = "left-to-right" if flag == "u" else "right-to-left"
                if settings.direction not in ("both", wanted):
                    raise SocatError("-U and -u must not be combined")
                settings.direction = wanted
            elif flag == "g":
                settings.check_groups = False
            else:
                settings.ip_preference = flag
                # socat 1.8 keeps the preference where resolvers (and children) find it
                os.environ["SOCAT_PREFERRED_RESOLVE_IP"] = flag
                if flag in "46":
                    os.environ["SOCAT_DEFAULT_LISTEN_IP"] = flag  # -4/-6 win over the variable
        else:
            raise SocatError(f'unknown option "{arg}"; use option "-h" for help')
        i += 1
    settings.addresses = args[i:]
    return settings


def _usage_text(level: int, brief: bool = False) -> str:
    from .help import usage

    return usage(LOG.program, level, brief)


def _signal_handler(signum: int, _frame: object) -> None:
    from . import children  # imported already (the handlers' installer did): nothing to load here

    if signum in children.forwarded_signals:
        children.forward_signal(signum)
        return
    raise SignalExit(signum)


def _install_signal_handlers(statistics: list[object]) -> None:
    from . import children

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, _signal_handler)
    signal.signal(signal.SIGCHLD, children.on_sigchld)

    def report(_signum: int, _frame: object) -> None:
        for stats in statistics:
            for line in stats.lines():  # type: ignore[attr-defined]
                LOG.always("I", line)

    if compat.current().sigusr1_statistics:
        signal.signal(signal.SIGUSR1, report)


def _take_lock(settings: Settings) -> str | None:
    path = settings.lock_fail or settings.lock_wait
    if not path:
        return None
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if settings.lock_fail:
                raise SocatError(f'could not obtain lock "{path}"') from None
            time.sleep(1.0)
            continue
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        return path


def _require_two_addresses(settings: Settings) -> None:
    if len(settings.addresses) != 2:
        raise SocatError(f'exactly 2 addresses required (there are {len(settings.addresses)}); use option "-h" for help')


def explain(settings: Settings) -> int:
    import json

    from .quickparse import parse_address
    from .registry import resolve

    _require_two_addresses(settings)
    from .pairing import explain_pair

    tree = []
    resolved_addresses = []
    for text in settings.addresses:
        spec = parse_address(text)
        resolved = resolve(spec, settings.check_groups)
        resolved_addresses.append(resolved)
        tree.append({"text": text, "spec": spec.to_json(), "resolved": resolved.to_json()})
    report = {"addresses": tree, "unidirectional": settings.direction, "bufsize": settings.bufsize,
              "pair": explain_pair(resolved_addresses)}
    try:
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `pysocat --explain ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _names_nofork(text: str) -> bool:
    """Whether an address asks for nofork, which decides how the first one is opened; a
    text that does not parse is not nofork (its error comes when it is opened)."""
    from . import option_table as O
    from .options import lookup_option
    from .quickparse import parse_address
    from .spec import AddressSpec

    if "nofork" not in text.lower():
        return False
    try:
        spec = parse_address(text)
    except SocatError:
        return False
    return isinstance(spec, AddressSpec) and any(lookup_option(o.name) is O.NOFORK for o in spec.options)


def _resolved_ahead(resolve_second: Callable[[], object]) -> object | None:
    """The second address resolved before the first is opened, or None if that fails (the
    error is then found again, and reported, at socat's time: after the first is open).
    Resolving logs nothing, so only the time changes: a forking listener hands every
    child the finished result and the modules it needed, instead of each child parsing
    the address (and importing its family, or the grammar) again."""
    try:
        return resolve_second()
    except Exception:  # noqa: BLE001 - whatever it is, it recurs when resolved at its time
        return None


def run(settings: Settings) -> int:
    from . import children
    from .quickparse import parse_address
    from .opening import open_resolved
    from .registry import resolve
    from .transfer.engine import Relay, RelaySettings
    from .pairing import pair
    from . import option_table as O

    _require_two_addresses(settings)

    def resolved(index: int) -> object:
        """socat parses an address just before opening it: the first address is open (a
        file created, its notices logged) before an error in the second is found."""
        return resolve(parse_address(settings.addresses[index]), settings.check_groups, settings.sloppy)

    env_pid = str(os.getpid())
    os.environ.setdefault("SOCAT_PPID", env_pid)
    os.environ["SOCAT_PID"] = env_pid
    LOG.debug(f'setenv("SOCAT_PID", "{env_pid}", 1)')
    LOG.debug(f'setenv("SOCAT_PPID", "{os.environ["SOCAT_PPID"]}", 1)')
    lock = _take_lock(settings)
    statistics: list[object] = []
    _install_signal_handlers(statistics)
    endpoints = []
    # socat 1.7.4: a child that fails while the addresses are open ends the run at once
    children.on_failure = "exit" if compat.current().child_failure_exits else "warn"
    try:
        readable = [settings.direction != "right-to-left", settings.direction != "left-to-right"]
        writable = [settings.direction != "left-to-right", settings.direction != "right-to-left"]
        from .registry import ResolvedAddress

        second = resolved(1) if _names_nofork(settings.addresses[1]) else _resolved_ahead(lambda: resolved(1))
        if isinstance(second, ResolvedAddress) and second.options.flag(O.NOFORK):
            from .addresses.exec import exec_in_place
            from .addresses.common import OpenContext

            first = open_resolved(resolved(0), readable[0], writable[0], LOG.program)
            endpoints.append(first)
            return exec_in_place(second, OpenContext(environment={}), first)
        resolved_addresses = []
        for index in range(2):
            try:
                resolved_addresses.append(second if index == 1 and second is not None else resolved(index))
                endpoints.append(open_resolved(resolved_addresses[-1], readable[index], writable[index], LOG.program))
            except SocatError as err:
                if not settings.sloppy:
                    raise
                # -s: the error does not exit at once; socat() then returns -1 and main() exits
                # with it (status 255, "N exiting with status -1")
                if err.preamble:
                    sys.stderr.write(err.preamble + "\n")
                    sys.stderr.flush()
                LOG.log(err.level, err.text)
                return -1
        endpoints[:] = pair(endpoints, resolved_addresses, settings.bufsize if settings.bufsize_given else None,
                            settings.direction)
        relay_settings = RelaySettings(
            bufsize=settings.bufsize, direction=settings.direction, close_timeout=settings.close_timeout,
            inactivity_timeout=settings.inactivity_timeout, verbose=settings.verbose, hexdump=settings.hexdump,
            raw_left=settings.raw_left, raw_right=settings.raw_right,
            read_reset_ends_direction=compat.current().read_reset_ends_direction,
        )
        if settings.analyze_fds:
            from .filan import analyze

            fds = [fd for ep in endpoints for fd in (ep.read_fd, ep.write_fd) if fd is not None]
            sys.stderr.write(analyze(fds))
        engine = Relay(endpoints[0], endpoints[1], relay_settings)
        statistics.append(engine.stats)
        try:
            engine.run()
        finally:
            if settings.statistics:
                for line in engine.stats.lines():
                    LOG.always("I", line)
    finally:
        if children.on_failure == "exit":
            children.on_failure = "ignore"  # socat 1.7.4 says nothing of a child that fails now
        for endpoint in endpoints:
            endpoint.close()
        children.reap()
        if lock:
            try:
                os.unlink(lock)
            except OSError:
                pass
    return 1 if (LOG.errors and not settings.sloppy) or children.failed_children else 0


# socat_signal()'s level for "exiting on signal N" (verified with socat 1.7.4.4 -d -d)
SIGNAL_EXIT_LEVELS = {signal.SIGINT: "N", signal.SIGHUP: "N", signal.SIGTERM: "W"}


def _log_signal_exit(signum: int, status: int) -> None:
    """socat's lines for a fatal signal: SIGTERM is W, SIGINT and SIGHUP are N; other
    signals (SIGQUIT) are E, whose exit-on-error logs exit() inside the handler, before
    the handler's "finishing" line and the final exit()."""
    level = SIGNAL_EXIT_LEVELS.get(signum, "E")
    LOG.notice(f"socat_signal(): handling signal {signum}")
    LOG.log(level, f"exiting on signal {signum}")
    if level == "E":
        LOG.notice(f"exit({status})")
    LOG.notice(f"socat_signal(): finishing signal {signum}")
    LOG.notice(f"exit({status})")


def main(argv: list[str] | None = None) -> int:
    started_in = os.getpid()
    status = _main(argv)
    if os.getpid() != started_in:
        # a child forked for one connection: its work is done and flushed; skipping the
        # interpreter's teardown makes a forking listener's children end in a fraction
        # of the time (the parent is still there to clean up what it owns)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    return status


def _main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    LOG.program = program_name(argv[0])
    status = 1
    if len(argv) in (2, 3) and argv[1] == "help":  # pysocat's own: `pysocat help [TCP-LISTEN]`
        from .help import address_help, address_list

        text = address_help(argv[2]) if len(argv) == 3 else address_list()
        if text is None:
            LOG.error(f'unknown device/address "{argv[2]}"')
            return 1
        sys.stdout.write(text)
        return 0
    try:
        settings = parse_arguments(argv[1:])
        LOG.min_level = settings.debug_level
        LOG.sloppy = settings.sloppy
        if settings.version:
            from .help import version_text
            from .registry import features

            sys.stdout.write(version_text(features()))
            return 0
        if settings.help_level:
            sys.stdout.write(_usage_text(settings.help_level))
            return 0
        if settings.statistics:
            LOG.warn("statistics are experimental")
        if settings.explain:
            return explain(settings)
        status = run(settings)
    except UsageExit as exc:
        sys.stderr.write(_usage_text(1, brief=True))
        return exc.code
    except SocatError as err:
        if err.level == "plain":
            sys.stderr.write(err.text + "\n")
        else:
            if err.preamble:
                sys.stderr.write(err.preamble + "\n")
                sys.stderr.flush()
            LOG.log(err.level, err.text)
        status = err.status
    except children.ChildFailed:
        status = 1  # its E line is logged
    except SignalExit as exc:
        status = 128 + exc.signum
        _log_signal_exit(exc.signum, status)
        return status & 0xFF
    except KeyboardInterrupt:
        _log_signal_exit(signal.SIGINT, 130)
        return 130
    if status in (0, -1):
        LOG.notice(f"exiting with status {status}")
    else:
        LOG.notice(f"exit({status})")
    return status & 0xFF
