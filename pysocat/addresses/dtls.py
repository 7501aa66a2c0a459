"""OPENSSL-DTLS-CLIENT and OPENSSL-DTLS-SERVER: DTLS over UDP (socat: xio-openssl.c with
DTLS methods), through pyOpenSSL, whose OpenSSL is asked for DTLS as Python's ssl cannot be.

The UDP part is udp.py's: the client connects a UDP socket, the server waits for the first
datagram and connects to its sender (fork: a child per peer). The options are checked with
socat's words by openssl.prepare_context(), then a pyOpenSSL context is made of the same
files. pyOpenSSL works on memory BIOs here, so datagrams stay datagrams: each one read is
handed to OpenSSL whole, and what OpenSSL writes is split at its record headers and sent
in datagrams no larger than the path MTU allows. Each record read is one packet (the
endpoint keeps packet boundaries). Lost handshake datagrams are sent again when OpenSSL's
DTLS timer says so. Without pyOpenSSL opening fails with a clear error.
"""
from __future__ import annotations

import os
import select
import socket
from typing import TYPE_CHECKING

from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..registry import ResolvedAddress
from . import openssl as T
from . import udp
from .common import OpenContext

if TYPE_CHECKING:
    from OpenSSL import SSL

RECORD_HEADER = 13  # DTLS: type, version, epoch, sequence number, length
DEFAULT_MTU = 1500
MAX_DATAGRAM = 65535
HANDSHAKE_TIMEOUT = 60.0  # seconds without an answer before a DTLS handshake gives up


def _pyopenssl(keyword: str) -> object:
    try:
        from OpenSSL import SSL
    except ImportError:
        raise SocatError(f"{keyword}: DTLS is not available (pyOpenSSL is not installed)") from None
    return SSL


def error_text(err: Exception) -> str:
    """The first entry of OpenSSL's error queue as socat prints it (pyOpenSSL hands out the
    strings, not the code; the code is looked up by the names Python's ssl knows)."""
    entries = err.args[0] if err.args and isinstance(err.args[0], list) else []
    if not entries:
        return str(err) or "unknown error"
    library, _function, reason = entries[0]
    return f"error:{_code_of(str(library), str(reason)):08X}:{library}::{reason}"


_codes_by_text: dict[tuple[str, str], int] | None = None


def _code_of(library: str, reason: str) -> int:
    global _codes_by_text
    if _codes_by_text is None:
        import _ssl

        from .tlsio import error_code, error_string

        _codes_by_text = {}
        libraries = getattr(_ssl, "lib_codes_to_names", {})
        for (lib, _code), name in getattr(_ssl, "err_codes_to_names", {}).items():
            if libraries.get(lib) != "SSL":
                continue
            code = error_code("SSL", name)
            text = error_string(code) if code is not None else None
            if text and text.count(":") >= 4:
                _, _, lib_text, _, reason_text = text.split(":", 4)
                _codes_by_text[(lib_text, reason_text)] = code  # type: ignore[assignment]
    return _codes_by_text.get((library, reason), 0)


def _records(data: bytes) -> list[bytes]:
    """The DTLS records in what OpenSSL wrote (it writes whole records)."""
    records, pos = [], 0
    while pos + RECORD_HEADER <= len(data):
        end = pos + RECORD_HEADER + int.from_bytes(data[pos + 11 : pos + 13], "big")
        records.append(data[pos:end])
        pos = end
    if pos < len(data):
        records.append(data[pos:])
    return records


class DTLSSession:
    """A pyOpenSSL Connection on memory BIOs over a connected, non-blocking UDP socket."""

    def __init__(self, context: "SSL.Context", fd: int, server: bool, sni: str | None) -> None:
        from OpenSSL import SSL

        self.SSL = SSL
        self.fd = fd
        os.set_blocking(fd, False)
        self.conn = SSL.Connection(context, None)
        if server:
            self.conn.set_accept_state()
        else:
            self.conn.set_connect_state()
            if sni:
                self.conn.set_tlsext_host_name(sni.encode())
        self.datagram_size = _datagram_size(fd)
        self.conn.set_ciphertext_mtu(self.datagram_size)
        self.broken = False
        self.notify_sent = False

    def flush(self) -> None:
        """Sends what OpenSSL wrote, whole records packed into datagrams of at most the
        path MTU's payload."""
        chunks = []
        while True:
            try:
                chunks.append(self.conn.bio_read(MAX_DATAGRAM))
            except self.SSL.WantReadError:
                break
        datagram = b""
        for record in _records(b"".join(chunks)):
            if datagram and len(datagram) + len(record) > self.datagram_size:
                self._send(datagram)
                datagram = b""
            datagram += record
        if datagram:
            self._send(datagram)

    def _send(self, datagram: bytes) -> None:
        while True:
            try:
                os.write(self.fd, datagram)
                return
            except BlockingIOError:
                select.select([], [self.fd], [])

    def handshake(self, call: str) -> None:
        SSL = self.SSL
        deadline_idle = HANDSHAKE_TIMEOUT
        while True:
            try:
                self.conn.do_handshake()
                break
            except SSL.WantReadError:
                self._flush_or_fail(call)
            except SSL.Error as err:
                self.broken = True
                try:
                    self.flush()  # the alert tells the peer why
                except OSError:
                    pass
                raise SocatError(f"{call}(): {error_text(err)}") from None
            timeout = self.conn.DTLSv1_get_timeout()
            ready, _, _ = select.select([self.fd], [], [], timeout if timeout is not None else deadline_idle)
            if not ready:
                if timeout is None:
                    raise SocatError(f"{call}(): Connection timed out")
                self.conn.DTLSv1_handle_timeout()  # resends the last flight
                self._flush_or_fail(call)
                continue
            try:
                datagram = os.read(self.fd, MAX_DATAGRAM)
            except BlockingIOError:
                continue
            except OSError as err:
                self.broken = True
                raise SocatError(f"{call}(): {os.strerror(err.errno or 0)}") from None
            if datagram:
                self.conn.bio_write(datagram)
        self._flush_or_fail(call)

    def _flush_or_fail(self, call: str) -> None:
        try:
            self.flush()
        except OSError as err:
            self.broken = True
            raise SocatError(f"{call}(): {os.strerror(err.errno or 0)}") from None

    def peer_certificate_der(self) -> bytes | None:
        cert = self.conn.get_peer_certificate(as_cryptography=True)
        if cert is None:
            return None
        from cryptography.hazmat.primitives.serialization import Encoding

        return cert.public_bytes(Encoding.DER)


class DTLSEndpoint(Endpoint):
    """Each DTLS record read is one packet; each packet written is one record."""

    session: DTLSSession | None = None
    _eof: bool = False

    def receive(self, size: int) -> list[bytes] | None:
        assert self.session is not None
        SSL = self.session.SSL
        if self._eof:
            return None
        packets: list[bytes] = []
        while len(packets) < 64:
            try:
                packets.append(self.session.conn.recv(MAX_DATAGRAM))
                continue
            except SSL.WantReadError:
                pass
            except SSL.ZeroReturnError:
                self._eof = True
                break
            except SSL.Error as err:
                self.session.broken = True
                raise SocatError(f"SSL_read(): {error_text(err)}") from None
            try:
                datagram = os.read(self.session.fd, MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError as err:
                self.session.broken = True
                raise SocatError(f"SSL_read(): {os.strerror(err.errno or 0)}") from None
            if datagram:
                self.session.conn.bio_write(datagram)
        try:
            self.session.flush()  # what reading made OpenSSL answer (a retransmitted Finished)
        except OSError:
            pass
        if self._eof and not packets:
            return None
        return packets

    def buffered(self) -> bool:
        return self.session is not None and (self._eof or self.session.conn.pending() > 0)

    def send(self, data: bytes) -> None:
        assert self.session is not None
        try:
            self.session.conn.send(data)
            self.session.flush()
        except self.session.SSL.Error as err:
            self.session.broken = True
            raise SocatError(f"SSL_write(): {error_text(err)}") from None
        except OSError as err:
            self.session.broken = True
            raise SocatError(f"SSL_write(): {os.strerror(err.errno or 0)}") from None

    def shutdown_write(self) -> None:
        if self._closed_write:
            return
        self._closed_write = True
        session = self.session
        if session is None or session.notify_sent or self.policy.shut == "none":
            return
        session.notify_sent = True
        try:
            if session.broken:
                raise OSError
            session.conn.shutdown()
            session.flush()
        except (session.SSL.Error, OSError):
            LOG.warn("xioshutdown_openssl(): SSL_shutdown() -> -1")


def _datagram_size(fd: int) -> int:
    from ..net.pmtu import path_mtu

    known = path_mtu(fd)
    mtu, version = known if known else (DEFAULT_MTU, 4)
    return max(256, min(mtu, MAX_DATAGRAM + 28) - (20 if version == 4 else 40) - 8)


def _context(opts, ctx: OpenContext, server: bool) -> tuple["SSL.Context", bool]:  # noqa: ANN001
    """socat's preparation (its errors, from openssl.prepare_context), then the same for
    pyOpenSSL's OpenSSL."""
    from OpenSSL import SSL

    _python_context, verify = T.prepare_context(opts, ctx, server, dtls=True)
    context = SSL.Context(SSL.DTLS_SERVER_METHOD if server else SSL.DTLS_CLIENT_METHOD)
    context.set_options(SSL.OP_NO_QUERY_MTU | SSL.OP_NO_COMPRESSION)
    for opt, setter in ((O.OPENSSL_MIN_PROTO_VERSION, context.set_min_proto_version),
                        (O.OPENSSL_MAX_PROTO_VERSION, context.set_max_proto_version)):
        if opt in opts:
            version = T.parse_version(str(opts.get(opt)))
            if version in T.DTLS_VERSIONS:
                setter(version)
    cafile, capath = opts.get(O.OPENSSL_CAFILE), opts.get(O.OPENSSL_CAPATH)
    try:
        if cafile is not None or capath is not None:
            context.load_verify_locations(None if cafile is None else str(cafile),
                                          None if capath is None else str(capath))
        else:
            context.set_default_verify_paths()
        cert = opts.get(O.OPENSSL_CERTIFICATE)
        if cert is not None:
            context.use_certificate_chain_file(str(cert))
            context.use_privatekey_file(str(opts.get(O.OPENSSL_KEY, cert)))
        context.set_cipher_list(str(opts.get(O.OPENSSL_CIPHERLIST, T.DEFAULT_CIPHERS)).encode())
    except SSL.Error as err:
        raise SocatError(f"_xioopen_openssl_prepare(): {error_text(err)}") from None
    if verify:
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: bool(args[-1]))
    else:
        context.set_verify(SSL.VERIFY_NONE)
    return context, verify


def _log_connection(session: DTLSSession, ctx: OpenContext) -> None:
    # socat names DTLS 1.2 as "TLSv1.2" (its own version table, not SSL_get_version())
    version = (session.conn.get_protocol_version_name() or "").removeprefix("D")
    cipher = session.conn.get_cipher_name() or ""
    LOG.notice(f"SSL proto version used: {version}")
    T.S.set_env(ctx, "OPENSSL_PROTO_VERSION", version)
    LOG.notice(f"SSL connection using {cipher}")
    T.S.set_env(ctx, "OPENSSL_CIPHER", cipher)
    LOG.notice('SSL connection compression "none"')
    LOG.notice('SSL connection expansion "none"')


def _endpoint(session: DTLSSession, opts, label: str) -> DTLSEndpoint:  # noqa: ANN001
    endpoint = DTLSEndpoint(label, session.fd, session.fd, policy_from_options(opts), keeps_boundaries=True)
    endpoint.session = session
    return endpoint


def open_dtls_client(addr: ResolvedAddress, ctx: OpenContext) -> DTLSEndpoint:
    _pyopenssl(addr.keyword)
    opts = addr.options
    host, _port = addr.params
    if host == "":
        raise SocatError(f"{addr.keyword}: empty host name")
    commonname = str(opts.get(O.OPENSSL_COMMONNAME, host))
    context, verify = _context(opts, ctx, server=False)
    plain = udp._connect(addr, ctx, socket.AF_UNSPEC)
    assert plain.read_fd is not None
    session = DTLSSession(context, plain.read_fd, False, T.sni_name(opts, commonname))
    try:
        session.handshake("SSL_connect")
        T.check_peer_certificate(session.peer_certificate_der(), commonname, verify, ctx)
    except SocatError:
        plain.close()
        raise
    _log_connection(session, ctx)
    return _endpoint(session, opts, plain.label.replace("UDP", "DTLS", 1))


def open_dtls_server(addr: ResolvedAddress, ctx: OpenContext) -> DTLSEndpoint:
    _pyopenssl(addr.keyword)
    opts = addr.options
    if O.OPENSSL_CERTIFICATE not in opts:
        LOG.warn('no certificate given; consider option "cert"')
    commonname = opts.get(O.OPENSSL_COMMONNAME)
    context, verify = _context(opts, ctx, server=True)
    plain = udp._listen(addr, ctx, socket.AF_UNSPEC)
    assert plain.read_fd is not None
    session = DTLSSession(context, plain.read_fd, True, None)
    try:
        session.handshake("SSL_accept")
        T.check_peer_certificate(session.peer_certificate_der(), None if commonname is None else str(commonname),
                                 verify, ctx)
    except SocatError:
        plain.close()
        raise
    _log_connection(session, ctx)
    return _endpoint(session, opts, plain.label.replace("UDP", "DTLS", 1))
