"""tcpwrap (socat's xio-tcpwrap.c): which peers libwrap's hosts.allow / hosts.deny permit.

Any one of tcpwrappers, tcpwrap-etc, tcpwrap-hosts-allow-table, tcpwrap-hosts-deny-table turns
the check on; the daemon name is tcpwrap's value, else the program name (-lp, or pysocat /
socat as invoked); tcpwrap-etc=<dir> stands for <dir>/hosts.allow and <dir>/hosts.deny where
the table options do not name the files. socat checks after range, sourceport and lowport,
logs `permitting connection from ... due to tcpwrapper option` (I) when libwrap allows, and
its caller warns `refusing connection from ... due to tcpwrapper option` when it does not.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from .. import option_table as O
from ..errors import SocatError
from ..log import LOG
from ..net import libwrap
from ..options import OptionValues

REASON = "due to tcpwrapper option"


@dataclass(frozen=True)
class TcpWrap:
    daemon: str
    allow_table: str | None
    deny_table: str | None

    @classmethod
    def from_options(cls, opts: OptionValues) -> TcpWrap | None:
        if not any(opt in opts for opt in O.TCPWRAP_OPTIONS):
            return None
        name = opts.get(O.TCPWRAP)
        allow, deny = opts.get(O.TCPWRAP_ALLOW), opts.get(O.TCPWRAP_DENY)
        etc = opts.get(O.TCPWRAP_ETC)
        if etc is not None:
            allow = allow if allow is not None else os.path.join(str(etc), "hosts.allow")
            deny = deny if deny is not None else os.path.join(str(etc), "hosts.deny")
        return cls(str(name) if name is not None else LOG.program,
                   None if allow is None else str(allow), None if deny is None else str(deny))

    def permits(self, fd: int, family: int, peer: tuple, local: tuple | None, peer_text: str) -> bool:
        """hosts_access() for this peer. `local` None: socat's datagram listeners hand over
        a local address they never filled in (its inet_ntop() warning is repeated)."""
        if self.allow_table is not None:
            LOG.debug(f'hosts_allow_table = "{self.allow_table}"')
        if self.deny_table is not None:
            LOG.debug(f'hosts_deny_table = "{self.deny_table}"')
        if local is None:
            LOG.warn("inet_ntop(): Address family not supported by protocol")
        request = libwrap.AccessRequest(fd, self.daemon, libwrap.sockaddr_bytes(family, peer),
                                        libwrap.sockaddr_bytes(family, local), self.allow_table, self.deny_table)
        request.prepare()
        if LOG.enabled("D"):
            server = "" if local is None else _bare(local[0])
            server_port = 0 if local is None else local[1]
            LOG.debug(f"request_init({request.pointer}, RQ_FILE, {fd}, RQ_CLIENT_SIN, {{{_bare(peer[0])}:{peer[1]}}}, "
                      f'RQ_SERVER_SIN, {{{server}:{server_port}}}, RQ_DAEMON, "{self.daemon}", 0')
            LOG.debug("request_init() ->")
            LOG.debug(f"sock_methods({request.pointer})")
            LOG.debug("sock_methods() ->")
            LOG.debug(f"hosts_access({request.pointer})")
        allowed = request.hosts_access()
        LOG.debug(f"hosts_access() -> {int(allowed)}")
        if allowed:
            LOG.info(f"permitting connection from {peer_text} {REASON}")
        return allowed


def raw_refusal(opts: OptionValues, fd: int, peer: object, local: object) -> str | None:
    """refusal() for a generic socket's addresses (rawaddr.RawAddress): IPv4 and IPv6 ones."""
    client, server = _inet(peer), _inet(local)
    if client is None:
        return None
    family = peer.family  # type: ignore[attr-defined]
    return refusal(opts, fd, family, client, server, peer.info())  # type: ignore[attr-defined]


def _inet(raw: object) -> tuple | None:
    """A RawAddress of AF_INET/AF_INET6 as Python's (host, port[, flow, scope]) tuple."""
    family, data = getattr(raw, "family", None), getattr(raw, "data", b"")
    if family == socket.AF_INET and len(data) >= 6:
        return socket.inet_ntop(socket.AF_INET, data[2:6]), int.from_bytes(data[0:2], "big")
    if family == socket.AF_INET6 and len(data) >= 22:
        scope = int.from_bytes(data[22:26], "little") if len(data) >= 26 else 0
        return (socket.inet_ntop(socket.AF_INET6, data[6:22]), int.from_bytes(data[0:2], "big"),
                int.from_bytes(data[2:6], "big"), scope)
    return None


def _bare(host: object) -> str:
    return str(host).split("%")[0]


def require_libwrap(opts: OptionValues) -> None:
    """An address given a tcpwrap option fails at open where libwrap cannot be loaded,
    rather than serving every peer the tables would refuse."""
    for opt in O.TCPWRAP_OPTIONS:
        if opt in opts:
            loaded = libwrap.load()
            if loaded.lib is None:
                raise SocatError(f'option "{opt.name}": libwrap (tcp wrappers) is not available: {loaded.error}')
            return


def refusal(opts: OptionValues, fd: int, family: int, peer: tuple, local: tuple | None,
            peer_text: str) -> str | None:
    """REASON when tcpwrap is on and hosts_access() says no; None otherwise."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    wrap = TcpWrap.from_options(opts)
    if wrap is None or wrap.permits(fd, family, peer, local, peer_text):
        return None
    return REASON
