"""Generic appliers for the option groups that many families share (FD, NAMED, OPEN,
REG, TERMIOS, PROCESS). Each applier reads option records from the table and performs
the system calls; family modules call them at the right phase.
"""
from __future__ import annotations

import fcntl
import os
import termios
from ..record import dataclass, field

from .. import option_table as O
from ..errors import SocatError
from ..options import ALL_OPTIONS, Group, OptionValues


# socat's xiosetenv() variables (SOCAT_PEERADDR, ...): socat setenv()s them and the programs
# it starts inherit them; pysocat keeps them here, and EXEC/SYSTEM/SHELL add them to the
# child's environment. (putenv() in every forked connection child would cost it as much as
# connecting: glibc rebuilds its environment array on the first one.)
ADDRESS_ENVIRONMENT: dict[str, str] = {}


@dataclass
class OpenContext:
    """What an opener needs to know beyond its own address."""

    readable: bool = True  # the relay will read from this address
    writable: bool = True  # the relay will write to this address
    environment: dict[str, str] = field(default_factory=dict)
    program: str = "pysocat"

    @property
    def direction_text(self) -> str:
        if self.readable and self.writable:
            return "reading and writing"
        return "reading" if self.readable else "writing"

    @property
    def access(self) -> int:
        if self.readable and self.writable:
            return os.O_RDWR
        return os.O_RDONLY if self.readable else os.O_WRONLY


def os_error(call: str, err: OSError) -> SocatError:
    return SocatError(f"{call}: {os.strerror(err.errno or 0)}")


# ---------------------------------------------------------------- NAMED
def apply_named_early(path: str, opts: OptionValues) -> None:
    """unlink-early and umask, before anything else touches the path."""
    if O.UMASK in opts:
        os.umask(int(opts.get(O.UMASK)))  # type: ignore[arg-type]
    if opts.flag(O.UNLINK_EARLY):
        _unlink(path)


def apply_named_preopen(path: str, opts: OptionValues) -> None:
    if opts.flag(O.UNLINK):
        _unlink(path)
    if os.path.lexists(path):
        _chown_chmod_path(path, opts.get(O.USER_EARLY), opts.get(O.GROUP_EARLY), opts.get(O.PERM_EARLY))


def apply_named_owner(path: str, opts: OptionValues) -> None:
    """user=, group=, perm= on a file system entry that has no descriptor of its own to
    fchown/fchmod (a UNIX socket's name, a pty's link target): socat changes the path."""
    _chown_chmod_path(path, opts.get(O.USER_), opts.get(O.GROUP_), opts.get(O.PERM))


def apply_named_pastopen(path: str, opts: OptionValues) -> None:
    if opts.flag(O.UNLINK_LATE):
        _unlink(path)


def unlink_on_close(path: str, opts: OptionValues, default: bool = False) -> list:
    if opts.get(O.UNLINK_CLOSE, default):
        return [lambda: _unlink(path, quiet=True)]
    return []


def _unlink(path: str, quiet: bool = False) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        if not quiet:
            raise os_error(f'unlink("{path}")', err) from None


def _chown_chmod_path(path: str, user: object, group: object, perm: object) -> None:
    try:
        if user is not None or group is not None:
            os.chown(path, -1 if user is None else int(user), -1 if group is None else int(group))  # type: ignore[arg-type]
        if perm is not None:
            os.chmod(path, int(perm))  # type: ignore[arg-type]
    except OSError as err:
        raise os_error(f'chown/chmod("{path}")', err) from None


# ---------------------------------------------------------------- FD
# Every option apply_fd_options() looks at (a unit test reads them from its code), and the
# TERMIOS ones: an address with none of them skips it. In a forked connection child each
# option record the code merely names costs a copied page (naming an object writes its
# reference count), so the common address without such options pays nothing for them.
FD_APPLIED = frozenset({
    O.USER_, O.GROUP_, O.PERM, O.NONBLOCK, O.APPEND, O.NOATIME, O.SETPIPE_SZ, O.FLOCK_EX, O.FLOCK_EX_NB,
    O.FLOCK_SH, O.FLOCK_SH_NB, O.SETLK_RD, O.SETLK_WR, O.SETLKW_RD, O.SETLKW_WR, O.SEEK, O.SEEK_CUR,
    O.SEEK_END, O.FTRUNCATE, O.USER_LATE, O.GROUP_LATE, O.PERM_LATE, O.CLOEXEC,
})
TERMIOS_OPTIONS = frozenset(opt for opt in ALL_OPTIONS if Group.TERMIOS in opt.groups)


def apply_fd_options(fd: int, opts: OptionValues, owner_fd: int | None = None) -> None:
    """The FD group, applied once the descriptor exists (socat's PH_FD and PH_LATE).
    user=, group= and perm= change the file of `owner_fd` where that is another one: a
    pty's slave, since fchown() on its master would change /dev/ptmx itself."""
    if FD_APPLIED.isdisjoint(opts.values) and TERMIOS_OPTIONS.isdisjoint(opts.values):
        return
    owner = fd if owner_fd is None else owner_fd
    user, group = opts.get(O.USER_), opts.get(O.GROUP_)
    try:
        if user is not None or group is not None:
            os.fchown(owner, -1 if user is None else int(user), -1 if group is None else int(group))  # type: ignore[arg-type]
        if O.PERM in opts:
            os.fchmod(owner, int(opts.get(O.PERM)))  # type: ignore[arg-type]
    except OSError as err:
        raise os_error(f"fchown/fchmod({owner})", err) from None
    if O.NONBLOCK in opts:
        os.set_blocking(fd, not opts.flag(O.NONBLOCK))
    if O.APPEND in opts:
        _set_fl(fd, os.O_APPEND, opts.flag(O.APPEND))
    if O.NOATIME in opts:
        _set_fl(fd, os.O_NOATIME, opts.flag(O.NOATIME))
    if O.SETPIPE_SZ in opts:
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, int(opts.get(O.SETPIPE_SZ)))  # type: ignore[arg-type]
        except OSError as err:
            raise os_error(f"fcntl({fd}, F_SETPIPE_SZ, {opts.get(O.SETPIPE_SZ)})", err) from None
    _apply_locks(fd, opts)
    for opt, call in ((O.SEEK, os.SEEK_SET), (O.SEEK_CUR, os.SEEK_CUR), (O.SEEK_END, os.SEEK_END)):
        if opt in opts:
            try:
                os.lseek(fd, int(opts.get(opt)), call)  # type: ignore[arg-type]
            except OSError as err:
                raise os_error(f"lseek64({fd}, {opts.get(opt)}, {call})", err) from None
    if O.FTRUNCATE in opts:
        try:
            os.ftruncate(fd, int(opts.get(O.FTRUNCATE)))  # type: ignore[arg-type]
        except OSError as err:
            raise os_error(f"ftruncate64({fd}, {opts.get(O.FTRUNCATE)})", err) from None
    apply_termios(fd, opts)  # socat applies them to any descriptor: a non-tty fails in tcgetattr()
    user_late, group_late = opts.get(O.USER_LATE), opts.get(O.GROUP_LATE)
    try:
        if user_late is not None or group_late is not None:
            os.fchown(owner, -1 if user_late is None else int(user_late), -1 if group_late is None else int(group_late))  # type: ignore[arg-type]
        if O.PERM_LATE in opts:
            os.fchmod(owner, int(opts.get(O.PERM_LATE)))  # type: ignore[arg-type]
    except OSError as err:
        raise os_error(f"fchown/fchmod({owner})", err) from None
    if O.CLOEXEC in opts:
        os.set_inheritable(fd, not opts.flag(O.CLOEXEC))


def _set_fl(fd: int, flag: int, on: bool) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, (flags | flag) if on else (flags & ~flag))


def _apply_locks(fd: int, opts: OptionValues) -> None:
    flocks = ((O.FLOCK_EX, fcntl.LOCK_EX), (O.FLOCK_EX_NB, fcntl.LOCK_EX | fcntl.LOCK_NB),
              (O.FLOCK_SH, fcntl.LOCK_SH), (O.FLOCK_SH_NB, fcntl.LOCK_SH | fcntl.LOCK_NB))
    for opt, mode in flocks:
        if opts.flag(opt):
            try:
                fcntl.flock(fd, mode)
            except OSError as err:
                raise os_error(f"flock({fd}, {mode})", err) from None
    # fcntl record locks over the whole file: (option, lockf mode, socat's call name)
    record_locks = ((O.SETLK_RD, fcntl.LOCK_SH | fcntl.LOCK_NB, "F_SETLK"),
                    (O.SETLK_WR, fcntl.LOCK_EX | fcntl.LOCK_NB, "F_SETLK"),
                    (O.SETLKW_RD, fcntl.LOCK_SH, "F_SETLKW"), (O.SETLKW_WR, fcntl.LOCK_EX, "F_SETLKW"))
    for opt, mode, name in record_locks:
        if opts.flag(opt):
            try:
                fcntl.lockf(fd, mode)
            except OSError as err:
                raise os_error(f"fcntl({fd}, {name}, ...)", err) from None


# ---------------------------------------------------------------- TERMIOS
IFLAG, OFLAG, CFLAG, LFLAG, ISPEED, OSPEED, CC = range(7)
FIELDS = {"iflag": IFLAG, "oflag": OFLAG, "cflag": CFLAG, "lflag": LFLAG}


def apply_termios(fd: int, opts: OptionValues) -> None:
    """Applies the TERMIOS options in the order written, with one tcsetattr()."""
    if not any(Group.TERMIOS in opt.groups for opt, _ in opts.occurrences):
        return
    try:
        attrs = termios.tcgetattr(fd)
    except termios.error as err:
        # socat prints the address of its termios buffer; any pointer-like value will do
        raise SocatError(f"tcgetattr({fd}, 0x{id(opts) & 0xFFFFFFFFFFFF:x}): "
                         f"{err.args[1] if len(err.args) > 1 else err}") from None
    for opt, value in opts.occurrences:
        if opt in O.TERMIOS_FLAGS:
            field_name, bit = O.TERMIOS_FLAGS[opt]
            index = FIELDS[field_name]
            attrs[index] = (attrs[index] | bit) if value else (attrs[index] & ~bit)
        elif opt in O.CHAR_SIZES:
            attrs[CFLAG] = (attrs[CFLAG] & ~termios.CSIZE) | O.CHAR_SIZES[opt]
        elif opt is O.CSIZE:
            attrs[CFLAG] = (attrs[CFLAG] & ~termios.CSIZE) | ((int(value) & 3) << 4)  # type: ignore[arg-type]
        elif opt in O.CONTROL_CHARS:
            cc = list(attrs[CC])
            index = O.CONTROL_CHARS[opt]
            cc[index] = int(value) if index in (termios.VMIN, termios.VTIME) else bytes([int(value)])  # type: ignore[arg-type]
            attrs[CC] = cc
        elif opt in O.BAUD_RATES:
            attrs[ISPEED] = attrs[OSPEED] = O.BAUD_RATES[opt]
        elif opt is O.ISPEED:
            attrs[ISPEED] = int(value)  # type: ignore[arg-type]
        elif opt is O.OSPEED:
            attrs[OSPEED] = int(value)  # type: ignore[arg-type]
        elif opt in (O.CFMAKERAW, O.RAWER):
            _make_raw(attrs)
            if opt is O.RAWER:
                attrs[LFLAG] &= ~termios.ECHO
        elif opt is O.RAW:
            attrs[IFLAG] &= ~(termios.IGNBRK | termios.BRKINT | termios.IGNPAR | termios.PARMRK | termios.INPCK |
                              termios.ISTRIP | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON |
                              termios.IXOFF | termios.IUCLC | termios.IXANY | termios.IMAXBEL)
            attrs[OFLAG] &= ~termios.OPOST
            attrs[LFLAG] &= ~(termios.ISIG | termios.ICANON | termios.XCASE)
            cc = list(attrs[CC])
            cc[termios.VMIN], cc[termios.VTIME] = 1, 0
            attrs[CC] = cc
        elif opt is O.SANE:
            attrs[IFLAG] |= termios.BRKINT | termios.ICRNL | termios.IMAXBEL
            attrs[OFLAG] |= termios.OPOST | termios.ONLCR
            attrs[LFLAG] |= termios.ISIG | termios.ICANON | termios.IEXTEN | termios.ECHO | termios.ECHOE | termios.ECHOK
    try:
        termios.tcsetattr(fd, termios.TCSADRAIN, attrs)
    except termios.error as err:
        raise SocatError(f"tcsetattr({fd}, TCSADRAIN, ...): {err.args[1] if len(err.args) > 1 else err}") from None


def _make_raw(attrs: list) -> None:
    attrs[IFLAG] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR |
                      termios.IGNCR | termios.ICRNL | termios.IXON)
    attrs[OFLAG] &= ~termios.OPOST
    attrs[LFLAG] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    attrs[CFLAG] = (attrs[CFLAG] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    cc = list(attrs[CC])
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    attrs[CC] = cc




# ---------------------------------------------------------------- PROCESS
def apply_process_options(opts: OptionValues) -> None:
    """PROCESS options for the calling process (socat applies them to itself, or to a child)."""
    try:
        if O.CHDIR in opts:
            os.chdir(str(opts.get(O.CHDIR)))
        if O.CHROOT in opts:
            os.chroot(str(opts.get(O.CHROOT)))
            os.chdir("/")
        if opts.flag(O.SETSID):
            try:
                os.setsid()
            except PermissionError:
                pass  # already a session leader
        if O.SETGID in opts:
            os.setgid(int(opts.get(O.SETGID)))  # type: ignore[arg-type]
        if O.SETUID in opts:
            os.setuid(int(opts.get(O.SETUID)))  # type: ignore[arg-type]
        for opt in (O.SU, O.SU_D):
            if opt in opts:
                become_user(int(opts.get(opt)))  # type: ignore[arg-type]
    except OSError as err:
        raise os_error("process option", err) from None


def become_user(uid: int) -> None:
    import pwd

    entry = pwd.getpwuid(uid)
    os.initgroups(entry.pw_name, entry.pw_gid)
    os.setgid(entry.pw_gid)
    os.setuid(uid)


# socat's filetypenames[] (filan.c), indexed by st_mode >> 12; its DIR and BLK entries are
# swapped, so a directory is "block device" in its notices (verified with socat 1.7.4.4)
FILE_TYPE_NAMES = (
    "undef", "named pipe", "character device", "undef", "block device", "undef", "directory", "undef",
    "regular file", "undef", "symbolic link", "undef", "socket", "undef", "undef", "undef",
)


def describe_file(path_or_fd: str | int) -> str:
    """socat's wording for a file type in notices: "regular file", "named pipe", ...;
    "undef" when the file does not exist (socat's stat() failed and left the mode 0)."""
    try:
        mode = os.stat(path_or_fd).st_mode
    except OSError:
        return "undef"
    return FILE_TYPE_NAMES[(mode >> 12) & 0xF]
