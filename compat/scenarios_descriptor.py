"""Socket options on STDIO and FD addresses whose descriptor is a pipe (verified with socat
1.7.4.4): options of the socket groups in a phase socat applies to a descriptor are tried
with setsockopt() and fail on the pipe (exit 1); the others are left unused
("N option(s) could not be used"); connect-timeout "does not apply"."""
from __future__ import annotations

ABC = b"abc\n"


def _stdin(name: str, option: str) -> dict:
    return {"id": f"descriptor-stdin-{name}", "argv": ["-u", f"STDIN,{option}", "STDOUT"], "stdin": ABC}


SCENARIOS: list[dict] = [
    _stdin("ip-ttl", "ip-ttl=5"),
    _stdin("rcvbuf", "rcvbuf=1000"),
    _stdin("nodelay", "nodelay"),
    _stdin("keepalive", "so-keepalive"),
    _stdin("ip-tos", "ip-tos=4"),
    _stdin("ipv6-recvtclass", "ipv6-recvtclass"),
    _stdin("first-given-fails-ttl", "ip-ttl=5,rcvbuf=1000"),
    _stdin("first-given-fails-rcvbuf", "rcvbuf=1000,ip-ttl=5"),
    _stdin("late-sndbuf", "sndbuf-late=1000"),
    _stdin("multicast-if", "ip-multicast-if=127.0.0.1"),
    _stdin("setsockopt-int-left", "setsockopt-int=1:2:3"),
    _stdin("bind-left", "bind=127.0.0.1"),
    _stdin("reuseaddr-left", "reuseaddr"),
    _stdin("tightsocklen-left", "unix-tightsocklen"),
    _stdin("add-membership-left", "ip-add-membership=224.0.0.1:127.0.0.1"),
    _stdin("join-group-left", "ipv6-join-group=ff02::1:lo"),
    _stdin("connect-timeout", "connect-timeout=1"),
    _stdin("nonblock-still-fine", "nonblock"),
    {"id": "descriptor-stdout-rcvbuf", "argv": ["-u", "-", "STDOUT,rcvbuf=1000"], "stdin": ABC},
    {"id": "descriptor-fd-ttl", "argv": ["-u", "FD:0,ip-ttl=3", "STDOUT"], "stdin": ABC},
    {"id": "descriptor-stdio-both-fds", "argv": ["-,rcvbuf=2000", "-"], "stdin": ABC},
    # int options as socat holds them: strtoul's result in a C int
    {"id": "descriptor-sockopt-negative-priority", "stdin": ABC,
     "argv": ["-u", "-", "UDP4-SENDTO:127.0.0.1:47690,so-priority=-5"]},
    {"id": "descriptor-sockopt-int-shown-in-braces", "stdin": ABC,
     "argv": ["-u", "-", "UDP4-SENDTO:127.0.0.1:47691,ip-ttl=300"]},
]
