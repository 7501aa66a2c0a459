"""Compat scenarios of the OPENSSL family (pysocat/addresses/openssl.py): option and file
errors, connection refused, and verification failures against a peer that the command line
itself starts (format: compat/scenarios.py).

A peer within one command line: address 1 is a SYSTEM that starts `openssl s_client` (after
a pause) or `openssl s_server`, address 2 the OPENSSL address under test. A client under
test connects with retry=1,interval=1: the first attempt, before s_server listens, is
refused (an I message), the second one reaches it; only the E and W lines (and selected
notices) are compared, which name no port. Certificates and keys are made with the openssl
command when a scenario first needs them (no key is kept in the tree); without the openssl
command the scenarios that need them are skipped.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping

OPENSSL = shutil.which("openssl")
NO_OPENSSL = None if OPENSSL else "the openssl command is not installed"


class _Certificates(Mapping):
    """The setup files (a CA, a server and a client certificate, an expired one, a rogue
    self-signed one): made once, on first use, with the openssl command."""

    _files: dict[str, bytes] | None = None

    def _made(self) -> dict[str, bytes]:
        if _Certificates._files is None:
            _Certificates._files = _make_certificates()
        return _Certificates._files

    def __getitem__(self, key: str) -> bytes:
        return self._made()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


def _make_certificates() -> dict[str, bytes]:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    with tempfile.TemporaryDirectory(prefix="compat-certs-") as d:
        def run(*args: str) -> None:
            subprocess.run([OPENSSL or "openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

        def issue(name: str, subject: str, days: str, san: str | None) -> None:
            run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
            extra = []
            if san:
                with open(os.path.join(d, f"{name}.ext"), "w") as f:
                    f.write(f"subjectAltName={san}\n")
                extra = ["-extfile", f"{name}.ext"]
            run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
                str(len(name) + 10), "-out", f"{name}.crt", "-days", days, *extra)

        for ca, subject in (("ca", "/CN=Test CA"), ("other", "/CN=Other CA"), ("rogue", "/CN=rogue")):
            run("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "30", "-subj", subject)
        issue("server", "/C=XX/O=Org/CN=localhost", "30", "DNS:localhost,IP:127.0.0.1")
        issue("expired", "/CN=localhost", "-1", "DNS:localhost")
        issue("client", "/CN=client", "30", None)
        files = {}
        for name in ("ca.crt", "other.crt", "server.crt", "server.key", "client.crt", "client.key", "rogue.crt",
                     "rogue.key", "expired.crt", "expired.key"):
            with open(os.path.join(d, name), "rb") as f:
                files[name] = f.read()
        for name in ("server", "client", "rogue", "expired"):
            files[f"{name}.pem"] = files[f"{name}.crt"] + files[f"{name}.key"]
        return files


CERTS = _Certificates()
# E and W lines; but not socat's SYSTEM helper process (a socat that waits for the shell),
# which logs `W exiting on signal 15` when socat ends it at exit (pysocat has no such process)
ERRORS_AND_WARNINGS = r"^socat [EW] (?!exiting on signal)"


def _with_certs(scenario: dict) -> dict:
    scenario.setdefault("setup", CERTS)
    if NO_OPENSSL:
        scenario["skip"] = NO_OPENSSL
    return scenario


def _client_against_s_server(sid: str, port: int, s_server: str, options: str, **extra: object) -> dict:
    """OPENSSL under test against `openssl s_server`, started by address 1 after 0.3 s."""
    server = (f"sleep 0.3; sleep 2.5 | openssl s_server -accept 127.0.0.1\\:{port} -naccept 1 -quiet {s_server} "
              f">/dev/null 2>&1; true")
    return _with_certs({"id": sid, "argv": ["-d", "-d", f"SYSTEM:{server}",
                                            f"OPENSSL:localhost:{port},retry=1,interval=1,{options}"],
                        "stderr_filter": ERRORS_AND_WARNINGS, "timeout": 15, **extra})


def _server_against_s_client(sid: str, port: int, s_client: str, options: str, **extra: object) -> dict:
    """OPENSSL-LISTEN under test; address 1 starts `openssl s_client` after 0.5 s."""
    client = (f"sleep 0.5; openssl s_client -connect 127.0.0.1\\:{port} -no_ign_eof {s_client} "
              f"</dev/null >/dev/null 2>&1; true")  # its status, whatever it is, is not the question
    return _with_certs({"id": sid, "argv": ["-d", "-d", f"SYSTEM:{client}",
                                            f"OPENSSL-LISTEN:{port},reuseaddr,{options}"],
                        "stderr_filter": ERRORS_AND_WARNINGS, "timeout": 15, **extra})


TLS_NOTICES = r"^socat ([EW] (?!exiting on signal)|N (SSL proto|SSL connection|trusting|no peer|option openssl))"

SCENARIOS: list[dict] = [
    # ------------------------------------------------------------ addresses and options, no peer
    {"id": "openssl-connect-refused", "argv": ["-d", "-d", "-", "OPENSSL:127.0.0.1:1"]},
    {"id": "openssl-connect-refused-ssl-alias", "argv": ["-d", "-", "SSL:127.0.0.1:1"]},
    {"id": "openssl-empty-host", "argv": ["-d", "-", "OPENSSL::443"]},
    {"id": "openssl-empty-host-before-options", "argv": ["-d", "-", "OPENSSL::443,min-version=bad"]},
    {"id": "openssl-param-count", "argv": ["-d", "-", "OPENSSL:127.0.0.1"], "intended": "param-count-1.7-quirks",
     "pysocat": {"stderr": ["socat E OPENSSL: wrong number of parameters (1 instead of 2): usage: "
                            "OPENSSL:<host>:<port>"]}},
    {"id": "openssl-unknown-option", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,nosuch"]},
    {"id": "openssl-wrong-group", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,unlink-early"]},
    {"id": "openssl-fips-unknown", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,fips"]},
    {"id": "openssl-verify-not-a-number", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,verify=yes"]},
    {"id": "openssl-cert-value-required", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert"]},
    {"id": "openssl-method", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,method=TLS1.2"], "intended": "openssl-method",
     "pysocat": {"stderr": ["socat W recvmsg(): Resource temporarily unavailable",
                            "socat E connect(<fd>, AF=2 127.0.0.1:1, 16): Connection refused"]}},
    {"id": "openssl-min-proto-version-alias", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,min-proto-version=TLS1.2"],
     "intended": "openssl-proto-version-aliases",
     "pysocat": {"stderr": ["socat W recvmsg(): Resource temporarily unavailable",
                            "socat E connect(<fd>, AF=2 127.0.0.1:1, 16): Connection refused"]}},
    {"id": "openssl-bad-min-version", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,min-version=TLS9"]},
    {"id": "openssl-bad-max-version-first-min", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,max-version=x,min-version=y"]},
    {"id": "openssl-min-version-ssl2", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,min-version=SSL2"]},
    {"id": "openssl-max-version-ssl2", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,openssl-max-proto-version=ssl2"]},
    {"id": "openssl-good-versions", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,min-version=tls1.2,max-version=TLS1.3"]},
    {"id": "openssl-bad-compress", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,compress=zlib"]},
    {"id": "openssl-compress-none", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,compress=none"]},
    {"id": "openssl-bad-cipher", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cipher=NO-SUCH"]},
    {"id": "openssl-missing-cert", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=missing.pem"]},
    {"id": "openssl-empty-cert-name", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert="]},
    {"id": "openssl-missing-cafile", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cafile=missing.crt"]},
    {"id": "openssl-missing-capath", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,capath=missing"]},
    {"id": "openssl-listen-missing-cert", "argv": ["-d", "-", "OPENSSL-LISTEN:29431,reuseaddr,cert=missing.pem"]},
    {"id": "openssl-listen-no-cert-accept-timeout", "argv": ["-d", "-d", "-", "OPENSSL-LISTEN:0,accept-timeout=0.2"],
     "stderr_filter": ERRORS_AND_WARNINGS},
    {"id": "openssl-listen-bad-service", "argv": ["-d", "-", "OPENSSL-LISTEN:notaport,cert=missing.pem"]},
    {"id": "openssl-listen-bad-service-after-cert", "argv": ["-d", "-", "OPENSSL-LISTEN:notaport"]},
    # ------------------------------------------------------------ certificate files (made at run time)
    _with_certs({"id": "openssl-cert-without-key", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=ca.crt"]}),
    _with_certs({"id": "openssl-cert-is-a-key", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=server.key"]}),
    _with_certs({"id": "openssl-key-missing", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=server.crt,key=missing.key"]}),
    _with_certs({"id": "openssl-key-mismatch", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=server.pem,key=client.key"]}),
    _with_certs({"id": "openssl-cafile-without-certificates", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cafile=server.key"]}),
    _with_certs({"id": "openssl-cafile-before-cert", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cert=missing,cafile=missing"]}),
    _with_certs({"id": "openssl-cert-before-cipher", "argv": ["-d", "-", "OPENSSL:127.0.0.1:1,cipher=bad,cert=server.key"]}),
    _with_certs({"id": "openssl-good-files-refused", "argv": ["-d", "-d", "-", "OPENSSL:127.0.0.1:1,cafile=ca.crt,"
                                                              "cert=client.pem,dhparam=missing"]}),
    # ------------------------------------------------------------ a client under test against openssl s_server
    _client_against_s_server("openssl-connect-wrong-ca", 29441, "-cert server.pem", "cafile=other.crt"),
    _client_against_s_server("openssl-connect-wrong-name", 29442, "-cert server.pem",
                             "cafile=ca.crt,commonname=wrong.example"),
    _client_against_s_server("openssl-connect-expired", 29443, "-cert expired.pem", "cafile=ca.crt"),
    _client_against_s_server("openssl-connect-ok", 29444, "-cert server.pem", "cafile=ca.crt",
                             stderr_filter=TLS_NOTICES),
    _client_against_s_server("openssl-connect-verify-off", 29445, "-cert expired.pem", "verify=0",
                             stderr_filter=TLS_NOTICES),
    _client_against_s_server("openssl-connect-wildcard-free-ip-name", 29446, "-cert server.pem",
                             "cafile=ca.crt,cn=127.0.0.1", stderr_filter=TLS_NOTICES),
    # ------------------------------------------------------------ a server under test against openssl s_client
    _server_against_s_client("openssl-listen-no-client-cert", 29451, "", "cert=server.pem,cafile=ca.crt"),
    _server_against_s_client("openssl-listen-untrusted-client", 29452, "-cert rogue.pem",
                             "cert=server.pem,cafile=ca.crt"),
    _server_against_s_client("openssl-listen-no-cert", 29453, "", "verify=0"),
    _server_against_s_client("openssl-listen-client-name-mismatch", 29454, "-cert client.pem",
                             "cert=server.pem,cafile=ca.crt,cn=someone"),
    _server_against_s_client("openssl-listen-mutual-ok", 29455, "-cert client.pem", "cert=server.pem,cafile=ca.crt",
                             stderr_filter=TLS_NOTICES),
    _server_against_s_client("openssl-listen-verify-off", 29456, "", "cert=server.pem,verify=0",
                             stderr_filter=TLS_NOTICES),
    # ------------------------------------------------------------ DTLS (pyOpenSSL)
    {"id": "openssl-dtls-connect-refused", "argv": ["-d", "-d", "-", "OPENSSL-DTLS-CLIENT:127.0.0.1:1"],
     "stderr_filter": ERRORS_AND_WARNINGS},
    {"id": "openssl-dtls-empty-host", "argv": ["-d", "-", "DTLS::1"]},
    {"id": "openssl-dtls-listen-bad-cipher", "argv": ["-d", "-", "DTLS-L:29461,cipher=bad"]},
    {"id": "openssl-dtls-missing-cert", "argv": ["-d", "-", "DTLS:127.0.0.1:1,cert=missing.pem"]},
    {"id": "openssl-dtls-wrong-group", "argv": ["-d", "-", "DTLS:127.0.0.1:1,nodelay"]},
    {"id": "openssl-dtls-param-count", "argv": ["-d", "-", "OPENSSL-DTLS-SERVER"], "intended": "param-count-1.7-quirks",
     "pysocat": {"stderr": ["socat E OPENSSL-DTLS-SERVER: wrong number of parameters (0 instead of 1): usage: "
                            "OPENSSL-DTLS-SERVER:<port>"]}},
]
