"""Every address option pysocat implements, declared once (socat: xioopts.c).

Names, aliases, types, groups and phases follow socat so that scripts and socat's test
suite (which greps -hhh) see the same interface. Only options that really work are
declared here: -hhh, -hh, the man page and validation are generated from this table.
Address modules refer to these records (`O.CRNL`), never to option names as strings.
"""
from __future__ import annotations

import termios as _t

from .options import (
    BOOL, BYTE, CONST, GROUP, INT, MODE, OFF, SIZE, STRING, TIMEVAL, USER, Group, Option, option,
)

G = Group

# ---------------------------------------------------------------- APPL: the data stream
CR = option("cr", CONST, G.APPL, "LATE", "convert LF to CR when writing, CR to LF when reading")
CRNL = option("crnl", CONST, G.APPL, "LATE", "convert LF to CRLF when writing; strip every CR when reading",
              ("crlf",), common=True)
IGNOREEOF = option("ignoreeof", BOOL, G.APPL, "LATE", "at EOF keep polling for more data, like tail -f",
                   ("ignoreof",), common=True)
READBYTES = option("readbytes", SIZE, G.APPL, "LATE", "read at most this many bytes, then report EOF",
                   ("bytes",), common=True)
ESCAPE = option("escape", INT, G.APPL, "INIT", "a byte value that acts as EOF when read (e.g. 0x0f)", common=True)

# ---------------------------------------------------------------- FD: every descriptor
CLOEXEC = option("cloexec", BOOL, G.FD, "LATE", "set FD_CLOEXEC on the descriptor")
NONBLOCK = option("o-nonblock", BOOL, (G.FD, G.OPEN), "FD", "use non-blocking I/O on the descriptor",
                  ("ndelay", "nonblock", "o-ndelay", "o_ndelay"), common=True)
APPEND = option("append", BOOL, (G.FD, G.OPEN), "LATE", "set O_APPEND: writes go to the end", ("o-append",),
                common=True)
USER_ = option("user", USER, (G.FD, G.NAMED), "FD", "change the owner of the file or device",
               ("owner", "uid"), common=True)
GROUP_ = option("group", GROUP, (G.FD, G.NAMED), "FD", "change the group of the file or device", ("gid",),
                common=True)
PERM = option("perm", MODE, (G.FD, G.NAMED), "FD", "change the permission bits (octal)", ("mode",), common=True)
USER_LATE = option("user-late", USER, G.FD, "LATE", "change the owner after opening", ("uid-l",))
GROUP_LATE = option("group-late", GROUP, G.FD, "LATE", "change the group after opening", ("gid-l",))
PERM_LATE = option("perm-late", MODE, G.FD, "LATE", "change the permission bits after opening")
FLOCK_EX = option("flock-ex", BOOL, G.FD, "FD", "flock(LOCK_EX): wait for an exclusive lock", ("flock",))
FLOCK_EX_NB = option("flock-ex-nb", BOOL, G.FD, "FD", "flock(LOCK_EX|LOCK_NB): fail if locked", ("flock-nb",))
FLOCK_SH = option("flock-sh", BOOL, G.FD, "FD", "flock(LOCK_SH): wait for a shared lock")
FLOCK_SH_NB = option("flock-sh-nb", BOOL, G.FD, "FD", "flock(LOCK_SH|LOCK_NB): fail if locked")
SETLK_RD = option("f-setlk-rd", BOOL, G.FD, "FD", "fcntl F_SETLK read lock, fail if locked", ("setlk-rd",))
SETLK_WR = option("f-setlk-wr", BOOL, G.FD, "FD", "fcntl F_SETLK write lock, fail if locked",
                  ("f-setlk", "setlk", "setlk-wr"))
SETLKW_RD = option("f-setlkw-rd", BOOL, G.FD, "FD", "fcntl F_SETLKW read lock, wait", ("setlkw-rd",))
SETLKW_WR = option("f-setlkw-wr", BOOL, G.FD, "FD", "fcntl F_SETLKW write lock, wait",
                   ("f-setlkw", "lock", "lockw", "setlkw", "setlkw-wr"), common=True)
COOL_WRITE = option("cool-write", BOOL, G.FD, "INIT", "log EPIPE and ECONNRESET on write as notice, not error",
                    ("coolwrite",))
END_CLOSE = option("end-close", CONST, G.FD, "INIT", "at the end close() the descriptor instead of shutdown",
                   ("close",))
SHUT_NONE = option("shut-none", CONST, G.FD, "INIT", "on EOF from the peer, do not shut down this write side")
SHUT_DOWN = option("shut-down", CONST, G.FD, "INIT", "on EOF from the peer, shutdown(SHUT_WR) this side")
SHUT_CLOSE = option("shut-close", CONST, G.FD, "INIT", "on EOF from the peer, close() this write side")
SETPIPE_SZ = option("f-setpipe-sz", INT, (G.FD, G.FIFO), "FD", "set the pipe buffer size (F_SETPIPE_SZ)",
                    ("setpipe",))

# ---------------------------------------------------------------- NAMED: file system entries
UNLINK_EARLY = option("unlink-early", BOOL, G.NAMED, "EARLY", "remove the file before anything else",
                      ("new",), common=True)
UNLINK = option("unlink", BOOL, G.NAMED, "PREOPEN", "remove the file just before opening", ("delete", "remove"))
UNLINK_LATE = option("unlink-late", BOOL, G.NAMED, "PASTOPEN", "remove the file once it is open")
UNLINK_CLOSE = option("unlink-close", BOOL, G.NAMED, "LATE", "remove the file when the address is closed",
                      common=True)
UMASK = option("umask", MODE, (G.NAMED, G.PROCESS), "EARLY", "set the umask before the file is created",
               common=True)
USER_EARLY = option("user-early", USER, G.NAMED, "PREOPEN", "change the owner before opening", ("uid-e",))
GROUP_EARLY = option("group-early", GROUP, G.NAMED, "PREOPEN", "change the group before opening", ("gid-e",))
PERM_EARLY = option("perm-early", MODE, G.NAMED, "PREOPEN", "change the permission bits before opening")

# ---------------------------------------------------------------- OPEN: open(2) flags
CREAT = option("o-create", BOOL, G.OPEN, "OPEN", "O_CREAT: create the file if it does not exist",
               ("creat", "create", "o-creat", "o_create"), common=True)
EXCL = option("o-excl", BOOL, G.OPEN, "OPEN", "O_EXCL: with creat, fail if the file exists", ("excl", "o_excl"),
              common=True)
TRUNC = option("o-trunc", BOOL, G.OPEN, "LATE", "truncate the file to length 0", ("trunc",), common=True)
RDONLY = option("o-rdonly", BOOL, G.OPEN, "OPEN", "open read-only", ("o_rdonly", "rdonly"), common=True)
WRONLY = option("o-wronly", BOOL, G.OPEN, "OPEN", "open write-only", ("o_wronly", "wronly"), common=True)
RDWR = option("o-rdwr", BOOL, G.OPEN, "OPEN", "open for reading and writing", ("o_rdwr", "rdwr"))
SYNC = option("o-sync", BOOL, G.OPEN, "OPEN", "O_SYNC", ("o_sync", "sync"))
DSYNC = option("o-dsync", BOOL, G.OPEN, "OPEN", "O_DSYNC", ("dsync", "o_dsync"))
NOATIME = option("o-noatime", BOOL, (G.FD, G.OPEN), "FD", "O_NOATIME", ("noatime",))
NOCTTY = option("o-noctty", BOOL, G.OPEN, "OPEN", "O_NOCTTY: do not make a terminal the controlling one",
                ("noctty", "o_noctty"))
NOFOLLOW = option("o-nofollow", BOOL, G.OPEN, "OPEN", "O_NOFOLLOW", ("nofollow", "o_nofollow"))
DIRECTORY = option("o-directory", BOOL, G.OPEN, "OPEN", "O_DIRECTORY", ("directory", "o_directory"))

# ---------------------------------------------------------------- REG/BLK: positioning
SEEK = option("lseek64-set", OFF, (G.REG, G.BLK), "LATE", "seek to this offset from the start",
              ("lseek", "lseek64", "seek", "seek-set"), common=True)
SEEK_CUR = option("lseek64-cur", OFF, (G.REG, G.BLK), "LATE", "seek relative to the current offset", ("seek-cur",))
SEEK_END = option("lseek64-end", OFF, (G.REG, G.BLK), "LATE", "seek relative to the end", ("seek-end",))
FTRUNCATE = option("ftruncate64", OFF, G.REG, "LATE", "truncate the file to this length",
                   ("ftruncate", "truncate"))

# ---------------------------------------------------------------- PROCESS: the process itself
SETSID = option("setsid", BOOL, G.PROCESS, "LATE", "start a new session", ("sid",), common=True)
CHROOT = option("chroot", STRING, G.PROCESS, "LATE", "chroot() into this directory")
SETUID = option("setuid", USER, G.PROCESS, "LATE2", "change the user ID")
SETGID = option("setgid", GROUP, G.PROCESS, "LATE2", "change the group ID")
SU = option("substuser", USER, G.PROCESS, "LATE2", "become this user (uid, gid and groups)", ("su",), common=True)
SU_D = option("substuser-delayed", USER, G.PROCESS, "INIT", "become this user once the address is open",
              ("su-d",))
CHDIR = option("chdir", STRING, G.PROCESS, "LATE", "change the working directory", ("cd",))

# ---------------------------------------------------------------- EXEC / FORK / PARENT: programs
PATH = option("path", STRING, G.EXEC, "PREEXEC", "the PATH used to find the program")
DASH = option("dash", BOOL, G.EXEC, "PREEXEC", "start the program as a login shell (argv[0] with -)", ("login",))
NOFORK = option("nofork", BOOL, G.FORK, "BIGEN", "run the program in place of socat, on the other address")
PIPES = option("pipes", BOOL, G.FORK, "BIGEN", "talk to the program over two pipes", common=True)
PTY_OPT = option("pty", BOOL, G.FORK, "BIGEN", "talk to the program over a pseudo terminal", common=True)
STDERR = option("stderr", BOOL, G.FORK, "PASTFORK", "send the program's stderr to the same channel",
                common=True)
SETPGID = option("setpgid", INT, G.FORK, "LATE", "put the program into this process group", ("pgid",))
FDIN = option("fdin", INT, G.FORK, "PASTBIGEN", "the program reads from this descriptor instead of 0")
FDOUT = option("fdout", INT, G.FORK, "PASTBIGEN", "the program writes to this descriptor instead of 1")
SIGHUP = option("sighup", CONST, G.PARENT, "LATE", "pass SIGHUP on to the program")
SIGINT = option("sigint", CONST, G.PARENT, "LATE", "pass SIGINT on to the program", common=True)
SIGQUIT = option("sigquit", CONST, G.PARENT, "LATE", "pass SIGQUIT on to the program")
CTTY = option("tiocsctty", BOOL, G.TERMIOS, "LATE2", "make the pty the program's controlling terminal",
              ("ctty",), common=True)
SHELL_PATH = option("shell", STRING, G.SHELL, "PREEXEC", "the shell that SHELL runs (default $SHELL)")

# ---------------------------------------------------------------- PTY
LINK = option("symbolic-link", STRING, G.PTY, "LATE", "make a symlink to the pty slave", ("link",), common=True)
WAIT_SLAVE = option("pty-wait-slave", BOOL, G.PTY, "EARLY", "wait until the slave side is opened",
                    ("wait-slave", "waitslave"), common=True)
PTY_INTERVAL = option("pty-interval", TIMEVAL, G.PTY, "EARLY", "poll interval for wait-slave",
                      ("pty-intervall",))

# ---------------------------------------------------------------- READLINE
HISTORY = option("history", STRING, G.READLINE, "LATE", "read and write the line history in this file",
                 ("history-file",))
NOPROMPT = option("noprompt", BOOL, G.READLINE, "LATE", "do not use the last output line as prompt")
NOECHO = option("noecho", STRING, G.READLINE, "LATE", "do not echo input when the prompt matches this regex")
PROMPT = option("prompt", STRING, G.READLINE, "LATE", "use this fixed prompt")

# ---------------------------------------------------------------- TERMIOS: terminal settings
# Flag options are plain data: (name, termios field, bit, aliases); one applier sets them all.
TERMIOS_FLAGS: dict[Option, tuple[str, int]] = {}
for _name, _field, _bit, _aliases in (
    ("brkint", "iflag", _t.BRKINT, ()), ("icrnl", "iflag", _t.ICRNL, ()), ("ignbrk", "iflag", _t.IGNBRK, ()),
    ("igncr", "iflag", _t.IGNCR, ()), ("ignpar", "iflag", _t.IGNPAR, ()), ("imaxbel", "iflag", _t.IMAXBEL, ()),
    ("inlcr", "iflag", _t.INLCR, ()), ("inpck", "iflag", _t.INPCK, ()), ("istrip", "iflag", _t.ISTRIP, ()),
    ("iuclc", "iflag", _t.IUCLC, ()), ("ixany", "iflag", _t.IXANY, ()), ("ixoff", "iflag", _t.IXOFF, ("tandem",)),
    ("ixon", "iflag", _t.IXON, ()), ("parmrk", "iflag", _t.PARMRK, ()),
    ("ocrnl", "oflag", _t.OCRNL, ()), ("ofdel", "oflag", _t.OFDEL, ()), ("ofill", "oflag", _t.OFILL, ()),
    ("olcuc", "oflag", _t.OLCUC, ()), ("onlcr", "oflag", _t.ONLCR, ()), ("onlret", "oflag", _t.ONLRET, ()),
    ("onocr", "oflag", _t.ONOCR, ()), ("opost", "oflag", _t.OPOST, ()),
    ("clocal", "cflag", _t.CLOCAL, ()), ("cread", "cflag", _t.CREAD, ()), ("crtscts", "cflag", _t.CRTSCTS, ()),
    ("cstopb", "cflag", _t.CSTOPB, ()), ("hupcl", "cflag", _t.HUPCL, ("hup",)), ("parenb", "cflag", _t.PARENB, ()),
    ("parodd", "cflag", _t.PARODD, ()),
    ("echo", "lflag", _t.ECHO, ()), ("echoctl", "lflag", _t.ECHOCTL, ("ctlecho",)),
    ("echoe", "lflag", _t.ECHOE, ("crterase",)), ("echok", "lflag", _t.ECHOK, ()),
    ("echoke", "lflag", _t.ECHOKE, ("crtkill",)), ("echonl", "lflag", _t.ECHONL, ()),
    ("echoprt", "lflag", _t.ECHOPRT, ("prterase",)), ("flusho", "lflag", _t.FLUSHO, ()),
    ("icanon", "lflag", _t.ICANON, ()), ("iexten", "lflag", _t.IEXTEN, ()), ("isig", "lflag", _t.ISIG, ()),
    ("noflsh", "lflag", _t.NOFLSH, ()), ("pendin", "lflag", _t.PENDIN, ()), ("tostop", "lflag", _t.TOSTOP, ()),
    ("xcase", "lflag", _t.XCASE, ()),
):
    TERMIOS_FLAGS[option(_name, BOOL, G.TERMIOS, "FD", f"set or clear the {_name.upper()} terminal flag",
                         _aliases, common=_name in ("echo", "icanon", "crtscts"))] = (_field, _bit)

# Character size, as constants (csN) and as a number (csize=0..3 means CS5..CS8).
CHAR_SIZES: dict[Option, int] = {
    option(f"cs{bits}", CONST, G.TERMIOS, "FD", f"{bits} bits per character"): getattr(_t, f"CS{bits}")
    for bits in (5, 6, 7, 8)
}
CSIZE = option("csize", INT, G.TERMIOS, "FD", "character size: 0..3 for 5..8 bits")

# Control characters: (option, index into c_cc).
CONTROL_CHARS: dict[Option, int] = {
    option(f"v{name}", BYTE, G.TERMIOS, "FD", f"the {name.upper()} control character", aliases): getattr(_t, f"V{name.upper()}")
    for name, aliases in (
        ("discard", ("discard",)), ("eof", ("eof",)), ("eol", ("eol",)), ("eol2", ("eol2",)),
        ("erase", ("erase",)), ("intr", ("intr",)), ("kill", ("kill",)), ("lnext", ("lnext",)),
        ("min", ("min",)), ("quit", ("quit",)), ("reprint", ("reprint", "rprnt")), ("start", ("start",)),
        ("stop", ("stop",)), ("susp", ("susp",)), ("swtc", ("swtc", "swtch")), ("time", ("time",)),
        ("werase", ("werase",)),
    )
}

# Line speeds: bNNN constants and ispeed/ospeed numbers.
BAUD_RATES: dict[Option, int] = {
    option(f"b{rate}", CONST, G.TERMIOS, "FD", f"set input and output speed to {rate} baud",
           common=rate in (9600, 115200)): getattr(_t, f"B{rate}")
    for rate in (0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600,
                 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000,
                 3000000, 3500000, 4000000)
}
ISPEED = option("ispeed", INT, G.TERMIOS, "FD", "input speed (a termios speed constant)")
OSPEED = option("ospeed", INT, G.TERMIOS, "FD", "output speed (a termios speed constant)")

RAW = option("raw", CONST, G.TERMIOS, "FD", "obsolete raw mode (as socat: clears many flags)", common=True)
RAWER = option("termios-rawer", CONST, G.TERMIOS, "FD", "raw mode and no echo", ("rawer",), common=True)
CFMAKERAW = option("termios-cfmakeraw", CONST, G.TERMIOS, "FD", "cfmakeraw(): fully raw terminal",
                   ("cfmakeraw",), common=True)
SANE = option("sane", CONST, G.TERMIOS, "FD", "set the terminal to sane defaults")
