"""The packet pump: a framed tunnel's steady state (packets in, frames out; frames in,
packets out) run in C, where pysocat/transfer/_pump.c compiled.

Why: a ping through a framed TUN tunnel wakes the relays four times, 50 ms apart, and each
wake-up of the interpreter costs far more than its system calls. bench/tun_latency.py
measures it against socat TUN/UDP's ping (runs of 2026-12-01): the smallest C framed
relay 1.16x, the smallest CPython one 1.5-1.6x, pysocat without the pump 2.4-2.9x. No
change to the Python path reached the issue's 1.2x; with the pump pysocat pings at 0.9-1.2x. The pump moves packets with the GIL released and returns at
anything else: EOF, an error, a full stream, a bad or empty frame, a signal, the timeout.
The engine's Python path then goes on from exactly there, so it stays the one reference
for behaviour: errors, EOF and byte offsets read the same either way (the tests run
both). PYSOCAT_PUMP=0 turns the pump off.

It serves one pair only: a packet endpoint that reads and writes its descriptor plainly
(a TUN, TAP, INTERFACE) and a FramedEndpoint, or an OffloadFramedEndpoint (the C code
turns the virtio-net header around and checks it as pysocat.framing does; what it does
not pass, Python checks again), over a stream that is written without waiting (a socket
or a non-blocking descriptor), in both directions, with nothing that must see the bytes
(-v/-x, -d -d -d's transfer lines, line-end conversion, readbytes, escape, ignoreeof).
"""
from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable

from ..endpoint import Endpoint
from ..record import dataclass, field
from .convert import RAW
from .framed import FramedEndpoint
from .offload import OffloadFramedEndpoint

try:
    from . import _pump as native
except ImportError:  # not compiled here: every packet goes through the Python path
    native = None  # type: ignore[assignment]

ENABLED = native is not None and os.environ.get("PYSOCAT_PUMP", "1") != "0"


@dataclass
class Outcome:
    """What one run of the pump did, in the engine's terms: `up` is the packet side's
    direction (packets to frames), `down` the stream's (frames to packets)."""

    moved: bool = False  # a packet went either way
    up_retry: list[bytes] = field(default_factory=list)  # packets the engine writes itself
    down_deliver: list[bytes | memoryview] = field(default_factory=list)  # ditto, to the packet side
    handover: bool = False  # the engine must poll and read once itself (EOF, hang-up)
    ended: str | None = None  # "up" or "down": that direction ended (see `error`)
    error: OSError | None = None  # the read or write error that ended it (None: EOF)
    error_call: str = ""  # "read" or "write"
    error_size: int = 0


def _plain_io(endpoint: Endpoint) -> bool:
    policy = endpoint.policy
    return (type(endpoint).receive is Endpoint.receive and endpoint.plain_writes() and not endpoint.read_eof_errnos
            and policy.readbytes is None and policy.escape is None and not policy.ignoreeof
            and policy.read_lineterm == RAW and policy.write_lineterm == RAW
            and endpoint.read_fd is not None and endpoint.write_fd is not None)


def _is_socket(fd: int) -> bool:
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False


class Pump:
    """The pump for one packet endpoint and one framed stream, with its buffers."""

    def __init__(self, packet: Endpoint, framed: FramedEndpoint, packet_read_size: int, stream_read_size: int) -> None:
        assert framed.inner is not None and framed.write_fd is not None
        self.packet, self.framed = packet, framed
        self.packet_read_size, self.stream_read_size = packet_read_size, stream_read_size
        fmt = framed.frame_format
        self.header_size, self.wire_max = fmt.header_size, fmt.wire_max
        self.max_length = framed.decoder.max_length
        self.packet_buffer = bytearray(packet_read_size)
        # room for a read after the start of the largest frame
        self.stream_buffer = bytearray(stream_read_size + self.header_size + self.max_length)
        self.stream_is_socket = _is_socket(framed.write_fd)
        # offload frames: the virtio-net header is turned around and checked in C too
        self.vnet = isinstance(framed, OffloadFramedEndpoint) and framed.agreement is not None
        self.caps = int(framed.agreement.caps) if self.vnet else 0  # type: ignore[union-attr]
        self.pi_len = framed.pi_len if self.vnet else 0  # type: ignore[attr-defined]
        self.l3_offset = framed.l3_offset if self.vnet else 0  # type: ignore[attr-defined]
        self.runs = 0  # how often the engine handed over to the pump
        self._wakeup: tuple[int, int] | None = None  # Python's signal wakeup pipe, while the pump owns it
        self._wakeup_tried = False

    @classmethod
    def serving(cls, source: Endpoint, target: Endpoint, read_size: Callable[[Endpoint], int]) -> Pump | None:
        """The pump for this pair (source and target of one direction; the other direction
        runs the other way), or None where it cannot serve them. `read_size(source)`: the
        engine's read size for the direction that reads `source`."""
        if not ENABLED:
            return None
        for packet, framed in ((source, target), (target, source)):
            if type(framed) in (FramedEndpoint, OffloadFramedEndpoint) and packet.keeps_boundaries and \
                    not isinstance(packet, FramedEndpoint):
                break
        else:
            return None
        inner = framed.inner
        if inner is None or not _plain_io(packet) or not _plain_io(inner) or not framed.writes_without_waiting():
            return None
        return cls(packet, framed, read_size(packet), read_size(framed))

    def ready(self) -> bool:
        """Whether the engine may hand the relay to the pump now: past the first frame (a
        HELLO is answered in Python), no error held, nothing waiting to be written."""
        framed = self.framed
        return framed.first_frame_seen and framed.pending_error is None and not framed.backlog()

    def _wakeup_fd(self) -> int:
        """The read end of Python's signal wakeup pipe, which the pump polls: a signal that
        arrives while it is not inside poll() would otherwise wait for the next packet.
        Only the main thread handles signals (and may set the pipe); elsewhere, or where
        the process has a pipe already, the pump goes without (-1)."""
        if not self._wakeup_tried:
            self._wakeup_tried = True
            read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
            except ValueError:  # not the main thread
                previous = None
            if previous == -1:
                self._wakeup = (read_end, write_end)
            else:
                if previous is not None:
                    signal.set_wakeup_fd(previous)
                os.close(read_end)
                os.close(write_end)
        return self._wakeup[0] if self._wakeup else -1

    def close(self) -> None:
        """Gives Python's signal wakeup pipe back (the engine calls this when the relay ends)."""
        if self._wakeup is not None:
            signal.set_wakeup_fd(-1)
            for fd in self._wakeup:
                os.close(fd)
            self._wakeup = None

    def run(self, timeout: float | None, up_counters: object, down_counters: object) -> Outcome:
        """Relays until something needs the engine; `timeout` in seconds (None: no limit).
        The counters (`packets`, `bytes`) are the engine's statistics of each direction:
        the pump keeps them up to date itself, also for a signal handler that reads them."""
        assert native is not None
        framed, packet = self.framed, self.packet
        assert framed.read_fd is not None and framed.write_fd is not None
        assert packet.read_fd is not None and packet.write_fd is not None
        self.runs += 1
        held = framed.decoder.detach_pending()
        self.stream_buffer[:len(held)] = held
        timeout_ms = -1 if timeout is None else max(0, int(timeout * 1000 + 0.999))
        (reason, error_number, size, leftover, up_packets, up_bytes, down_packets, down_bytes, unsent,
         oversize) = native.pump(
            packet.read_fd, packet.write_fd, framed.read_fd, framed.write_fd, self.stream_is_socket,
            self.packet_read_size, self.header_size, self.max_length, self.wire_max, self.packet_buffer,
            self.stream_buffer, len(held), self.stream_read_size, timeout_ms, up_counters, down_counters,
            self._wakeup_fd(), self.vnet, self.caps, self.pi_len, self.l3_offset)
        framed.frames_sent += up_packets
        framed.bytes_sent += up_bytes + up_packets * self.header_size
        outcome = Outcome(moved=bool(up_packets or down_packets))
        consumed = down_bytes + down_packets * self.header_size
        if reason == native.PACKET_WRITE_ERROR:
            consumed += self.header_size + size  # the frame that could not be written is gone
        rest = bytes(memoryview(self.stream_buffer)[:leftover])
        outcome.down_deliver, error = framed.decode_checked(lambda: framed.decoder.resume(consumed, down_packets, rest))
        if error is not None:
            framed.pending_error = error  # the engine's next receive() reports it
        if unsent is not None:
            framed.keep_unsent(unsent)
        if reason == native.OVERSIZE:
            outcome.up_retry = [oversize]
        elif reason == native.HANDOVER:
            outcome.handover = True
        elif reason == native.PACKET_EOF:
            outcome.ended = "up"
        elif reason in (native.PACKET_READ_ERROR, native.STREAM_WRITE_ERROR):
            outcome.ended, outcome.error_size = "up", size
            outcome.error = OSError(error_number, os.strerror(error_number))
            outcome.error_call = "read" if reason == native.PACKET_READ_ERROR else "write"
        elif reason in (native.STREAM_READ_ERROR, native.PACKET_WRITE_ERROR):
            outcome.ended, outcome.error_size = "down", size
            outcome.error = OSError(error_number, os.strerror(error_number))
            outcome.error_call = "read" if reason == native.STREAM_READ_ERROR else "write"
        return outcome


__all__ = ["ENABLED", "Outcome", "Pump"]
