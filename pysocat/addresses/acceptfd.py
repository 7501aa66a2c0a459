"""ACCEPT-FD (ACCEPT): accept() on an inherited listening socket (socat 1.8: xio-fdnum.c,
xio-listen.c _xioopen_accept_fd).

The socket was bound and put to listen by whoever started us: systemd socket activation
(`Accept=no`, the socket on fd 3), inetd's wait mode, or a parent that passes the
descriptor. Any stream family works (TCP, UNIX, VSOCK, ...): the family is the socket's
own. From there it is the LISTEN addresses' accept loop of sockets.py: range=,
sourceport=, lowport peer checks, fork (a child per connection while the parent keeps
accepting), max-children, and SOCAT_PEERADDR/SOCAT_SOCKADDR for EXEC/SYSTEM children.
Without fork the listening socket is closed once a connection is accepted, as in socat.
"""
from __future__ import annotations

import fcntl
import socket

from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import strtoul
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext

GROUPS = (G.FD, G.SOCKET, G.UNIX, G.IP4, G.IP6, G.UDP, G.TCP, G.SCTP, G.CHILD, G.RANGE, G.RETRY)


def _fd_number(text: str) -> int:
    number, rest = strtoul(text, 0)
    if rest:
        raise SocatError(f'error in FD number "{text}"')
    return number


def _inherited_socket(fd: int) -> socket.socket:
    """The descriptor as a socket object of its own family and type, with socat's warnings
    for a descriptor that is no socket (accept() then fails with the system's error)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)  # the program of an EXEC child does not get it
    except OSError as err:
        LOG.warn(f"fcntl({fd}, F_SETFD, FD_CLOEXEC): {S.strerror(err)}")
    try:
        return socket.socket(fileno=fd)
    except OSError as err:
        LOG.warn(f"getsockname(fd={fd}, ...): {S.strerror(err)}")
        raise SocatError(f"accept({fd}, ...): {S.strerror(err)}") from None


@address(("ACCEPT-FD", "ACCEPT"), ("<fdnum>",), GROUPS, "FDNUM",
         "accepts a connection on the inherited listening socket <fdnum> (systemd, inetd; fork: one "
         "child each)")
def open_accept_fd(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    S.check_unsupported(opts)
    fd = _fd_number(addr.params[0])
    sock = _inherited_socket(fd)
    LOG.notice(f"using file descriptor {fd} accepting a connection for {ctx.direction_text}")
    conn = S.accept_loop(ctx, opts, sock, [])
    S.apply_socket_options(conn, opts, prebind=False)
    S.apply_connected_options(conn, opts)
    return S.stream_endpoint(conn, opts, f"ACCEPT-FD {S.sockaddr_info(conn.family, _peer(conn))}", ctx,
                             keeps_boundaries=conn.type != socket.SOCK_STREAM)


def _peer(conn: socket.socket) -> S.Sockaddr:
    try:
        return conn.getpeername()
    except OSError:
        return ""
