"""-D: a description of the relay's file descriptors before the transfer starts, in the
column layout of socat's filan (type, device, inode, mode, ..., flags, poll state)."""
from __future__ import annotations

import fcntl
import os
import select
import stat
import time

HEADER = ("  FD  type\tdevice\tinode\tmode\tlinks\tuid\tgid\trdev\tsize\tblksize\tblocks\tatime\t\t\t\t"
          "mtime\t\t\t\tctime\t\t\t\tcloexec\tflags\tsigown\tsigio")
TYPES = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISCHR, "chrdev"), (stat.S_ISBLK, "blkdev"),
         (stat.S_ISFIFO, "pipe"), (stat.S_ISLNK, "symlink"), (stat.S_ISSOCK, "socket"))


def describe(fd: int) -> str:
    info = os.fstat(fd)
    kind = next((name for test, name in TYPES if test(info.st_mode)), "unknown")
    stamp = lambda t: time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))  # noqa: E731
    cloexec = 1 if fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC else 0
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLOUT)
    events = poller.poll(0)
    state = "".join(name + "," for bit, name in ((select.POLLIN, "IN"), (select.POLLOUT, "OUT"))
                    if events and events[0][1] & bit)
    rdev = f"{os.major(info.st_rdev)},{os.minor(info.st_rdev)}"
    device = f"{os.major(info.st_dev)},{os.minor(info.st_dev)}"
    return (f"{fd:4d}: {kind}\t{device}\t{info.st_ino}\t{info.st_mode:06o}\t{info.st_nlink}\t{info.st_uid}\t"
            f"{info.st_gid}\t{rdev}\t{info.st_size}\t{info.st_blksize}\t{info.st_blocks}\t{stamp(info.st_atime)}\t"
            f"{stamp(info.st_mtime)}\t{stamp(info.st_ctime)}\t{cloexec}\tx{flags:06x}\t0\t0poll: {state}")


def analyze(fds: list[int]) -> str:
    lines = [HEADER]
    for fd in sorted(set(fds)):
        try:
            lines.append(describe(fd))
        except OSError as err:
            lines.append(f"{fd:4d}: {os.strerror(err.errno or 0)}")
    return "\n".join(lines) + "\n"
