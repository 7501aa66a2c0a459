"""UNIX socket names as socat passes them to the kernel (socat: xiosetunix, xio_tempnam, xiobind).

* unix-tightsocklen (default 1): the address length covers the name only. With 0 socat
  passes the whole 108-byte sun_path; for a file name that changes nothing, but for an
  abstract name the padding NULs are part of the name, so `\\0x` and `\\0x\\0\\0...` are
  different sockets (a tight client cannot reach a non-tight server).
* bind= of a client address names its own socket, in the abstract namespace for the
  ABSTRACT-* addresses.
* unix-bind-tempname[=<pattern>] binds a client to a fresh random name: the XXXXXX of the
  pattern (default /tmp/socat-bind.XXXXXX) replaced, tried again while it is taken, so
  that a datagram server can answer the client (UNIX-RECVFROM replies to the sender).
"""
from __future__ import annotations

import errno
import os
import secrets
import socket
import string

from .. import option_table as O
from ..errors import SocatError
from ..log import LOG
from ..options import OptionValues
from . import sockets as S

SUN_PATH = 108  # sizeof(struct sockaddr_un.sun_path) on Linux
TEMPNAME_DEFAULT = "/tmp/socat-bind.XXXXXX"
TEMPNAME_CHARS = string.ascii_uppercase + string.ascii_lowercase + string.digits
TEMPNAME_TRIES = 238328  # glibc's TMP_MAX, socat's bound on attempts


def is_tight(opts: OptionValues) -> bool:
    return bool(opts.get(O.TIGHTSOCKLEN, True))


def unix_address(name: str, abstract: bool, tight: bool) -> str | bytes:
    """The sockaddr_un name for the kernel: abstract names start with NUL; a non-tight
    abstract name is the whole sun_path, padded with NULs."""
    if not abstract:
        return name
    if tight:
        return "\0" + name
    return (b"\0" + os.fsencode(name))[:SUN_PATH].ljust(SUN_PATH, b"\0")


def address_length(addr: str | bytes, tight: bool) -> int:
    """The length socat passes and prints: the name's, or the whole sockaddr_un (110)."""
    return S.socklen(socket.AF_UNIX, addr) if tight else 2 + SUN_PATH


def check_bind_options(opts: OptionValues, both_message: str) -> None:
    """bind= and unix-bind-tempname exclude each other (socat's text differs per address)."""
    if O.BIND in opts and O.BIND_TEMPNAME in opts:
        raise SocatError(both_message)


def bind_client(sock: socket.socket, opts: OptionValues, abstract: bool) -> str | bytes | None:
    """bind= or unix-bind-tempname on a client socket; the name bound, or None."""
    tight = is_tight(opts)
    if O.BIND_TEMPNAME in opts:
        return bind_tempname(sock, opts.get(O.BIND_TEMPNAME), abstract, tight)  # type: ignore[arg-type]
    if O.BIND in opts:
        local = unix_address(str(opts.get(O.BIND)), abstract, tight)
        S.bind_socket(sock, local)
        return local
    return None


def bind_tempname(sock: socket.socket, pattern: str | None, abstract: bool, tight: bool) -> str | bytes:
    pattern = pattern or TEMPNAME_DEFAULT
    marker = pattern.find("XXXXXX")
    if marker < 0:
        LOG.warn(f'xio_tempnam("{pattern}"): path pattern is not valid')
        raise SocatError(f'tempnam("{pattern}"): {os.strerror(errno.EINVAL)}')
    for _ in range(TEMPNAME_TRIES):
        random_part = "".join(secrets.choice(TEMPNAME_CHARS) for _ in range(6))
        name = pattern[:marker] + random_part + pattern[marker + 6 :]
        if not abstract and os.path.lexists(name):
            continue
        local = unix_address(name, abstract, tight)
        try:
            sock.bind(local)
            return local
        except OSError as err:
            text = (f"bind({sock.fileno()}, {{{S.sockaddr_info(socket.AF_UNIX, local)}}}, "
                    f"{address_length(local, tight)}): {S.strerror(err)}")
            if err.errno != errno.EADDRINUSE:
                raise SocatError(text) from None
            LOG.info(text)
    raise SocatError(f'tempnam("{pattern}"): {os.strerror(errno.EEXIST)}')


def unlink_bound(local: str | bytes | None) -> None:
    """Removes the file a client socket was bound to (an abstract name leaves none)."""
    if isinstance(local, str) and local and not local.startswith("\0"):
        try:
            os.unlink(local)
        except OSError:
            pass
