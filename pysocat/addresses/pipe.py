"""Pipes: PIPE (ECHO, FIFO) unnamed or named, and SOCKETPAIR (an echo that keeps packets)."""
from __future__ import annotations

import os
import socket
import stat

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..registry import NAMED_PHASES, ResolvedAddress, address
from .common import (
    OpenContext, apply_fd_options, apply_named_early, apply_named_owner, apply_named_pastopen, apply_named_preopen,
    os_error,
    unlink_on_close,
)
from .file import open_flags


@address(("PIPE", "ECHO", "FIFO"), (), (G.FD, G.FIFO), "PIPE", "an unnamed pipe: what is written is read back")
def open_unnamed_pipe(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    LOG.notice("writing to and reading from unnamed pipe")
    read_fd, write_fd = os.pipe()
    for fd in (read_fd, write_fd):
        apply_fd_options(fd, addr.options)
    return Endpoint("unnamed pipe", read_fd, write_fd, policy_from_options(addr.options))


@address(("PIPE", "ECHO", "FIFO"), ("<filename>",), (G.FD, G.FIFO, G.NAMED, G.OPEN), "PIPE",
         "a named pipe, created when missing", phases=NAMED_PHASES)
def open_named_pipe(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    path = addr.params[0]
    apply_named_early(path, addr.options)
    try:
        exists = stat.S_ISFIFO(os.stat(path).st_mode)
    except FileNotFoundError:
        exists = False
    created = False
    if not exists:
        perm = int(addr.options.get(O.PERM, 0o666))  # type: ignore[arg-type]
        try:
            os.mkfifo(path, perm)
        except OSError as err:
            raise os_error(f'mknod("{path}", 0{stat.S_IFIFO | perm:o}, 0)', err) from None
        created = True
        LOG.notice(f'created named pipe "{path}" for {ctx.direction_text}')
    else:
        LOG.notice(f'opening named pipe "{path}" for {ctx.direction_text}')
    apply_named_preopen(path, addr.options)
    apply_named_owner(path, addr.options)  # before open(), which waits for the other side
    flags = open_flags(addr.options, ctx)
    try:
        fd = os.open(path, flags | os.O_CLOEXEC)
    except OSError as err:
        raise os_error(f'open("{path}", 0{flags:o}, 0666)', err) from None
    apply_named_pastopen(path, addr.options)
    apply_fd_options(fd, addr.options)
    endpoint = Endpoint(f'"{path}"', fd if ctx.readable else None, fd if ctx.writable else None,
                        policy_from_options(addr.options))
    endpoint.on_close.extend(unlink_on_close(path, addr.options, default=created))
    return endpoint


SOCKET_TYPES = {"1": socket.SOCK_STREAM, "2": socket.SOCK_DGRAM, "5": socket.SOCK_SEQPACKET}


@address(("SOCKETPAIR",), (), (G.FD, G.SOCKET), "SOCKETPAIR",
         "a socket pair echo that keeps packet boundaries (datagrams by default)")
def open_socketpair(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    kind = socket.SOCK_DGRAM
    try:
        left, right = socket.socketpair(socket.AF_UNIX, kind)
    except OSError as err:
        raise SocatError(f"socketpair(1, {kind}, 0, ...): {os.strerror(err.errno or 0)}") from None
    LOG.info(f"socketpair(1, {kind}, 0, {{{left.fileno()},{right.fileno()}}})")
    read_fd, write_fd = left.detach(), right.detach()
    for fd in (read_fd, write_fd):
        apply_fd_options(fd, addr.options)
    return Endpoint("socketpair", read_fd, write_fd, policy_from_options(addr.options), keeps_boundaries=True)
