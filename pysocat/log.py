"""socat-format diagnostics: `YYYY/MM/DD HH:MM:SS prog[PID] L text`.

One process-wide Logger, configured by the command line (-d, -lf, -ly, -lm, -ls, -lp,
-lu, -lh). It also remembers whether an error was logged, which decides the exit code.
"""
from __future__ import annotations

import os
import sys
import time
from io import TextIOBase as TextIO

LEVELS = "DINWEF"  # socat's severities, lowest first
DEFAULT_LEVEL = LEVELS.index("W")  # socat 1.8: without -d, F, E and W are shown


class Logger:
    def __init__(self) -> None:
        self.program = "pysocat"
        self.min_level = DEFAULT_LEVEL
        self.microseconds = False
        self.hostname: str | None = None
        self.stream: TextIO = sys.stderr
        self.syslog_facility: str | None = None
        self.mixed = False  # -lm: stderr until the transfer starts, then syslog
        self.errors = 0
        self.sloppy = False
        self.quiet_children = 0

    def enabled(self, level: str) -> bool:
        return LEVELS.index(level) >= self.min_level

    def format(self, level: str, text: str) -> str:
        now = time.time()
        stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now))
        if self.microseconds:
            stamp += f".{int((now % 1) * 1_000_000):06d}"
        host = f" {self.hostname}" if self.hostname else ""
        return f"{stamp}{host} {self.program}[{os.getpid()}] {level} {text}"

    def log(self, level: str, text: str) -> None:
        if level in "EF":
            self.errors += 1
        if self.enabled(level):
            self.always(level, text)

    def always(self, level: str, text: str) -> None:
        """Writes the line whatever the -d level (statistics asked for by --statistics)."""
        if self.syslog_facility is not None and not self.mixed:
            self._syslog(level, text)
            return
        line = self.format(level, text) + "\n"
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def _syslog(self, level: str, text: str) -> None:
        import syslog

        priority = {"D": syslog.LOG_DEBUG, "I": syslog.LOG_INFO, "N": syslog.LOG_NOTICE,
                    "W": syslog.LOG_WARNING, "E": syslog.LOG_ERR, "F": syslog.LOG_CRIT}[level]
        facility = getattr(syslog, f"LOG_{(self.syslog_facility or 'daemon').upper()}", syslog.LOG_DAEMON)
        syslog.openlog(self.program, syslog.LOG_PID, facility)
        syslog.syslog(priority, f"{level} {text}")

    def transfer_started(self) -> None:
        """-lm switches from stderr to syslog once the transfer loop starts."""
        self.mixed = False

    def debug(self, text: str) -> None:
        self.log("D", text)

    def info(self, text: str) -> None:
        self.log("I", text)

    def notice(self, text: str) -> None:
        self.log("N", text)

    def warn(self, text: str) -> None:
        self.log("W", text)

    def error(self, text: str) -> None:
        self.log("E", text)

    def fatal(self, text: str) -> None:
        self.log("F", text)


LOG = Logger()
