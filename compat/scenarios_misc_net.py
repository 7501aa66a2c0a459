"""Compat scenarios: VSOCK, SCTP, ACCEPT-FD, fork on connecting addresses, UNIX client names
(unix-bind-tempname, unix-tightsocklen) and the libwrap options. Format: compat/scenarios.py.

Most of these are the error paths, which one command line can show: data paths need a
peer and are in tests/behaviour (test_vsock, test_sctp, test_acceptfd, test_connect_fork,
test_unix_bind_tempname). The SCTP scenarios show a kernel without SCTP and are skipped
on a kernel that has it.
"""
from __future__ import annotations

import socket


def _kernel_has_sctp() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()
        return True
    except OSError:
        return False


_SCTP_SKIP = "the kernel has SCTP: these show what a kernel without it gives" if _kernel_has_sctp() else ""
_SCTP = {"skip": _SCTP_SKIP} if _SCTP_SKIP else {}
_ONLY_E = {"stderr_filter": r"^socat E "}

SCENARIOS: list[dict] = [
    # ------------------------------------------------------------ VSOCK
    {"id": "vsock-connect-garbage-cid", "argv": ["-", "VSOCK-CONNECT:abc:1"]},
    {"id": "vsock-connect-garbage-port", "argv": ["-", "VSOCK-CONNECT:1:x1"]},
    {"id": "vsock-listen-garbage-port", "argv": ["VSOCK-LISTEN:abc", "-"]},
    {"id": "vsock-l-alias", "argv": ["VSOCK-L:7x", "-"]},
    {"id": "vsock-connect-bind-garbage", "argv": ["-", "VSOCK-CONNECT:1:1,bind=x"]},
    {"id": "vsock-listen-bind-with-port", "argv": ["VSOCK-LISTEN:1236,bind=1:99", "-"]},
    {"id": "vsock-listen-bind-foreign-cid", "argv": ["VSOCK-LISTEN:1236,bind=7", "-"], **_ONLY_E,
     "note": "socat 1.7.4.4 warns about ioctl(-1, IOCTL_VM_SOCKETS_GET_LOCAL_CID) (its bug); pysocat logs the "
             "CID as socat 1.8 does, or warns where /dev/vsock is missing: only the E lines are compared"},
    {"id": "vsock-connect-timeout", "argv": ["-", "VSOCK-CONNECT:1:1237,connect-timeout=0.2"], **_ONLY_E,
     "note": "without a loopback transport the connect to CID 1 times out; with one it is reset (same E line)"},
    {"id": "vsock-connect-param-count", "argv": ["-", "VSOCK-CONNECT:1"], "intended": "param-count-usage-tail",
     "pysocat": {"stderr": ["socat E VSOCK-CONNECT: wrong number of parameters (1 instead of 2): usage: "
                            "VSOCK-CONNECT:<cid>:<port>"]}},
    {"id": "vsock-listen-unknown-group-option", "argv": ["VSOCK-LISTEN:1236,range=127.0.0.1/8", "-"]},

    # ------------------------------------------------------------ SCTP on a kernel without it
    {"id": "sctp-listen-no-kernel", "argv": ["SCTP-LISTEN:1234", "-"], **_SCTP},
    {"id": "sctp4-l-no-kernel", "argv": ["SCTP4-L:1234", "-"], **_SCTP},
    {"id": "sctp6-listen-no-kernel", "argv": ["SCTP6-LISTEN:1234", "-"], **_SCTP},
    {"id": "sctp-connect-no-kernel", "argv": ["-d", "-d", "-", "SCTP:127.0.0.1:9"], **_SCTP},
    {"id": "sctp-listen-fork-no-kernel", "argv": ["SCTP-LISTEN:1234,fork,reuseaddr,range=127.0.0.1/8", "PIPE"],
     **_SCTP},
    {"id": "sctp-listen-tcp-option", "argv": ["SCTP-LISTEN:1234,tcp-nodelay", "-"]},
    {"id": "sctp-connect-unix-option", "argv": ["-", "SCTP:127.0.0.1:9,unix-tightsocklen=0"]},
    {"id": "sctp-param-count", "argv": ["-", "SCTP:127.0.0.1"], "intended": "param-count-usage-tail",
     "pysocat": {"stderr": ["socat E SCTP: wrong number of parameters (1 instead of 2): usage: SCTP:<host>:<port>"]}},
    {"id": "sctp-nodelay-no-kernel", "argv": ["SCTP-LISTEN:1234,sctp-nodelay,sctp-maxseg=1200", "-"],
     "intended": "options-1.8", "pysocat": {"stderr": ["socat E socket(2, 1, 132): Protocol not supported"]}, **_SCTP},

    # ------------------------------------------------------------ ACCEPT-FD (socat 1.8)
    {"id": "acceptfd-stdin-is-no-socket", "argv": ["ACCEPT-FD:0", "-"], "intended": "address-types-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat W getsockname(fd=0, ...): Socket operation on non-socket",
                                     "socat E accept(<fd>, ...): Socket operation on non-socket"]}},
    {"id": "accept-alias-not-open", "argv": ["ACCEPT:9", "-"], "intended": "address-types-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat W fcntl(<fd>, F_SETFD, FD_CLOEXEC): Bad file descriptor",
                                     "socat W getsockname(fd=9, ...): Bad file descriptor",
                                     "socat E accept(<fd>, ...): Bad file descriptor"]}},
    {"id": "acceptfd-bad-number", "argv": ["ACCEPT-FD:3x", "-"], "intended": "address-types-1.8",
     "pysocat": {"rc": 1, "stderr": ['socat E error in FD number "3x"']}},
    {"id": "acceptfd-listen-option", "argv": ["ACCEPT-FD:3,backlog=5", "-"], "intended": "address-types-1.8",
     "pysocat": {"rc": 1, "stderr": ['socat E parseopts_table(): option "backlog" not supported with this '
                                     'address type']}},

    # ------------------------------------------------------------ fork on connecting addresses
    {"id": "tcp-connect-fork-refused", "argv": ["-d", "-d", "TCP4:127.0.0.1:1,fork", "-"],
     "note": "the first connect fails: the parent exits as without fork"},
    {"id": "tcp-connect-fork-retry-refused", "argv": ["-d", "-d", "TCP4:127.0.0.1:1,fork,retry=1,interval=0.1",
                                                      "-"]},
    {"id": "unix-connect-fork-wrong-group", "argv": ["-", "UNIX-CONNECT:x,fork"]},
    {"id": "abstract-connect-fork-wrong-group", "argv": ["-", "ABSTRACT-CONNECT:x,fork"]},
    {"id": "udp-connect-fork-wrong-group", "argv": ["-", "UDP4:127.0.0.1:9,fork"]},

    # ------------------------------------------------------------ UNIX client names
    {"id": "unix-bind-tempname-and-bind", "argv": ["-", "UNIX-CONNECT:srv,bind=b,bind-tempname"],
     "intended": "options-1.8",
     "pysocat": {"stderr": ["socat E do not use both options bind and unix-bind-tempnam"]}},
    {"id": "unix-client-bind-tempname-and-bind", "argv": ["-", "UNIX-CLIENT:srv,bind=b,unix-bind-tempname"],
     "intended": "options-1.8",
     "pysocat": {"stderr": ["socat E do not use both options bind and unix-bind-tempname"]}},
    {"id": "unix-sendto-bind-tempname-and-bind", "argv": ["-", "UNIX-SENDTO:srv,bind=b,bind-tempname=c.XXXXXX"],
     "intended": "options-1.8",
     "pysocat": {"stderr": ["socat E do not use both options bind and bind-tempnam"]}},
    {"id": "unix-bind-tempname-bad-pattern", "argv": ["-", "UNIX-CONNECT:srv,bind-tempname=fixed"],
     "intended": "options-1.8",
     "pysocat": {"stderr": ['socat W xio_tempnam("fixed"): path pattern is not valid',
                            'socat E tempnam("fixed"): Invalid argument']}},
    {"id": "unix-bind-tempname-no-server", "argv": ["-", "UNIX-CONNECT:missing,bind-tempname=c.XXXXXX"],
     "intended": "options-1.8", "files": "*",
     "pysocat": {"stderr": ['socat E connect(, AF=1 "missing", 9): No such file or directory']},
     "note": "the temporary name bound for the failed connect is removed again: the directory stays empty"},
    {"id": "abstract-connect-non-tight", "argv": ["-", "ABSTRACT-CONNECT:pysocat-compat-none,unix-tightsocklen=0"]},
    {"id": "unix-connect-non-tight", "argv": ["-", "UNIX-CONNECT:missing,unix-tightsocklen=0"]},
    {"id": "unix-connect-tight-explicit", "argv": ["-", "UNIX-CONNECT:missing,tightsocklen=1"]},

    # ------------------------------------------------------------ libwrap (tcpwrappers)
    # libwrap is really applied (addresses/tcpwrap.py); the peer checks themselves, with
    # hosts.allow/hosts.deny, are in tests/behaviour/test_tcpwrap.py and peer-suite's *TCPWRAP*
    # (compat 1.7: the accept-timeout and UDP-RECV warnings socat 1.8 shows by default stay out)
    {"id": "tcpwrap-tcp-listen", "argv": ["TCP4-LISTEN:0,tcpwrap=pysocat,accept-timeout=0.2", "PIPE"],
     "compat": "1.7"},
    {"id": "tcpwrap-udp-recv", "argv": ["-T", "0.3", "-u", "UDP4-RECV:0,libwrap", "STDOUT"], "compat": "1.7"},
    {"id": "tcpwrap-hosts-allow-table", "argv": ["TCP4-LISTEN:0,hosts-allow=/nonexistent,accept-timeout=0.2", "PIPE"],
     "compat": "1.7"},
    {"id": "tcpwrap-etc-tcp-listen", "argv": ["TCP4-LISTEN:0,tcpwrap-etc={tmp},accept-timeout=0.2", "PIPE"],
     "compat": "1.7"},
    {"id": "tcpwrap-connect-wrong-group", "argv": ["-", "TCP:127.0.0.1:1,tcpwrap"]},
    {"id": "tcpwrap-etc-wrong-group", "argv": ["-", "UNIX-CONNECT:x,tcpwrap-dir=/etc"]},
]
