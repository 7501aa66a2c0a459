"""VM sockets: VSOCK-CONNECT (VSOCK) and VSOCK-LISTEN (VSOCK-L) (socat 1.8: xio-vsock.c).

AF_VSOCK stream sockets between a virtual machine and its host (or, with the kernel's
vsock_loopback transport, within one machine: CID 1). Addresses are a 32-bit CID and a
32-bit port, written as socat writes them (`AF=40 cid:3 port:1234`); bind= is
`[<cid>][:<port>]` (VSOCK-LISTEN takes only the CID). Connecting, retry, fork and the accept
loop are the shared ones of sockets.py; the peer's CID and port become SOCAT_PEERADDR and
SOCAT_PEERPORT for EXEC/SYSTEM children, as in socat.
"""
from __future__ import annotations

import fcntl
import os
import socket
import struct

from .. import option_table as O
from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues, strtoul
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext

CONNECT_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY)
LISTEN_GROUPS = (G.FD, G.SOCKET, G.LISTEN, G.CHILD, G.RETRY)
ANY = 0xFFFFFFFF  # VMADDR_CID_ANY and VMADDR_PORT_ANY


def kernel_has_vsock() -> bool:
    try:
        socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).close()
        return True
    except (OSError, AttributeError):
        return False


def parse_number(text: str | None, what: str) -> int:
    """A CID or port as socat's sockaddr_vm_parse reads it (strtoul, base 0); None: any."""
    if text is None:
        return ANY
    value, rest = strtoul(text, 0)
    if rest:
        raise SocatError(f'sockaddr_vm - garbage in {what}: "{rest}"')
    return value & 0xFFFFFFFF


def parse_bind(text: str) -> tuple[int, int | None]:
    """bind=[<cid>][:<port>]: the CID (any when empty) and the port (None when not given)."""
    cid_text, colon, port_text = text.partition(":")
    cid = parse_number(cid_text or None, "cid")
    return cid, (parse_number(port_text, "port") if colon else None)


def log_local_cid() -> None:
    """socat 1.8's xiolog_vsock_cid(): this machine's CID, for information only."""
    try:
        fd = os.open("/dev/vsock", os.O_RDONLY)
    except OSError as err:
        LOG.warn(f'open("/dev/vsock", ...): {S.strerror(err)}')
        return
    try:
        raw = fcntl.ioctl(fd, socket.IOCTL_VM_SOCKETS_GET_LOCAL_CID, bytes(4))
        LOG.notice(f"VSOCK CID={struct.unpack('I', raw)[0]}")
    except OSError as err:
        LOG.warn(f"ioctl({fd}, IOCTL_VM_SOCKETS_GET_LOCAL_CID, ...): {S.strerror(err)}")
    finally:
        os.close(fd)


def _socket_kind(opts: OptionValues) -> tuple[int, int]:
    """so-type= and so-protocol= may ask for another socket type (SOCK_SEQPACKET: 5)."""
    return int(opts.get(O.SO_TYPE, socket.SOCK_STREAM)), int(opts.get(O.SO_PROTOCOL, 0))  # type: ignore[call-overload]


@address(("VSOCK-CONNECT", "VSOCK"), ("<cid>", "<port>"), CONNECT_GROUPS, "VSOCK",
         "connects to <port> of the VM or host <cid> (2: the host; fork: a child per connection)",
         available=kernel_has_vsock)
def open_connect(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    target = (parse_number(addr.params[0], "cid"), parse_number(addr.params[1], "port"))
    log_local_cid()
    local = None
    if O.BIND in opts:
        cid, port = parse_bind(str(opts.get(O.BIND)))
        local = (cid, ANY if port is None else port)
    socktype, proto = _socket_kind(opts)
    sock = S.connect_ip(ctx, opts, socket.AF_VSOCK, socktype, proto, target, local_other=local)
    return S.stream_endpoint(sock, opts, f"VSOCK {S.sockaddr_info(socket.AF_VSOCK, target)}", ctx,
                             keeps_boundaries=socktype != socket.SOCK_STREAM)


@address(("VSOCK-LISTEN", "VSOCK-L"), ("<port>",), LISTEN_GROUPS, "VSOCK",
         "accepts a VSOCK connection on <port> (fork: one child each)", available=kernel_has_vsock)
def open_listen(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    opts = addr.options
    local = (ANY, parse_number(addr.params[0], "port"))
    if O.BIND in opts:
        cid, port = parse_bind(str(opts.get(O.BIND)))
        if port is not None:
            raise SocatError("port specification not allowed in this bind option")
        local = (cid, local[1])
    log_local_cid()
    socktype, proto = _socket_kind(opts)
    conn = S.bind_listen_accept(ctx, opts, lambda: S.bound_socket(socket.AF_VSOCK, socktype, proto, opts, local))
    return S.stream_endpoint(conn, opts, f"VSOCK {S.sockaddr_info(socket.AF_VSOCK, conn.getpeername())}", ctx,
                             keeps_boundaries=socktype != socket.SOCK_STREAM)
