"""Runs a compat scenario under real socat and under pysocat and compares the results.

    python -m compat.runner [-j N] [-v] [ID_SUBSTRING ...]

Each program runs in its own fresh temporary directory (its cwd, `{tmp}` in argv), with the
same clean environment, umask and stdin, and with a timeout. pysocat runs through a link
named `socat`, so that it names itself socat in its diagnostics as socat does.

Result statuses:
  same      every compared field is equal (for an intended difference that applies:
            pysocat's fields equal the scenario's expected values)
  differs   some field differs; `diff` holds a unified diff (socat first)
  skipped   could not be run here; `reason` says why
A `known_bug` scenario that differs is still "differs"; `Result.known_bug` carries the reason.
"""
from __future__ import annotations

import argparse
import atexit
import difflib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compat.intended_differences import INTENDED_DIFFERENCES, applies  # noqa: E402
from compat.scenarios import DEFAULT_COMPARE, SCENARIOS  # noqa: E402

SOCAT = os.environ.get("COMPAT_SOCAT", "/usr/bin/socat")
DEFAULT_TIMEOUT = 10.0
UNPRIVILEGED = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


# ---------------------------------------------------------------- the two programs

def socat_available() -> bool:
    return os.path.isfile(SOCAT) and os.access(SOCAT, os.X_OK)


@lru_cache(maxsize=None)
def socat_version() -> str:
    """'1.7.4.4' or '1.8.0.1' (line 2 of socat -V), '' when socat is missing."""
    if not socat_available():
        return ""
    out = subprocess.run([SOCAT, "-V"], capture_output=True, timeout=10).stdout.decode(errors="replace")
    match = re.search(r"socat version (\d+(?:\.\d+)+)", out)
    return match.group(1) if match else ""


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


_link_lock = threading.Lock()


@lru_cache(maxsize=None)
def pysocat_as_socat() -> str:
    """A command named `socat` that runs pysocat: a symlink to the installed console script,
    or, without one, a small launcher script (same effect: argv[0] ends in /socat)."""
    with _link_lock:
        directory = tempfile.mkdtemp(prefix="compat-pysocat-")
        atexit.register(shutil.rmtree, directory, True)
        os.chmod(directory, 0o755)  # reachable for the unprivileged scenarios
        link = os.path.join(directory, "socat")
        script = Path(sys.executable).parent / "pysocat"
        venv_script = ROOT / ".venv" / "bin" / "pysocat"
        for candidate in (script, venv_script):
            if candidate.is_file():
                os.symlink(candidate, link)
                return link
        with open(link, "w") as f:
            f.write(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                    "from pysocat.cli import main\nsys.exit(main())\n")
        os.chmod(link, 0o755)
        return link


# ---------------------------------------------------------------- normalisation

_PREFIX = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?"  # timestamp, -lu adds microseconds
    r"(?: \S+)?"                                   # -lh: host name
    r" (\S+)\[\d+\] "                              # program[pid]
)
_SUBSTITUTIONS = [
    # pointers (buffers in read()/write() lines)
    (re.compile(r"0x[0-9a-fA-F]{5,}"), "0xPTR"),
    # process ids
    (re.compile(r"\b(child|process|pid|PID)( ?)\d+"), r"\1\2<pid>"),
    # descriptor numbers: read(5, ...), write(6, ...), close(7), fcntl(8, ...), ...
    (re.compile(r"\b(read|write|close|fcntl|dup2?|ioctl|fstat|fchmod|fchown|shutdown|connect|bind|listen|accept|"
                r"[gs]etsockopt|recv|recvfrom|send|sendto|tc[gs]etattr|lseek(?:64)?|flock|ftruncate(?:64)?|"
                r"fsync|fdatasync|getsockname|getpeername|ttyname|ptsname|grantpt|unlockpt)\((\d+)([,)])"),
     r"\1(<fd>\3"),
    (re.compile(r"\bFDs \[\d+,\d+\] and \[\d+,\d+\]"), "FDs [<fd>,<fd>] and [<fd>,<fd>]"),
    (re.compile(r"\b(fd|FD|descriptor) \d+"), r"\1 <fd>"),
    (re.compile(r"\b(socket|fds?) \[\d+,\s*\d+\]"), r"\1 [<fd>,<fd>]"),
    # pseudo terminals
    (re.compile(r"/dev/pts/\d+"), "/dev/pts/<n>"),
    # -v / -x dump headers: "> 2026/11/25 04:25:19.000769642  length=..."
    (re.compile(r"^([<>]) \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+ "), r"\1 <time> "),
]


def normalise_stderr(stderr: bytes, tmp: str | None = None) -> list[str]:
    """THE normalisation of diagnostics, applied alike to socat's and pysocat's stderr.

    * the temporary directory's path becomes `{tmp}`;
    * a log line's prefix `YYYY/MM/DD HH:MM:SS[.uuuuuu] [host] prog[pid] ` becomes `prog `
      (timestamp, host and pid dropped; the program name is kept, so -lp is compared);
    * pointers `0x55...` become `0xPTR`; pids after child/process/pid become `<pid>`;
      descriptor numbers (first argument of a call, `fd N`, `FDs [a,b] and [c,d]`) become
      `<fd>`; `/dev/pts/N` becomes `/dev/pts/<n>`; -v/-x dump timestamps become `<time>`.
    Lines without a log prefix (usage text, -v dumps, "Do not merge ...") are kept otherwise.
    """
    text = stderr.decode("utf-8", errors="replace")
    if tmp:
        text = text.replace(os.path.realpath(tmp), "{tmp}").replace(tmp, "{tmp}")
    lines = []
    for line in text.splitlines():
        match = _PREFIX.match(line)
        if match:
            line = f"{match.group(1)} {line[match.end():]}"
        for pattern, replacement in _SUBSTITUTIONS:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return lines


# ---------------------------------------------------------------- running one program

@dataclass
class Run:
    rc: int | str  # exit status, or "timeout"
    stdout: bytes
    stderr: list[str]  # normalised
    files: dict[str, str]
    seconds: float


def _substitute(value: str, tmp: str) -> str:
    return value.replace("{tmp}", tmp)


def _setup(tmp: str, setup: dict) -> None:
    for rel, spec in setup.items():
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(spec, (bytes, str)):
            spec = {"data": spec}
        kind = spec.get("type", "file")
        if kind == "file":
            data = spec.get("data", b"")
            with open(path, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        elif kind == "dir":
            os.makedirs(path, exist_ok=True)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink":
            os.symlink(_substitute(spec["target"], tmp), path)
        else:
            raise ValueError(f"unknown setup type {kind!r}")
        if "mode" in spec:
            os.chmod(path, spec["mode"])


def _describe(path: str, how: str) -> str:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    mode = f"{stat.S_IMODE(st.st_mode):04o}"
    if stat.S_ISLNK(st.st_mode):
        return f"symlink{' ' + mode if 'mode' in how else ''}"
    if stat.S_ISFIFO(st.st_mode):
        return f"fifo{' ' + mode if 'mode' in how else ''}"
    if stat.S_ISDIR(st.st_mode):
        return f"dir{' ' + mode if 'mode' in how else ''}"
    if stat.S_ISSOCK(st.st_mode):
        return "socket"
    if how == "exists":
        return "file"
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    return f"file{' ' + mode if 'mode' in how else ''} {data!r}"


def _snapshot(tmp: str, files) -> dict[str, str]:
    """files: a dict path -> "content" | "content+mode" | "exists", or "*" for every entry."""
    if not files:
        return {}
    if files == "*":
        entries = {}
        for dirpath, dirnames, filenames in os.walk(tmp):
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                entries[os.path.relpath(full, tmp)] = _describe(full, "content")
        return dict(sorted(entries.items()))
    return {rel: _describe(os.path.join(tmp, rel), how) for rel, how in files.items()}


def _env(tmp: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
        "HOME": tmp, "SHELL": "/bin/sh", "TERM": "dumb",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: _substitute(v, tmp) for k, v in extra.items()})
    return env


def pysocat_compat(scenario: dict) -> tuple[list[str], dict[str, str]]:
    """A scenario's `compat` level for pysocat: (arguments before its argv, environment
    added to it): PYSOCAT_COMPAT=<level>, or --compat=<level> with `compat_via: "option"`."""
    level = scenario.get("compat")
    if not level:
        return [], {}
    if scenario.get("compat_via") == "option":
        return [f"--compat={level}"], {}
    return [], {"PYSOCAT_COMPAT": level}


def run_program(program: str, scenario: dict, pre_args: list[str] | None = None,
                extra_env: dict[str, str] | None = None) -> Run:
    tmp = tempfile.mkdtemp(prefix="compat-")
    try:
        _setup(tmp, scenario.get("setup", {}))
        argv = [program] + list(pre_args or []) + [_substitute(a, tmp) for a in scenario["argv"]]
        if scenario.get("user") == "nobody" and os.geteuid() == 0:
            os.chmod(tmp, 0o777)
            argv = UNPRIVILEGED + argv
        timeout = scenario.get("timeout", DEFAULT_TIMEOUT)
        stdin = scenario.get("stdin", b"")
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=tmp, env=_env(tmp, {**scenario.get("env", {}), **(extra_env or {})}),
                                umask=0o022,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
            rc: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
            rc = "timeout"
        finally:
            try:  # children the program left behind (background EXEC/SYSTEM)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        seconds = time.monotonic() - started
        return Run(rc, out, normalise_stderr(err, tmp), _snapshot(tmp, scenario.get("files")), seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- comparing

@dataclass
class Result:
    id: str
    status: str  # "same" | "differs" | "skipped"
    diff: str = ""
    reason: str = ""
    known_bug: str = ""
    intended: str = ""  # the intended difference that applied, if any
    seconds: float = 0.0
    socat: Run | None = field(default=None, repr=False)
    pysocat: Run | None = field(default=None, repr=False)


def _field_lines(run_or_expected, name: str) -> list[str]:
    value = run_or_expected[name] if isinstance(run_or_expected, dict) else getattr(run_or_expected, name)
    if name == "rc":
        return [str(value)]
    if name == "stdout":
        if isinstance(value, str):
            value = value.encode()
        return [repr(line) for line in value.splitlines(keepends=True)] or ["<empty>"]
    if name == "stderr":
        return list(value) or ["<empty>"]
    if name == "files":
        return [f"{k}: {v}" for k, v in value.items()] or ["<none>"]
    raise KeyError(name)


def _shown(line: str, name: str) -> str:
    """The text a filter is matched against: a stdout line is compared as its repr()."""
    if name != "stdout" or line == "<empty>":
        return line
    import ast

    return ast.literal_eval(line).decode("utf-8", errors="replace")


def skip_reason(scenario: dict) -> str:
    if not socat_available():
        return f"real socat not installed at {SOCAT}"
    if scenario.get("skip"):
        return scenario["skip"]
    version = socat_version()
    level = scenario.get("compat")
    if level and version != level and not version.startswith(level + "."):
        return f"compares pysocat --compat={level} with socat {level} (have {version})"
    minimum = scenario.get("min_version")
    if minimum and _version_tuple(version) < _version_tuple(minimum):
        return f"needs socat >= {minimum} (have {version}): {scenario.get('min_version_reason', 'new in ' + minimum)}"
    if scenario.get("user") == "nobody" and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            return "needs setpriv to run as an unprivileged user"
        if not unprivileged_can_run_pysocat():
            return ("the unprivileged user cannot run pysocat from this checkout (it lies in a directory "
                    "only root may enter, e.g. a mktemp -d clone)")
    return ""


@lru_cache(maxsize=None)
def unprivileged_can_run_pysocat() -> bool:
    """Whether `nobody` can start pysocat here: its interpreter and package must be readable."""
    probe = subprocess.run([*UNPRIVILEGED, pysocat_as_socat(), "-V"], capture_output=True, timeout=30,
                           cwd="/")
    return probe.returncode == 0


def compare(scenario: dict, socat_run: Run, pysocat_run: Run) -> tuple[str, str]:
    """Returns (diff, applied intended difference id). An empty diff means same."""
    fields = list(scenario.get("compare", DEFAULT_COMPARE))
    if scenario.get("files") and "files" not in fields:
        fields.append("files")
    intended = scenario.get("intended", "")
    expected_source: dict = {}
    if intended:
        if intended not in INTENDED_DIFFERENCES:
            raise KeyError(f"scenario {scenario['id']}: unknown intended difference {intended!r}")
        if applies(intended, socat_version()):
            expected_source = scenario.get("pysocat", {})
        else:
            intended = ""
    filters = {name: re.compile(scenario[f"{name}_filter"]) for name in ("stdout", "stderr")
               if scenario.get(f"{name}_filter")}
    chunks = []
    for name in fields:
        if name in expected_source:
            left, left_label = _field_lines(expected_source, name), f"expected {name} (intended: {intended})"
        else:
            left, left_label = _field_lines(socat_run, name), f"socat {name}"
        right = _field_lines(pysocat_run, name)
        if name in filters:
            keep = filters[name]
            left = [line for line in left if keep.search(_shown(line, name))] or ["<empty>"]
            right = [line for line in right if keep.search(_shown(line, name))] or ["<empty>"]
        if left != right:
            chunks.append("".join(difflib.unified_diff(
                [line + "\n" for line in left], [line + "\n" for line in right],
                fromfile=left_label, tofile=f"pysocat {name}", lineterm="\n")))
    return "".join(chunks), intended


def run_scenario(scenario: dict) -> Result:
    reason = skip_reason(scenario)
    if reason:
        return Result(scenario["id"], "skipped", reason=reason, known_bug=scenario.get("known_bug", ""))
    started = time.monotonic()
    socat_run = run_program(SOCAT, scenario)
    pysocat_run = run_program(pysocat_as_socat(), scenario, *pysocat_compat(scenario))
    diff, intended = compare(scenario, socat_run, pysocat_run)
    return Result(scenario["id"], "differs" if diff else "same", diff=diff, known_bug=scenario.get("known_bug", ""),
                  intended=intended, seconds=time.monotonic() - started, socat=socat_run, pysocat=pysocat_run)


def run_all(scenarios=None, jobs: int | None = None) -> list[Result]:
    scenarios = SCENARIOS if scenarios is None else scenarios
    jobs = jobs or max(4, 2 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run_scenario, scenarios))


def check_table(scenarios=None) -> list[str]:
    """Consistency of the scenario table itself: unique ids, known fields, known references."""
    known = {"id", "argv", "stdin", "setup", "compare", "files", "user", "timeout", "min_version",
             "min_version_reason", "skip", "known_bug", "intended", "pysocat", "env", "stderr_filter", "note",
             "compat", "compat_via", "stdout_filter"}
    problems, seen = [], set()
    for scenario in SCENARIOS if scenarios is None else scenarios:
        sid = scenario.get("id")
        if not sid or sid in seen:
            problems.append(f"missing or duplicate id {sid!r}")
        seen.add(sid)
        unknown = set(scenario) - known
        if unknown:
            problems.append(f"{sid}: unknown fields {sorted(unknown)}")
        if scenario.get("intended") and scenario["intended"] not in INTENDED_DIFFERENCES:
            problems.append(f"{sid}: unknown intended difference {scenario['intended']!r}")
        if not isinstance(scenario.get("argv"), list):
            problems.append(f"{sid}: argv must be a list")
        if scenario.get("compat_via") not in (None, "option", "environment") or \
                (scenario.get("compat_via") and not scenario.get("compat")):
            problems.append(f"{sid}: compat_via must be \"option\" or \"environment\", with compat")
    return problems


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel scenarios")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the diff of every difference")
    parser.add_argument("select", nargs="*", help="only scenarios whose id contains one of these")
    args = parser.parse_args(argv)
    problems = check_table()
    if problems:
        print("scenario table problems:\n  " + "\n  ".join(problems))
        return 2
    scenarios = [s for s in SCENARIOS if not args.select or any(sel in s["id"] for sel in args.select)]
    started = time.monotonic()
    results = run_all(scenarios, args.jobs)
    elapsed = time.monotonic() - started
    width = max((len(r.id) for r in results), default=10)
    print(f"comparing pysocat with {SOCAT} {socat_version() or '(missing)'}")
    for r in results:
        note = r.reason or (f"known bug: {r.known_bug}" if r.known_bug and r.status == "differs" else "")
        if r.status == "same" and r.known_bug:
            note = f"known bug no longer differs: {r.known_bug}"
        if r.intended:
            note = (note + "; " if note else "") + f"intended: {r.intended}"
        print(f"{r.id:<{width}}  {r.status:<8} {r.seconds:5.2f}s  {note}")
        if r.status == "differs" and (args.verbose or not r.known_bug):
            print("    " + r.diff.rstrip("\n").replace("\n", "\n    "))
    counts = {s: sum(r.status == s for r in results) for s in ("same", "differs", "skipped")}
    unexpected = [r.id for r in results if r.status == "differs" and not r.known_bug]
    known = sum(r.status == "differs" and bool(r.known_bug) for r in results)
    print(f"\n{len(results)} scenarios in {elapsed:.1f}s: {counts['same']} same, {counts['differs']} differ "
          f"({known} known bugs, {len(unexpected)} unexpected), {counts['skipped']} skipped")
    if unexpected:
        print("unexpected differences: " + ", ".join(unexpected))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
