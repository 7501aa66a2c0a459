"""The transfer loop: poll, read, convert, dump, write, half-close, time out.

It follows socat's semantics (socat.c _socat/xiotransfer): at most -b bytes per read;
EOF on one side shuts down the write side of the other and starts the -t close timer
(0.5 s) for the remaining direction; -T ends the relay after that much inactivity; -u/-U
relay one way only. It knows Endpoints only, never an address type.
"""
from __future__ import annotations

import errno
import os
import select
import time
from ..record import dataclass, field

from ..errors import SocatError
from ..log import LOG
from ..endpoint import Endpoint
from .convert import RAW, convert_lineterm, split_at_escape
from .dump import Dumper
from .heap import LARGE_READ, keep_freed_memory
from .pump import Pump
from .splice import HAVE_SPLICE, ReadError, SpliceUnsupported, Splicer, spliceable

IGNOREEOF_POLL_INTERVAL = 1.0  # socat's pollintv: how often an ignoreeof reader is retried
POLL_IN = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


@dataclass
class RelaySettings:
    bufsize: int = 8192
    direction: str = "both"  # both, left-to-right (-u), right-to-left (-U)
    close_timeout: float = 0.5  # -t
    inactivity_timeout: float | None = None  # -T; a negative one fails as socat 1.7.4's poll() does
    verbose: bool = False
    hexdump: bool = False
    raw_left: str | None = None
    raw_right: str | None = None
    splice: bool = True  # allow the zero-copy path where it changes nothing visible
    # socat 1.7.4: EPIPE/ECONNRESET on read is a warning and ends that direction as an EOF
    # would (1.8: an error, exit 1)
    read_reset_ends_direction: bool = False


@dataclass
class Counters:
    packets: int = 0
    bytes: int = 0


@dataclass
class Statistics:
    left_to_right: Counters = field(default_factory=Counters)
    right_to_left: Counters = field(default_factory=Counters)

    def lines(self) -> list[str]:
        return [
            f"STATISTICS: left to right: {self.left_to_right.packets} packets(s), {self.left_to_right.bytes} byte(s)",
            f"STATISTICS: right to left: {self.right_to_left.packets} packets(s), {self.right_to_left.bytes} byte(s)",
        ]


@dataclass
class _Direction:
    source: Endpoint
    target: Endpoint
    tag: str  # ">" left to right, "<" right to left
    counters: Counters
    number: int  # socat's "socket 1" / "socket 2" numbering of the source
    done: bool = False
    read_total: int = 0
    retry_at: float = 0.0  # ignoreeof: when to read again after an EOF
    splicer: Splicer | None = None  # the zero-copy path, when nothing needs to see the bytes
    splice_considered: bool = False  # see Relay._consider_splice
    source_ready: bool = False  # poll said the source has input (or EOF, or an error)
    target_writable: bool = True  # poll said the target has room since the last write
    probe: object = None  # a poll object watching the target for room (see _room_now)
    probe_fd: int | None = None
    # a plain target is written without waiting for room (Endpoint.write_some): what it does
    # not take yet waits here, and the direction reads again only once it is all written
    nowait: bool = False
    pending: list[memoryview] = field(default_factory=list)
    # a target whose writes never wait (Endpoint.writes_without_waiting: what does not fit
    # is kept, here or as the target's backlog): after a complete write it is taken to have
    # room without asking poll; were it full, the next write keeps the rest, and poll waits then
    never_blocks: bool = False

    def has_pending(self) -> bool:
        return bool(self.pending) or (self.splicer is not None and self.splicer.pending > 0) or \
            self.target.backlog() > 0


class Relay:
    """One relay between two endpoints; `run()` returns when the transfer is over."""

    def __init__(self, left: Endpoint, right: Endpoint, settings: RelaySettings) -> None:
        self.left, self.right, self.settings = left, right, settings
        self.stats = Statistics()
        self.dumper = Dumper(settings.verbose, settings.hexdump, settings.raw_left, settings.raw_right)
        self.directions: list[_Direction] = []
        if settings.direction != "right-to-left" and left.read_fd is not None and right.write_fd is not None:
            self.directions.append(_Direction(left, right, ">", self.stats.left_to_right, 1))
        if settings.direction != "left-to-right" and right.read_fd is not None and left.write_fd is not None:
            self.directions.append(_Direction(right, left, "<", self.stats.right_to_left, 2))
        try:
            self.buffer = bytearray(settings.bufsize)  # allocated up front, as socat does
        except (MemoryError, OverflowError):
            raise SocatError("posix_memalign(): Cannot allocate memory") from None
        self.log_transfers = True
        self.pump: Pump | None = None  # the packet pump, once run() has chosen it
        for direction in self.directions:
            direction.nowait = direction.target.plain_writes()
            direction.never_blocks = direction.target.writes_without_waiting()

    def _consider_splice(self, d: _Direction) -> None:
        """The zero-copy path is taken once a read fills the whole buffer (a bulk transfer):
        a short exchange, as most forked connections are, pays neither the pipe nor the
        system calls that set it up. Without a pipe (no descriptor left) copying goes on."""
        d.splice_considered = True
        if not self._may_splice(d):
            return
        try:
            d.splicer = Splicer(self.settings.bufsize)
        except OSError as err:
            LOG.info(f"splice() pipe: {os.strerror(err.errno or 0)}; copying")

    def _may_splice(self, d: _Direction) -> bool:
        """Zero copy only where the copying path would pass the bytes through unchanged."""
        source, target = d.source, d.target
        if not HAVE_SPLICE or not self.settings.splice or self.dumper.active:
            return False
        if source.keeps_boundaries or target.keeps_boundaries or source.packet_size:
            return False
        if type(source).receive is not Endpoint.receive or type(target).send is not Endpoint.send:
            return False  # a wrapper (framed) must see every byte
        policy = source.policy
        if policy.readbytes is not None or policy.escape is not None:
            return False
        if policy.read_lineterm != RAW or target.policy.write_lineterm != RAW:
            return False
        assert source.read_fd is not None and target.write_fd is not None
        return spliceable(source.read_fd) and spliceable(target.write_fd)

    def run(self) -> None:
        """socat's loop: a direction reads only when its target has been seen writable, so
        a blocked target never makes the relay stop serving the other direction; after an
        EOF the other direction ends when it has been idle for -t seconds."""
        LOG.notice(f"starting data transfer loop with FDs {_fds(self.left)} and {_fds(self.right)}")
        if self.settings.inactivity_timeout is not None and self.settings.inactivity_timeout < 0:
            raise SocatError(self._poll_refusal(self.settings.inactivity_timeout))
        LOG.transfer_started()
        self.log_transfers = LOG.enabled("I")  # decided once: the hot path builds no unused text
        if any(max(d.source.packet_size, self.settings.bufsize) >= LARGE_READ for d in self.directions) and \
                keep_freed_memory():
            LOG.debug("mallopt(): freed read buffers are kept for reuse")
        closing = False
        last_activity = time.monotonic()
        poller = select.poll()
        registered: dict[int, int] = {}
        pump = self.pump = self._choose_pump()
        pump_paused = False  # after a hand-over the engine reads once itself
        try:
            while True:
                active = [d for d in self.directions if not d.done]
                if not active:
                    return
                now = time.monotonic()
                writing = any(d.has_pending() for d in active)  # socat would sit in write(): no -t, no -T
                if not writing and closing and now - last_activity >= self.settings.close_timeout:
                    if self.settings.inactivity_timeout is not None:
                        LOG.notice("inactivity timeout triggered")  # socat: any idle poll under -T
                    return
                if not writing and self.settings.inactivity_timeout is not None and \
                        now - last_activity >= self.settings.inactivity_timeout:
                    LOG.notice("inactivity timeout triggered")
                    return
                timeout = self._timeout(now, closing, last_activity, active, writing)
                for d in active:
                    # input a wrapper holds without its descriptor being readable: what a TLS
                    # handshake read ahead, what a TLS shutdown decrypted for the other direction
                    if not d.source_ready and d.retry_at <= now and d.source.buffered():
                        d.source_ready = True
                if any(d.source_ready and d.target_writable for d in active):
                    timeout = 0  # a direction can go on without waiting (a wrapper's buffer)
                if pump is not None and not pump_paused and not closing and not writing and timeout != 0 and \
                        len(active) == 2 and pump.ready():
                    moved, pump_paused = self._run_pump(pump, timeout)
                    if moved:
                        last_activity = time.monotonic()
                    for direction in active:
                        if direction.done and self._end_direction(direction) and not closing:
                            closing = True
                            last_activity = time.monotonic()
                    continue
                pump_paused = False
                wanted = self._interest(active, now)
                for fd in [fd for fd in registered if fd not in wanted]:
                    poller.unregister(fd)
                for fd, mask in wanted.items():
                    if registered.get(fd) != mask:
                        poller.register(fd, mask)
                registered = wanted
                events = dict(poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999))))
                for direction in active:
                    self._note_readiness(direction, events)
                for direction in active:
                    if direction.done:
                        continue
                    if direction.has_pending():
                        if not direction.target_writable:
                            continue
                        direction.target_writable = False
                        moved = self._flush(direction)
                    elif direction.source_ready and direction.target_writable:
                        direction.source_ready = direction.target_writable = False
                        moved = self._transfer(direction)
                    else:
                        continue
                    if not direction.done:
                        if direction.source.buffered():
                            direction.source_ready = True
                        direction.target_writable = not direction.has_pending() and (
                            direction.never_blocks or self._room_now(direction))
                    if moved:
                        last_activity = time.monotonic()
                        for other in self.directions:
                            other.retry_at = 0.0  # socat re-reads an ignoreeof side on every turn with data
                    if direction.done and self._end_direction(direction) and not closing:
                        closing = True
                        last_activity = time.monotonic()
        finally:
            self.dumper.close()
            if self.pump is not None:
                self.pump.close()
            for direction in self.directions:
                if direction.splicer is not None:
                    direction.splicer.close()
                    direction.splicer = None

    def _end_direction(self, d: _Direction) -> bool:
        """Passes an ended direction's EOF on, after its last bytes (an escape or readbytes
        end); returns whether the other direction goes on (the -t close timer starts)."""
        self._flush_waiting(d)
        d.target.shutdown_write()
        return any(not other.done for other in self.directions)

    def _choose_pump(self) -> Pump | None:
        """The packet pump (pysocat.transfer.pump), where it serves both directions and
        nothing has to see the bytes (not at -d -d -d: its transfer lines are per packet)."""
        if len(self.directions) != 2 or self.dumper.active or self.log_transfers:
            return None
        sizes = {id(d.source): self._read_size(d) for d in self.directions}
        return Pump.serving(self.directions[0].source, self.directions[0].target, lambda source: sizes[id(source)])

    def _run_pump(self, pump: Pump, timeout: float | None) -> tuple[bool, bool]:
        """Lets the pump relay until it needs the engine, and takes over where it stopped:
        counts, what it left to write, the direction that ended. Returns whether data
        moved and whether the engine must read once itself (an EOF or hang-up is coming)."""
        up, down = self.directions if self.directions[0].source is pump.packet else reversed(self.directions)
        outcome = pump.run(timeout, up.counters, down.counters)  # read_total: no readbytes here
        moved = outcome.moved or bool(outcome.up_retry or outcome.down_deliver)
        if outcome.up_retry:
            self._write(up, outcome.up_retry)
        if outcome.down_deliver:
            self._write(down, outcome.down_deliver)
        if outcome.ended is not None:
            d = up if outcome.ended == "up" else down
            if outcome.error is None:
                LOG.notice(f"socket {d.number} (fd {d.source.read_fd}) is at EOF")
                d.done = True
            elif outcome.error_call == "read":
                assert d.source.read_fd is not None
                self._read_failed(d, d.source.read_fd, outcome.error_size, outcome.error)
            else:
                self._io_error("write", d.target.write_fd, outcome.error_size, outcome.error, d.target)  # type: ignore[arg-type]
                d.done = True
        for d in (up, down):
            d.source_ready = False  # poll tells again
            d.target_writable = not d.has_pending()
        return moved, outcome.handover

    def _poll_refusal(self, timeout: float) -> str:
        """socat 1.7.4 passes a negative -T to poll(), which refuses it; its message lists
        the four descriptors it polls ({fd,events}, {-1,0} when unused) and the timeval."""
        ltr = any(d.tag == ">" for d in self.directions)
        rtl = any(d.tag == "<" for d in self.directions)
        wanted = ((self.left.read_fd, 1, ltr), (self.left.write_fd, 4, rtl),
                  (self.right.read_fd, 1, rtl), (self.right.write_fd, 4, ltr))
        fds = "".join(f"{{{fd},{events}}}" if used and fd is not None else "{-1,0}" for fd, events, used in wanted)
        seconds = int(timeout)
        micros = int(round((timeout - seconds) * 1_000_000))
        return f"xiopoll({fds}, 4, {{{seconds}.{micros:06d}}}): Invalid argument"

    def _read_failed(self, d: _Direction, fd: int, size: int, err: OSError) -> None:
        """A read error ends the direction; socat 1.7.4 warns of a reset peer (EPIPE,
        ECONNRESET) and goes on as after an EOF, where 1.8 reports an error."""
        if self.settings.read_reset_ends_direction and err.errno in (errno.EPIPE, errno.ECONNRESET):
            LOG.warn(f"read({fd}, 0x{id(self.buffer):x}, {size}): {os.strerror(err.errno or 0)}")
            LOG.notice(f"socket {d.number} to socket {3 - d.number} is in error")
            LOG.notice(f"socket {d.number} (fd {fd}) is at EOF")
        else:
            self._io_error("read", fd, size, err, d.source)
        d.done = True

    def _room_now(self, d: _Direction) -> bool:
        """After a write: does the target still have room? One zero-timeout poll of that
        descriptor instead of another turn of the loop (a packet relay's latency)."""
        fd = d.target.write_fd
        if fd is None:
            return True
        if d.probe is None or d.probe_fd != fd:
            d.probe, d.probe_fd = select.poll(), fd
            d.probe.register(fd, select.POLLOUT)
        return bool(d.probe.poll(0))

    def _interest(self, active: list[_Direction], now: float) -> dict[int, int]:
        """What to poll for: a source's input once its target is known writable, else the
        target's room (and the source too, so one poll usually answers both)."""
        wanted: dict[int, int] = {}
        for d in active:
            if d.retry_at > now or d.source.read_fd is None or d.target.write_fd is None:
                continue
            if not d.source_ready:
                wanted[d.source.read_fd] = wanted.get(d.source.read_fd, 0) | POLL_IN
            if not d.target_writable:
                wanted[d.target.write_fd] = wanted.get(d.target.write_fd, 0) | select.POLLOUT
        return wanted

    def _note_readiness(self, d: _Direction, events: dict[int, int]) -> None:
        if d.source.read_fd in events and events[d.source.read_fd] & POLL_IN:
            d.source_ready = True
        if d.target.write_fd in events and \
                events[d.target.write_fd] & (select.POLLOUT | select.POLLERR | select.POLLHUP | select.POLLNVAL):
            d.target_writable = True

    def _timeout(self, now: float, closing: bool, last: float, active: list[_Direction],
                 writing: bool = False) -> float | None:
        candidates = []
        if writing:
            pass  # output is pending: the -t and -T clocks wait (see run)
        elif closing:
            candidates.append(last + self.settings.close_timeout - now)
        if self.settings.inactivity_timeout is not None and not writing:
            candidates.append(last + self.settings.inactivity_timeout - now)
        for d in active:
            if d.retry_at > now:
                candidates.append(d.retry_at - now)
        return min(candidates) if candidates else None

    def _transfer(self, d: _Direction) -> bool:
        """Does one read from the source and writes what it held; returns whether data moved."""
        policy = d.source.policy
        size = self._read_size(d)
        if policy.readbytes is not None:
            size = min(size, policy.readbytes - d.read_total)
        fd = d.source.read_fd
        assert fd is not None
        if d.splicer is not None:
            return self._splice(d, fd, size)
        try:
            packets = d.source.receive(size) if size > 0 else None
        except SocatError as err:
            LOG.error(str(err))
            d.done = True
            return False
        except OSError as err:
            self._read_failed(d, fd, size, err)
            return False
        if packets is None:
            if policy.ignoreeof and (policy.readbytes is None or d.read_total < policy.readbytes):
                d.retry_at = time.monotonic() + IGNOREEOF_POLL_INTERVAL
                return False
            LOG.notice(f"socket {d.number} (fd {fd}) is at EOF")
            d.done = True
            return False
        if len(packets) > 1 and self._plain(d):
            d.read_total += sum(len(packet) for packet in packets)
            self._write(d, packets)
            return True
        if not d.splice_considered and len(packets) == 1 and len(packets[0]) == size:
            self._consider_splice(d)
        for data in packets:
            d.read_total += len(data)
            data, escaped = split_at_escape(data, policy.escape)
            data = convert_lineterm(data, policy.read_lineterm, d.target.policy.write_lineterm)
            self._write(d, [data])
            if escaped or d.done or (policy.readbytes is not None and d.read_total >= policy.readbytes):
                if not d.done:
                    LOG.notice(f"socket {d.number} (fd {fd}) is at EOF")
                d.done = True
                break
        return bool(packets)

    def _read_size(self, d: _Direction) -> int:
        """A packet is never cut: the larger side's packet size wins over -b (a 9000-byte
        datagram bound for a TUN with MTU 9000 is read whole); a source that states its own
        packet size (a TUN) needs no more than that, whatever the target reads."""
        target_packet = d.target.packet_size if d.source.keeps_boundaries and not d.source.packet_size else 0
        return max(self.settings.bufsize, d.source.packet_size, target_packet)

    def _splice(self, d: _Direction, fd: int, size: int) -> bool:
        splicer = d.splicer
        assert splicer is not None and d.target.write_fd is not None
        try:
            moved = splicer.move(fd, d.target.write_fd, size)
        except SpliceUnsupported:
            LOG.info(f"splice() not possible between fds {fd} and {d.target.write_fd}; copying")
            splicer.close()
            d.splicer = None
            return False
        except ReadError as err:
            self._read_failed(d, fd, size, err.os_error)
            return False
        except OSError as err:
            self._io_error("write", d.target.write_fd, size, err, d.target)
            d.done = True
            return False
        if moved is None:
            return False
        if moved == 0:
            if d.source.policy.ignoreeof:
                d.retry_at = time.monotonic() + IGNOREEOF_POLL_INTERVAL
                return False
            LOG.notice(f"socket {d.number} (fd {fd}) is at EOF")
            d.done = True
            return False
        if self.log_transfers:
            LOG.info(f"transferred {moved} bytes from {fd} to {d.target.write_fd}")
        d.read_total += moved
        d.counters.packets += 1
        d.counters.bytes += moved
        return True

    def _plain(self, d: _Direction) -> bool:
        """No byte of this direction needs to be looked at (a burst may go in one write)."""
        policy = d.source.policy
        return (not self.dumper.active and policy.readbytes is None and policy.escape is None
                and policy.read_lineterm == d.target.policy.write_lineterm)

    def _write(self, d: _Direction, packets: list[bytes]) -> None:
        """Writes the packets to the target, each as one unit (a burst in one call where the
        target can merge it); empty packets are not written."""
        fd = d.target.write_fd
        packets = [packet for packet in packets if packet]
        if fd is None or not packets:
            return
        if self.dumper.active:
            for packet in packets:
                self.dumper.block(d.tag, packet)
        total = sum(len(packet) for packet in packets)
        try:
            if d.nowait:
                d.pending.extend(memoryview(packet) for packet in packets)
                self._flush(d)
            else:
                d.target.send_many(packets)
        except SocatError as err:
            LOG.error(str(err))
            d.done = True
            return
        except OSError as err:
            self._io_error("write", fd, total, err, d.target)
            d.done = True
            return
        if self.log_transfers:
            for packet in packets:
                LOG.info(f"transferred {len(packet)} bytes from {d.source.read_fd} to {fd}")
        d.counters.packets += len(packets)
        d.counters.bytes += total

    def _flush(self, d: _Direction) -> bool:
        """Writes pending output while the target takes it; returns whether any byte went.
        A packet target takes a packet whole or not at all."""
        if d.splicer is not None and d.splicer.pending:
            return self._flush_splice(d)
        if not d.pending and d.target.backlog():
            return self._flush_backlog(d)
        moved = False
        while d.pending:
            view = d.pending[0]
            try:
                written = d.target.write_some(view)
            except OSError as err:
                self._io_error("write", d.target.write_fd, len(view), err, d.target)  # type: ignore[arg-type]
                d.pending.clear()
                d.done = True
                return moved
            if written <= 0:
                return moved
            moved = True
            if written < len(view):
                d.pending[0] = view[written:]
                return moved  # the target is full
            d.pending.pop(0)
        return moved

    def _flush_backlog(self, d: _Direction) -> bool:
        size = d.target.backlog()
        try:
            return d.target.flush_backlog()
        except OSError as err:
            self._io_error("write", d.target.write_fd, size, err, d.target)  # type: ignore[arg-type]
            d.done = True
            return False

    def _flush_splice(self, d: _Direction) -> bool:
        splicer = d.splicer
        assert splicer is not None and d.target.write_fd is not None
        before = splicer.pending
        try:
            splicer.flush(d.target.write_fd)
        except SpliceUnsupported:  # what was pending went by copy; copying from now on
            splicer.close()
            d.splicer = None
            return True
        except OSError as err:
            self._io_error("write", d.target.write_fd, before, err, d.target)
            d.done = True
            return False
        return splicer.pending < before

    def _flush_waiting(self, d: _Direction) -> None:
        """Writes what is pending, waiting for room: the direction ends after it."""
        done, d.done = d.done, False
        while d.has_pending() and not d.done and d.target.write_fd is not None:
            select.select([], [d.target.write_fd], [])
            self._flush(d)
        d.done = done or d.done
        d.pending.clear()

    def _io_error(self, call: str, fd: int, size: int, err: OSError, endpoint: Endpoint) -> None:
        text = f"{call}({fd}, 0x{id(self.buffer):x}, {size}): {os.strerror(err.errno or 0)}"
        if endpoint.policy.cool_write and err.errno in (errno.EPIPE, errno.ECONNRESET):
            LOG.notice(text)
        else:
            LOG.error(text)


def _fds(endpoint: Endpoint) -> str:
    """socat's "[read,write]"; a one-way address shows its one descriptor twice."""
    read_fd = endpoint.read_fd if endpoint.read_fd is not None else endpoint.write_fd
    write_fd = endpoint.write_fd if endpoint.write_fd is not None else endpoint.read_fd
    return f"[{read_fd},{write_fd}]"


def relay(left: Endpoint, right: Endpoint, settings: RelaySettings | None = None) -> Statistics:
    """Relays until the transfer ends; closes nothing (the caller owns the endpoints)."""
    engine = Relay(left, right, settings or RelaySettings())
    engine.run()
    return engine.stats


__all__ = ["Relay", "RelaySettings", "Statistics", "relay", "SocatError"]
