"""TUN and TAP: `TUN[:<if-addr>/<bits>]`, a network interface whose "wire side" pysocat serves.

Like socat's xio-tun.c: open the clone device, TUNSETIFF (tun or tap, IFF_NO_PI), then
address and flags; what socat does with SIOCSIFADDR/SIOCSIFFLAGS ioctls is done over
netlink (pysocat.net.netlink), which also gives IPv6 addresses (`TUN:[fd00::1]/64`) and
the MTU (`interface-mtu`). A read from the descriptor is exactly one packet, so the
endpoint keeps boundaries and says how large a read must be (`packet_size`: MTU plus
headers) so that no packet is ever cut, whatever -b says.

`tun-offload` opens the device with IFF_VNET_HDR and enables checksum and segmentation
offload (TUNSETOFFLOAD); every packet then starts with a virtio-net header and may be a
64 KiB super-packet. Kernels or devices that refuse get a warning and a plain TUN.

A device created here is not persistent: the kernel removes it when the last descriptor
closes, and `close()` makes sure of it (a forked child may still hold one).
"""
from __future__ import annotations

import fcntl
import os
import socket
import struct
from ..record import dataclass, field

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..net.mtu import KERNEL_DEFAULT_MTU, MtuDecision, MtuInputs, choose_mtu, read_size
from ..options import Group as G
from ..registry import ResolvedAddress, address
from .common import OpenContext, apply_fd_options, apply_named_early, os_error

# linux/if_tun.h
TUNSETIFF = 0x400454CA
TUNGETIFF = 0x800454D2
TUNGETFEATURES = 0x800454CF
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
IFF_PERSIST = 0x0800
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02
TUN_F_TSO6 = 0x04
TUN_F_TSO_ECN = 0x08
TUN_F_USO4 = 0x20
TUN_F_USO6 = 0x40
OFFLOAD_ATTEMPTS = (  # the most the kernel may accept first; USO needs Linux 6.2
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
)
VNET_HDR_SIZE = 10
IFNAMSIZ = 16
_IFREQ = struct.Struct("16sH22x")
DEFAULT_DEVICE = "/dev/net/tun"
TUN_BATCH = 64  # packets taken per wake-up at most


@dataclass
class TunEndpoint(Endpoint):
    """A TUN/TAP endpoint: what the engine and the framed/MTU wiring need to know of it.

    `packet_size` (an Endpoint field) is the read size that holds any packet whole."""

    ifname: str = ""
    link: str = "tun"  # "tun" or "tap"
    packet_info: bool = True  # packets start with the 4-byte struct tun_pi
    offload: int = 0  # TUN_F_* bits in force (TUNSETOFFLOAD); 0 after a fallback to plain frames
    has_vnet_header: bool = False  # IFF_VNET_HDR: every packet starts with a virtio-net header
    mtu: int = KERNEL_DEFAULT_MTU
    explicit_mtu: int | None = None
    has_ipv6: bool = False
    mtu_reason: str = ""
    _created: bool = field(default=False, repr=False)

    @property
    def vnet_header(self) -> bool:
        return self.has_vnet_header

    def set_offload(self, bits: int) -> None:
        """TUNSETOFFLOAD again (narrowed to what the peer takes, or 0 when it does not
        offload): from then on the kernel segments and checksums what it hands over
        itself. The virtio-net header stays on every packet (IFF_VNET_HDR is fixed)."""
        fd = self.read_fd if self.read_fd is not None else self.write_fd
        if fd is None or bits == self.offload:
            return
        try:
            fcntl.ioctl(fd, TUNSETOFFLOAD, bits)
        except OSError as err:
            raise SocatError(f'"{self.ifname}": ioctl({fd}, TUNSETOFFLOAD, 0x{bits:x}): '
                             f'{os.strerror(err.errno or 0)}') from None
        LOG.info(f'"{self.ifname}": TUNSETOFFLOAD 0x{bits:x} (was 0x{self.offload:x})')
        self.offload = bits

    def lower_mtu(self, mtu: int, why: str) -> None:
        """Sets a lower MTU (the lower of both ends' wins), so that nothing the kernel
        hands over is larger than the peer takes; a higher one is left alone."""
        if mtu >= self.mtu:
            return
        from ..net.netlink import LinkConfig, configure_link

        _before, after = configure_link(LinkConfig(self.ifname, mtu=mtu))
        LOG.notice(f'"{self.ifname}": MTU {after.mtu} (was {self.mtu}): {why}')
        self.mtu = after.mtu

    def apply_auto_mtu(self, inputs: MtuInputs) -> MtuDecision:
        """Chooses and sets the MTU from what the other side is (call once both addresses
        are open): `inputs.explicit`, link, packet_info and offload are taken from here."""
        from ..record import replace

        inputs = replace(inputs, explicit=self.explicit_mtu, link=self.link, packet_info=self.packet_info,
                         offload=self.vnet_header, has_ipv6=self.has_ipv6)
        decision = choose_mtu(inputs)
        if decision.warning:
            LOG.warn(f'"{self.ifname}": {decision.warning}')
        if decision.mtu is not None and decision.mtu != self.mtu:
            from ..net.netlink import LinkConfig, configure_link

            _before, after = configure_link(LinkConfig(self.ifname, mtu=decision.mtu))
            self.mtu = after.mtu
        self.mtu_reason = decision.reason
        LOG.notice(f'"{self.ifname}": MTU {self.mtu}: {decision.reason}')  # -d -d shows it
        self.packet_size = read_size(self.mtu, self.link, self.packet_info, self.vnet_header)
        return decision

    def close(self) -> None:
        already = self._closed
        super().close()
        if not already and self._created and self.ifname:
            _remove_if_left(self.ifname)


def _remove_if_left(name: str) -> None:
    """The kernel removes a non-persistent TUN with its last descriptor; if another
    process still holds one (a fork), remove it so that nothing outlives pysocat."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        return
    from ..net.netlink import delete_link

    if delete_link(name):
        LOG.info(f'removed interface "{name}"')


def _exists(name: str) -> bool:
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


def _set_iff(fd: int, name: str, flags: int) -> str:
    """TUNSETIFF; returns the interface name the kernel chose. socat's error wording."""
    request = _IFREQ.pack(name.encode()[:IFNAMSIZ], flags)
    try:
        reply = fcntl.ioctl(fd, TUNSETIFF, request)
    except OSError as err:
        raise SocatError(f'ioctl({fd}, TUNSETIFF, {{"{name}"}}: {os.strerror(err.errno or 0)}') from None
    LOG.debug(f"ioctl({fd}, TUNSETIFF, {{\"{name}\", 0x{flags:x}}}) -> 0")
    return _IFREQ.unpack(reply)[0].split(b"\0", 1)[0].decode(errors="replace")


def _tun_flags(fd: int) -> int:
    try:
        reply = fcntl.ioctl(fd, TUNGETIFF, _IFREQ.pack(b"", 0))
    except OSError:
        return 0
    return _IFREQ.unpack(reply)[1]


def _features(fd: int) -> int:
    try:
        return struct.unpack("I", fcntl.ioctl(fd, TUNGETFEATURES, struct.pack("I", 0)))[0]
    except OSError:
        return 0


def _enable_offload(fd: int, name: str) -> int:
    """TUNSETOFFLOAD with the most the kernel takes; 0 (and the reason logged) when none."""
    try:
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_HDR_SIZE))
    except OSError as err:
        LOG.warn(f'"{name}": ioctl({fd}, TUNSETVNETHDRSZ, {VNET_HDR_SIZE}): {os.strerror(err.errno or 0)}')
        return 0
    last = 0
    for bits in OFFLOAD_ATTEMPTS:
        try:
            fcntl.ioctl(fd, TUNSETOFFLOAD, bits)
        except OSError as err:
            last = err.errno or 0
            LOG.debug(f"ioctl({fd}, TUNSETOFFLOAD, 0x{bits:x}): {os.strerror(last)}")
            continue
        LOG.info(f'"{name}": offload enabled (TUNSETOFFLOAD 0x{bits:x})')
        return bits
    LOG.warn(f'"{name}": ioctl({fd}, TUNSETOFFLOAD, ...): {os.strerror(last)}')
    return 0


# what each TUN_F bit lets a peer write to this TUN, as a probe (gso_type, IP version, protocol)
_PROBES = ((TUN_F_CSUM, 0, 4, 6), (TUN_F_TSO4, 1, 4, 6), (TUN_F_TSO6, 4, 6, 6), (TUN_F_TSO_ECN, 0x81, 4, 6),
           (TUN_F_USO4, 5, 4, 17), (TUN_F_USO6, 5, 6, 17))


def offload_probe_packet(gso_type: int, version: int, protocol: int, link: str = "tun",
                         packet_info: bool = False) -> bytes:
    """A write that only a TUN accepting this kind of offload packet takes: virtio-net
    header (NEEDS_CSUM, the GSO type, two segments), then a packet no stack keeps: IPv4
    from and to 127.0.0.1 with a wrong header checksum, IPv6 from a multicast source to
    ::1 (both dropped on input), to another host's MAC on a TAP."""
    payload = b"\0" * 64
    l4 = struct.pack(">HHIIBBHHH", 9, 9, 0, 0, 0x50, 0x10, 1024, 0, 0) if protocol == 6 else \
        struct.pack(">HHHH", 9, 9, 8 + len(payload), 0)
    if version == 4:
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + len(payload), 0, 0x4000, 1, protocol, 0,
                                   socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")))
        from ..net.segment import ipv4_header_checksum

        good = ipv4_header_checksum(ip)
        struct.pack_into(">H", ip, 10, good - 1 if good else 1)  # wrong on purpose: dropped by ip_rcv
        ethertype = 0x0800
    else:
        ip = bytearray(struct.pack(">IHBB16s16s", 0x60000000, len(l4) + len(payload), protocol, 1,
                                   socket.inet_pton(socket.AF_INET6, "ff02::1"),
                                   socket.inet_pton(socket.AF_INET6, "::1")))
        ethertype = 0x86DD
    l2 = struct.pack(">6s6sH", b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02", ethertype) if link == "tap" else b""
    csum_start = len(l2) + len(ip)
    segmented = gso_type != 0
    header = struct.pack("=BBHHHH", 1, gso_type, csum_start + len(l4), 32 if segmented else 0, csum_start,
                         16 if protocol == 6 else 6)
    pi = struct.pack(">HH", 0, ethertype) if packet_info else b""
    return pi + header + l2 + bytes(ip) + l4 + payload


def _probe_offload(fd: int, name: str, bits: int, iff: int) -> int:
    """Writes one probe per offload bit (some kernels take TUNSETOFFLOAD but reject such
    writes with EINVAL); returns the bits whose probe passed, 0 when checksum offload or
    TSO4 fails (then the TUN falls back to plain packets). The device is still down
    here: a header the kernel takes gives EIO (not up), a rejected one EINVAL first; on
    a device that is up already the probe is taken and dropped by the IP layer."""
    import errno

    link = "tap" if iff & IFF_TAP else "tun"
    kept = bits
    for bit, gso_type, version, protocol in _PROBES:
        if not bits & bit:
            continue
        packet = offload_probe_packet(gso_type, version, protocol, link, not iff & IFF_NO_PI)
        try:
            os.write(fd, packet)
        except OSError as err:
            if err.errno in (errno.EIO, errno.EBADF):
                continue  # EIO: taken, the device is not up; EBADF: opened read-only, nothing is written
            LOG.warn(f'"{name}": offload probe 0x{bit:02x} (gso_type {gso_type}) refused: '
                     f'{os.strerror(err.errno or 0)}')
            kept &= ~bit
    if not kept & TUN_F_CSUM or (bits & TUN_F_TSO4 and not kept & TUN_F_TSO4):
        return 0
    if kept != bits:
        try:
            fcntl.ioctl(fd, TUNSETOFFLOAD, kept)
        except OSError:
            return 0
    LOG.info(f'"{name}": offload probe passed (TUNSETOFFLOAD 0x{kept:x})')
    return kept


def _iff_masks(addr: ResolvedAddress) -> tuple[int, int]:
    """socat's iff_opts[0] (flags to set) and iff_opts[1] (flags to clear, from `=0`)."""
    set_flags = clear_flags = 0
    for opt, value in addr.options.occurrences:
        bit = O.IFF_FLAGS.get(opt)
        if bit is None:
            continue
        if value:
            set_flags, clear_flags = set_flags | bit, clear_flags & ~bit
        else:
            set_flags, clear_flags = set_flags & ~bit, clear_flags | bit
    return set_flags, clear_flags


@address(("TUN",), ("<if-addr>/<bits>",), (G.FD, G.CHR, G.NAMED, G.OPEN, G.INTERFACE), "TUN",
         "a TUN/TAP network interface; pysocat serves its wire side, one packet per read",
         optional_params=1)
def open_tun(addr: ResolvedAddress, ctx: OpenContext) -> TunEndpoint:
    opts = addr.options
    device = str(opts.get(O.TUN_DEVICE, DEFAULT_DEVICE))
    apply_named_early(device, opts)
    LOG.notice("creating tunnel network interface")
    from .file import open_flags

    flags = open_flags(opts, ctx)
    try:
        fd = os.open(device, flags | os.O_CLOEXEC)
    except OSError as err:
        raise os_error(f'open("{device}", 0{flags:o}, 0666)', err) from None
    LOG.info(f'open("{device}", 0{flags:o}, 0666) -> {fd}')
    try:
        return _configure(addr, ctx, device, fd, flags)
    except BaseException:
        os.close(fd)
        raise


def _configure(addr: ResolvedAddress, ctx: OpenContext, device: str, fd: int, open_flags: int) -> TunEndpoint:
    from ..net.netlink import LinkConfig, configure_link, parse_interface_address

    opts = addr.options
    name = str(opts.get(O.TUN_NAME, ""))
    tun_type = opts.get(O.TUN_TYPE)
    iff = IFF_TUN
    if tun_type is not None:
        if tun_type == "tap":
            iff = IFF_TAP
        elif tun_type != "tun":
            raise SocatError(f'unknown tun-type "{tun_type}"')
    packet_info = not opts.flag(O.IFF_NO_PI)
    if not packet_info:
        iff |= IFF_NO_PI
    want_offload = opts.flag(O.TUN_OFFLOAD)
    if want_offload:
        if _features(fd) & IFF_VNET_HDR:
            iff |= IFF_VNET_HDR
        else:
            LOG.warn(f'{device}: the kernel has no IFF_VNET_HDR; tun-offload ignored, plain packets')
            want_offload = False
    existed = bool(name) and _exists(name)
    ifname = _set_iff(fd, name, iff)
    offload = 0
    if want_offload:
        offload = _enable_offload(fd, ifname)
        if offload:
            offload = _probe_offload(fd, ifname, offload, iff)
        if not offload:
            # a header on every packet for nothing: reopen as a plain TUN
            LOG.warn(f'"{ifname}": offload not available, falling back to plain packets')
            os.close(fd)
            fd = os.open(device, open_flags | os.O_CLOEXEC)
            ifname = _set_iff(fd, name, iff & ~IFF_VNET_HDR)
    persistent = bool(_tun_flags(fd) & IFF_PERSIST)

    addresses = [parse_interface_address(p) for p in addr.params]
    explicit_mtu = opts.get(O.INTERFACE_MTU)
    set_flags, clear_flags = _iff_masks(addr)
    state = None
    if addresses or set_flags or clear_flags or explicit_mtu is not None:
        config = LinkConfig(ifname, addresses, set_flags, clear_flags,
                            int(explicit_mtu) if explicit_mtu is not None else None,  # type: ignore[arg-type]
                            no_dad=iff & IFF_TAP == 0)
        _before, state = configure_link(config, LOG.debug)
    apply_fd_options(fd, opts)
    mtu = state.mtu if state is not None else _mtu_of(ifname)
    link = "tap" if iff & IFF_TAP else "tun"
    endpoint = TunEndpoint(
        f'tun "{ifname}"', fd if ctx.readable else None, fd if ctx.writable else None, policy_from_options(opts),
        keeps_boundaries=True,
        packet_size=read_size(mtu, link, packet_info, bool(offload)),
        ifname=ifname, link=link, packet_info=packet_info, offload=offload, has_vnet_header=bool(offload), mtu=mtu,
        explicit_mtu=int(explicit_mtu) if explicit_mtu is not None else None,  # type: ignore[arg-type]
        has_ipv6=any(a.version == 6 for a in addresses),
        _created=not existed and not persistent,
    )
    if explicit_mtu is not None:
        endpoint.mtu_reason = f"interface-mtu={explicit_mtu} given"
    # the descriptor is pysocat's alone: non-blocking, so that one wake-up takes every packet
    # already queued (a burst goes out as one write of frames) instead of one per poll
    os.set_blocking(fd, False)
    endpoint.batch = TUN_BATCH
    LOG.info(f'"{ifname}": {link} device, MTU {mtu}, reads of {endpoint.packet_size} bytes'
             f'{", packet information" if packet_info else ""}{", offload" if offload else ""}')
    return endpoint


def _mtu_of(name: str) -> int:
    """SIOCGIFMTU: the MTU without importing pyroute2 (nothing else was configured)."""
    SIOCGIFMTU = 0x8921
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            reply = fcntl.ioctl(sock.fileno(), SIOCGIFMTU, struct.pack("16si12x", name.encode()[:IFNAMSIZ], 0))
        return struct.unpack("16si12x", reply)[1]
    except OSError:
        return KERNEL_DEFAULT_MTU


def explain_mtu(tun: ResolvedAddress, other_type: str, framed: bool, frame_max: int = 0xFFFF) -> dict[str, object]:
    """What --explain shows for a TUN address before anything is opened: the MTU auto-MTU
    would choose against the other address (`other_type` its canonical type name,
    `framed` whether it has the framed option). Over UDP the path MTU is only known once
    connected, so the reason says so."""
    from ..net.mtu import classify_transport

    from ..record import replace

    opts = tun.options
    explicit = opts.get(O.INTERFACE_MTU)
    inputs = MtuInputs(
        explicit=int(explicit) if explicit is not None else None,  # type: ignore[arg-type]
        transport=classify_transport(other_type, framed), frame_max=frame_max,
        link="tap" if opts.get(O.TUN_TYPE) == "tap" else "tun", packet_info=not opts.flag(O.IFF_NO_PI),
        offload=opts.flag(O.TUN_OFFLOAD), has_ipv6=any(p.lstrip().startswith("[") for p in tun.params))
    decision = choose_mtu(inputs)
    reason = decision.reason
    if framed and explicit is None and other_type.upper().startswith(("TCP", "OPENSSL")):
        over_tcp = choose_mtu(replace(inputs, stream_mss=1448, frame_header=4 if inputs.offload else 2))  # type: ignore[arg-type]
        reason += (f"; over TCP, fitted to whole segments once connected "
                   f"({over_tcp.mtu} with an MSS of 1448: a 1500-byte path)")
    return {"mtu": decision.mtu if decision.mtu is not None else f"kernel default ({KERNEL_DEFAULT_MTU})",
            "reason": reason, "warning": decision.warning}


def explain_with_peer(tun: ResolvedAddress, other_type: str, framed: bool) -> dict[str, object]:
    """The pairing hook --explain calls (pysocat.pairing): the MTU auto-MTU would choose."""
    return {"auto-mtu": explain_mtu(tun, other_type, framed)}
