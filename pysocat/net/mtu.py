"""The auto-MTU policy for TUN/TAP (pure: inputs -> chosen MTU, reason, warning).

Why it matters: a tunnel's throughput grows with its MTU (measured through a framed TCP
tunnel: 1.3 Gbit/s at 1500, 4.8 at 9000, 9.6 at 65000), because every packet costs a
read, a write and a kernel round trip on each side. So when the user leaves the MTU
open, pysocat picks the largest one the transport carries without loss:

- explicit ``interface-mtu``: always wins; a warning when the transport cannot carry it;
- UDP: the path MTU to the peer minus the IP and UDP headers (1472 on a 1500-byte IPv4
  path), minus what the TUN adds to each packet (packet information, Ethernet header),
  so that no datagram is fragmented;
- a framed stream: the largest packet the frame format carries (65535 bytes and below;
  a TAP takes at most 65521), minus what the TUN adds. Over TCP, no more than one frame
  that the kernel sends as whole segments (see `tcp_frame_budget`): 65154 on a path
  with an MSS of 1448. Trade-off for routed use: hosts beyond the far end see a
  large-MTU hop; TCP's path MTU discovery (ICMP "fragmentation needed" from the far TUN
  host) clamps their segments, so it works where ICMP is not filtered;
- an unframed stream or an unknown transport: the kernel default, exactly as socat.

`read_size` says how large one read from the TUN must be so that no packet is cut.
The address code logs `reason` at -d -d and --explain shows it.
"""
from __future__ import annotations

import enum
from ..record import dataclass

KERNEL_DEFAULT_MTU = 1500  # what Linux gives a new TUN/TAP
MAX_TUN_MTU = 65535  # tun's max_mtu, and the largest IPv4 packet
MAX_TAP_MTU = MAX_TUN_MTU - 14  # a TAP's max_mtu: the kernel takes its Ethernet header off 65535
MIN_IPV4_MTU = 68
MIN_IPV6_MTU = 1280
ETHERNET_HEADER = 14  # a TAP packet carries it, the MTU does not count it
VLAN_TAG = 4
PI_HEADER = 4  # struct tun_pi, without iff-no-pi
VNET_HEADER = 10  # struct virtio_net_hdr, with tun-offload
IP_HEADER = {4: 20, 6: 40}
UDP_HEADER = 8
OFFLOAD_READ = VNET_HEADER + 65535  # a GSO super-packet may be 64 KiB whatever the MTU
# Linux's TCP cuts what it is given into GSO segments of at most 64 KiB less its header
# reserve (sk_gso_max_size - 1 - MAX_TCP_HEADER, 320 bytes on x86_64), in whole MSS.
TCP_GSO_BUDGET = 65536 - 1 - 320


def tcp_frame_budget(mss: int) -> int:
    """The largest frame (header included) that a TCP stream with this MSS sends as one
    train of whole segments. Why: each frame is one write, pushed at once (TCP_NODELAY);
    a frame just over it goes out as a full train and a tail of a few bytes, each with
    its own trip through both kernels. Measured between two namespaces (MSS 1448, the
    C packet pump; `TUN_MTUS=65531,65000,32000 bench/tun.py`, 2026-12-01): TUN MTU 65531
    (a 65537-byte frame) 6.9 Gbit/s; auto-MTU's 65154 (65160 bytes, 45 x 1448) 10.4;
    65000 11.5; 32000 7.5."""
    return mss * (TCP_GSO_BUDGET // mss) if 0 < mss <= TCP_GSO_BUDGET else mss


class Transport(enum.Enum):
    """What carries the TUN's packets on the other side of the relay."""

    UDP = "udp"  # one datagram per packet, size limited by the path MTU
    FRAMED = "framed"  # a stream with the `framed` option: one frame per packet
    STREAM = "stream"  # an unframed stream: boundaries lost, socat's behaviour
    PACKET = "packet"  # another packet address of unknown size limit (TUN, SOCKETPAIR)


@dataclass(frozen=True)
class MtuInputs:
    explicit: int | None = None  # interface-mtu, if given
    transport: Transport = Transport.STREAM
    path_mtu: int | None = None  # UDP: IP_MTU of the connected socket (None: unknown yet)
    ip_version: int = 4  # UDP: the underlay's IP version
    frame_max: int = 0xFFFF  # FRAMED: the largest frame payload the format and peer allow
    link: str = "tun"  # "tun" or "tap"
    packet_info: bool = True  # without iff-no-pi every packet starts with 4 bytes of tun_pi
    offload: bool = False  # tun-offload: packets carry a virtio-net header
    has_ipv6: bool = False  # an IPv6 address will be set: the MTU must be at least 1280
    frame_header: int = 2  # FRAMED: bytes of length prefix per frame (4 with framed=wide, offload)
    stream_mss: int | None = None  # FRAMED over TCP: the connected socket's TCP_MAXSEG


@dataclass(frozen=True)
class MtuDecision:
    mtu: int | None  # None: leave the kernel's default alone
    reason: str
    warning: str | None = None

    @property
    def effective(self) -> int:
        return self.mtu if self.mtu is not None else KERNEL_DEFAULT_MTU


def per_packet_overhead(link: str, packet_info: bool, offload: bool) -> int:
    """Bytes one read from the TUN holds beyond the L3 packet (the MTU)."""
    extra = ETHERNET_HEADER if link == "tap" else 0
    if packet_info:
        extra += PI_HEADER
    if offload:
        extra += VNET_HEADER
    return extra


def transport_capacity(inputs: MtuInputs) -> tuple[int | None, str]:
    """The largest MTU the transport carries whole, and how that was worked out."""
    overhead = per_packet_overhead(inputs.link, inputs.packet_info, inputs.offload)
    parts = _overhead_text(inputs)
    if inputs.transport is Transport.UDP:
        if inputs.path_mtu is None:
            return None, "the UDP path MTU is not known"
        headers = IP_HEADER.get(inputs.ip_version, 20) + UDP_HEADER
        capacity = inputs.path_mtu - headers - overhead
        return capacity, (f"UDP path MTU {inputs.path_mtu} minus {IP_HEADER.get(inputs.ip_version, 20)} "
                          f"(IPv{inputs.ip_version}) and {UDP_HEADER} (UDP) header bytes{parts}")
    if inputs.transport is Transport.FRAMED:
        capacity = min(MAX_TAP_MTU if inputs.link == "tap" else MAX_TUN_MTU, inputs.frame_max - overhead)
        return capacity, f"the largest framed packet ({inputs.frame_max} bytes){parts}"
    return None, ""


def _overhead_text(inputs: MtuInputs) -> str:
    items = []
    if inputs.link == "tap":
        items.append(f"{ETHERNET_HEADER} (Ethernet header)")
    if inputs.packet_info:
        items.append(f"{PI_HEADER} (packet information)")
    if inputs.offload:
        items.append(f"{VNET_HEADER} (virtio-net header)")
    return "".join(f" minus {item}" for item in items)


def choose_mtu(inputs: MtuInputs) -> MtuDecision:
    """The TUN's MTU for these inputs, with the reason in words and any warning."""
    floor = MIN_IPV6_MTU if inputs.has_ipv6 else MIN_IPV4_MTU
    capacity, how = transport_capacity(inputs)
    if inputs.explicit is not None:
        mtu = inputs.explicit
        warning = None
        if capacity is not None and mtu > capacity:
            warning = (f"interface-mtu={mtu} is more than the {inputs.transport.value} transport carries "
                       f"({capacity}: {how}); larger packets will be dropped")
        if mtu < floor:
            note = (f"interface-mtu={mtu} is below {floor}, the minimum for "
                    f"{'IPv6' if inputs.has_ipv6 else 'IPv4'}")
            warning = note if warning is None else f"{warning}; {note}"
        return MtuDecision(mtu, f"interface-mtu={mtu} given", warning)
    if inputs.transport is Transport.UDP:
        if capacity is None:
            return MtuDecision(None, f"{how}: left at the kernel default of {KERNEL_DEFAULT_MTU}")
        if capacity < floor:
            return MtuDecision(floor, f"{how} is {capacity}, raised to the minimum {floor}",
                               f"the UDP path carries only {capacity}-byte packets: larger ones are fragmented")
        return MtuDecision(capacity, how)
    if inputs.transport is Transport.FRAMED:
        assert capacity is not None
        if inputs.stream_mss:
            budget = tcp_frame_budget(inputs.stream_mss)
            fitting = budget - inputs.frame_header - per_packet_overhead(inputs.link, inputs.packet_info, inputs.offload)
            if floor <= fitting < capacity:
                capacity = fitting
                how = (f"the largest frame TCP sends as whole segments ({budget} bytes, "
                       f"{budget // inputs.stream_mss} x MSS {inputs.stream_mss}) minus {inputs.frame_header} "
                       f"(frame header){_overhead_text(inputs)}")
        if inputs.offload and inputs.frame_max < OFFLOAD_READ:
            return MtuDecision(max(floor, capacity), how,
                               f"offload super-packets need up to {OFFLOAD_READ} bytes per frame: use framed=wide")
        return MtuDecision(max(floor, capacity), how)
    if inputs.transport is Transport.STREAM:
        return MtuDecision(None, f"unframed stream: left at the kernel default of {KERNEL_DEFAULT_MTU}, as socat does")
    return MtuDecision(None, f"packet transport: left at the kernel default of {KERNEL_DEFAULT_MTU}")


def read_size(mtu: int, link: str = "tun", packet_info: bool = True, offload: bool = False) -> int:
    """How many bytes one read from the TUN must allow so that no packet is ever cut:
    the MTU plus every header the device adds (a TAP also a VLAN tag); with offload a
    whole 64 KiB super-packet whatever the MTU."""
    size = mtu + per_packet_overhead(link, packet_info, offload)
    if link == "tap":
        size += VLAN_TAG
    if offload:
        size = max(size, OFFLOAD_READ + (PI_HEADER if packet_info else 0) +
                   (ETHERNET_HEADER + VLAN_TAG if link == "tap" else 0))
    return size


PACKET_KEYWORDS = ("TUN", "SOCKETPAIR", "INTERFACE", "IP-", "IP4-", "IP6-", "UNIX-SENDTO", "UNIX-RECV",
                   "UNIX-DGRAM", "ABSTRACT-SENDTO", "ABSTRACT-RECV", "SCTP")


def classify_transport(address_type: str, framed: bool) -> Transport:
    """What kind of transport an address is, from its canonical type name (for --explain
    and for choosing the TUN's MTU before anything is opened)."""
    name = address_type.upper()
    if framed:
        return Transport.FRAMED
    if name.startswith(("UDP", "UDPLITE")):
        return Transport.UDP
    if name.startswith(PACKET_KEYWORDS) or name.endswith(("-DATAGRAM", "-DGRAM", "-SENDTO", "-RECVFROM")):
        return Transport.PACKET
    return Transport.STREAM


__all__ = ["MtuDecision", "MtuInputs", "Transport", "choose_mtu", "classify_transport", "read_size", "tcp_frame_budget",
           "transport_capacity"]
