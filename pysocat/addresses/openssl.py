"""OPENSSL: OPENSSL (OPENSSL-CONNECT, SSL) and OPENSSL-LISTEN (SSL-L), TLS over TCP
(socat: xio-openssl.c); the DTLS types are declared here too (their stem is OPENSSL) and
live in dtls.py.

The order of things is socat's: the host is checked, then the SSL context is prepared
from the options (versions, compression, CA, certificate and key, cipher list: the first
failure is the error), then the TCP connection is made (with retry, and with fork after
the handshake: OPENSSL-CONNECT forks once the connection is secure, OPENSSL-LISTEN before
the handshake, in the child). After the handshake the peer certificate is checked as
socat does (chain by OpenSSL; then the subjectAltName DNS and IP entries, else the
subject's commonName, against commonname or <host>, with `*.domain` wildcards) and its
fields become SOCAT_OPENSSL_X509_* variables for EXEC/SYSTEM children. Python's ssl is
imported only here, when such an address is opened.
"""
from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from .. import option_table as O
from ..endpoint import policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from . import sockets as S
from .common import ADDRESS_ENVIRONMENT, OpenContext, apply_fd_options

if TYPE_CHECKING:
    import ssl

    from .tlsio import TLSEndpoint, TLSSession

CONNECT_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.IP4, G.IP6, G.TCP, G.OPENSSL)
LISTEN_GROUPS = (G.FD, G.SOCKET, G.LISTEN, G.CHILD, G.RETRY, G.RANGE, G.IP4, G.IP6, G.TCP, G.OPENSSL)
DTLS_CLIENT_GROUPS = (G.FD, G.SOCKET, G.CHILD, G.RETRY, G.IP4, G.IP6, G.UDP, G.OPENSSL)
DTLS_SERVER_GROUPS = (G.FD, G.SOCKET, G.LISTEN, G.CHILD, G.RETRY, G.RANGE, G.IP4, G.IP6, G.UDP, G.OPENSSL)

DEFAULT_CIPHERS = "HIGH:-NULL:-PSK:-aNULL"  # socat's cipher list when none is given
# socat's protocol version names (case does not matter) and the numbers OpenSSL takes
PROTO_VERSIONS = {"SSL2": 0x0002, "SSL3": 0x0300, "TLS1": 0x0301, "TLS1.0": 0x0301, "TLS1.1": 0x0302,
                  "TLS1.2": 0x0303, "TLS1.3": 0x0304, "DTLS1": 0xFEFF, "DTLS1.0": 0xFEFF, "DTLS1.2": 0xFEFD}
DTLS_VERSIONS = frozenset({0xFEFF, 0xFEFD})
# openssl-method (socat built with --enable-openssl-method): the one version it allows (None: any)
METHODS = {"SSL3": 0x0300, "SSL23": None, "TLS1": 0x0301, "TLS1.0": 0x0301, "TLS1.1": 0x0302, "TLS1.2": 0x0303}


# ---------------------------------------------------------------- the SSL context (socat's prepare)

def parse_version(text: str) -> int:
    version = PROTO_VERSIONS.get(text.upper())
    if version is None:
        raise SocatError(f'Unknown SSL/TLS version "{text}"')
    return version


def forget_certificate_variables(ctx: OpenContext) -> None:
    """socat's openssl_delete_cert_info(): no SOCAT_OPENSSL_* of an earlier peer (or of a
    parent socat) reaches the children of this one."""
    prefixes = tuple(f"{p}_OPENSSL_" for p in {"SOCAT", ctx.program.upper().replace("-", "_")})
    for name in [n for n in ADDRESS_ENVIRONMENT if n.startswith(prefixes)]:
        del ADDRESS_ENVIRONMENT[name]
    for name in [n for n in os.environ if n.startswith(prefixes)]:
        del os.environ[name]


def _apply_versions(context: "ssl.SSLContext", opts: OptionValues, dtls: bool) -> None:
    import ssl

    method = opts.get(O.OPENSSL_METHOD)
    if method is not None:
        if str(method).upper() not in METHODS or dtls:
            raise SocatError(f'openssl-method="{method}": method unknown or not provided by library')
        fixed = METHODS[str(method).upper()]
        if fixed is not None:
            context.minimum_version = context.maximum_version = ssl.TLSVersion(fixed)
    bounds = [(which, opts.get(opt)) for which, opt in (("min", O.OPENSSL_MIN_PROTO_VERSION),
                                                          ("max", O.OPENSSL_MAX_PROTO_VERSION))]
    versions = {which: parse_version(str(text)) for which, text in bounds if text is not None}
    if dtls:
        return  # checked; dtls.py sets the DTLS ones on its own context
    for which, text in bounds:
        if text is None or versions[which] in DTLS_VERSIONS:
            continue  # a DTLS version on a TLS context: socat passes it on to no call
        version = versions[which]
        try:
            if which == "min":
                context.minimum_version = ssl.TLSVersion(version)
            else:
                context.maximum_version = ssl.TLSVersion(version)
        except ValueError:
            tail = " (0)" if which == "min" else ""
            raise SocatError(f'_xioopen_openssl_prepare(): SSL_CTX_set_{which}_proto_version("{text}"->{version}): '
                             f"failed{tail}") from None


def _apply_compression(context: "ssl.SSLContext", opts: OptionValues) -> None:
    import ssl

    method = opts.get(O.OPENSSL_COMPRESS)
    if method is None:
        return
    if str(method).lower() == "auto":
        LOG.info("OpenSSL built without compression support")
        context.options &= ~ssl.OP_NO_COMPRESSION
    elif str(method).lower() == "none":
        LOG.info("Disabling OpenSSL compression")
        context.options |= ssl.OP_NO_COMPRESSION
    else:
        raise SocatError(f'openssl-compress="{method}": unknown compression method')


def _load_authorities(context: "ssl.SSLContext", opts: OptionValues) -> None:
    from .tlsio import error_text

    cafile, capath = opts.get(O.OPENSSL_CAFILE), opts.get(O.OPENSSL_CAPATH)
    if cafile is None and capath is None:
        context.set_default_verify_paths()
        return
    try:
        context.load_verify_locations(cafile=None if cafile is None else str(cafile),
                                      capath=None if capath is None else str(capath))
    except (OSError, ValueError) as err:
        raise SocatError(f"SSL_CTX_load_verify_locations(): {error_text(err)}") from None


CERTIFICATE_CALL, KEY_CALL = "SSL_CTX_use_certificate_file", "SSL_CTX_use_PrivateKey_file"
# OpenSSL's first error where a PEM file lacks what was asked for; Python's ssl reports the
# last one (SSL routines::PEM lib), socat the first
NO_CERTIFICATE = (0x0480006C, "PEM routines::no start line")
NO_KEY = (0x1E08010C, "DECODER routines::unsupported")


def _holds_certificate(path: str) -> bool:
    import ssl

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (OSError, ValueError):
        return False
    return True


def _load_certificate(context: "ssl.SSLContext", cert: str, key: str | None) -> None:
    """load_cert_chain() says neither which of socat's two calls failed nor the first error
    of OpenSSL's queue: both are found out from the files when it fails."""
    from .tlsio import code_text, error_text

    try:
        context.load_cert_chain(cert, key)
    except (OSError, ValueError) as err:
        import ssl

        if not isinstance(err, ssl.SSLError):
            if os.path.isdir(cert):  # OpenSSL reads nothing from it: no PEM start line
                raise SocatError(f"{CERTIFICATE_CALL}(): {code_text(*NO_CERTIFICATE)}") from None
            call = KEY_CALL if os.access(cert, os.R_OK) else CERTIFICATE_CALL
            raise SocatError(f"{call}(): {error_text(err)}") from None
        if getattr(err, "reason", None) is not None:
            call = CERTIFICATE_CALL if getattr(err, "library", None) == "PEM" else KEY_CALL
            raise SocatError(f"{call}(): {error_text(err)}") from None
        if not _holds_certificate(cert):
            raise SocatError(f"{CERTIFICATE_CALL}(): {code_text(*NO_CERTIFICATE)}") from None
        raise SocatError(f"{KEY_CALL}(): {code_text(*NO_KEY)}") from None


def _load_dh_params(context: "ssl.SSLContext", path: str) -> None:
    import ssl

    try:
        context.load_dh_params(path)
    except OSError as err:
        if isinstance(err, ssl.SSLError):
            LOG.info(f"PEM_read_bio_DHparams(0x{id(context):x}, NULL, NULL, NULL): error")
        else:
            LOG.warn(f'BIO_new_file("{path}", "r"): {os.strerror(err.errno or 0)}')


def _set_ciphers(context: "ssl.SSLContext", ciphers: str) -> None:
    from .tlsio import code_text, error_code

    try:
        context.set_ciphers(ciphers)
    except Exception:  # noqa: BLE001 - ssl.SSLError("No cipher can be selected.")
        code = error_code("SSL", "NO_CIPHER_MATCH") or 0x0A0000B9
        raise SocatError(f'SSL_set_cipher_list(, "{ciphers}"): {code_text(code, "SSL routines::no cipher match")}') \
            from None


def prepare_context(opts: OptionValues, ctx: OpenContext, server: bool, dtls: bool = False) -> tuple["ssl.SSLContext", bool]:
    """The SSL context socat's _xioopen_openssl_prepare() makes of the options, and whether
    the peer's certificate is to be verified. `dtls`: the context for pyOpenSSL is made in
    dtls.py; this checks the options alike."""
    import ssl

    verify = opts.flag(O.OPENSSL_VERIFY) if O.OPENSSL_VERIFY in opts else True
    forget_certificate_variables(ctx)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # socat checks the name itself (check_peer_certificate)
    _apply_versions(context, opts, dtls)
    _apply_compression(context, opts)
    _load_authorities(context, opts)
    cert = opts.get(O.OPENSSL_CERTIFICATE)
    if cert is not None:
        key = opts.get(O.OPENSSL_KEY)
        _load_certificate(context, str(cert), None if key is None else str(key))
        _load_dh_params(context, str(opts.get(O.OPENSSL_DHPARAM, cert)))
    _set_ciphers(context, str(opts.get(O.OPENSSL_CIPHERLIST, DEFAULT_CIPHERS)))
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    return context, verify


# ---------------------------------------------------------------- after the handshake

def _append_env(ctx: OpenContext, name: str, value: str) -> None:
    """xiosetenv(..., 2, " // "): a second value of the same field is appended."""
    for prefix in {"SOCAT", ctx.program.upper().replace("-", "_")}:
        key = f"{prefix}_{name}"
        old = ADDRESS_ENVIRONMENT.get(key)
        ADDRESS_ENVIRONMENT[key] = value if old is None else f"{old} // {value}"


def check_peer_certificate(der: bytes | None, peername: str | None, verify: bool, ctx: OpenContext) -> None:
    """socat's openssl_handle_peer_certificate(): the checks, their notices and errors, and
    the SOCAT_OPENSSL_X509_* variables (subjectAltName ones only when verifying, up to
    the entry that matched, as socat 1.7.4.4 sets them)."""
    from .. import x509

    if der is None:
        if verify:
            raise SocatError("no peer certificate")
        LOG.notice("no peer certificate and no check")
        return
    if verify:
        LOG.info("peer certificate is trusted")
    try:
        cert = x509.parse_certificate(der)
    except (x509.CertificateError, IndexError, ValueError):
        cert = x509.Certificate()
    subject = x509.oneline(cert.subject)
    LOG.info(f'SSL peer cert subject: "{subject}"')
    S.set_env(ctx, "OPENSSL_X509_SUBJECT", subject)
    for rdn in cert.subject:
        for attribute in rdn:
            _append_env(ctx, f"OPENSSL_X509_{attribute.long_name.upper()}", attribute.value.decode("latin-1"))
    issuer = x509.oneline(cert.issuer)
    LOG.info(f'SSL peer cert issuer: "{issuer}"')
    S.set_env(ctx, "OPENSSL_X509_ISSUER", issuer)
    matched = False
    if verify:
        wanted_ip = None if peername is None else peername.strip("[]")
        for kind, value in cert.alt_names:
            if kind == "DNS":
                _append_env(ctx, "OPENSSL_X509V3_SUBJECTALTNAME_DNS", value)
                matched = peername is not None and x509.name_matches(value, peername)
            else:
                _append_env(ctx, "OPENSSL_X509V3_SUBJECTALTNAME_IPADD", value)
                matched = wanted_ip is not None and _same_ip(value, wanted_ip)
            if matched:
                break
    if not verify:
        LOG.notice("option openssl-verify disabled, no check of certificate")
        return
    if not peername:
        LOG.notice("trusting certificate, no check of commonName")
        return
    if not matched:
        common = x509.common_name(cert.subject)
        if common is None:
            LOG.info("no COMMONNAME field in peer certificate")
        if common is None or not x509.name_matches(common, peername):
            raise SocatError(f'certificate is valid but its commonName does not match hostname "{peername}"')
    LOG.notice("trusting certificate, commonName matches")


def _same_ip(certified: str, wanted: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(certified) == ipaddress.ip_address(wanted)
    except ValueError:
        return False


def log_connection(session: "TLSSession", ctx: OpenContext) -> None:
    """socat's notices on the secured connection, and its SOCAT_OPENSSL_* variables."""
    version = session.obj.version() or ""
    cipher = (session.obj.cipher() or ("",))[0]
    LOG.notice(f"SSL proto version used: {version}")
    S.set_env(ctx, "OPENSSL_PROTO_VERSION", version)
    LOG.notice(f"SSL connection using {cipher}")
    S.set_env(ctx, "OPENSSL_CIPHER", cipher)
    compression = session.obj.compression() or "none"
    LOG.notice(f'SSL connection compression "{compression}"')
    LOG.notice(f'SSL connection expansion "{compression}"')


def tls_endpoint(session: "TLSSession", opts: OptionValues, label: str) -> "TLSEndpoint":
    from .tlsio import TLSEndpoint

    apply_fd_options(session.fd, opts)
    os.set_blocking(session.fd, False)  # whatever o-nonblock said: the session needs it
    endpoint = TLSEndpoint(label, session.fd, session.fd, policy_from_options(opts))
    endpoint.session = session
    return endpoint


# ---------------------------------------------------------------- OPENSSL (client)

def sni_name(opts: OptionValues, commonname: str) -> str | None:
    """The SNI socat sends: snihost, else the name checked; none with no-sni. (Python's ssl
    sends no SNI for an IP address, which socat does: see intended_differences.)"""
    if opts.flag(O.OPENSSL_NO_SNI):
        return None
    name = str(opts.get(O.OPENSSL_SNIHOST, commonname))
    return name or None


def _new_session(context: "ssl.SSLContext", sock: socket.socket, server: bool, sni: str | None) -> "TLSSession":
    from .tlsio import TLSSession

    try:
        return TLSSession(context, sock.fileno(), server, sni)
    except (ValueError, UnicodeError):  # a name the idna codec refuses: no SNI, as no-sni
        return TLSSession(context, sock.fileno(), server, None)


def open_client(addr: ResolvedAddress, ctx: OpenContext) -> "TLSEndpoint":
    opts = addr.options
    S.check_unsupported(opts)
    host, port = addr.params
    if host == "":
        raise SocatError(f"{addr.keyword}: empty host name")
    commonname = str(opts.get(O.OPENSSL_COMMONNAME, host))
    context, verify = prepare_context(opts, ctx, server=False)
    family = S.family_from_options(opts, socket.AF_UNSPEC)
    family, target = S.resolve(host, port, family, socket.SOCK_STREAM)
    sessions: dict[int, TLSSession] = {}

    def attempt(level: str) -> socket.socket | None:
        sock = S.new_socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            S.apply_socket_options(sock, opts)
            S.bind_ip_client(sock, opts, family, socket.SOCK_STREAM)
            timeout = opts.get(O.CONNECT_TIMEOUT)
            if not S.connect_socket(sock, target, float(timeout) if timeout is not None else None,  # type: ignore[arg-type]
                                    level):
                sock.close()
                return None
            LOG.notice(f"successfully connected from local address {sockaddr_text(sock)}")
            S.apply_connected_options(sock, opts)
            session = _new_session(context, sock, False, sni_name(opts, commonname))
            session.handshake("SSL_connect")
            check_peer_certificate(session.obj.getpeercert(binary_form=True), commonname, verify, ctx)
        except SocatError as err:
            sock.close()
            if level == "E":
                raise
            LOG.log(level, err.text)
            return None
        except BaseException:
            sock.close()
            raise
        sessions.clear()  # a forking parent keeps only the connection it hands on next
        sessions[sock.fileno()] = session
        return sock

    LOG.notice(f"opening connection to {S.sockaddr_info(family, target)}")
    sock = S.connect_loop(opts, attempt)
    session = sessions[sock.fileno()]
    log_connection(session, ctx)
    sock.detach()
    return tls_endpoint(session, opts, f"OPENSSL {S.sockaddr_info(family, target)}")


def sockaddr_text(sock: socket.socket) -> str:
    return S.sockaddr_info(sock.family, sock.getsockname())


# ---------------------------------------------------------------- OPENSSL-LISTEN (server)

def open_server(addr: ResolvedAddress, ctx: OpenContext) -> "TLSEndpoint":
    opts = addr.options
    S.check_unsupported(opts)
    if O.OPENSSL_CERTIFICATE not in opts:
        LOG.warn('no certificate given; consider option "cert"')
    commonname = opts.get(O.OPENSSL_COMMONNAME)
    context, verify = prepare_context(opts, ctx, server=True)
    from .tcp import accept_stream  # listen and accept as TCP-LISTEN (range, fork, max-children)

    family, conn = accept_stream(addr, ctx, socket.AF_UNSPEC)
    label = f"OPENSSL {S.sockaddr_info(family, conn.getpeername())}"
    session = _new_session(context, conn, True, None)
    try:
        session.handshake("SSL_accept")
        check_peer_certificate(session.obj.getpeercert(binary_form=True),
                               None if commonname is None else str(commonname), verify, ctx)
    except SocatError:
        conn.close()
        raise
    log_connection(session, ctx)
    conn.detach()
    return tls_endpoint(session, opts, label)


# ---------------------------------------------------------------- the declarations

address(("OPENSSL", "OPENSSL-CONNECT", "SSL"), ("<host>", "<port>"), CONNECT_GROUPS, "OPENSSL",
        "TLS client: connects to <host>:<port> and checks the server's certificate and name (verify=0: "
        "trusts anybody; fork: a child per connection, after the handshake)")(open_client)
address(("OPENSSL-LISTEN", "SSL-L"), ("<port>",), LISTEN_GROUPS, "OPENSSL",
        "TLS server: accepts a connection on <port> and makes it secure with cert (verify=1 by "
        "default: the client must show a certificate cafile trusts; fork: one child each)")(open_server)


def _open_dtls_client(addr: ResolvedAddress, ctx: OpenContext) -> object:
    from .dtls import open_dtls_client

    return open_dtls_client(addr, ctx)


def _open_dtls_server(addr: ResolvedAddress, ctx: OpenContext) -> object:
    from .dtls import open_dtls_server

    return open_dtls_server(addr, ctx)


address(("OPENSSL-DTLS-CLIENT", "DTLS", "DTLS-C", "DTLS-CLIENT", "DTLS-CONNECT", "OPENSSL-DTLS-CONNECT"),
        ("<host>", "<port>"), DTLS_CLIENT_GROUPS, "OPENSSL",
        "DTLS client over UDP to <host>:<port>: each datagram one record (needs pyOpenSSL)")(_open_dtls_client)
address(("OPENSSL-DTLS-SERVER", "DTLS-L", "DTLS-LISTEN", "DTLS-SERVER", "OPENSSL-DTLS-LISTEN"), ("<port>",),
        DTLS_SERVER_GROUPS, "OPENSSL",
        "DTLS server on UDP <port>: takes the first client (fork: one child each; needs pyOpenSSL)")(
    _open_dtls_server)
