"""INTERFACE (IF): `INTERFACE:<name>`, the raw link-level frames of a network interface
(socat: xio-interface.c, Linux AF_PACKET).

As socat 1.8: socket(AF_PACKET, SOCK_RAW, 0) bound to the interface's index with
ETH_P_ALL, PACKET_IGNORE_OUTGOING so that frames this host sends (our own writes among
them) are not read back, one frame per read and one per write. The iff-* options change
the interface flags (iff-promisc to see frames addressed to other hosts) and the flags are
put back when the address is closed; interface-mtu sets the MTU first. Both go over netlink
(pysocat.net.netlink), so pyroute2 is only imported when they are given.

A read takes the whole frame: the endpoint's packet_size is the MTU plus the link header
(and a VLAN tag), whatever -b says; a frame larger than that (a GRO super-frame) is
reported, never silently cut.
"""
from __future__ import annotations

import fcntl
import os
import select
import socket
import struct

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..net.mtu import ETHERNET_HEADER, KERNEL_DEFAULT_MTU, VLAN_TAG
from ..options import Group as G
from ..record import dataclass
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import OpenContext, apply_fd_options
from .tun import _iff_masks

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
SIOCGIFMTU = 0x8921
IFNAMSIZ = 16
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772
# link header lengths by hardware type; unknown links get room for a generous one
LINK_HEADERS = {ARPHRD_ETHER: ETHERNET_HEADER + VLAN_TAG, ARPHRD_LOOPBACK: ETHERNET_HEADER}
UNKNOWN_LINK_HEADER = 64
INTERFACE_BATCH = 64  # frames taken per wake-up at most
# options of the INTERFACE group (shared with TUN) that only a TUN device uses
TUN_ONLY = (O.TUN_DEVICE, O.TUN_NAME, O.TUN_TYPE, O.IFF_NO_PI, O.TUN_OFFLOAD)


def packet_sockaddr_text(addr: tuple, index: int | None = None) -> str:
    """socat prints a sockaddr_ll as an unknown family: `AF=17 AF=17 0x` and the 14 bytes of
    sa_data: protocol, ifindex, hardware type, packet type, address length and the first
    4 bytes of the hardware address (verified with socat 1.7.4.4)."""
    ifname, proto, pkttype, hatype, hwaddr = (tuple(addr) + (0, 0, b""))[:5]
    if index is None:
        try:
            index = socket.if_nametoindex(ifname)
        except OSError:
            index = 0
    data = struct.pack("!H", proto) + struct.pack("=iHBB", index, hatype, pkttype, len(hwaddr))
    data += (bytes(hwaddr) + bytes(8))[:4]
    return "AF=17 AF=17 0x" + data.hex()


@dataclass
class InterfaceEndpoint(Endpoint):
    """An AF_PACKET socket bound to one interface; on close the interface flags the iff-*
    options changed are put back (socat 1.8 restores them too)."""

    sock: socket.socket | None = None
    ifname: str = ""
    ifindex: int = 0
    restore_set: int = 0  # flags that were set before the iff-* options cleared them
    restore_clear: int = 0  # flags that were clear before the iff-* options set them

    def receive(self, size: int) -> list[bytes] | None:
        assert self.sock is not None
        frames: list[bytes] = []
        notice = LOG.enabled("N")
        while len(frames) < self.batch:
            try:
                data, _anc, flags, sender = self.sock.recvmsg(size)
            except BlockingIOError:
                break
            if flags & socket.MSG_TRUNC:
                LOG.warn(f'"{self.ifname}": a frame larger than {size} bytes was truncated')
            if notice:
                LOG.notice(f"received packet with {len(data)} bytes from "
                           f"{packet_sockaddr_text(sender, self.ifindex)}")
            frames.append(data)
        return frames

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        while True:
            try:
                self.sock.send(data)
                return
            except BlockingIOError:
                select.select([], [self.sock.fileno()], [])

    def shutdown_write(self) -> None:
        """A frame carries no EOF (socat does nothing either)."""
        self._closed_write = True

    def close(self) -> None:
        already = self._closed
        if self.sock is not None and not already:
            self.sock.detach()
        super().close()
        if not already and (self.restore_set or self.restore_clear):
            _restore_flags(self.ifname, self.restore_set, self.restore_clear)


def _restore_flags(name: str, set_flags: int, clear_flags: int) -> None:
    from ..net.netlink import LinkConfig, configure_link

    try:
        configure_link(LinkConfig(name, set_flags=set_flags, clear_flags=clear_flags), LOG.debug)
    except SocatError as err:
        LOG.warn(f'"{name}": restoring the interface flags: {err.text}')


def _mtu_of(sock: socket.socket, name: str) -> int:
    try:
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFMTU, struct.pack("16si12x", name.encode()[:IFNAMSIZ], 0))
        return struct.unpack("16si12x", reply)[1]
    except OSError:
        return KERNEL_DEFAULT_MTU


def _ifindex(name: str) -> int:
    try:
        return socket.if_nametoindex(name)
    except (OSError, ValueError):
        raise SocatError(f'unknown interface "{name}"') from None


@address(("INTERFACE", "IF"), ("<interface>",), (G.FD, G.SOCKET, G.INTERFACE), "INTERFACE",
         "the raw link-level frames of a network interface (AF_PACKET), one frame per read")
def open_interface(addr: ResolvedAddress, ctx: OpenContext) -> InterfaceEndpoint:
    opts = addr.options
    name = addr.params[0]
    index = _ifindex(name)
    for opt in TUN_ONLY:
        if opt in opts:
            LOG.info(f'option "{opt.name}" is for TUN devices; INTERFACE does not use it')
    mtu_wanted = opts.get(O.INTERFACE_MTU)
    if mtu_wanted is not None:
        from ..net.netlink import LinkConfig, configure_link

        configure_link(LinkConfig(name, mtu=int(mtu_wanted)))  # type: ignore[arg-type]
    socktype = int(opts.get(O.SO_TYPE, socket.SOCK_RAW))  # type: ignore[arg-type]
    sock = S.new_socket(socket.AF_PACKET, socktype, 0)
    try:
        return _configure(addr, ctx, sock, name, index)
    except BaseException:
        sock.close()
        raise


def _configure(addr: ResolvedAddress, ctx: OpenContext, sock: socket.socket, name: str,
               index: int) -> InterfaceEndpoint:
    opts = addr.options
    S.apply_socket_options(sock, opts)
    try:
        sock.bind((name, ETH_P_ALL))
    except OSError as err:
        shown = packet_sockaddr_text((name, ETH_P_ALL, 0, 0, b""))
        raise SocatError(f"bind({sock.fileno()}, {{{shown}}}, 20): {S.strerror(err)}") from None
    S.apply_connected_options(sock, opts)
    LOG.notice(f"successfully prepared local socket {packet_sockaddr_text(sock.getsockname())}")
    endpoint = InterfaceEndpoint(f'interface "{name}"', sock.fileno() if ctx.readable else None,
                                 sock.fileno() if ctx.writable else None, policy_from_options(opts),
                                 keeps_boundaries=True, sock=sock, ifname=name, ifindex=index)
    try:
        sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError as err:
        LOG.warn(f"setsockopt({sock.fileno()}, SOL_PACKET, PACKET_IGNORE_OUTGOING, {{1}}): {S.strerror(err)}")
    apply_fd_options(sock.fileno(), opts)
    mtu = _mtu_of(sock, name)
    hatype = sock.getsockname()[3]
    endpoint.packet_size = mtu + LINK_HEADERS.get(hatype, UNKNOWN_LINK_HEADER)
    # the socket is this process's alone: non-blocking, so one wake-up takes every queued frame
    os.set_blocking(sock.fileno(), False)
    endpoint.batch = INTERFACE_BATCH
    LOG.info(f'"{name}": index {index}, MTU {mtu}, reads of {endpoint.packet_size} bytes')
    # last, so that nothing can fail once the interface is changed (close() changes it back)
    set_flags, clear_flags = _iff_masks(addr)  # the same iff-* semantics as TUN
    if set_flags or clear_flags:
        from ..net.netlink import LinkConfig, configure_link

        before, _after = configure_link(LinkConfig(name, set_flags=set_flags, clear_flags=clear_flags), LOG.debug)
        endpoint.restore_set = before.flags & clear_flags
        endpoint.restore_clear = ~before.flags & set_flags
    return endpoint
