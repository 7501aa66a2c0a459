"""Files and devices by name: OPEN (FILE), CREATE (CREAT) and GOPEN (a path shorthand)."""
from __future__ import annotations

import os
import socket
import stat

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import NAMED_PHASES, ResolvedAddress, address
from .common import (
    OpenContext, apply_fd_options, apply_named_early, apply_named_pastopen, apply_named_preopen, describe_file,
    os_error, unlink_on_close,
)

OPEN_FLAG_OPTIONS = (
    (O.CREAT, os.O_CREAT), (O.EXCL, os.O_EXCL), (O.SYNC, os.O_SYNC), (O.DSYNC, os.O_DSYNC),
    (O.NOCTTY, os.O_NOCTTY), (O.NOFOLLOW, os.O_NOFOLLOW), (O.DIRECTORY, os.O_DIRECTORY), (O.APPEND, os.O_APPEND),
    (O.NONBLOCK, os.O_NONBLOCK),  # must be in open(): a FIFO opened for reading would block
)
CREATE_MODE = 0o666
# CREATE calls creat(), not open(): socat applies every phase but OPEN's (and PREEXEC's), so
# with -g `CREATE:f,creat` is never inquired while `CREATE:f,trunc` is "not implemented"
CREATE_PHASES = frozenset({
    "INIT", "EARLY", "PREOPEN", "PASTOPEN", "PRESOCKET", "SOCKET", "PASTSOCKET", "PREBIGEN", "BIGEN", "PASTBIGEN",
    "FD", "PREBIND", "BIND", "PASTBIND", "PRELISTEN", "LISTEN", "PASTLISTEN", "PRECONNECT", "CONNECT",
    "PASTCONNECT", "PREACCEPT", "ACCEPT", "PASTACCEPT", "CONNECTED", "PREFORK", "FORK", "PASTFORK", "LATE", "LATE2",
})


def open_flags(opts: OptionValues, ctx: OpenContext) -> int:
    """The open(2) flags: access mode from the relay direction unless rdonly/wronly/rdwr say."""
    flags = ctx.access
    for opt, mode in ((O.RDONLY, os.O_RDONLY), (O.WRONLY, os.O_WRONLY), (O.RDWR, os.O_RDWR)):
        if opts.flag(opt):
            flags = (flags & ~os.O_ACCMODE) | mode
    for opt, bit in OPEN_FLAG_OPTIONS:
        if opt in opts:
            flags = (flags | bit) if opts.flag(opt) else (flags & ~bit)
    return flags


def _open(path: str, flags: int, call: str = "open") -> int:
    try:
        return os.open(path, flags | os.O_CLOEXEC, CREATE_MODE)
    except OSError as err:
        if call == "creat":
            raise os_error(f'creat("{path}", 0{CREATE_MODE:o})', err) from None
        raise os_error(f'open("{path}", 0{flags:o}, 0{CREATE_MODE:o})', err) from None


def _finish(addr: ResolvedAddress, ctx: OpenContext, path: str, fd: int) -> Endpoint:
    apply_named_pastopen(path, addr.options)
    if addr.options.flag(O.TRUNC):
        os.ftruncate(fd, 0)
    apply_fd_options(fd, addr.options)
    endpoint = Endpoint(f'"{path}"', fd if ctx.readable else None, fd if ctx.writable else None,
                        policy_from_options(addr.options))
    endpoint.on_close.extend(unlink_on_close(path, addr.options))
    return endpoint


@address(("OPEN", "FILE"), ("<filename>",), (G.FD, G.FIFO, G.CHR, G.BLK, G.REG, G.NAMED, G.OPEN, G.TERMIOS),
         "FILE", "opens a file, device or named pipe with open()", phases=NAMED_PHASES)
def open_file(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    path = addr.params[0]
    apply_named_early(path, addr.options)
    apply_named_preopen(path, addr.options)
    flags = open_flags(addr.options, ctx)
    LOG.notice(f'opening {describe_file(path)} "{path}" for {ctx.direction_text}')
    fd = _open(path, flags)
    return _finish(addr, ctx, path, fd)


@address(("CREATE", "CREAT"), ("<filename>",), (G.FD, G.REG, G.NAMED), "CREAT",
         "creates (or truncates) a file for writing", direction="w", phases=CREATE_PHASES)
def open_create(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    path = addr.params[0]
    apply_named_early(path, addr.options)
    apply_named_preopen(path, addr.options)
    LOG.notice(f'creating regular file "{path}" for writing')
    fd = _open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "creat")
    return _finish(addr, ctx, path, fd)


@address(("GOPEN",), ("<filename>",),
         (G.FD, G.FIFO, G.CHR, G.BLK, G.REG, G.SOCKET, G.NAMED, G.OPEN, G.TERMIOS, G.UNIX),
         "GOPEN", "opens a file, device, named pipe or UNIX socket; creates a missing file", phases=NAMED_PHASES)
def open_generic(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    path = addr.params[0]
    apply_named_early(path, addr.options)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise os_error(f'stat("{path}")', err) from None
    if mode is not None and stat.S_ISSOCK(mode):
        return _open_unix_socket(addr, ctx, path)
    apply_named_preopen(path, addr.options)
    flags = open_flags(addr.options, ctx)
    if mode is None:
        flags |= os.O_CREAT
        kind = "undef"
    else:
        kind = describe_file(path)
        if ctx.writable and stat.S_ISREG(mode):
            flags |= os.O_APPEND
    LOG.notice(f'opening {kind} "{path}" for {ctx.direction_text}')
    fd = _open(path, flags)
    return _finish(addr, ctx, path, fd)


def _open_unix_socket(addr: ResolvedAddress, ctx: OpenContext, path: str) -> Endpoint:
    """GOPEN on a socket: connect as a stream, else as a datagram client (socat's order)."""
    last: OSError | None = None
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
        sock = socket.socket(socket.AF_UNIX, kind)
        try:
            sock.connect(path)
        except OSError as err:
            sock.close()
            last = err
            if err.errno != 91:  # EPROTOTYPE: try the next socket type
                break
            continue
        LOG.notice(f'opening connection to AF=1 "{path}"')
        fd = sock.detach()
        apply_fd_options(fd, addr.options)
        return Endpoint(f'"{path}"', fd if ctx.readable else None, fd if ctx.writable else None,
                        policy_from_options(addr.options), keeps_boundaries=kind != socket.SOCK_STREAM)
    assert last is not None
    raise SocatError(f'connect(, AF=1 "{path}", {len(path) + 2}): {os.strerror(last.errno or 0)}')
