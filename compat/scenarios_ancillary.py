"""Compat scenarios for the ancillary-message options (ip-recvttl, ip-recvtos, ip-recvopts,
ip-pktinfo, ipv6-recvpktinfo, ipv6-recvhoplimit, ipv6-recvtclass) and ip-options.
Format: compat/scenarios.py.

A DATAGRAM address bound to the port it sends to talks to itself over loopback: stdin goes
out as one datagram with the sender options (ip-ttl=53 ...), comes back with its control
messages, and the -d -d -d log lines about them are compared (timestamps would differ, so
so-timestamp is left to tests/behaviour/test_ancillary.py). Each scenario has its own port
(47651..47670) so that scenarios running in parallel never see each other's datagrams.
"""
from __future__ import annotations

HI = b"hi\n"
ANCILLARY_LINES = r"ncillary message"


def _self(sid: str, port: int, address: str, options: str, family: str = "4") -> dict:
    host = "127.0.0.1" if family == "4" else "[::1]"
    return {"id": sid, "stdin": HI, "stderr_filter": ANCILLARY_LINES,
            "argv": ["-d", "-d", "-d", "-t", "0.5", "-",
                     f"{address}:{host}:{port},bind={host}:{port},{options}"]}


SCENARIOS: list[dict] = [
    _self("anc-udp4-ttl", 47651, "UDP4-DATAGRAM", "ip-recvttl,ip-ttl=53"),
    _self("anc-udp4-tos", 47652, "UDP4-DATAGRAM", "ip-recvtos,ip-tos=7"),
    _self("anc-udp4-options", 47653, "UDP4-DATAGRAM", "ip-recvopts,ip-options=x01000000"),
    _self("anc-udp4-pktinfo", 47654, "UDP4-DATAGRAM", "ip-pktinfo"),
    _self("anc-udp4-all-aliases", 47655, "UDP4-DATAGRAM", "recvttl,recvtos,pktinfo,ttl=9,tos=8"),
    # socat's SENDTO reads log no ancillary messages, DATAGRAM and RECV reads do
    _self("anc-udp4-sendto-logs-nothing", 47656, "UDP4-SENDTO", "iprecvttl,ttl=200"),
    _self("anc-udp6-hoplimit-tclass-pktinfo", 47657, "UDP6-DATAGRAM",
          "ipv6-recvhoplimit,ipv6-unicast-hops=35,ipv6-recvtclass,ipv6-tclass=0xaa,ipv6-recvpktinfo", "6"),
    _self("anc-udp-ttl-no-version", 47658, "UDP-DATAGRAM", "ip-recvttl,ip-ttl=17"),
    {"id": "anc-udp4-without-options-nothing", "stdin": HI, "stderr_filter": ANCILLARY_LINES,
     "argv": ["-d", "-d", "-d", "-t", "0.5", "-", "UDP4-DATAGRAM:127.0.0.1:47659,bind=127.0.0.1:47659,ip-ttl=53"]},
    {"id": "anc-ip-options-needs-value", "argv": ["-u", "-", "UDP4-SENDTO:127.0.0.1:47660,ip-options"]},
    {"id": "anc-recvttl-on-stdin-pipe", "argv": ["-u", "STDIN,ip-recvttl", "STDOUT"], "stdin": HI},
    {"id": "anc-recvtclass-on-udp4-wrong-group", "argv": ["-u", "-", "UDP4-SENDTO:127.0.0.1:47661,ipv6-recvtclass"]},
]
