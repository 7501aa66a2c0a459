"""Compat scenarios for raw IP (IP-SENDTO, IP-DATAGRAM, IP-RECVFROM, IP-RECV, 4 and 6) and
INTERFACE: error paths and one-shot runs that need no peer. Format: compat/scenarios.py.

Raw sockets need root; without it both programs fail at socket() alike, so the scenarios
still compare. Unknown hosts are numeric (`[nosuch]`: AI_NUMERICHOST) so that no name is
ever sent to a DNS server. Each scenario that may send has its own unassigned protocol number
(232..249) so that scenarios running in parallel never see each other's packets; nothing
is sent beyond 127.0.0.1, and INTERFACE is only opened on names that do not exist.
Where pysocat adds its "packets ... without their boundaries" warning (intended: framed),
only the E/W lines that matter are compared.
"""
from __future__ import annotations

HELLO = b"hello\n"
_USAGE = "param-count-usage-tail"


def _count(sid: str, address: str, got: int, wanted: int, usage: str) -> dict:
    keyword = address.split(":", 1)[0]
    return {"id": sid, "argv": ["-u", "-", address], "intended": _USAGE,
            "pysocat": {"stderr": [f"socat E {keyword}: wrong number of parameters ({got} instead of {wanted}): "
                                   f"usage: {usage}"]}}


SCENARIOS: list[dict] = [
    # ------------------------------------------------------------ resolving <host>
    {"id": "rawip-unknown-host", "argv": ["-u", "-", "IP4-SENDTO:[nosuch]:232"]},
    {"id": "rawip-unknown-host-any-family", "argv": ["-u", "-", "IP-SENDTO:[nosuch]:232"]},
    {"id": "rawip6-unknown-host", "argv": ["-u", "-", "IP6-SENDTO:[nosuch]:232"]},
    {"id": "rawip-ip6-address-on-ip4", "argv": ["-u", "-", "IP4-SENDTO:[::1]:232"]},
    {"id": "rawip-ip4-address-on-ip6", "argv": ["-u", "-", "IP6-SENDTO:127.0.0.1:232"]},
    {"id": "rawip-empty-host", "argv": ["-u", "-", "IP4-SENDTO::232"]},
    {"id": "rawip-datagram-unknown-host", "argv": ["-u", "-", "IP-DGRAM:[nosuch]:232"]},
    # ------------------------------------------------------------ <protocol>
    {"id": "rawip-protocol-256", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:256"]},
    {"id": "rawip-protocol-hex-too-large", "argv": ["-u", "-", "IP-DATAGRAM:127.0.0.1:0x1ff"]},
    {"id": "rawip-recv-protocol-too-large", "argv": ["-u", "IP4-RECV:300", "-"]},
    {"id": "rawip-recvfrom-protocol-too-large", "argv": ["IP6-RECVFROM:999", "-"]},
    {"id": "rawip-protocol-empty", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:"],
     "note": "strtoul gives 0: socket(2, 3, 0) fails (as root: Protocol not supported)"},
    {"id": "rawip-protocol-negative", "argv": ["-u", "-", "IP-SENDTO:127.0.0.1:-1"],
     "note": "a C int -1 reaches socket(): Invalid argument"},
    {"id": "rawip-protocol-garbage-recvfrom", "argv": ["-d", "IP4-RECVFROM:x", "-"],
     "note": "W trailing garbage, then socket(2, 3, 0) fails"},
    {"id": "rawip6-protocol-garbage", "argv": ["-d", "-u", "-", "IP6-SENDTO:[::1]:abc"]},
    {"id": "rawip-protocol-trailing-garbage-sends", "argv": ["-d", "-u", "-", "IP4-SENDTO:127.0.0.1:233x"],
     "stdin": HELLO, "stderr_filter": "trailing garbage| E ",
     "note": "25x-style protocols are only a warning: one packet of protocol 233 to 127.0.0.1"},
    # ------------------------------------------------------------ options
    {"id": "rawip-bind-with-port", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:234,bind=127.0.0.2:5"]},
    {"id": "rawip-recv-bind-with-port", "argv": ["-u", "IP4-RECV:234,bind=127.0.0.2:5", "-"]},
    {"id": "rawip-bind-unknown-host", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:234,bind=[nosuch]"]},
    {"id": "rawip-bind-not-local", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:234,bind=192.0.2.77"],
     "note": "bind() to an address this host does not have: Cannot assign requested address"},
    {"id": "rawip-sendto-no-range", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:234,range=127.0.0.0/8"]},
    {"id": "rawip-recv-no-fork", "argv": ["-u", "IP4-RECV:234,fork", "-"]},
    {"id": "rawip-sendto-no-sourceport", "argv": ["-u", "-", "IP-SENDTO:127.0.0.1:234,sourceport=5"]},
    # ------------------------------------------------------------ parameter counts
    _count("rawip-sendto-one-param", "IP4-SENDTO:127.0.0.1", 1, 2, "IP4-SENDTO:<host>:<protocol>"),
    _count("rawip-alias-three-params", "IP:127.0.0.1:235:x", 3, 2, "IP:<host>:<protocol>"),
    _count("rawip-dgram-one-param", "IP6-DGRAM:x", 1, 2, "IP6-DGRAM:<host>:<protocol>"),
    _count("rawip-recvfrom-two-params", "IP-RECVFROM:1:2", 2, 1, "IP-RECVFROM:<protocol>"),
    _count("rawip-recv-no-param", "IP4-RECV", 0, 1, "IP4-RECV:<protocol>"),
    # ------------------------------------------------------------ one-shot runs over 127.0.0.1
    {"id": "rawip-sendto-one-packet", "argv": ["-u", "-", "IP4-SENDTO:127.0.0.1:236"], "stdin": HELLO,
     "stderr_filter": " [EF] "},
    {"id": "rawip6-sendto-one-packet", "argv": ["-u", "-", "IP6-SENDTO:[::1]:237"], "stdin": HELLO,
     "stderr_filter": " [EF] "},
    {"id": "rawip-recv-idle-timeout", "argv": ["-T", "0.3", "-u", "IP4-RECV:238", "/dev/null"],
     "stderr_filter": " [EF] ", "note": "nothing arrives: -T ends it, exit 0"},
    # ------------------------------------------------------------ INTERFACE (never an existing interface)
    {"id": "interface-unknown", "argv": ["-u", "INTERFACE:nosuch0", "/dev/null"]},
    {"id": "interface-alias-unknown", "argv": ["IF:nosuch0", "-"]},
    {"id": "interface-no-param", "argv": ["INTERFACE", "-"], "intended": _USAGE,
     "pysocat": {"stderr": ["socat E INTERFACE: wrong number of parameters (0 instead of 1): "
                            "usage: INTERFACE:<interface>"]}},
    {"id": "interface-two-params", "argv": ["IF:lo:x", "-"], "intended": _USAGE,
     "pysocat": {"stderr": ["socat E IF: wrong number of parameters (2 instead of 1): usage: IF:<interface>"]}},
    {"id": "interface-iff-option", "argv": ["-u", "INTERFACE:nosuch0,iff-promisc", "/dev/null"],
     "intended": "interface-options-1.8", "pysocat": {"stderr": ['socat E unknown interface "nosuch0"']}},
    {"id": "interface-wrong-group", "argv": ["-u", "INTERFACE:nosuch0,range=127.0.0.0/8", "/dev/null"]},
]
