"""`framed`: an Endpoint that wraps a stream Endpoint and keeps packet boundaries over it.

Each packet sent becomes one frame (pysocat.framing: RFC 4571 16-bit length by default,
32-bit with framed=wide); each complete frame read becomes one packet. The engine sees an
ordinary Endpoint that keeps boundaries, so `TUN:... TCP:host:port,framed` needs nothing
from the engine. A bad or truncated frame raises FramingError (a SocatError naming the
address and the byte offset) from `receive()`: the engine logs it and ends that
direction, and no partial packet is ever delivered to the packet side.

Writing never waits over a plain socket: the frames go out in one gathering write, and
what the stream does not take is kept as the endpoint's backlog (the engine waits for room
and calls flush_backlog()). A tunnel relay blocked inside a write would leave the other
direction, the peer's ACKs, unread meanwhile; measured between two namespaces that cost a
quarter of the throughput. Packets read are views of the chunk read, not copies.
"""
from __future__ import annotations

import select
from collections.abc import Callable

from ..record import dataclass, field

from ..endpoint import IOV_MAX, Endpoint, drop_written
from ..framing import (
    HELLO_SIZE, Cap, FrameDecoder, FrameFormat, FramingError, Hello, decode_hello, encode_hello, frame_header, is_hello,
)
from ..log import LOG

# A framed stream is read in large chunks whatever -b says: a chunk is not a packet, and
# one read can then deliver a burst of packets (a 64 KiB frame and its header in one read).
FRAMED_READ_SIZE = 4 * 65536
Frame = bytes | bytearray | memoryview | tuple  # a packet, or the parts of one (see send_frames)
_HEADERS = {fmt.value: (fmt.struct.pack, fmt.wire_max) for fmt in FrameFormat}  # by value: no Enum hashing


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
    hello_mtu: int = 0xFFFF  # the MTU a HELLO answer states (pairing sets the TUN's)
    _backlog: list[bytes | memoryview] = field(default_factory=list)  # stream bytes not written yet
    _no_wait: bool | None = None  # writes_without_waiting(), once known

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
            sound, error = self.decode_checked(lambda: self.decoder.feed(chunk))
            packets += sound  # type: ignore[arg-type]
            if error is not None:
                if not packets:
                    raise error
                self.pending_error = error
                break
        if packets and not self.first_frame_seen:
            self.first_frame_seen = True
            if is_hello(packets[0]):
                self._answer_hello(packets.pop(0))
        return packets

    def decode_checked(self, decode: Callable[[], list[bytes | memoryview]],
                       ) -> tuple[list[bytes | memoryview], FramingError | None]:
        """The packets of the frames `decode()` gives (a feed of the decoder, or its resume
        after the packet pump), each through checked(): all of them, or the sound ones
        before a bad frame or header and the error that stopped them."""
        try:
            frames, error = decode(), None
        except FramingError as err:
            frames, error = list(err.packets), err
        try:
            return self.checked(frames), error
        except FramingError as err:
            return list(err.packets), err

    def checked(self, frames: list[bytes | memoryview]) -> list[bytes | memoryview]:
        """The packets these decoded frames carry (an offload stream checks each header
        here: FramingError, its `packets` the sound ones before the bad one)."""
        return frames

    def _answer_hello(self, message: bytes) -> None:
        """A peer with tun-offload opened with a HELLO: say that this end does not offload
        (so it stops or falls back), and never pass the HELLO on as a packet."""
        decode_hello(message, self.label, 0)
        LOG.notice(f"{self.label}: the peer asks for offload; this end has no tun-offload")
        caps = Cap.WIDE if self.frame_format is FrameFormat.WIDE else Cap(0)
        # after the frames already on their way (never inside one)
        self._write_parts([frame_header(HELLO_SIZE, self.frame_format) +
                           encode_hello(Hello(caps, self.hello_mtu, self.decoder.max_length))])

    def send_many(self, packets: list[bytes]) -> None:
        """A burst of packets becomes one write of consecutive frames."""
        self.send_frames(packets)

    def send(self, data: bytes) -> None:
        self.send_frames([data])

    def send_frames(self, packets: list[Frame]) -> None:
        """Writes the frames with one gathering write. Over a plain descriptor nothing waits:
        what the stream does not take now is kept (the backlog) and written, in order,
        when the engine sees room; the other direction goes on meanwhile. Over TLS the
        write waits."""
        self._write_parts(self.wire_parts(packets))

    def _write_parts(self, parts: list[bytes | memoryview]) -> None:
        inner = self.inner
        assert inner is not None
        if not self.writes_without_waiting():
            inner.send_parts(parts)
            return
        self._backlog.extend(parts)
        self.flush_backlog()

    def wire_parts(self, packets: list[Frame]) -> list[bytes | memoryview]:
        """The stream bytes for these packets: each length header, then the packet as it is
        (its payload is not copied on its way to the stream). A packet given as a tuple of
        parts is framed as their concatenation, so a wrapper that rewrites a header copies
        nothing. FramingError for a packet the format cannot carry, naming the address."""
        return self._frame(packets)

    def _frame(self, packets: list[Frame]) -> list[bytes | memoryview]:
        pack, limit = _HEADERS[self.frame_format.value]
        parts: list[bytes | memoryview] = []
        total = 0
        for packet in packets:
            whole = type(packet) is not tuple
            length = len(packet) if whole else sum(map(len, packet))
            if length > limit:
                frame_header(length, self.frame_format, self.label)  # raises, naming the address
            parts.append(pack(length))
            if whole:
                parts.append(packet)  # type: ignore[arg-type]
            else:
                parts.extend(packet)
            total += length
        self.frames_sent += len(packets)
        self.bytes_sent += total + len(packets) * self.frame_format.header_size
        return parts

    def keep_unsent(self, rest: bytes) -> None:
        """The rest of a frame the packet pump began writing: written before anything else."""
        self._backlog.insert(0, rest)

    def writes_without_waiting(self) -> bool:
        """Asked once (it costs an fstat): the stream below does not change."""
        if self._no_wait is None:
            self._no_wait = self.inner is not None and self.inner.writes_without_waiting()
        return self._no_wait

    def backlog(self) -> int:
        return sum(map(len, self._backlog)) if self._backlog else 0

    def flush_backlog(self) -> bool:
        """Writes what the stream takes now; returns whether any byte went."""
        assert self.inner is not None
        moved = False
        backlog = self._backlog
        while backlog:
            try:
                written = self.inner.write_some_parts(backlog[:IOV_MAX])
            except OSError:
                backlog.clear()  # the stream is broken: the error is reported, nothing is retried
                raise
            if written <= 0:
                return moved
            moved = True
            drop_written(backlog, written)
        return moved

    def buffered(self) -> bool:
        """An error held back, or bytes the stream below holds without its descriptor being
        readable (a TLS connection's decrypted records)."""
        return self.pending_error is not None or (self.inner is not None and self.inner.buffered())

    def shutdown_write(self) -> None:
        assert self.inner is not None
        self._drain_waiting()
        self.inner.shutdown_write()
        self.write_fd = self.inner.write_fd


    def _drain_waiting(self) -> None:
        """The backlog, all of it, waiting for room (before EOF is passed on)."""
        while self._backlog and self.write_fd is not None:
            if not self.flush_backlog():
                select.select([], [self.write_fd], [], 1.0)


__all__ = ["FRAMED_READ_SIZE", "FramedEndpoint"]
