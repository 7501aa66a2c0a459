"""Every address option pysocat implements, declared once (socat: xioopts.c).

Names, aliases, types, groups and phases follow socat so that scripts and socat's test
suite (which greps -hhh) see the same interface. Only options that really work are
declared here: -hhh, -hh, the man page and validation are generated from this table.
Address modules refer to these records (`O.CRNL`), never to option names as strings.
"""
from __future__ import annotations

import termios as _t

from .options import (
    BOOL, BYTE, CONST, GROUP, INT, MODE, OFF, READ_LIMIT, SIZE, STRING, STRING_NULL, TIMEVAL, USER, Group, Option,
    option,
)

G = Group

# ---------------------------------------------------------------- APPL: the data stream
CR = option("cr", CONST, G.APPL, "LATE", "convert LF to CR when writing, CR to LF when reading")
CRNL = option("crnl", CONST, G.APPL, "LATE", "convert LF to CRLF when writing; strip every CR when reading",
              ("crlf",), common=True)
IGNOREEOF = option("ignoreeof", BOOL, G.APPL, "LATE", "at EOF keep polling for more data, like tail -f",
                   ("ignoreof",), common=True)
READBYTES = option("readbytes", READ_LIMIT, G.APPL, "LATE", "read at most this many bytes, then report EOF",
                   ("bytes",), common=True)
FRAMED = option("framed", STRING_NULL, G.APPL, "LATE",
                "keep packet boundaries on this stream: a length before every packet (rfc4571; wide "
                "for packets over 64 KiB) (pysocat)")
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
SHUT_NULL = option("shut-null", CONST, G.FD, "INIT",
                   "on EOF from the peer, send an empty packet (a datagram peer with null-eof sees EOF)")
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
NOFORK = option("nofork", BOOL, G.FORK, "BIGEN", "run the program in place of pysocat, on the other address")
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
# socat's choice of pty allocation; on Linux openpty() itself opens /dev/ptmx, so both give the same pty
PTMX = option("ptmx", BOOL, G.PTY, "BIGEN", "allocate the pty through /dev/ptmx (accepted: pysocat's "
              "openpty() opens /dev/ptmx on Linux, the same as openpty)")
OPENPTY = option("openpty", BOOL, G.PTY, "BIGEN", "allocate the pty with openpty() (accepted: the same "
                 "pty as ptmx on Linux)")

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

# ---------------------------------------------------------------- NETWORK: sockets (addresses/sockets.py)
# Plain socket options are data: SOCKOPTS maps each record to (level, optname, how the value is
# passed); addresses/sockets.py applies them all with one applier. Names, aliases, groups, phases
# and types follow socat's -hhh (1.8 where it differs from 1.7.4.4).
from .options import (  # noqa: E402
    BIN, INT_NULL, IP4NAME, IP_MREQN, LINGER, SOCKOPT_BIN, SOCKOPT_INT, SOCKOPT_STRING, STRING_NULL_DASH, TIMESPEC,
    UINT, USHORT,
)
import socket as _s  # noqa: E402

_IPAPP = (G.UDP, G.TCP, G.SCTP)
_IP = (G.IP4, G.IP6)

REUSEADDR = option("so-reuseaddr", INT_NULL, G.SOCKET, "PREBIND", "SO_REUSEADDR: allow a quick rebind of the port",
                   ("reuseaddr",), common=True)
REUSEPORT = option("so-reuseport", INT, G.SOCKET, "PREBIND", "SO_REUSEPORT: share the port with other sockets",
                   ("reuseport",))
KEEPALIVE = option("so-keepalive", INT, G.SOCKET, "FD", "SO_KEEPALIVE: send keepalive probes", ("keepalive",),
                   common=True)
SNDBUF = option("so-sndbuf", INT, G.SOCKET, "PASTSOCKET", "SO_SNDBUF: the send buffer size", ("sndbuf",),
                common=True)
RCVBUF = option("so-rcvbuf", INT, G.SOCKET, "PASTSOCKET", "SO_RCVBUF: the receive buffer size", ("rcvbuf",),
                common=True)
SNDBUF_LATE = option("so-sndbuf-late", INT, G.SOCKET, "LATE", "SO_SNDBUF, set once connected", ("sndbuf-late",))
RCVBUF_LATE = option("so-rcvbuf-late", INT, G.SOCKET, "LATE", "SO_RCVBUF, set once connected", ("rcvbuf-late",))
LINGER_OPT = option("so-linger", LINGER, G.SOCKET, "PASTSOCKET", "SO_LINGER: close() waits this many seconds",
                    ("linger",))
BROADCAST = option("so-broadcast", INT, G.SOCKET, "PASTSOCKET", "SO_BROADCAST: allow sending to broadcast addresses",
                   ("broadcast",))
BINDTODEVICE = option("so-bindtodevice", STRING, G.SOCKET, "PASTSOCKET", "SO_BINDTODEVICE: use this interface only",
                      ("bindtodevice", "if", "interface"))
RCVTIMEO = option("so-rcvtimeo", TIMEVAL, G.SOCKET, "PASTSOCKET", "SO_RCVTIMEO: receive timeout", ("rcvtimeo",))
SNDTIMEO = option("so-sndtimeo", TIMEVAL, G.SOCKET, "PASTSOCKET", "SO_SNDTIMEO: send timeout", ("sndtimeo",))
SO_DEBUG = option("so-debug", INT, G.SOCKET, "PASTSOCKET", "SO_DEBUG", ("debug",))
DONTROUTE = option("so-dontroute", INT, G.SOCKET, "PASTSOCKET", "SO_DONTROUTE: bypass routing", ("dontroute",))
OOBINLINE = option("so-oobinline", INT, G.SOCKET, "PASTSOCKET", "SO_OOBINLINE: urgent data inline", ("oobinline",))
PRIORITY = option("so-priority", INT, G.SOCKET, "PASTSOCKET", "SO_PRIORITY: the queueing priority", ("priority",))
RCVLOWAT = option("so-rcvlowat", INT, G.SOCKET, "PASTSOCKET", "SO_RCVLOWAT", ("rcvlowat",))
SNDLOWAT = option("so-sndlowat", INT, G.SOCKET, "PASTSOCKET", "SO_SNDLOWAT", ("sndlowat",))
NODELAY = option("tcp-nodelay", INT, G.TCP, "PASTSOCKET", "TCP_NODELAY: send small segments at once", ("nodelay",),
                 common=True)
KEEPIDLE = option("tcp-keepidle", INT, G.TCP, "PASTSOCKET", "TCP_KEEPIDLE: idle seconds before probes", ("keepidle",))
KEEPINTVL = option("tcp-keepintvl", INT, G.TCP, "PASTSOCKET", "TCP_KEEPINTVL: seconds between probes",
                   ("keepintvl",))
KEEPCNT = option("tcp-keepcnt", INT, G.TCP, "PASTSOCKET", "TCP_KEEPCNT: probes before the connection drops",
                 ("keepcnt",))
MAXSEG = option("tcp-maxseg", INT, G.TCP, "PASTSOCKET", "TCP_MAXSEG: the maximum segment size", ("maxseg", "mss"),
                common=True)
MAXSEG_LATE = option("tcp-maxseg-late", INT, G.TCP, "CONNECTED", "TCP_MAXSEG, set once connected", ("mss-late",))
CORK = option("tcp-cork", INT, G.TCP, "PASTSOCKET", "TCP_CORK: send only full segments", ("cork",))
DEFER_ACCEPT = option("tcp-defer-accept", INT, G.TCP, "PASTSOCKET", "TCP_DEFER_ACCEPT: accept once data arrived",
                      ("defer-accept",))
LINGER2 = option("tcp-linger2", INT, G.TCP, "PASTSOCKET", "TCP_LINGER2: FIN_WAIT2 lifetime", ("linger2",))
SYNCNT = option("tcp-syncnt", INT, G.TCP, "PASTSOCKET", "TCP_SYNCNT: SYN retransmits", ("syncnt",))
# socat's own aliases of these (nodelay, mss, mss-late) name the TCP options in its table
SCTP_NODELAY = option("sctp-nodelay", INT, G.SCTP, "PASTSOCKET", "SCTP_NODELAY: send small messages at once")
SCTP_MAXSEG = option("sctp-maxseg", INT, G.SCTP, "PASTSOCKET", "SCTP_MAXSEG: the largest data chunk to send")
SCTP_MAXSEG_LATE = option("sctp-maxseg-late", INT, G.SCTP, "CONNECTED", "SCTP_MAXSEG, set once connected")
IP_TTL = option("ip-ttl", INT, _IP, "PASTSOCKET", "IP_TTL: the time to live of sent packets", ("ttl",), common=True)
IP_TOS = option("ip-tos", INT, _IP, "PASTSOCKET", "IP_TOS: the type of service of sent packets", ("tos",))
MTU_DISCOVER = option("ip-mtu-discover", INT, _IP, "PASTSOCKET", "IP_MTU_DISCOVER: 0, 1 or 2", ("mtudiscover",))
FREEBIND = option("ip-freebind", INT, _IP, "PASTSOCKET", "IP_FREEBIND: bind to an address not (yet) local",
                  ("freebind",))
HDRINCL = option("ip-hdrincl", INT, _IP, "PASTSOCKET",
                 "IP_HDRINCL: raw IP data written starts with the IP header (protocol 255 implies it)",
                 ("hdrincl", "iphdrincl"))
TRANSPARENT = option("ip-transparent", BOOL, _IP, "PREBIND", "IP_TRANSPARENT: transparent proxying",
                     ("transparent",))
MULTICAST_TTL = option("ip-multicast-ttl", BYTE, _IP, "PASTSOCKET", "IP_MULTICAST_TTL", ("multicast-ttl",))
MULTICAST_LOOP = option("ip-multicast-loop", BYTE, _IP, "PASTSOCKET", "IP_MULTICAST_LOOP", ("multicast-loop",))
MULTICAST_IF = option("ip-multicast-if", IP4NAME, _IP, "PASTSOCKET", "IP_MULTICAST_IF: send multicast from this address",
                      ("multicast-if",))
ADD_MEMBERSHIP = option("ip-add-membership", IP_MREQN, _IP, "PASTSOCKET",
                        "join a multicast group: <group>:<if-addr|if-name|if-index>", ("add-membership",))
JOIN_GROUP = option("ipv6-join-group", IP_MREQN, G.IP6, "PASTSOCKET", "join an IPv6 multicast group: <group>:<if>",
                    ("join-group",))
V6ONLY = option("ipv6-v6only", INT, G.IP6, "PREBIND", "IPV6_V6ONLY: no IPv4-mapped addresses", ("ipv6only",))
UNICAST_HOPS = option("ipv6-unicast-hops", INT, G.IP6, "PASTSOCKET", "IPV6_UNICAST_HOPS")
TCLASS = option("ipv6-tclass", INT, G.IP6, "PASTSOCKET", "IPV6_TCLASS")
IP_OPTIONS = option("ip-options", BIN, _IP, "PASTSOCKET", "IP_OPTIONS: the IP header options of sent packets "
                    "(dalan bytes, e.g. x01000000)", ("ipoptions",))
# Options that ask the kernel for ancillary messages with each datagram received: socat logs
# them (-d -d -d) and exports them as SOCAT_IP_TTL etc. (net/ancillary.py, addresses/packetinfo.py)
SO_TIMESTAMP = option("so-timestamp", INT, G.SOCKET, "PASTSOCKET",
                      "SO_TIMESTAMP: the arrival time of each datagram (SOCAT_TIMESTAMP)", ("timestamp",))
IP_RECVOPTS = option("ip-recvopts", INT, _IP, "PASTSOCKET",
                     "IP_RECVOPTS: the IP options of each datagram (SOCAT_IP_OPTIONS)", ("iprecvopts", "recvopts"))
IP_RECVTOS = option("ip-recvtos", INT, _IP, "PASTSOCKET", "IP_RECVTOS: the TOS of each datagram (SOCAT_IP_TOS)",
                    ("iprecvtos", "recvtos"))
IP_RECVTTL = option("ip-recvttl", INT, _IP, "PASTSOCKET", "IP_RECVTTL: the TTL of each datagram (SOCAT_IP_TTL)",
                    ("iprecvttl", "recvttl"))
IP_PKTINFO = option("ip-pktinfo", INT, _IP, "PASTSOCKET", "IP_PKTINFO: interface and addresses of each datagram "
                    "(SOCAT_IP_IF, SOCAT_IP_LOCADDR, SOCAT_IP_DSTADDR)", ("ippktinfo", "pktinfo"))
IPV6_RECVPKTINFO = option("ipv6-recvpktinfo", INT, G.IP6, "PASTSOCKET", "IPV6_RECVPKTINFO: destination and "
                          "interface of each datagram (SOCAT_IPV6_DSTADDR, SOCAT_IPV6_IF)", ("recvpktinfo",))
IPV6_RECVHOPLIMIT = option("ipv6-recvhoplimit", INT, G.IP6, "PASTSOCKET",
                           "IPV6_RECVHOPLIMIT: the hop limit of each datagram (SOCAT_IPV6_HOPLIMIT)",
                           ("recvhoplimit",))
IPV6_RECVTCLASS = option("ipv6-recvtclass", INT, G.IP6, "PASTSOCKET",
                         "IPV6_RECVTCLASS: the traffic class of each datagram (SOCAT_IPV6_TCLASS)")
IPV6_RECVRTHDR = option("ipv6-recvrthdr", INT, G.IP6, "PASTSOCKET",
                        "IPV6_RECVRTHDR: the routing header of each datagram (SOCAT_IPV6_RTHDR)", ("recvrthdr",))
IPV6_RECVDSTOPTS = option("ipv6-recvdstopts", INT, G.IP6, "PASTSOCKET", "IPV6_RECVDSTOPTS: the destination "
                          "options of each datagram (SOCAT_IPV6_DSTOPTS)", ("recvdstopts",))
IPV6_RECVHOPOPTS = option("ipv6-recvhopopts", INT, G.IP6, "PASTSOCKET", "IPV6_RECVHOPOPTS: the hop-by-hop "
                          "options of each datagram (SOCAT_IPV6_HOPOPTS)", ("recvhopopts",))
# every option whose messages the receive paths read with recvmsg() (the others pay nothing)
ANCILLARY_OPTIONS = frozenset({SO_TIMESTAMP, IP_RECVOPTS, IP_RECVTOS, IP_RECVTTL, IP_PKTINFO, IPV6_RECVPKTINFO,
                               IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_RECVRTHDR, IPV6_RECVDSTOPTS,
                               IPV6_RECVHOPOPTS})
SETSOCKOPT = option("setsockopt", SOCKOPT_BIN, G.SOCKET, "CONNECTED", "setsockopt(<level>:<optname>:<dalan bytes>)",
                    ("sockopt",))
SETSOCKOPT_BIN = option("setsockopt-bin", SOCKOPT_BIN, G.SOCKET, "CONNECTED",
                        "setsockopt(<level>:<optname>:<dalan bytes>)", ("sockopt-bin",))
SETSOCKOPT_INT = option("setsockopt-int", SOCKOPT_INT, G.SOCKET, "CONNECTED", "setsockopt(<level>:<optname>:<int>)",
                        ("sockopt-int",))
SETSOCKOPT_STRING = option("setsockopt-string", SOCKOPT_STRING, G.SOCKET, "CONNECTED",
                           "setsockopt(<level>:<optname>:<string>)", ("sockopt-string",))
SETSOCKOPT_LISTEN = option("setsockopt-listen", SOCKOPT_BIN, G.SOCKET, "PREBIND",
                           "setsockopt on the listening socket before bind", ("sockopt-listen",))
BIND = option("bind", STRING, G.SOCKET, "BIND", "bind to this local address: <host>[:<port>] or a path",
              common=True)
CONNECT_TIMEOUT = option("connect-timeout", TIMEVAL, G.SOCKET, "PASTSOCKET", "give up connecting after this time",
                         common=True)
PF = option("protocol-family", STRING, G.SOCKET, "PRESOCKET", "the protocol family: ip4 or ip6 (or a number)",
            ("pf",), common=True)
SO_TYPE = option("so-type", INT, G.SOCKET, "SOCKET", "the socket type: 1 stream, 2 dgram, 5 seqpacket",
                 ("socktype", "type"))
SO_PROTOCOL = option("so-protocol", INT, G.SOCKET, "SOCKET", "the protocol number for socket()", ("protocol",))
NULL_EOF = option("null-eof", BOOL, G.SOCKET, "INIT", "an empty datagram means EOF")
SOURCEPORT = option("sourceport", USHORT, _IPAPP, "LATE",
                    "connect from this local port; when listening, accept only peers from it", ("sp",), common=True)
LOWPORT = option("lowport", BOOL, _IPAPP, "LATE", "use a privileged source port (640..1023); accept only such peers")
RETRY = option("retry", UINT, G.RETRY, "INIT", "retry a failed connect or listen this many times", common=True)
FOREVER = option("forever", BOOL, G.RETRY, "INIT", "retry a failed connect or listen forever", common=True)
INTERVAL = option("interval", TIMESPEC, G.RETRY, "INIT", "seconds between retries (default 1)")
RANGE_OPT = option("range", STRING, G.RANGE, "ACCEPT", "accept peers from <addr>/<bits> or <addr>:<mask> only",
                   common=True)
TCPWRAP = option("tcpwrappers", STRING_NULL_DASH, G.RANGE, "ACCEPT", "libwrap access control: hosts.allow/hosts.deny "
                 "decide, daemon name <name> (default: the program name)",
                 ("libwrap", "tcpwrap", "tcpwrapper", "wrap"))
TCPWRAP_ETC = option("tcpwrap-etc", STRING, G.RANGE, "ACCEPT", "libwrap: the directory of hosts.allow and "
                     "hosts.deny", ("tcpwrap-dir",))
TCPWRAP_ALLOW = option("tcpwrap-hosts-allow-table", STRING, G.RANGE, "ACCEPT", "libwrap: the hosts.allow file "
                       "(instead of /etc/hosts.allow)", ("allow-table", "hosts-allow"))
TCPWRAP_DENY = option("tcpwrap-hosts-deny-table", STRING, G.RANGE, "ACCEPT", "libwrap: the hosts.deny file "
                      "(instead of /etc/hosts.deny)", ("deny-table", "hosts-deny"))
# every libwrap option: any one turns the hosts_access() check on (addresses/tcpwrap.py)
TCPWRAP_OPTIONS = (TCPWRAP, TCPWRAP_ETC, TCPWRAP_ALLOW, TCPWRAP_DENY)
BACKLOG = option("backlog", INT, G.LISTEN, "LISTEN", "the listen() queue length (default 5)", common=True)
ACCEPT_TIMEOUT = option("accept-timeout", TIMEVAL, G.LISTEN, "PASTLISTEN", "give up waiting for a peer after this time",
                        ("listen-timeout",), common=True)
FORK = option("fork", BOOL, G.CHILD, "CONNECTED", "handle each connection in a new child process", common=True)
MAX_CHILDREN = option("max-children", INT, G.CHILD, "PASTACCEPT", "at most this many children at a time",
                      common=True)
TIGHTSOCKLEN = option("unix-tightsocklen", BOOL, G.UNIX, "PREBIND", "pass the exact length of a UNIX address "
                      "(default 1; 0: the whole sockaddr_un, an abstract name padded with NULs)", ("tightsocklen",))
BIND_TEMPNAME = option("unix-bind-tempname", STRING_NULL, G.UNIX, "PREOPEN",
                       "bind a client socket to a fresh random name: the XXXXXX of the pattern (default "
                       "/tmp/socat-bind.XXXXXX) replaced", ("bind-tempname",))

# Options applied by setsockopt() with no code of their own: (level, optname, value kind).
# Value kinds: "int" (an int), "linger" (struct linger {1, n}), "timeval", "string" (a NUL-ended name),
# "bin" (dalan bytes as given).
SOCKOPTS: dict[Option, tuple[int, int, str]] = {
    REUSEPORT: (_s.SOL_SOCKET, _s.SO_REUSEPORT, "int"),
    KEEPALIVE: (_s.SOL_SOCKET, _s.SO_KEEPALIVE, "int"),
    SNDBUF: (_s.SOL_SOCKET, _s.SO_SNDBUF, "int"),
    RCVBUF: (_s.SOL_SOCKET, _s.SO_RCVBUF, "int"),
    LINGER_OPT: (_s.SOL_SOCKET, _s.SO_LINGER, "linger"),
    BROADCAST: (_s.SOL_SOCKET, _s.SO_BROADCAST, "int"),
    BINDTODEVICE: (_s.SOL_SOCKET, 25, "string"),  # SO_BINDTODEVICE
    RCVTIMEO: (_s.SOL_SOCKET, _s.SO_RCVTIMEO, "timeval"),
    SNDTIMEO: (_s.SOL_SOCKET, _s.SO_SNDTIMEO, "timeval"),
    SO_DEBUG: (_s.SOL_SOCKET, _s.SO_DEBUG, "int"),
    DONTROUTE: (_s.SOL_SOCKET, _s.SO_DONTROUTE, "int"),
    OOBINLINE: (_s.SOL_SOCKET, _s.SO_OOBINLINE, "int"),
    PRIORITY: (_s.SOL_SOCKET, 12, "int"),  # SO_PRIORITY
    RCVLOWAT: (_s.SOL_SOCKET, _s.SO_RCVLOWAT, "int"),
    SNDLOWAT: (_s.SOL_SOCKET, _s.SO_SNDLOWAT, "int"),
    NODELAY: (_s.IPPROTO_TCP, _s.TCP_NODELAY, "int"),
    KEEPIDLE: (_s.IPPROTO_TCP, 4, "int"),  # TCP_KEEPIDLE
    KEEPINTVL: (_s.IPPROTO_TCP, 5, "int"),  # TCP_KEEPINTVL
    KEEPCNT: (_s.IPPROTO_TCP, 6, "int"),  # TCP_KEEPCNT
    MAXSEG: (_s.IPPROTO_TCP, _s.TCP_MAXSEG, "int"),
    CORK: (_s.IPPROTO_TCP, 3, "int"),  # TCP_CORK
    DEFER_ACCEPT: (_s.IPPROTO_TCP, 9, "int"),  # TCP_DEFER_ACCEPT
    LINGER2: (_s.IPPROTO_TCP, 8, "int"),  # TCP_LINGER2
    SYNCNT: (_s.IPPROTO_TCP, 7, "int"),  # TCP_SYNCNT
    SCTP_NODELAY: (132, 3, "int"),  # SOL_SCTP, SCTP_NODELAY
    SCTP_MAXSEG: (132, 13, "int"),  # SOL_SCTP, SCTP_MAXSEG
    IP_TTL: (_s.IPPROTO_IP, _s.IP_TTL, "int"),
    IP_TOS: (_s.IPPROTO_IP, _s.IP_TOS, "int"),
    MTU_DISCOVER: (_s.IPPROTO_IP, 10, "int"),  # IP_MTU_DISCOVER
    FREEBIND: (_s.IPPROTO_IP, 15, "int"),  # IP_FREEBIND
    HDRINCL: (_s.IPPROTO_IP, _s.IP_HDRINCL, "int"),
    MULTICAST_TTL: (_s.IPPROTO_IP, _s.IP_MULTICAST_TTL, "int"),
    MULTICAST_LOOP: (_s.IPPROTO_IP, _s.IP_MULTICAST_LOOP, "int"),
    UNICAST_HOPS: (_s.IPPROTO_IPV6, 16, "int"),  # IPV6_UNICAST_HOPS
    TCLASS: (_s.IPPROTO_IPV6, 67, "int"),  # IPV6_TCLASS
    IP_OPTIONS: (_s.IPPROTO_IP, 4, "bin"),  # IP_OPTIONS
    SO_TIMESTAMP: (_s.SOL_SOCKET, 29, "int"),  # SO_TIMESTAMP
    IP_RECVOPTS: (_s.IPPROTO_IP, 6, "int"),  # IP_RECVOPTS
    IP_RECVTOS: (_s.IPPROTO_IP, 13, "int"),  # IP_RECVTOS
    IP_RECVTTL: (_s.IPPROTO_IP, 12, "int"),  # IP_RECVTTL
    IP_PKTINFO: (_s.IPPROTO_IP, 8, "int"),  # IP_PKTINFO
    IPV6_RECVPKTINFO: (_s.IPPROTO_IPV6, 49, "int"),  # IPV6_RECVPKTINFO
    IPV6_RECVHOPLIMIT: (_s.IPPROTO_IPV6, 51, "int"),  # IPV6_RECVHOPLIMIT
    IPV6_RECVTCLASS: (_s.IPPROTO_IPV6, 66, "int"),  # IPV6_RECVTCLASS
    IPV6_RECVRTHDR: (_s.IPPROTO_IPV6, 56, "int"),  # IPV6_RECVRTHDR
    IPV6_RECVDSTOPTS: (_s.IPPROTO_IPV6, 58, "int"),  # IPV6_RECVDSTOPTS
    IPV6_RECVHOPOPTS: (_s.IPPROTO_IPV6, 53, "int"),  # IPV6_RECVHOPOPTS
}
# Applied before bind() on the socket that binds (listening or connecting); never after accept().
PREBIND_SOCKOPTS: dict[Option, tuple[int, int, str]] = {
    REUSEADDR: (_s.SOL_SOCKET, _s.SO_REUSEADDR, "int"),
    V6ONLY: (_s.IPPROTO_IPV6, _s.IPV6_V6ONLY, "int"),
    TRANSPARENT: (_s.IPPROTO_IP, 19, "int"),  # IP_TRANSPARENT
}
# Applied once the connection exists (socat's PH_CONNECTED and PH_LATE).
LATE_SOCKOPTS: dict[Option, tuple[int, int, str]] = {
    SNDBUF_LATE: (_s.SOL_SOCKET, _s.SO_SNDBUF, "int"),
    RCVBUF_LATE: (_s.SOL_SOCKET, _s.SO_RCVBUF, "int"),
    MAXSEG_LATE: (_s.IPPROTO_TCP, _s.TCP_MAXSEG, "int"),
    SCTP_MAXSEG_LATE: (132, 13, "int"),  # SOL_SCTP, SCTP_MAXSEG
}

# ---------------------------------------------------------------- HTTP, SOCKS4: proxies (proxy.py, socks.py)
PROXYPORT = option("proxyport", STRING, G.HTTP, "LATE", "the port of the HTTP proxy (default 8080)", common=True)
IGNORECR = option("ignorecr", BOOL, G.HTTP, "LATE", "also take a bare LF as line end in the proxy's answer",
                  common=True)
PROXY_RESOLVE = option("proxy-resolve", BOOL, G.HTTP, "LATE",
                       "resolve the target to an IPv4 address here and send that to the proxy",
                       ("resolv", "resolve"), common=True)
PROXY_AUTHORIZATION = option("proxy-authorization", STRING, G.HTTP, "LATE",
                             "<user>:<password> for the proxy's Basic authentication",
                             ("proxy-auth", "proxyauth"), common=True)
PROXY_AUTHORIZATION_FILE = option("proxy-authorization-file", STRING, G.HTTP, "LATE",
                                  "read proxy-authorization's value from this file (every byte of it)",
                                  ("proxyauthfile",), common=True)
HTTP_VERSION = option("http-version", STRING, G.HTTP, "LATE", "the HTTP version of the CONNECT request (default 1.0)")
SOCKSPORT = option("socksport", STRING, G.SOCKS4, "LATE", "the port of the SOCKS server (default socks/tcp: 1080)",
                   common=True)
SOCKSUSER = option("socksuser", STRING, G.SOCKS4, "LATE",
                   "the SOCKS user name (default $LOGNAME, else $USER, else anonymous)", common=True)
SOCKSPASS = option("sockspass", STRING, G.SOCKS4, "LATE",
                   "SOCKS5: authenticate with socksuser and this password (RFC 1929)")

# ---------------------------------------------------------------- INTERFACE: TUN/TAP (socat: xio-tun.c)
# -hh lists what socat 1.7.4.4's -hh lists (tun-*, iff-broadcast, iff-debug, iff-multicast).
TUN_DEVICE = option("tun-device", STRING, G.INTERFACE, "OPEN", "the TUN clone device (default /dev/net/tun)",
                    common=True)
TUN_NAME = option("tun-name", STRING, G.INTERFACE, "FD", "the interface name (default: the kernel picks tunN/tapN)",
                  common=True)
TUN_TYPE = option("tun-type", STRING, G.INTERFACE, "FD", "tun (IP packets) or tap (Ethernet frames)", common=True)
IFF_NO_PI = option("iff-no-pi", BOOL, G.INTERFACE, "FD", "IFF_NO_PI: no 4-byte packet information header",
                   ("no-pi", "tun-no-pi"))
INTERFACE_MTU = option("interface-mtu", INT, G.INTERFACE, "FD",
                       "the interface MTU (default: chosen from the transport, see auto-MTU)", ("if-mtu",))
TUN_OFFLOAD = option("tun-offload", BOOL, G.INTERFACE, "FD",
                     "IFF_VNET_HDR and TUNSETOFFLOAD: checksum and segmentation offload over framed; a peer "
                     "without it gets plain packets (pysocat)")
# Interface flags are plain data: (option, IFF_ bit); one applier sets (value 1) or clears (0) them all.
IFF_FLAGS: dict[Option, int] = {}
for _name, _bit, _aliases in (
    ("iff-up", 0x1, ("up",)), ("iff-broadcast", 0x2, ()), ("iff-debug", 0x4, ()),
    ("iff-loopback", 0x8, ("loopback",)), ("iff-pointopoint", 0x10, ("pointopoint",)),
    ("iff-notrailers", 0x20, ("notrailers",)), ("iff-running", 0x40, ("running",)),
    ("iff-noarp", 0x80, ("noarp",)), ("iff-promisc", 0x100, ("promisc",)), ("iff-allmulti", 0x200, ("allmulti",)),
    ("iff-master", 0x400, ("master",)), ("iff-slave", 0x800, ("slave",)), ("iff-multicast", 0x1000, ("multicast",)),
    ("iff-portsel", 0x2000, ("portsel",)), ("iff-automedia", 0x4000, ("automedia",)),
    ("iff-dynamic", 0x8000, ("dynamic",)),
):
    IFF_FLAGS[option(_name, BOOL, G.INTERFACE, "FD", f"set (or with =0 clear) the IFF_{_name[4:].upper()} "
                     f"interface flag", _aliases, common=_name in ("iff-broadcast", "iff-debug", "iff-multicast"))] = _bit
IFF_UP = next(o for o in IFF_FLAGS if o.name == "iff-up")

# ---------------------------------------------------------------- OPENSSL: TLS and DTLS (addresses/openssl.py)
# Names, aliases, phases and types as socat 1.7.4.4's -hhh; min-proto-version and max-proto-version
# (the names socat's manual uses) are aliases too. method is accepted (socat: only when built with
# --enable-openssl-method); fips is not (socat here: #undef WITH_FIPS, an unknown option).
OPENSSL_CIPHERLIST = option("openssl-cipherlist", STRING, G.OPENSSL, "SPECIFIC",
                            "the OpenSSL cipher list for TLS 1.2 and older (default HIGH:-NULL:-PSK:-aNULL)",
                            ("cipher", "cipherlist", "ciphers"), common=True)
OPENSSL_METHOD = option("openssl-method", STRING, G.OPENSSL, "SPECIFIC",
                        "deprecated: exactly this protocol (SSL3, TLS1, TLS1.1, TLS1.2; SSL23: any)", ("method",))
OPENSSL_VERIFY = option("openssl-verify", BOOL, G.OPENSSL, "SPECIFIC",
                        "check the peer's certificate (default 1; 0 trusts anybody)", ("verify",), common=True)
OPENSSL_CERTIFICATE = option("openssl-certificate", STRING, G.OPENSSL, "SPECIFIC",
                             "the PEM file with this side's certificate (and key)", ("cert", "certificate"),
                             common=True)
OPENSSL_KEY = option("openssl-key", STRING, G.OPENSSL, "SPECIFIC", "the PEM file with the private key",
                     ("key",), common=True)
OPENSSL_DHPARAM = option("openssl-dhparam", STRING, G.OPENSSL, "SPECIFIC",
                         "the PEM file with Diffie-Hellman parameters (default: the cert file's, if any)",
                         ("dh", "dhparam", "dhparams", "openssl-dhparams"))
OPENSSL_CAFILE = option("openssl-cafile", STRING, G.OPENSSL, "SPECIFIC",
                        "trust the certificates in this PEM file (default: the system's)", ("cafile",), common=True)
OPENSSL_CAPATH = option("openssl-capath", STRING, G.OPENSSL, "SPECIFIC",
                        "trust the certificates in this hashed directory", ("capath",))
OPENSSL_EGD = option("openssl-egd", STRING, G.OPENSSL, "SPECIFIC",
                     "an entropy gathering daemon's socket (accepted; OpenSSL seeds itself)", ("egd",))
OPENSSL_PSEUDO = option("openssl-pseudo", BOOL, G.OPENSSL, "SPECIFIC",
                        "pseudo entropy when there is none (accepted; OpenSSL seeds itself)", ("pseudo",))
OPENSSL_COMPRESS = option("openssl-compress", STRING, G.OPENSSL, "SPECIFIC",
                          "TLS compression: none or auto (default: OpenSSL's)", ("compress",))
OPENSSL_COMMONNAME = option("openssl-commonname", STRING, G.OPENSSL, "SPECIFIC",
                            "the name the peer's certificate must carry (client default: <host>)",
                            ("cn", "commonname"), common=True)
OPENSSL_SNIHOST = option("openssl-snihost", STRING, G.OPENSSL, "SPECIFIC",
                         "the server name sent as SNI (default: commonname or <host>)", ("snihost",))
OPENSSL_NO_SNI = option("openssl-no-sni", BOOL, G.OPENSSL, "SPECIFIC", "send no server name (SNI)",
                        ("no-sni", "nosni"))
OPENSSL_MIN_PROTO_VERSION = option("openssl-min-proto-version", STRING, G.OPENSSL, "INIT",
                                   "the oldest protocol accepted: SSL3, TLS1, TLS1.1, TLS1.2, TLS1.3",
                                   ("min-proto-version", "min-version"), common=True)
OPENSSL_MAX_PROTO_VERSION = option("openssl-max-proto-version", STRING, G.OPENSSL, "INIT",
                                   "the newest protocol accepted (as min-proto-version)",
                                   ("max-proto-version", "max-version"))
