"""Compat scenarios: PROXY (HTTP CONNECT), SOCKS4, SOCKS4A and the SOCKS5 addresses, the
one-shot cases a command line shows (refused proxy ports, bad option values, wrong
parameter counts). Format: compat/scenarios.py. Handshakes with real servers are in
tests/behaviour/test_proxy.py and test_socks.py.

Nothing listens on port 1 of 127.0.0.1, so a proxy there refuses at once; every name is
numeric or empty, so nothing is ever looked up off this host. `-d -d` makes socat 1.7.4.4
show the W and N lines that socat 1.8 (and pysocat) shows without -d.
"""
from __future__ import annotations

DD = ["-d", "-d"]
C17 = {"compat": "1.7"}
_REFUSED_1 = ["socat W recvmsg(): Resource temporarily unavailable",
              "socat E connect(<fd>, AF=2 127.0.0.1:1, 16): Connection refused", "socat N exit(1)"]


def _count_1_8(keyword: str, count: int, usage: str) -> dict:
    """pysocat's 1.8 count error after the stdio notice (socat 1.7.4.4 words it otherwise)."""
    return {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                f"socat E {keyword}: wrong number of parameters ({count} instead of 3): usage: "
                                f"{keyword}{usage}", "socat N exit(1)"]}


_PROXY_USAGE = ":<proxy-server>:<host>:<port>"
_SOCKS_USAGE = ":<socks-server>:<host>:<port>"

SCENARIOS: list[dict] = [
    # ------------------------------------------------------------ the proxy refuses the connection
    {"id": "proxy-port-refused", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1"]},
    {"id": "proxy-connect-alias-refused", "argv": [*DD, "-", "PROXY-CONNECT:127.0.0.1:127.0.0.1:80,proxyport=1"]},
    {"id": "proxy-ipv6-refused", "argv": [*DD, "-", "PROXY:[::1]:127.0.0.1:1000,proxyport=1"]},
    {"id": "proxy-target-service-name", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:http,proxyport=1"]},
    {"id": "proxy-target-port-wraps", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:99999,proxyport=1"]},
    {"id": "proxy-target-port-hex", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:0x10,proxyport=1"]},
    {"id": "proxy-target-ipv6-as-written", "argv": [*DD, "-", "PROXY:127.0.0.1:[::1]:1000,proxyport=1"]},
    {"id": "proxy-resolve-numeric", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,resolve"]},
    {"id": "proxy-empty-authorization", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,proxyauth="]},
    {"id": "proxy-retry-refused", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,retry=1,"
                                                     "interval=0.1"]},
    {"id": "proxy-fork-refused", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,fork"]},
    {"id": "socks4-port-refused", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1"]},
    {"id": "socks-alias-refused", "argv": [*DD, "-", "SOCKS:127.0.0.1:127.0.0.1:1000,socksport=1,socksuser=bob"]},
    {"id": "socks4a-port-refused", "argv": [*DD, "-", "SOCKS4A:127.0.0.1:localhost:1000,socksport=1"]},
    {"id": "socks4a-port-zero", "argv": [*DD, "-", "SOCKS4A:127.0.0.1:127.0.0.1:0,socksport=1"]},
    {"id": "socks4-empty-user", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1,socksuser="]},
    {"id": "socks4-user-from-logname", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1"],
     "env": {"LOGNAME": "lognameuser", "USER": "useruser"}},
    {"id": "socks4-retry-refused", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1,retry=1,"
                                                      "interval=0.1"]},

    # ------------------------------------------------------------ bad values, found before connecting
    {"id": "proxy-target-port-unknown-service", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:abc,proxyport=1"]},
    {"id": "proxy-target-port-trailing", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000x,proxyport=1"]},
    {"id": "proxy-target-port-empty", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:,proxyport=1"]},
    {"id": "proxy-proxyport-unknown-service", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=abc"]},
    {"id": "proxy-proxyport-empty", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport="]},
    {"id": "proxy-proxyport-no-value", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport"]},
    {"id": "proxy-ignorecr-not-a-number", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,ignorecr=yes"]},
    {"id": "proxy-resolve-not-a-number", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,proxy-resolve=no"]},
    {"id": "proxy-two-authorizations", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,"
                                                          "proxyauth=a:b,proxyauthfile=/nonexistent"]},
    {"id": "proxy-authorization-file-missing", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,"
                                                                  "proxy-authorization-file={tmp}/missing"]},
    {"id": "proxy-auth-alias-no-value", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,proxy-auth"]},
    {"id": "proxy-unknown-option", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,proxy-foo=1"]},
    {"id": "proxy-socksport-wrong-group", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,socksport=1"]},
    {"id": "proxy-unix-option-wrong-group", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,unlink-early"]},
    {"id": "socks4-proxyport-wrong-group", "argv": ["-", "SOCKS4:127.0.0.1:127.0.0.1:1000,proxyport=1"]},
    {"id": "tcp-proxyport-wrong-group", "argv": ["-", "TCP:127.0.0.1:1,proxyport=1"]},
    {"id": "tcp-socksuser-wrong-group", "argv": ["-", "TCP:127.0.0.1:1,socksuser=x"]},
    {"id": "socks4-socksuser-no-value", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksuser"]},
    {"id": "socks4-socksport-empty", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport="]},
    {"id": "socks4-socksport-unknown-service", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=abc"]},
    {"id": "socks4-target-port-unknown-service", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:abc,socksport=1"]},
    {"id": "socks4-target-ipv6", "argv": [*DD, "-", "SOCKS4:127.0.0.1:[::1]:1000,socksport=1"],
     "note": "SOCKS4 carries IPv4 only: the client's IPv4 lookup fails, after the notices"},
    {"id": "socks4-target-empty", "argv": [*DD, "-", "SOCKS4:127.0.0.1::1000,socksport=1"]},
    {"id": "socks4-proxy-left-address", "argv": [*DD, "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1", "-"]},
    {"id": "proxy-dual-address", "argv": [*DD, "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1!!-", "-"]},

    # ------------------------------------------------------------ wrong parameter counts
    {"id": "proxy-param-count-2", "argv": [*DD, "-", "PROXY:127.0.0.1:80"], "intended": "proxy-param-count",
     "pysocat": _count_1_8("PROXY", 2, _PROXY_USAGE)},
    {"id": "proxy-param-count-4", "argv": [*DD, "-", "PROXY:a:b:c:d"], "intended": "proxy-param-count",
     "pysocat": {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                     "socat E PROXY: wrong number of parameters (4 instead of 3): usage: PROXY"
                                     + _PROXY_USAGE, "socat N exit(1)"]}},
    {"id": "proxy-connect-param-count", "argv": ["-", "proxy-connect:x"], "intended": "proxy-param-count",
     "pysocat": {"rc": 1, "stderr": ["socat E proxy-connect: wrong number of parameters (1 instead of 3): usage: "
                                     "proxy-connect" + _PROXY_USAGE]}},
    {"id": "socks4-param-count", "argv": [*DD, "-", "SOCKS4:1:2"], "intended": "proxy-param-count",
     "pysocat": _count_1_8("SOCKS4", 2, _SOCKS_USAGE)},
    {"id": "socks-param-count", "argv": ["-", "socks:1"], "intended": "proxy-param-count",
     "pysocat": {"rc": 1, "stderr": ["socat E socks: wrong number of parameters (1 instead of 3): usage: socks"
                                     + _SOCKS_USAGE]}},
    {"id": "socks4a-param-count", "argv": ["-", "SOCKS4A:a"], "intended": "proxy-param-count",
     "pysocat": {"rc": 1, "stderr": ["socat E SOCKS4A: wrong number of parameters (1 instead of 3): usage: SOCKS4A"
                                     + _SOCKS_USAGE]}},
    {"id": "proxy-param-count-after-option-error", "argv": ["-", "PROXY:1,foo"],
     "note": "an unknown option is reported before the parameter count, in both versions"},
    {"id": "c17-proxy-param-count-2", "argv": [*DD, "-", "PROXY:127.0.0.1:80"], **C17},
    {"id": "c17-proxy-param-count-4", "argv": ["-", "Proxy:a:b:c:d"], **C17},
    {"id": "c17-socks4-param-count", "argv": ["-", "socks4:1:2"], **C17},
    {"id": "c17-socks4a-param-count", "argv": [*DD, "-", "SOCKS4A:a"], **C17},

    # ------------------------------------------------------------ socat 1.8's SOCKS5 and options
    {"id": "socks5-refused", "argv": [*DD, "-", "SOCKS5:127.0.0.1:1:127.0.0.1:1000"], "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                     "socat N connecting to socks5 server 127.0.0.1:1",
                                     "socat N opening connection to AF=2 127.0.0.1:1", *_REFUSED_1]}},
    {"id": "socks5-connect-socksport-refused", "argv": [*DD, "-", "SOCKS5-CONNECT:127.0.0.1:127.0.0.1:1000,"
                                                                  "socksport=1"], "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                     "socat N connecting to socks5 server 127.0.0.1:1",
                                     "socat N opening connection to AF=2 127.0.0.1:1", *_REFUSED_1]}},
    {"id": "socks5-listen-refused", "argv": [*DD, "SOCKS5-LISTEN:127.0.0.1:1:127.0.0.1:8000", "-"],
     "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat N connecting to socks5 server 127.0.0.1:1",
                                     "socat N opening connection to AF=2 127.0.0.1:1", *_REFUSED_1]}},
    {"id": "socks5-param-count", "argv": ["-", "SOCKS5:1:2"], "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat E SOCKS5: wrong number of parameters (2 instead of 3 or 4): usage: "
                                     "SOCKS5:<socks-server>[:<socks-port>]:<target-host>:<target-port>"]}},
    {"id": "socks5-bind-param-count", "argv": ["-", "SOCKS5-BIND:1:2:3:4:5"], "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat E SOCKS5-BIND: wrong number of parameters (5 instead of 3 or 4): "
                                     "usage: SOCKS5-BIND:<socks-server>[:<socks-port>]:<listen-host>:<listen-port>"]}},
    {"id": "socks5-sockspass-no-value", "argv": ["-", "SOCKS5:127.0.0.1:1:127.0.0.1:1000,sockspass"],
     "intended": "socks5-1.8",
     "pysocat": {"rc": 1, "stderr": ['socat E option "sockspass": value required']}},
    {"id": "proxy-http-version", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,http-version=1.1"],
     "intended": "proxy-options-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                     "socat N opening connection to AF=2 127.0.0.1:1",
                                     "socat N opening connection to 127.0.0.1:1000 via proxy 127.0.0.1:1",
                                     *_REFUSED_1]}},
    {"id": "socks4-sockspass", "argv": [*DD, "-", "SOCKS4:127.0.0.1:127.0.0.1:1000,socksport=1,socksuser=u,"
                                                  "sockspass=p"],
     "intended": "proxy-options-1.8",
     "pysocat": {"rc": 1, "stderr": ["socat N reading from and writing to stdio",
                                     "socat N opening connection to AF=2 127.0.0.1:1",
                                     'socat N opening connection to 127.0.0.1:1000 via socks4 server 127.0.0.1:1 '
                                     'as user "u"', *_REFUSED_1]}},
    {"id": "c17-socks5-unknown", "argv": ["-", "SOCKS5:127.0.0.1:1:127.0.0.1:1000"], **C17},
    {"id": "c17-socks5-connect-unknown", "argv": ["-", "SOCKS5-CONNECT:1:2:3"], **C17},
    {"id": "c17-socks5-listen-unknown", "argv": ["SOCKS5-LISTEN:1:2:3:4", "-"], **C17},
    {"id": "c17-socks5-bind-unknown", "argv": ["SOCKS5-BIND:1:2:3:4", "-"], **C17},
    {"id": "c17-proxy-http-version-unknown", "argv": ["-", "PROXY:127.0.0.1:127.0.0.1:1000,http-version=1.1"],
     **C17},
    {"id": "c17-socks4-sockspass-unknown", "argv": ["-", "SOCKS4:127.0.0.1:127.0.0.1:1000,sockspass=x"], **C17},

    # ------------------------------------------------------------ where the shared resolver differs
    {"id": "proxy-empty-proxy-host", "argv": [*DD, "-", "PROXY::127.0.0.1:1000,proxyport=1"],
     "known_bug": "sockets.resolve: socat looks a host up with a numeric port as getaddrinfo(host, NULL) and says "
                  "`getaddrinfo(\"\", \"NULL\", {1,0,1,6}, {})`; pysocat connects to 0.0.0.0 (TCP::1 alike)"},
    {"id": "proxy-pf-ip6-ipv4-host", "argv": [*DD, "-", "PROXY:127.0.0.1:127.0.0.1:1000,proxyport=1,pf=ip6"],
     "known_bug": "sockets.resolve words a numeric port's lookup error as for a service name (TCP6:127.0.0.1:1 "
                  "alike): `getaddrinfo\"127.0.0.1\", \"1\", {1,10,1,0}` for socat's "
                  "`getaddrinfo(\"127.0.0.1\", \"NULL\", {1,10,1,6}`"},
]
