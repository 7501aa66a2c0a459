"""The single error type that carries socat's exact wording up to the command line.

Modules never print: they raise SocatError, and only cli.py turns it into a log line
and an exit code, so every diagnostic has one format and one exit path.
"""
from __future__ import annotations


class SocatError(Exception):
    """A diagnostic in socat's words; `level` is one of F E W N I D. `preamble` is a line
    socat writes to stderr without a log prefix just before (dalan.c's fputs()); `status`
    the exit status (-1 where socat's open fails without an error, e.g. SOCKET-CONNECT to
    a missing UNIX socket: an I message, then "exiting with status -1")."""

    def __init__(self, text: str, level: str = "E", position: int | None = None, preamble: str = "",
                 status: int = 1) -> None:
        super().__init__(text)
        self.text = text
        self.level = level
        self.position = position
        self.preamble = preamble
        self.status = status


class GrammarError(SocatError):
    """A syntax error in an address; `position` is the offset in the address text."""


def os_error_text(call: str, err: OSError) -> str:
    """socat's `call(args): strerror` form, e.g. `open("/x", 02, 0666): No such file or directory`."""
    import os

    reason = os.strerror(err.errno) if err.errno else str(err)
    return f"{call}: {reason}"
