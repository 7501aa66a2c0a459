"""The one interface between opened addresses and the relay engine.

An address family opens its address and returns an Endpoint: descriptors to read and
write, whether each read is one packet, and how to shut the write side down and close.
The engine sees nothing else, so a new address type never touches the engine.
"""
from __future__ import annotations

import os
import select
import socket
import stat
import time
from .record import dataclass, field
from collections.abc import Callable

from . import option_table as O
from .log import LOG
from .options import OptionValues
from .transfer.convert import CR, CRNL, RAW


@dataclass
class TransferPolicy:
    """What the APPL and shut options of an address ask of the engine."""

    read_lineterm: str = RAW  # how lines end in data read from this address
    write_lineterm: str = RAW  # how lines must end in data written to it
    ignoreeof: bool = False
    readbytes: int | None = None
    escape: int | None = None
    shut: str = "default"  # default, none, down, close, null
    end_close: bool = False
    cool_write: bool = False


# Every option policy_from_options() looks at (a unit test reads them from its code): an
# address with none of them gets the default policy without naming (and, in a forked
# connection child, copying the memory of) each of their records.
POLICY_OPTIONS = frozenset({O.CRNL, O.CR, O.SHUT_NONE, O.SHUT_DOWN, O.SHUT_CLOSE, O.SHUT_NULL, O.READBYTES, O.ESCAPE,
                            O.IGNOREEOF, O.END_CLOSE, O.COOL_WRITE})


def policy_from_options(opts: OptionValues) -> TransferPolicy:
    if POLICY_OPTIONS.isdisjoint(opts.values):
        return TransferPolicy()
    lineterm = RAW
    for opt, _value in opts.occurrences:
        if opt is O.CRNL:
            lineterm = CRNL
        elif opt is O.CR:
            lineterm = CR
    shut = "default"
    for opt, _value in opts.occurrences:
        if opt in (O.SHUT_NONE, O.SHUT_DOWN, O.SHUT_CLOSE, O.SHUT_NULL):
            shut = {O.SHUT_NONE: "none", O.SHUT_DOWN: "down", O.SHUT_CLOSE: "close", O.SHUT_NULL: "null"}[opt]
    readbytes = opts.get(O.READBYTES)
    escape = opts.get(O.ESCAPE)
    return TransferPolicy(
        read_lineterm=lineterm,
        write_lineterm=lineterm,
        ignoreeof=opts.flag(O.IGNOREEOF),
        readbytes=int(readbytes) if readbytes is not None else None,
        escape=int(escape) & 0xFF if escape is not None else None,
        shut=shut,
        end_close=O.END_CLOSE in opts,
        cool_write=opts.flag(O.COOL_WRITE),
    )


# A packet endpoint with batch > 1 takes what is queued behind a packet in the same wake-up
# only when the link is busy: a packet within BUSY_GAP seconds of the last one, or one of
# BULK_PACKET bytes or more (bulk traffic comes in full-sized packets).
BUSY_GAP = 0.0005
BULK_PACKET = 1024
IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024  # buffers one writev() takes


@dataclass
class Endpoint:
    """An opened address as the engine sees it."""

    label: str
    read_fd: int | None
    write_fd: int | None
    policy: TransferPolicy = field(default_factory=TransferPolicy)
    keeps_boundaries: bool = False
    on_close: list[Callable[[], None]] = field(default_factory=list)
    read_eof_errnos: tuple[int, ...] = ()  # errnos a read turns into EOF (EIO on a pty master)
    owns_fds: bool = True  # False for a dual address, whose parts close their own
    packet_size: int = 0  # the largest packet one read may return: the engine never reads less
    batch: int = 1  # packets one receive() may collect (the opener made the descriptor non-blocking)
    _closed_write: bool = False
    _closed: bool = False

    def receive(self, size: int) -> list[bytes] | None:
        """One read of at most `size` bytes, as the packets it holds ([] when nothing was
        ready, None at EOF). A wrapper (framed) may turn one read into several packets or
        none; a plain descriptor returns what read(2) gave. OSError propagates to the
        engine, which reports it in socat's words."""
        assert self.read_fd is not None
        try:
            data = os.read(self.read_fd, size)
        except BlockingIOError:
            return []
        except OSError as err:
            if err.errno in self.read_eof_errnos:
                return None
            raise
        if not data:
            return None
        if self.batch == 1:
            return [data]
        now = time.monotonic()
        busy = now - self._last_read < BUSY_GAP or len(data) >= BULK_PACKET
        self._last_read = now
        if not busy:
            return [data]  # an idle link (a ping): the extra read would only find EAGAIN, and delay this one
        packets = [data]
        while len(packets) < self.batch:  # what is already queued, without another poll
            try:
                more = os.read(self.read_fd, size)
            except OSError:
                break  # EAGAIN, or an error the next read reports
            if not more:
                break  # EOF: the next receive() reports it
            packets.append(more)
        return packets

    _last_read: float = 0.0  # monotonic time of the last read (batch > 1: is the link busy?)

    def send_many(self, packets: list[bytes]) -> None:
        """Writes several packets, each as one unit; a wrapper may merge them into one write."""
        for packet in packets:
            self.send(packet)

    def buffered(self) -> bool:
        """Whether receive() has something to return without the descriptor being readable
        (a wrapper holding an error found behind sound packets)."""
        return False

    def send(self, data: bytes) -> None:
        """Writes all of `data` as one unit (one packet on a packet address); waits while
        the descriptor is full. OSError propagates to the engine."""
        fd = self.write_fd
        if fd is None:
            return
        view = memoryview(data)
        while True:
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                select.select([], [fd], [])
                continue
            if written >= len(view):
                return
            view = view[written:]

    def send_parts(self, parts: list[bytes | memoryview]) -> None:
        """Writes the concatenation of `parts` as send() would, without building it: one
        writev(2) gathers them (a framed burst: headers and packets as read), where an
        endpoint that overrides send() (TLS) gets them joined."""
        fd = self.write_fd
        if fd is None:
            return
        if type(self).send is not Endpoint.send:
            self.send(b"".join(parts))
            return
        views = list(parts)
        while views:
            try:
                written = os.writev(fd, views[:IOV_MAX])
            except BlockingIOError:
                select.select([], [fd], [])
                continue
            drop_written(views, written)

    def plain_writes(self) -> bool:
        """Whether send() and send_many() are Endpoint's own (no wrapper rewrites the bytes):
        the engine may then write with write_some() itself and keep what does not fit."""
        return type(self).send is Endpoint.send and type(self).send_many is Endpoint.send_many

    def writes_without_waiting(self) -> bool:
        """Whether a write never waits for room: what the descriptor does not take is kept
        (the engine's pending output, or the endpoint's own backlog) and written when poll
        says there is room. True for a plain socket (MSG_DONTWAIT) or non-blocking descriptor."""
        fd = self.write_fd
        if fd is None or not self.plain_writes():
            return False
        try:
            return stat.S_ISSOCK(os.fstat(fd).st_mode) or not os.get_blocking(fd)
        except OSError:
            return False

    def backlog(self) -> int:
        """How many bytes of output the endpoint itself keeps for later (see FramedEndpoint)."""
        return 0

    def flush_backlog(self) -> bool:
        """Writes what the descriptor takes of the backlog now; returns whether any byte went."""
        return False

    def write_some_parts(self, parts: list[bytes | memoryview]) -> int:
        """write_some() for the concatenation of `parts`, in one gathering call."""
        fd = self.write_fd
        if fd is None:
            return sum(map(len, parts))
        sender = self._socket_sender(fd)
        try:
            if sender is not None:
                return sender.sendmsg(parts, (), socket.MSG_DONTWAIT)
            return os.writev(fd, parts)
        except BlockingIOError:
            return 0

    _sender: socket.socket | None = None  # write_some()'s view of a socket write_fd
    _sender_fd: int | None = None

    def write_some(self, data: memoryview) -> int:
        """Writes what the target takes now, and says how much: a socket without waiting
        for room (MSG_DONTWAIT), another descriptor as write(2) does (a blocking pipe waits).
        The engine keeps the rest and waits for room in its poll loop, where the other
        direction goes on meanwhile (see Splicer.move). OSError propagates to the engine."""
        fd = self.write_fd
        if fd is None:
            return len(data)
        sender = self._socket_sender(fd)
        try:
            if sender is not None:
                return sender.send(data, socket.MSG_DONTWAIT)
            return os.write(fd, data)
        except BlockingIOError:
            return 0

    def _socket_sender(self, fd: int) -> socket.socket | None:
        """The socket object write_some() sends with on `fd` (None: no socket), made once."""
        if self._sender_fd != fd:
            self._release_sender()
            self._sender = _socket_view(fd)
            self._sender_fd = fd
        return self._sender

    def _release_sender(self) -> None:
        if self._sender is not None:
            self._sender.detach()  # the descriptor stays the endpoint's
        self._sender = self._sender_fd = None

    def shutdown_write(self) -> None:
        """Passes EOF on: shutdown(SHUT_WR) a socket, close a separate write descriptor."""
        if self._closed_write or self.write_fd is None:
            return
        self._closed_write = True
        how = self.policy.shut
        if how == "none" or self.policy.end_close:
            return  # end-close: the descriptor may be shared (a forking listener's children), so only close() it
        if how == "null":
            self.send_empty()
            return
        fd = self.write_fd
        sock = None if how == "close" else self._sender if self._sender_fd == fd else _socket_view(fd)
        if sock is None and (how == "close" or (how == "default" and fd != self.read_fd)):
            if fd != self.read_fd:
                _close_quietly(fd)
                self.write_fd = None
            return
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError as err:
                LOG.info(f"shutdown({fd}, 1): {os.strerror(err.errno or 0)}")
            finally:
                if sock is not self._sender:
                    sock.detach()

    def send_empty(self) -> None:
        """shut-null: a zero-length write, which a datagram socket sends as an empty packet."""
        if self.write_fd is not None:
            try:
                os.write(self.write_fd, b"")
            except OSError as err:
                LOG.info(f"write({self.write_fd}, ..., 0): {os.strerror(err.errno or 0)}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._release_sender()
        if self.owns_fds:
            for fd in {fd for fd in (self.read_fd, self.write_fd) if fd is not None and fd > 2}:
                _close_quietly(fd)
        for hook in self.on_close:
            hook()


def drop_written(parts: list[bytes | memoryview], written: int) -> None:
    """Removes the first `written` bytes from a list of buffers (after a short gathering write)."""
    whole = 0
    while whole < len(parts) and written >= len(parts[whole]):
        written -= len(parts[whole])
        whole += 1
    del parts[:whole]
    if written:
        parts[0] = memoryview(parts[0])[written:]


def _socket_view(fd: int) -> socket.socket | None:
    """A socket object on `fd` (which it does not own: detach() it), or None if `fd` is no
    socket. Family and type as given need not be the socket's: they only spare the
    getsockopt() calls that would find them out; send() and shutdown() work on any."""
    try:
        return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, fileno=fd)
    except OSError:
        return None


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
