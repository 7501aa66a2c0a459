"""Standard streams and inherited descriptors: STDIO (-), STDIN, STDOUT, STDERR, FD."""
from __future__ import annotations

import os

from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..registry import FD_PHASES, ResolvedAddress, address
from .common import OpenContext, apply_fd_options

FD_GROUPS = (G.FD, G.FIFO, G.CHR, G.BLK, G.REG, G.SOCKET, G.TERMIOS, G.UNIX, G.IP4, G.IP6, G.UDP, G.TCP, G.SCTP)


@address(("STDIO", "-"), (), FD_GROUPS, "STDIO", "reads standard input, writes standard output", phases=FD_PHASES)
def open_stdio(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    if ctx.readable and ctx.writable:
        LOG.notice("reading from and writing to stdio")
    else:
        LOG.notice("using stdin for reading" if ctx.readable else "using stdout for writing")
    return _endpoint(addr, "stdio", 0 if ctx.readable else None, 1 if ctx.writable else None)


@address(("STDIN",), (), FD_GROUPS, "STDIO", "reads standard input", direction="r", phases=FD_PHASES)
def open_stdin(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    LOG.notice("using stdin for reading")
    return _endpoint(addr, "stdin", 0, None)


@address(("STDOUT",), (), FD_GROUPS, "STDIO", "writes standard output", direction="w", phases=FD_PHASES)
def open_stdout(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    LOG.notice("using stdout for writing")
    return _endpoint(addr, "stdout", None, 1)


@address(("STDERR",), (), FD_GROUPS, "STDIO", "writes standard error", direction="w", phases=FD_PHASES)
def open_stderr(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    LOG.notice("using stderr for writing")
    endpoint = _endpoint(addr, "stderr", None, 2)
    if endpoint.policy.shut == "default":
        # socat does not close fd 2 at EOF: its own later log lines (-d -d "exiting with
        # status 0") still reach stderr
        endpoint.policy.shut = "none"
    return endpoint


@address(("FD",), ("<num>",), FD_GROUPS, "FDNUM", "an already open file descriptor", phases=FD_PHASES)
def open_fd(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    text = addr.params[0]
    from ..options import strtoul

    number, rest = strtoul(text, 0)
    if rest:
        raise SocatError(f'error in FD number "{text}"')
    try:
        os.fstat(number)
    except OSError as err:
        raise SocatError(f"fcntl({number}, F_SETFD, FD_CLOEXEC): {os.strerror(err.errno or 0)}") from None
    LOG.notice(f"using file descriptor {number} for {ctx.direction_text}")
    return _endpoint(addr, f"fd {number}", number if ctx.readable else None, number if ctx.writable else None)


_SOCKET_GROUPS = frozenset({G.SOCKET, G.IP4, G.IP6, G.TCP, G.UDP, G.SCTP, G.UNIX})


def _endpoint(addr: ResolvedAddress, label: str, read_fd: int | None, write_fd: int | None) -> Endpoint:
    socket_options = any(opt.groups & _SOCKET_GROUPS for opt in addr.options.values)
    for fd in sorted({fd for fd in (read_fd, write_fd) if fd is not None}):
        apply_fd_options(fd, addr.options)
        if socket_options:  # on a pipe, socat's first setsockopt() fails
            from .sockets import apply_to_descriptor

            apply_to_descriptor(fd, addr.options)
    return Endpoint(label, read_fd, write_fd, policy_from_options(addr.options))
