"""What two opened addresses must know of each other before the transfer starts.

The engine knows nothing of address types; a few things depend on the pair, not on one
address: `framed` wraps a stream in a FramedEndpoint (with the offload handshake when the
other side is a TUN opened with tun-offload), a TUN without interface-mtu takes its MTU
from what carries its packets (auto-MTU), and a packet address relayed to an unframed
stream loses its boundaries, which deserves a warning. Endpoints announce what matters
through duck-typed attributes (`apply_auto_mtu`, `vnet_header`), so this module imports
no address family.
"""
from __future__ import annotations

import socket
from collections.abc import Callable

from . import option_table as O
from .endpoint import Endpoint
from .log import LOG
from .registry import ResolvedAddress, ResolvedDual

Resolved = ResolvedAddress | ResolvedDual


def framed_value(resolved: Resolved) -> tuple[bool, object]:
    """Whether the address asks for `framed`, and the value given (the frame format)."""
    single = resolved.reader if isinstance(resolved, ResolvedDual) else resolved
    if O.FRAMED not in single.options:
        return False, None
    return True, single.options.get(O.FRAMED)


def type_name(resolved: Resolved) -> str:
    single = resolved.reader if isinstance(resolved, ResolvedDual) else resolved
    return single.type.name


def pair(endpoints: list[Endpoint], resolved: list[Resolved], bufsize: int | None = None,
         direction: str = "both") -> list[Endpoint]:
    """Returns the endpoints the engine should relay between (framed ones wrapped);
    `bufsize` is -b when given on the command line, `direction` the relay's (-u, -U)."""
    result = list(endpoints)
    if not any(framed_value(r)[0] for r in resolved) and not any(hasattr(e, "apply_auto_mtu") for e in result):
        _warn_boundaries(result, bufsize, direction)
        return result  # the common case pays no import (a forked child starts relaying at once)
    from .framing import FrameFormat, parse_frame_format
    from .net.mtu import MtuInputs, Transport, classify_transport

    for index in (0, 1):
        other = 1 - index
        endpoint, peer = result[index], result[other]
        framed, value = framed_value(resolved[index])
        if framed and endpoint.keeps_boundaries:
            from .errors import SocatError

            raise SocatError(f'option "framed": {endpoint.label} keeps packet boundaries already; framed is '
                             f'for stream addresses')
        fmt = parse_frame_format(value) if framed else None
        tun = peer if hasattr(peer, "apply_auto_mtu") else None
        if tun is not None:
            transport = classify_transport(type_name(resolved[index]), framed)
            inputs = MtuInputs(transport=transport)
            if transport is Transport.FRAMED:
                offload = bool(getattr(tun, "vnet_header", False))
                wire = FrameFormat.WIDE if offload else fmt or FrameFormat.RFC4571
                inputs = MtuInputs(transport=transport, frame_max=wire.default_max, frame_header=wire.header_size,
                                   stream_mss=_tcp_mss(endpoint))
            elif transport is Transport.UDP and endpoint.write_fd is not None:
                from .net.pmtu import path_mtu

                known = path_mtu(endpoint.write_fd)
                if known:
                    inputs = MtuInputs(transport=transport, path_mtu=known[0], ip_version=known[1])
            tun.apply_auto_mtu(inputs)  # type: ignore[attr-defined]
        if framed:
            from .transfer.framed import FramedEndpoint

            _no_delay(endpoint)  # before the handshake: a HELLO is a small frame too
            if tun is not None and getattr(tun, "vnet_header", False):
                from .transfer.offload import handshake

                result[index] = handshake(endpoint, tun, fmt or FrameFormat.RFC4571)
            else:
                plain = FramedEndpoint.wrap(endpoint, fmt or FrameFormat.RFC4571)
                if tun is not None:
                    plain.hello_mtu = int(getattr(tun, "mtu", plain.hello_mtu))  # what a HELLO answer states
                result[index] = plain
    _warn_boundaries(result, bufsize, direction)
    return result


def _on_tcp_socket(fd: int, use: Callable[[socket.socket], object]) -> object:
    """`use(sock)` on a socket object for `fd` when it is a TCP socket (None otherwise, or
    when `use` fails with OSError); the descriptor stays the endpoint's."""
    try:
        probe = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        if probe.type == socket.SOCK_STREAM and probe.family in (socket.AF_INET, socket.AF_INET6):
            return use(probe)
        return None
    except OSError:
        return None
    finally:
        probe.detach()


def _tcp_mss(endpoint: Endpoint) -> int | None:
    """The TCP_MAXSEG of the stream below a framed address, None where it is no TCP socket
    (auto-MTU fits a frame to whole segments: pysocat.net.mtu.tcp_frame_budget)."""
    if endpoint.write_fd is None:
        return None
    mss = _on_tcp_socket(endpoint.write_fd, lambda sock: sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
    return mss if isinstance(mss, int) and mss > 0 else None


def _no_delay(endpoint: Endpoint) -> None:
    """A frame is a whole packet: send it at once. Nagle's algorithm would hold a small
    frame (a ping) back until the previous one is acknowledged, adding a delayed-ACK wait
    to the tunnel's latency."""
    for fd in {endpoint.read_fd, endpoint.write_fd} - {None}:
        _on_tcp_socket(fd, lambda sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1))  # type: ignore[arg-type]


def _warn_boundaries(result: list[Endpoint], bufsize: int | None, direction: str) -> None:
    unused = {"left-to-right": 1, "right-to-left": 0}.get(direction)  # the source -u/-U never reads
    for index in (0, 1):
        source, target = result[index], result[1 - index]
        if index == unused:
            continue
        if source.keeps_boundaries and not target.keeps_boundaries:
            LOG.warn(f"packets from {source.label} are written to the stream {target.label} without their "
                     f"boundaries; the option \"framed\" on the stream address keeps them")
        if bufsize is not None and source.packet_size > bufsize and hasattr(source, "apply_auto_mtu"):
            LOG.warn(f"-b {bufsize} is smaller than the packets of {source.label} ({source.packet_size} bytes); "
                     f"reading {source.packet_size} bytes at a time so that no packet is cut")


__all__ = ["pair", "framed_value"]


def explain_pair(resolved: list[Resolved]) -> list[dict[str, object]]:
    """What --explain says about the pair, before anything is opened: the MTU a TUN would
    get against the other address (from the family's `explain_with_peer` hook, if any)
    and whether packet boundaries would be lost on an unframed stream."""
    import sys as _sys

    from .net.mtu import Transport, classify_transport

    notes: list[dict[str, object]] = []
    kinds = [classify_transport(type_name(r), framed_value(r)[0]) for r in resolved]
    for index in (0, 1):
        other = resolved[1 - index]
        single = resolved[index].reader if isinstance(resolved[index], ResolvedDual) else resolved[index]
        opener = getattr(single.type.opener, "__wrapped__", single.type.opener)
        module = _sys.modules.get(opener.__module__)
        hook = getattr(module, "explain_with_peer", None)
        if hook is not None:
            notes.append({"address": index + 1, **hook(single, type_name(other), framed_value(other)[0])})
        own_packets = kinds[index] in (Transport.UDP, Transport.PACKET) or hook is not None
        if own_packets and kinds[1 - index] is Transport.STREAM:
            notes.append({"address": index + 1, "warning": "packet boundaries will be lost on the unframed stream "
                          f"of address {2 - index}; the option \"framed\" there keeps them"})
    return notes
