"""`framed`: an Endpoint that wraps a stream Endpoint and keeps packet boundaries over it.

Each packet sent becomes one frame (pysocat.framing: RFC 4571 16-bit length by default,
32-bit with framed=wide); each complete frame read becomes one packet. The engine sees an
ordinary Endpoint that keeps boundaries, so `TUN:... TCP:host:port,framed` needs nothing
from the engine. A bad or truncated frame raises FramingError (a SocatError naming the
address and the byte offset) from `receive()`: the engine logs it and ends that
direction, and no partial packet is ever delivered to the packet side.
"""
from __future__ import annotations

from ..record import dataclass, field

import select
import time

from ..endpoint import Endpoint
from ..framing import (
    HELLO_SIZE, VNET_HDR_SIZE, WIDE_DEFAULT_MAX, Agreement, Cap, FrameDecoder, FrameFormat, FramingError, Hello,
    caps_from_tun_offload, decode_hello, encode, encode_hello, frame_header, is_hello, tun_offload_from_caps,
    validate_vnet_header, vnet_native_to_wire, vnet_wire_to_native,
)
from ..log import LOG

# A framed stream is read in large chunks whatever -b says: a chunk is not a packet, and
# one read can then deliver a burst of packets (a 64 KiB frame and its header in one read).
FRAMED_READ_SIZE = 4 * 65536


@dataclass
class FramedEndpoint(Endpoint):
    """The framed view of `inner`; it owns `inner` and closes it."""

    inner: Endpoint | None = None
    frame_format: FrameFormat = FrameFormat.RFC4571
    decoder: FrameDecoder = field(default_factory=FrameDecoder)
    frames_sent: int = 0
    bytes_sent: int = 0  # stream bytes written, headers included
    # A bad frame found after sound packets in one read: raised by the next receive().
    # The engine should call receive() again at once when this is set (not wait for poll).
    pending_error: FramingError | None = None
    first_frame_seen: bool = False

    @classmethod
    def wrap(cls, inner: Endpoint, frame_format: FrameFormat = FrameFormat.RFC4571,
             max_length: int | None = None, allow_zero: bool = False) -> FramedEndpoint:
        """`max_length`: the largest frame accepted (default: all the format can say, bounded
        for wide frames); `allow_zero`: whether empty packets (UDP) may cross."""
        framed = cls(
            label=inner.label,
            read_fd=inner.read_fd,
            write_fd=inner.write_fd,
            policy=inner.policy,
            keeps_boundaries=True,
            read_eof_errnos=inner.read_eof_errnos,
            owns_fds=False,
            packet_size=max(FRAMED_READ_SIZE, inner.packet_size),
            inner=inner,
            frame_format=frame_format,
            decoder=FrameDecoder(max_length, allow_zero, frame_format, label=inner.label),
        )
        framed.on_close.append(inner.close)
        return framed

    def receive(self, size: int) -> list[bytes] | None:
        """The complete packets read; FramingError for a bad or truncated frame. Sound
        packets that came before a bad frame in the same read are delivered first, and
        the error is raised by the next call (see `pending_error`)."""
        assert self.inner is not None
        if self.pending_error is not None:
            raise self.pending_error
        chunks = self.inner.receive(size)
        if chunks is None:
            self.decoder.finish()  # raises when the stream ended inside a frame
            return None
        packets: list[bytes] = []
        for chunk in chunks:
            try:
                packets += self.decoder.feed(chunk)
            except FramingError as err:
                packets += err.packets
                if not packets:
                    raise
                self.pending_error = err
                break
        if packets and not self.first_frame_seen:
            self.first_frame_seen = True
            if is_hello(packets[0]):
                self._answer_hello(packets.pop(0))
        return packets

    def _answer_hello(self, message: bytes) -> None:
        """A peer with tun-offload opened with a HELLO: say that this end does not offload
        (so it stops or falls back), and never pass the HELLO on as a packet."""
        decode_hello(message, self.label, 0)
        LOG.notice(f"{self.label}: the peer asks for offload; this end has no tun-offload")
        caps = Cap.WIDE if self.frame_format is FrameFormat.WIDE else Cap(0)
        self.inner.send(frame_header(HELLO_SIZE, self.frame_format) +  # type: ignore[union-attr]
                        encode_hello(Hello(caps, 0xFFFF, self.decoder.max_length)))

    def send_many(self, packets: list[bytes]) -> None:
        """A burst of packets becomes one write of consecutive frames."""
        if type(self).send is not FramedEndpoint.send:
            super().send_many(packets)  # a subclass rewrites each packet in send()
            return
        assert self.inner is not None
        fmt, label = self.frame_format, self.label
        parts = []
        for packet in packets:
            parts.append(frame_header(len(packet), fmt, label))
            parts.append(packet)
        wire = b"".join(parts)
        self.inner.send(wire)
        self.frames_sent += len(packets)
        self.bytes_sent += len(wire)

    def buffered(self) -> bool:
        return self.pending_error is not None

    def send(self, data: bytes) -> None:
        assert self.inner is not None
        header = frame_header(len(data), self.frame_format, self.label)
        self.inner.send(header + data)
        self.frames_sent += 1
        self.bytes_sent += len(header) + len(data)

    def shutdown_write(self) -> None:
        assert self.inner is not None
        self.inner.shutdown_write()
        self.write_fd = self.inner.write_fd


HANDSHAKE_TIMEOUT = 10.0


@dataclass
class OffloadFramedEndpoint(FramedEndpoint):
    """Framed stream carrying a TUN's offload packets (virtio-net header + up to 64 KiB).

    Made by `handshake()`: HELLOs are exchanged first (pysocat.framing documents them);
    without agreement it stops with a clear error rather than sending packets the peer
    could not take. Packets given to send() come from the TUN (native header); packets
    returned by receive() go to the TUN, each header checked before it is let through."""

    agreement: Agreement | None = None
    pi_len: int = 0  # 4 when the TUNs carry packet information before the header
    l3_offset: int = 0  # where the IP header starts after the virtio-net header (14 on a TAP)

    @classmethod
    def handshake(cls, inner: Endpoint, tun: Endpoint, timeout: float = HANDSHAKE_TIMEOUT) -> OffloadFramedEndpoint:
        """`tun` is the TunEndpoint opened with tun-offload (its `offload`, `mtu`, `link`,
        `packet_info` are used; its TUNSETOFFLOAD is narrowed to what both ends have)."""
        bits = int(getattr(tun, "offload", 0))
        local = Hello(caps_from_tun_offload(bits) | Cap.VNET | Cap.WIDE, int(getattr(tun, "mtu", 1500)),
                      WIDE_DEFAULT_MAX)
        inner.send(encode(encode_hello(local)))
        remote = decode_hello(_read_first_frame(inner, timeout), inner.label, 0)
        from ..framing import negotiate

        agreement = negotiate(local, remote)
        if not agreement.offload:
            raise FramingError(f"{inner.label}: tun-offload: {agreement.reason}; use tun-offload on both ends "
                               f"or on neither")
        LOG.notice(f"{inner.label}: {agreement.reason}")
        narrowed = tun_offload_from_caps(agreement.caps)
        if narrowed != bits and tun.read_fd is not None:
            import fcntl

            from ..addresses.tun import TUNSETOFFLOAD

            fcntl.ioctl(tun.read_fd, TUNSETOFFLOAD, narrowed)
            tun.offload = narrowed  # type: ignore[attr-defined]
        framed = cls.wrap(inner, FrameFormat.WIDE, max_length=WIDE_DEFAULT_MAX)
        framed.decoder._base = 2 + HELLO_SIZE  # offsets count from the stream's first byte
        framed.agreement = agreement
        framed.first_frame_seen = True
        framed.pi_len = 4 if getattr(tun, "packet_info", False) else 0
        framed.l3_offset = 14 if getattr(tun, "link", "tun") == "tap" else 0
        return framed

    def send(self, data: bytes) -> None:
        cut = self.pi_len + VNET_HDR_SIZE
        if len(data) < cut:
            raise FramingError(f"{self.label}: a {len(data)}-byte packet from the TUN has no virtio-net header")
        header = vnet_native_to_wire(data[self.pi_len:cut])
        super().send(data[:self.pi_len] + header + data[cut:])

    def receive(self, size: int) -> list[bytes] | None:
        frames = super().receive(size)
        if not frames:
            return frames
        assert self.agreement is not None
        offsets = self.decoder.frame_offsets
        out: list[bytes] = []
        for index, frame in enumerate(frames):
            offset = offsets[index] if index < len(offsets) else self.decoder.offset
            if len(frame) < self.pi_len:
                raise FramingError(f"{self.label}: frame at byte offset {offset} is shorter than its packet information")
            header, packet = validate_vnet_header(frame[self.pi_len:], self.agreement.caps, self.l3_offset,
                                                  self.label, offset)
            out.append(frame[:self.pi_len] + vnet_wire_to_native(header.pack("big")) + bytes(packet))
        return out


def _read_first_frame(inner: Endpoint, timeout: float) -> bytes:
    """The peer's first RFC 4571 frame, read exactly (nothing of what follows is consumed)."""
    deadline = time.monotonic() + timeout
    data = b""
    need = 2
    while True:
        while len(data) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FramingError(f"{inner.label}: no offload handshake from the peer within {timeout:g} s "
                                   f"(the peer does not offload)")
            assert inner.read_fd is not None
            ready, _, _ = select.select([inner.read_fd], [], [], left)
            if not ready:
                continue
            chunks = inner.receive(need - len(data))
            if chunks is None:
                raise FramingError(f"{inner.label}: the peer closed the stream during the offload handshake "
                                   f"({len(data)} bytes received)")
            data += b"".join(chunks)
        if need == 2:
            need = 2 + int.from_bytes(data[:2], "big")
            if need - 2 > 4 * HELLO_SIZE:
                break  # not a HELLO: decode_hello says so
            continue
        break
    return data[2:need] if len(data) >= need else data[2:]


__all__ = ["FRAMED_READ_SIZE", "FramedEndpoint", "OffloadFramedEndpoint"]
