"""One TLS connection over a socket descriptor, through OpenSSL memory BIOs (Python's ssl).

Why memory BIOs and not ssl.SSLSocket: socat ends the direction into a TLS address with
one SSL_shutdown() (a close_notify) and goes on reading what the peer still sends (TLS
half-close). SSLSocket.unwrap() calls SSL_shutdown() twice, and the second call reads from
the socket and throws away the application data it finds. Here OpenSSL sees only the
bytes handed to it: before the shutdown everything complete is decrypted and kept, so the
second call finds nothing to discard. The engine polls the plain descriptor; what OpenSSL
has decrypted (or holds undecrypted) without the descriptor being readable is announced
through Endpoint.buffered(), or the relay would wait for bytes that already arrived.

Errors carry socat's words: `SSL_connect(): error:0A000086:SSL routines::certificate
verify failed` (OpenSSL's ERR_error_string(), which socat prints).
"""
from __future__ import annotations

import os
import select
import ssl

from ..endpoint import Endpoint
from ..errors import SocatError
from ..log import LOG

READ_CHUNK = 256 * 1024  # ciphertext taken from the socket per read(2)


# ---------------------------------------------------------------- OpenSSL's error strings

_codes: dict[tuple[str, str], int] | None = None


def error_code(library: str | None, reason: str | None) -> int | None:
    """OpenSSL's packed error code for Python's (library, reason) names (ERR_PACK)."""
    global _codes
    if library is None or reason is None:
        return None
    if _codes is None:
        import _ssl

        libraries = getattr(_ssl, "lib_codes_to_names", {})
        shift = 23 if ssl.OPENSSL_VERSION_INFO[0] >= 3 else 24
        _codes = {(libraries.get(lib, str(lib)), name): (lib << shift) | code
                  for (lib, code), name in getattr(_ssl, "err_codes_to_names", {}).items()}
    return _codes.get((library, reason))


def library_code(library: str, reason: int) -> int | None:
    import _ssl

    for lib, name in getattr(_ssl, "lib_codes_to_names", {}).items():
        if name == library:
            return (lib << (23 if ssl.OPENSSL_VERSION_INFO[0] >= 3 else 24)) | reason
    return None


def system_error_code(errno: int) -> int:
    """OpenSSL 3's code for a system error (ERR_SYSTEM_FLAG | errno)."""
    return 0x80000000 | errno


def error_string(code: int) -> str | None:
    """ERR_error_string_n() of the libcrypto that Python's ssl uses; None where it cannot
    be asked or has no text for the code."""
    try:
        import ctypes

        major = ssl.OPENSSL_VERSION_INFO[0]
        crypto = ctypes.CDLL("libcrypto.so.3" if major >= 3 else "libcrypto.so.1.1")
        crypto.ERR_error_string_n.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]
        crypto.ERR_error_string_n.restype = None
        buffer = ctypes.create_string_buffer(256)
        crypto.ERR_error_string_n(code, buffer, len(buffer))
        text = buffer.value.decode(errors="replace")
    except (OSError, AttributeError, ImportError):
        return None
    return None if "lib(" in text or "reason(" in text else text


def code_text(code: int, fallback: str) -> str:
    return error_string(code) or f"error:{code:08X}:{fallback}"


def error_text(err: BaseException) -> str:
    """socat's text for an OpenSSL error: ERR_error_string() of its code."""
    if isinstance(err, ssl.SSLError):
        library, reason = getattr(err, "library", None), getattr(err, "reason", None)
        code = error_code(library, reason)
        if code is None and reason is None and library is not None and isinstance(err.errno, int):
            code = library_code(library, err.errno)  # a common reason (ERR_R_...): Python names none
        if code is not None:
            return code_text(code, f"{library} routines::{str(reason).lower().replace('_', ' ')}")
        return str(err.args[1] if len(err.args) > 1 else err)
    if isinstance(err, OSError) and err.errno:
        return code_text(system_error_code(err.errno), f"system library::{os.strerror(err.errno)}")
    return str(err)


# ---------------------------------------------------------------- the connection

class TLSSession:
    """An SSLObject between a non-blocking socket descriptor and the relay."""

    def __init__(self, context: ssl.SSLContext, fd: int, server_side: bool, server_hostname: str | None) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=server_hostname)
        self.stash: list[bytes] = []  # plaintext decrypted ahead of the shutdown
        self.stash_eof = False  # ... and the peer's end found behind it
        self.eof_fed = False  # the socket said EOF; OpenSSL has been told
        self.broken = False  # a fatal error, or EOF without close_notify: no SSL_shutdown()
        self.notify_sent = False

    # -------------------------------------------------------- handshake
    def handshake(self, call: str) -> None:
        """SSL_connect()/SSL_accept() (`call`) to the end; SocatError in socat's words."""
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send_or_fail(call)
                self._wait_and_read(call)
            except ssl.SSLError as err:
                self.broken = True
                self._send_quietly()  # the alert tells the peer why
                raise SocatError(f"{call}(): {error_text(err)}") from None
        self._send_or_fail(call)  # the last flight, and a server's session tickets

    def _send_or_fail(self, call: str) -> None:
        try:
            self.flush()
        except OSError as err:
            self.broken = True
            raise SocatError(f"{call}(): {os.strerror(err.errno or 0)}") from None

    def _send_quietly(self) -> None:
        try:
            self.flush()
        except OSError:
            pass

    def _wait_and_read(self, call: str) -> None:
        select.select([self.fd], [], [])
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as err:
            self.broken = True
            raise SocatError(f"{call}(): {os.strerror(err.errno or 0)}") from None
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        if data:
            self.incoming.write(data)
        elif not self.eof_fed:
            self.eof_fed = True
            self.incoming.write_eof()

    # -------------------------------------------------------- data
    def flush(self) -> None:
        """Writes what OpenSSL produced (records, alerts) to the socket, waiting for room."""
        data = self.outgoing.read()
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [])
                continue
            view = view[written:]

    def read(self, size: int) -> bytes | None:
        """Up to `size` plaintext bytes; b"" when nothing is there now, None at the end."""
        if self.stash:
            data = self.stash.pop(0)
            if len(data) > size:
                self.stash.insert(0, data[size:])
                data = data[:size]
            return data
        if self.stash_eof:
            return None
        while True:
            try:
                data = self.obj.read(size)
            except ssl.SSLWantReadError:
                if self.outgoing.pending:
                    # what the records read so far made OpenSSL answer (a renegotiation's
                    # reply or refusal): the peer waits for it before it sends more
                    self._send_quietly()
                if self.eof_fed:
                    return None
                try:
                    chunk = os.read(self.fd, READ_CHUNK)
                except BlockingIOError:
                    return b""
                except OSError as err:
                    self.broken = True
                    raise SocatError(f"SSL_read(): {os.strerror(err.errno or 0)}") from None
                self._feed(chunk)
                continue
            except ssl.SSLZeroReturnError:
                return None  # the peer's close_notify
            except ssl.SSLError as err:
                self.broken = True
                if self.eof_fed:
                    return None  # TCP EOF without close_notify: socat reads 0, an EOF
                raise SocatError(f"SSL_read(): {error_text(err)}") from None
            if not data:
                return None
            if self.outgoing.pending:
                self._send_quietly()  # an answer OpenSSL owes the peer (a KeyUpdate)
            if len(data) < size and (self.obj.pending() > 0 or self.incoming.pending > 0):
                return self._more(data, size)
            return data

    def _more(self, first: bytes, size: int) -> bytes:
        """One SSL_read() gives one record (16 KiB at most): with a larger -b, the records
        already here are taken in the same turn of the relay."""
        parts, total = [first], len(first)
        while total < size and (self.obj.pending() > 0 or self.incoming.pending > 0):
            try:
                data = self.obj.read(size - total)
            except ssl.SSLZeroReturnError:
                self.stash_eof = True  # the close_notify came with the data: the next read() is the end
                break
            except ssl.SSLError:
                break  # the next read() reports it
            if not data:
                self.stash_eof = True  # b"": the close_notify (Python's ssl says so when it was the peer's)
                break
            parts.append(data)
            total += len(data)
        return b"".join(parts)

    def write(self, data: bytes) -> None:
        try:
            self.obj.write(data)
            self.flush()
        except ssl.SSLError as err:
            self.broken = True
            raise SocatError(f"SSL_write(): {error_text(err)}") from None
        except OSError as err:
            self.broken = True
            raise SocatError(f"SSL_write(): {os.strerror(err.errno or 0)}") from None

    def buffered(self) -> bool:
        return bool(self.stash) or self.stash_eof or self.obj.pending() > 0 or self.incoming.pending > 0 or (
            self.eof_fed and not self.broken)

    def send_close_notify(self) -> None:
        """One SSL_shutdown(), as socat: the peer learns that no more data comes, and this
        side goes on reading. What OpenSSL could read and discard meanwhile (complete
        records already here) is decrypted and kept first."""
        if self.notify_sent:
            return
        self.notify_sent = True
        if self.broken:
            LOG.warn("xioshutdown_openssl(): SSL_shutdown() -> -1")
            return
        self._decrypt_ahead()
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass  # sent; the peer's close_notify is read as data's end later
        except (ssl.SSLError, OSError):
            self.broken = True
        try:
            self.flush()
        except OSError:
            self.broken = True
        if self.broken:
            LOG.warn("xioshutdown_openssl(): SSL_shutdown() -> -1")

    def _decrypt_ahead(self) -> None:
        while self.obj.pending() > 0 or self.incoming.pending > 0:
            try:
                data = self.obj.read(65536)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                self.stash_eof = True
                return
            except ssl.SSLError:
                self.stash_eof = True
                self.broken = True
                return
            if not data:
                self.stash_eof = True
                return
            self.stash.append(data)


class TLSEndpoint(Endpoint):
    """A TLS connection as the engine sees it: reads and writes go through the session,
    EOF is a close_notify (never shutdown(2): socat neither)."""

    session: TLSSession | None = None

    def receive(self, size: int) -> list[bytes] | None:
        assert self.session is not None
        data = self.session.read(size)
        if data is None:
            return None
        return [data] if data else []

    def send(self, data: bytes) -> None:
        assert self.session is not None
        self.session.write(data)

    def buffered(self) -> bool:
        return self.session is not None and self.session.buffered()

    def shutdown_write(self) -> None:
        if self._closed_write:
            return
        self._closed_write = True
        if self.policy.shut != "none" and self.session is not None:
            self.session.send_close_notify()

    def close(self) -> None:
        if not self._closed and self.session is not None and not self.session.notify_sent \
                and not self.session.broken:
            self.session.notify_sent = True
            try:  # socat's SSL_shutdown() on close, without waiting for room
                self.session.obj.unwrap()
            except (ssl.SSLError, OSError):
                pass
            try:
                os.write(self.session.fd, self.session.outgoing.read())
            except OSError:
                pass
        if not self._closed and self.session is not None:
            _drain(self.session.fd)
        super().close()


def _drain(fd: int) -> None:
    """Reads what the peer sent and nobody will read (a TLS 1.3 server's session tickets
    to a -u client): close() with unread input makes the kernel answer RST, and the RST
    makes the peer's kernel drop what it has not read yet: the end of the data."""
    for _ in range(64):  # bounded: a peer that keeps sending gets its reset
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


__all__ = ["TLSSession", "TLSEndpoint", "error_text", "error_code", "code_text"]
