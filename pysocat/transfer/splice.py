"""Zero-copy fast path: move bytes between two stream descriptors with splice(2).

socat copies every byte through a user-space buffer; between two stream sockets (or
pipes) the kernel can move the pages itself, through a pipe, without Python ever
touching the data. The engine uses this only when nothing has to look at the bytes
(no conversion, no dump, no readbytes/escape, no packet boundaries to keep), so the
result on the wire is identical to the copying path.
"""
from __future__ import annotations

import errno
import fcntl
import os
import select
import stat

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
HAVE_SPLICE = hasattr(os, "splice")
# errnos that mean "splice cannot serve these descriptors": fall back to read/write
UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


def spliceable(fd: int) -> bool:
    """Stream sockets and pipes: the descriptor kinds splice handles without surprises."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    if stat.S_ISFIFO(mode):
        return True
    if not stat.S_ISSOCK(mode):
        return False
    import socket

    try:
        probe = socket.socket(fileno=fd)
    except OSError:
        return False
    try:
        return probe.type == socket.SOCK_STREAM
    finally:
        probe.detach()


class SpliceUnsupported(Exception):
    """splice refused these descriptors before any byte moved: use the copying path."""


class Splicer:
    """One intermediate pipe per direction; `move()` is one read's worth of transfer."""

    def __init__(self, size: int) -> None:
        self.pending = 0  # bytes in the pipe that the target has not taken yet
        self.pipe_read, self.pipe_write = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            fcntl.fcntl(self.pipe_write, F_SETPIPE_SZ, max(size, 65536))
        except OSError:
            pass  # the default pipe size only costs more system calls

    def move(self, source: int, target: int, size: int) -> int | None:
        """Moves up to `size` bytes into the pipe and on to the target as far as it takes them
        now; returns the count read, 0 at EOF, None if nothing was ready. The rest stays in
        the pipe (`pending`) for flush() once the target has room: waiting for it here would
        stop the other direction, which may be what has to drain the target first (an echo
        pipe, a program that writes its answer before it reads on).

        Raises SpliceUnsupported when the kernel refuses the descriptors before anything
        moved, ReadError/OSError otherwise (a write error after the read is a real loss,
        reported by the engine as socat reports a failed write)."""
        try:
            count = os.splice(source, self.pipe_write, size, flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
        except BlockingIOError:
            return None
        except OSError as err:
            if err.errno in UNSUPPORTED:
                raise SpliceUnsupported() from err
            raise ReadError(err) from None
        self.pending = count
        self.flush(target)
        return count

    def flush(self, target: int) -> bool:
        """Moves pending bytes on to the target without waiting; True once none is left."""
        while self.pending:
            try:
                self.pending -= os.splice(self.pipe_read, target, self.pending,
                                          flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
            except BlockingIOError:
                return False
            except OSError as err:
                if err.errno not in UNSUPPORTED:
                    raise
                self._drain_by_copy(target, self.pending)
                self.pending = 0
                raise SpliceUnsupported() from err
        return True

    def _drain_by_copy(self, target: int, pending: int) -> None:
        """The target refused splice after bytes were in the pipe: deliver them by copy."""
        while pending:
            data = os.read(self.pipe_read, pending)
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(target, view):]
                except BlockingIOError:
                    select.select([], [target], [])
            pending -= len(data)

    def close(self) -> None:
        for fd in (self.pipe_read, self.pipe_write):
            try:
                os.close(fd)
            except OSError:
                pass


class ReadError(Exception):
    """The source side of a splice failed (so the engine says read(), as socat would)."""

    def __init__(self, err: OSError) -> None:
        super().__init__(err)
        self.os_error = err
