"""pysocat --compat=1.7 against the real socat 1.7.4.4: every difference that
intended_differences.py lists for socat 1.7 (and the others of issue 6: -T 0, a reset peer,
SOCAT_VERSION), run with PYSOCAT_COMPAT=1.7 (`compat`), must be "same" as socat 1.7.4.4.
Skipped when the socat compared with is another version.

Help texts are compared where pysocat and Debian's socat list the same things: the lines
test.sh greps (` udp6-`), a set of options, the usage after a bad option; the first line
(pysocat's credit) and pysocat's own options are left out by the filters.
tests/behaviour/test_compat_level.py compares -h/-hh/-hhh line by line.
"""
from __future__ import annotations

HELLO = b"hello\n"
C17 = {"compat": "1.7"}
# the usage text without pysocat's own lines (its credit, --explain, --compat)
USAGE_FILTER = r"^(?!\S+ by |      --(explain|compat))"
# -V feature lines of features both Debian's socat 1.7.4.4 and pysocat have
FEATURES_FILTER = (r"^features:|WITH_(STDIO|FDNUM|FILE|CREAT|GOPEN|TERMIOS|PIPE|UNIX|ABSTRACT_UNIXSOCKET|IP4|IP6|"
                   r"RAWIP|INTERFACE|TCP|UDP|LISTEN|VSOCK|SYSTEM|EXEC|TUN|PTY|RETRY|MSGLEVEL)\b")

SCENARIOS: list[dict] = [
    # ------------------------------------------------ default-level-shows-W: 1.7 shows F and E only
    {"id": "c17-log-default-hides-warning", "argv": ["-g", "-u", "-", "STDOUT,fork"], "stdin": HELLO, **C17},
    {"id": "c17-log-default-setpgid", "argv": ["-", "EXEC:cat,setpgid"], "stdin": HELLO, **C17},
    {"id": "c17-log-d-shows-warning", "argv": ["-d", "-g", "-u", "-", "STDOUT,fork"], "stdin": HELLO, **C17},
    {"id": "c17-log-dd-notices", "argv": ["-d", "-d", "OPEN:/nonexistent", "-"], **C17},
    {"id": "c17-log-dd-merged", "argv": ["-dd", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    # ------------------------------------------------ d-digit-levels, bad-d-digit-continues, usage-text-1.8
    {"id": "c17-log-d0-unknown", "argv": ["-d0", "OPEN:/nonexistent", "-"], "stderr_filter": USAGE_FILTER, **C17},
    {"id": "c17-log-d2-unknown", "argv": ["-d2", "-u", "-", "STDOUT"], "stdin": HELLO, "stderr_filter": USAGE_FILTER,
     **C17},
    {"id": "c17-log-d4-option-form", "argv": ["-d4", "-u", "-", "STDOUT"], "stdin": HELLO,
     "stderr_filter": USAGE_FILTER, "compat_via": "option", **C17},
    {"id": "c17-log-d5-exits", "argv": ["-d5", "-u", "-", "STDOUT"], "stdin": HELLO, "stderr_filter": USAGE_FILTER,
     **C17},
    {"id": "c17-log-dx-exits", "argv": ["-dx", "-u", "-", "STDOUT"], "stdin": HELLO, "stderr_filter": USAGE_FILTER,
     **C17},
    {"id": "c17-log-ddx-exits", "argv": ["-ddx", "-u", "-", "STDOUT"], "stdin": HELLO,
     "stderr_filter": USAGE_FILTER, **C17},
    {"id": "c17-help-Vx-usage", "argv": ["-Vx"], "stderr_filter": USAGE_FILTER, **C17},
    {"id": "c17-help-h-protocol-lines", "argv": ["-h"], "stdout_filter": r" (tcp|udp)[46]?-", **C17,
     "note": "test.sh's runstcp4/runsudp6...: $SOCAT -h | grep ' udp6-'"},
    {"id": "c17-help-h-options-part", "argv": ["-h"], "stdout_filter": r"^(Usage:|\S+ \[options\]|   \S|      -)(?!-)",
     **C17},
    {"id": "c17-help-h-stdio-lines", "argv": ["-h"], "stdout_filter": r"^      (std|pipe|open:|gopen|create|fd:|exec|"
                                                                      r"system|pty|unix-|abstract-)", **C17},
    {"id": "c17-help-hh-options", "argv": ["-hh"], **C17,
     "stdout_filter": r"^      (listen-timeout|fork|reuseaddr|bind|crnl|umask|ipv6only|pf|ignoreeof|nonblock|login|"
                      r"wait-slave|setlkw|tcpwrap|user|lseek64-set|fdin|pty-interval|ispeed)\t"},
    {"id": "c17-help-hhh-options", "argv": ["-hhh"], **C17,
     "stdout_filter": r"^      (accept-timeout|listen-timeout|fork|so-reuseaddr|reuseaddr|bind|crnl|crlf|umask|"
                      r"ipv6-v6only|ipv6only|pf|ignoreeof|user|lseek64-set|fdin|pty-interval|ispeed)[\t ]"},
    {"id": "c17-help-hhh-aliases", "argv": ["-hhh"], **C17,
     "stdout_filter": r"^         (-|tcp|tcp-l|tcp4|udp6-l|unix|local|echo|fifo|creat|file|inet6-listen|<num>|"
                      r"<filename>) is |^      (echo|fifo) is an alias for pipe|^      pipe\[,<opts>\]"},
    # ------------------------------------------------ version-text (1.7's layout and features)
    {"id": "c17-help-V-features", "argv": ["-V"], "stdout_filter": FEATURES_FILTER, **C17},
    # ------------------------------------------------ param-count-usage-tail
    {"id": "c17-tcp-param-count", "argv": ["-", "TCP:127.0.0.1"], **C17},
    {"id": "c17-udp-param-count", "argv": ["-", "UDP:1"], **C17},
    {"id": "c17-unix-connect-param-count", "argv": ["-", "UNIX-CONNECT"], **C17},
    {"id": "c17-tun-param-count", "argv": ["TUN:1:2", "-"], **C17},
    {"id": "c17-pipe-param-count", "argv": ["-", "PIPE:a:b"], **C17},
    # param-count-1.7-quirks are not reproduced (SIGSEGV, `(1 instead of 1)`): the message
    # has 1.7's form without the usage tail
    {"id": "c17-fd-missing-param-quirk", "argv": ["FD", "-"], **C17, "intended": "param-count-1.7-quirks",
     "pysocat": {"rc": 1, "stderr": ["socat E FD: wrong number of parameters (0 instead of 1)"]}},
    {"id": "c17-open-two-params-quirk", "argv": ["-u", "OPEN:in:x", "STDOUT"], **C17,
     "intended": "param-count-1.7-quirks",
     "pysocat": {"stderr": ["socat E OPEN: wrong number of parameters (2 instead of 1)"]}},
    # ------------------------------------------------ options-1.8
    {"id": "c17-exec-chdir-unknown", "argv": ["-u", "EXEC:pwd,chdir=/", "STDOUT"], **C17},
    {"id": "c17-exec-cd-unknown", "argv": ["-u", "EXEC:pwd,cd=/", "STDOUT"], **C17},
    {"id": "c17-system-umask-wrong-group", "argv": ["-u", "SYSTEM:umask,umask=027", "STDOUT"], **C17},
    {"id": "c17-open-umask-allowed", "argv": ["-u", "-", "OPEN:out,creat,umask=077"], "stdin": HELLO,
     "files": {"out": "content+mode"}, **C17},
    {"id": "c17-pipe-setpipe-sz-unknown", "argv": ["-", "PIPE,f-setpipe-sz=8192"], "stdin": HELLO, **C17},
    {"id": "c17-stdout-rcvtimeo-unknown", "argv": ["-u", "-", "STDOUT,so-rcvtimeo=1"], "stdin": HELLO, **C17},
    # ------------------------------------------------ interface-options-1.8
    {"id": "c17-interface-iff-option", "argv": ["-u", "INTERFACE:nosuch0,iff-promisc", "/dev/null"], **C17},
    # ------------------------------------------------ exec-child-status-warning
    {"id": "c17-system-fails-while-transferring", "argv": ["-u", "SYSTEM:sleep 1 & sleep 0.3; exit 3", "STDOUT"],
     **C17, "note": "the background sleep keeps the output open: the child's death comes before any EOF"},
    {"id": "c17-system-fails-after-eof", "argv": ["-u", "-", "SYSTEM:sleep 0.3; exit 3"], "stdin": HELLO, **C17,
     "note": "socat 1.7.4's xioshutdown() collects the write-only child itself: no error"},
    {"id": "c17-system-fails-d-lines", "argv": ["-d", "-u", "SYSTEM:sleep 1 & sleep 0.3; exit 3", "STDOUT"],
     "stderr_filter": " [EF] ", **C17},
    # ------------------------------------------------ read_reset_ends_direction (ECONNRESET)
    {"id": "c17-read-reset-exit-0", "argv": ["-", "SYSTEM:sleep 0.2"], "stdin": HELLO, **C17,
     "note": "the child leaves hello unread: its socket's reset is a warning in 1.7.4 (1.8: E, exit 1)"},
    {"id": "c17-read-reset-warning", "argv": ["-d", "-", "SYSTEM:sleep 0.2"], "stdin": HELLO, **C17},
    {"id": "c17-read-reset-notices", "argv": ["-d", "-d", "-", "SYSTEM:sleep 0.2"], "stdin": HELLO, **C17,
     "stderr_filter": "reset|in error|is at EOF|exiting"},
    # ------------------------------------------------ statistics-option, experimental-option, new-global-flags-1.8
    {"id": "c17-global-statistics-unknown", "argv": ["--statistics", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    {"id": "c17-global-experimental-unknown", "argv": ["--experimental", "-u", "-", "STDOUT"], "stdin": HELLO,
     **C17},
    {"id": "c17-global-0-unknown", "argv": ["-0", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    {"id": "c17-global-S-unknown", "argv": ["-S", "0x89de", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    {"id": "c17-global-S-attached-unknown", "argv": ["-S0x89de", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    # ------------------------------------------------ address-types-1.8
    {"id": "c17-socketpair-unknown", "argv": ["SOCKETPAIR", "-"], **C17},
    {"id": "c17-shell-unknown", "argv": ["-u", "SHELL:true", "-"], **C17},
    {"id": "c17-abstract-l-unknown", "argv": ["ABSTRACT-L:x", "-"], **C17},
    {"id": "c17-abstract-send-unknown", "argv": ["-", "ABSTRACT-SEND:x"], **C17},
    {"id": "c17-accept-fd-unknown", "argv": ["ACCEPT-FD:3", "-"], **C17},
    {"id": "c17-testaddrs-probe", "argv": ["SOCKETPAIR:::::", "/dev/null"], **C17,
     "note": "test.sh's testaddrs: a type 1.7 lacks says exactly `E unknown device/address`"},
    # ------------------------------------------------ -T 0 and negative -T
    {"id": "c17-T-zero-no-timeout", "argv": ["-T", "0", "-u", "SYSTEM:sleep 0.3; echo late", "STDOUT"], **C17},
    {"id": "c17-T-zero-fraction", "argv": ["-T", "0.0", "-u", "SYSTEM:sleep 0.3; echo late", "STDOUT"], **C17},
    {"id": "c17-T-small-still-times-out", "argv": ["-T", "0.1", "-u", "SYSTEM:sleep 1", "STDOUT"], **C17},
    {"id": "c17-T-negative-fails", "argv": ["-T", "-1", "-u", "-", "STDOUT"], "stdin": HELLO, **C17,
     "compare": ("rc", "stdout"),
     "note": "socat's E xiopoll(...) line lists uninitialised poll entries; only rc and stdout compared"},
    # ------------------------------------------------ SOCAT_VERSION for children
    {"id": "c17-exec-socat-version", "argv": ["-u", "SYSTEM:echo $SOCAT_VERSION", "STDOUT"], **C17},
    # ------------------------------------------------ the same command lines without --compat: socat 1.8's
    # behaviour, an intended difference from 1.7 (these run against any socat)
    {"id": "c18-T-zero-ends-at-once", "argv": ["-T", "0", "-u", "SYSTEM:sleep 0.3; echo late", "STDOUT"],
     "intended": "inactivity-timeout-zero", "pysocat": {"rc": 0, "stdout": b"", "stderr": []}},
    {"id": "c18-T-negative-no-timeout", "argv": ["-T", "-1", "-u", "-", "STDOUT"], "stdin": HELLO,
     "compare": ("rc", "stdout"), "intended": "inactivity-timeout-zero", "pysocat": {"rc": 0, "stdout": HELLO}},
    {"id": "c18-read-reset-error", "argv": ["-", "SYSTEM:sleep 0.2"], "stdin": HELLO, "intended": "read-reset-error",
     "pysocat": {"rc": 1, "stderr": ["socat E read(<fd>, 0xPTR, 8192): Connection reset by peer"]}},
    # ------------------------------------------------ what 1.7 and 1.8 share stays as it was
    {"id": "c17-global-4", "argv": ["-4", "-u", "-", "STDOUT"], "stdin": HELLO, **C17},
    {"id": "c17-stdio", "argv": ["-", "-"], "stdin": HELLO, **C17},
    {"id": "c17-explain-still-pysocats", "argv": ["--explain", "-", "PIPE"], "compare": ("rc", "stderr"), **C17,
     "intended": "explain-option", "pysocat": {"rc": 0, "stderr": []}},
]
