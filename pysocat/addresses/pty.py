"""PTY: a new pseudo terminal whose master side pysocat uses; programs open the slave.

As in socat, the slave side stays open in pysocat so the master does not see EOF when a
program closes it; with wait-slave pysocat waits (polling every pty-interval) until some
process opens the slave, and later reports EOF when the last one closes it.
"""
from __future__ import annotations

import os
import select
import termios
import time

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from .common import OpenContext, apply_fd_options, apply_termios, os_error

DEFAULT_PTY_INTERVAL = 1.0


@address(("PTY",), (), (G.FD, G.NAMED, G.TERMIOS, G.PTY), "PTY",
         "creates a pseudo terminal and uses its master side")
def open_pty(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    master, slave = os.openpty()
    os.set_inheritable(master, False)
    os.set_inheritable(slave, False)
    name = os.ttyname(slave)
    LOG.notice(f"PTY is {name}")
    on_close = []
    link = opts.get(O.LINK)
    if link is not None:
        try:
            if os.path.islink(str(link)):
                os.unlink(str(link))
            os.symlink(name, str(link))
        except OSError as err:
            raise os_error(f'symlink("{name}", "{link}")', err) from None
        on_close.append(lambda: _remove(str(link)))
    check_speeds(opts)
    apply_termios(slave, opts)
    apply_fd_options(master, opts, owner_fd=slave)  # user=, group=, perm= are the slave's that programs open
    if opts.flag(O.WAIT_SLAVE):
        os.close(slave)
        interval = float(opts.get(O.PTY_INTERVAL, DEFAULT_PTY_INTERVAL))  # type: ignore[arg-type]
        _wait_for_slave(master, interval)
    else:
        on_close.append(lambda: _close(slave))
    endpoint = Endpoint(f"pty {name}", master if ctx.readable else None, master if ctx.writable else None,
                        policy_from_options(opts), read_eof_errnos=(5,))
    endpoint.on_close.extend(on_close)
    return endpoint


def check_speeds(opts: OptionValues) -> None:
    """ispeed/ospeed take a termios speed constant (B9600 is 13), not a baud rate: glibc's
    cfsetispeed() rejects a value with bits outside CBAUD, and socat reports that call."""
    for opt, value in opts.occurrences:
        if opt in (O.ISPEED, O.OSPEED) and int(value) & ~termios.CBAUD:  # type: ignore[arg-type]
            call = "cfsetispeed" if opt is O.ISPEED else "cfsetospeed"
            raise SocatError(f"{call}(0x{id(opts):x}, {value}): Invalid argument")


def _wait_for_slave(master: int, interval: float) -> None:
    """A master polls POLLHUP while no process has the slave open."""
    poller = select.poll()
    poller.register(master, select.POLLIN | select.POLLHUP)
    while True:
        events = poller.poll(0)
        if not any(ev & select.POLLHUP for _, ev in events):
            return
        time.sleep(interval)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


__all__ = ["open_pty", "SocatError"]
