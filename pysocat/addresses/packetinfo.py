"""Ancillary messages on datagram receives, as socat reports them (xiodopacketinfo).

Only addresses given one of option_table.ANCILLARY_OPTIONS (ip-recvttl, ip-pktinfo,
so-timestamp, ipv6-recvhoplimit, ...) read with recvmsg() and a control buffer; the others
keep their plain recvfrom(). What socat does, measured with 1.7.4.4 on loopback:
- every datagram read by RECV, SENDTO and DATAGRAM addresses: each message is logged
  (debug line, IPv4 notice, one info line per item), and no variable is set;
- the packet that a RECVFROM waits for (peeked, before it forks or reads it): the same
  lines, and each item is exported (SOCAT_IP_TTL=53, ...) for the programs started after
  it, a forked child's EXEC/SYSTEM included; the read of that packet logs nothing again;
- UDP-LISTEN reports nothing.
"""
from __future__ import annotations

import socket

from ..errors import SocatError
from ..log import LOG
from ..net import ancillary
from . import sockets as S
from .common import OpenContext

CONTROL_BUFFER = 1024  # socat's control buffer for recvmsg()


def report(messages: list[tuple[int, int, bytes]], ctx: OpenContext | None) -> None:
    """Logs each (level, type, data) message as socat does; with `ctx`, also sets its variables."""
    debug, info = LOG.enabled("D"), LOG.enabled("I")
    for level, kind, data in messages:
        if debug:
            LOG.debug(ancillary.debug_line(level, kind, data))
        decoded = ancillary.decode(level, kind, data)
        if decoded.notice is not None:
            LOG.notice(decoded.notice)
        for item in decoded.items:
            if info:
                LOG.info(item.info_line)
            if ctx is not None:
                S.set_env(ctx, item.variable, item.value)


def receive(sock: socket.socket, size: int) -> tuple[bytes, S.Sockaddr]:
    """One datagram and its messages, logged (RECV, SENDTO, DATAGRAM reads)."""
    data, messages, _flags, sender = sock.recvmsg(size, CONTROL_BUFFER)
    report(messages, None)
    return data, sender


def report_peeked(sock: socket.socket, ctx: OpenContext) -> None:
    """The waiting packet's messages, logged and exported (sockets.recvfrom_loop calls it,
    where an ancillary option was given, before the packet is taken)."""
    while True:
        try:
            _data, messages, _flags, _sender = sock.recvmsg(1, CONTROL_BUFFER, socket.MSG_PEEK | socket.MSG_TRUNC)
            break
        except InterruptedError:
            continue
        except OSError as err:
            raise SocatError(f"recvmsg({sock.fileno()}, ..., MSG_PEEK): {S.strerror(err)}") from None
    report(messages, ctx)
