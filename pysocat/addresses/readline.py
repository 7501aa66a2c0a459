"""READLINE: line editing and history on the terminal, through Python's readline module.

Python exposes only blocking input(), so a reader thread runs the line editor and feeds
a pipe that the engine polls; output passes through a second thread that remembers the
last partial line, which becomes the prompt (socat's default) unless `noprompt` or
`prompt=` say otherwise.
"""
from __future__ import annotations

import os
import re
import threading

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..log import LOG
from ..options import Group as G
from ..registry import ResolvedAddress, address
from .common import OpenContext
from .stdio import FD_GROUPS


class _LineEditor:
    def __init__(self, fixed_prompt: str | None, use_output_prompt: bool, noecho: str | None) -> None:
        self.fixed_prompt = fixed_prompt
        self.use_output_prompt = use_output_prompt
        self.noecho = re.compile(noecho) if noecho else None
        self.partial_line = ""

    def prompt(self) -> str:
        if self.fixed_prompt is not None:
            return self.fixed_prompt
        return self.partial_line if self.use_output_prompt else ""

    def read_lines(self, write_fd: int) -> None:
        import getpass

        try:
            while True:
                prompt = self.prompt()
                if prompt and self.fixed_prompt is None:
                    os.write(1, b"\r")  # readline redraws the output's last line as its prompt
                try:
                    if self.noecho is not None and self.noecho.search(prompt):
                        line = getpass.getpass(prompt)
                    else:
                        line = input(prompt)
                except EOFError:
                    break
                self.partial_line = ""
                os.write(write_fd, (line + "\n").encode())
        except OSError:
            pass
        finally:
            os.close(write_fd)

    def write_output(self, read_fd: int) -> None:
        while True:
            data = os.read(read_fd, 65536)
            if not data:
                break
            text = data.decode(errors="replace")
            tail = text.rsplit("\n", 1)
            self.partial_line = tail[-1] if len(tail) > 1 else self.partial_line + text
            # always shown at once: the line editor may already be waiting for input, and
            # would never print a prompt it was not given
            os.write(1, data)
        os.close(read_fd)


@address(("READLINE",), (), FD_GROUPS + (G.READLINE,), "READLINE",
         "line editing and history on the terminal (GNU readline)")
def open_readline(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    import readline

    opts = addr.options
    history = opts.get(O.HISTORY)
    if history:
        try:
            readline.read_history_file(str(history))
        except OSError:
            pass
    editor = _LineEditor(
        str(opts.get(O.PROMPT)) if O.PROMPT in opts else None,
        not opts.flag(O.NOPROMPT),
        str(opts.get(O.NOECHO)) if O.NOECHO in opts else None,
    )
    LOG.notice("using readline on stdin for reading and stdio for writing")
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    threading.Thread(target=editor.read_lines, args=(in_write,), daemon=True).start()
    writer = threading.Thread(target=editor.write_output, args=(out_read,), daemon=True)
    writer.start()
    endpoint = Endpoint("readline", in_read, out_write, policy_from_options(opts))

    def finish() -> None:
        writer.join(timeout=1.0)
        if history:
            try:
                readline.write_history_file(str(history))
            except OSError as err:
                LOG.warn(f'write_history("{history}"): {os.strerror(err.errno or 0)}')

    endpoint.on_close.append(finish)
    return endpoint
