"""The proxy handshakes as pure state machines (socat: xio-proxy.c, xio-socks.c, xio-socks5.c).

Each handshake is sans-IO. `outgoing()` hands over the bytes to send; `wanted()` says how
many bytes it can take at most; `receive(data)` takes bytes the proxy sent and returns how
many of them belong to the handshake (the rest is the tunnelled peer's and must stay in
the socket); `eof()` is called when the proxy closed first; `done` says the tunnel stands.
The diagnostics are data as well: `log` collects (level, text) pairs in socat's words, in
the order socat writes them, where ATTEMPT stands for the level of the connection attempt
(E on the last one, I while retry= allows more). A failure raises ProxyError.

The I/O shell (addresses/tunnel.py) peeks at the socket, feeds what it sees and then
consumes exactly what was taken, so nothing the proxy sent behind its reply is lost and
the socket goes to the engine as a plain TCP stream.
"""
from __future__ import annotations

import ipaddress
import struct

ATTEMPT = "attempt"  # the level of the current connection attempt: E, or I while retrying
LogLines = list[tuple[str, str]]


class ProxyError(Exception):
    """A failed handshake in socat's words; `retry`: whether retry= may try again (socat's
    STAT_RETRYLATER) or the whole open fails (STAT_NORETRY)."""

    def __init__(self, text: str, retry: bool = True) -> None:
        super().__init__(text)
        self.text = text
        self.retry = retry


# ---------------------------------------------------------------- socat's text helpers

_ESCAPES = {0: "\\0", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
            0x27: "\\'", 0x22: '\\"', 0x5C: "\\\\"}


def sanitize(data: bytes) -> str:
    """socat's xiosanitize(): C escapes for the common control characters, `.` for any
    other unprintable byte, so that a proxy's answer can be logged safely."""
    return "".join(_ESCAPES.get(b, chr(b) if 0x20 <= b < 0x7F else ".") for b in data)


def hexdump(data: bytes) -> str:
    """socat's xiohexdump(): `04 01 7d 6d`."""
    return " ".join(f"{b:02x}" for b in data)


def base64_line(data: bytes) -> str:
    """Base64 without line breaks (socat's xiob64encodeline; RFC 4648 alphabet and padding)."""
    import base64

    return base64.b64encode(data).decode("ascii")


class Handshake:
    """What the I/O shell drives (see the module docstring)."""

    def __init__(self) -> None:
        self.log: LogLines = []
        self.done = False

    def outgoing(self) -> bytes:
        raise NotImplementedError

    def wanted(self) -> int:
        raise NotImplementedError

    def receive(self, data: bytes) -> int:
        raise NotImplementedError

    def eof(self) -> None:
        raise NotImplementedError

    def _say(self, level: str, text: str) -> None:
        self.log.append((level, text))


# ---------------------------------------------------------------- HTTP CONNECT

HTTP_ANSWER_LIMIT = 2048  # socat's BUFLEN: the longest line of the proxy's answer
HTTP_REQUEST_LIMIT = 281  # socat's CONNLEN: the request line with its NUL

# socat's states while reading the answer (XIOSTATE_HTTP1..8)
_STATUS, _STATUS_CR, _STATUS_END, _HEADER, _HEADER_CR, _HEADER_END, _BLANK_CR, _DONE = range(1, 9)


class HttpConnect(Handshake):
    """`CONNECT <target>:<port> HTTP/<version>`, an optional Proxy-authorization header, and
    the answer read as socat reads it: the status line must start `HTTP/1.0 ` or `HTTP/1.1 `
    and its code be 200; headers are logged and skipped up to the empty line. `ignorecr`
    also takes a bare LF as line end (socat's ignorecr option)."""

    def __init__(self, target: str, port: int, authorization: bytes | None = None, version: str = "1.0",
                 ignorecr: bool = False) -> None:
        super().__init__()
        self.request_line = f"CONNECT {target}:{port} HTTP/{version}\r\n".encode("utf-8", "surrogateescape")
        self.connect_text = f"CONNECT {target}:{port}"  # socat names the request in its errors
        self.authorization = authorization
        self.ignorecr = ignorecr
        self._sent = False
        self._state = _STATUS
        self._line = bytearray()  # the current line of the answer (socat's buff up to offset)
        self._eol = 0  # where the current line's terminator starts

    def outgoing(self) -> bytes:
        if self._sent:
            return b""
        self._sent = True
        data = self.request_line
        if len(data) >= HTTP_REQUEST_LIMIT:
            raise ProxyError("_xioopen_proxy_connect(): PROXY CONNECT buffer too small", retry=False)
        self._say("I", f'sending "{sanitize(self.request_line)}"')
        if self.authorization is not None:
            header = "Proxy-authorization: Basic " + base64_line(self.authorization)
            # socat 1.7.4.4 logs the line end of this header as `rn` (its format string's
            # escapes are lost), verified
            self._say("I", f'sending "{header}rn"')
            data += header.encode("ascii") + b"\r\n"
        self._say("I", 'sending "\\r\\n"')
        return data + b"\r\n"

    def wanted(self) -> int:
        return HTTP_ANSWER_LIMIT

    def receive(self, data: bytes) -> int:
        for index, byte in enumerate(data):
            self._step(byte)
            if self._state == _DONE:
                self.done = True
                return index + 1
            if len(self._line) >= HTTP_ANSWER_LIMIT:
                raise ProxyError(f"proxy answer exceeds {HTTP_ANSWER_LIMIT} bytes, aborting", retry=False)
        return len(data)

    def eof(self) -> None:
        raise ProxyError("proxy_connect: connection closed by proxy")

    def _step(self, byte: int) -> None:
        """One byte through socat's state machine, then what socat does at a line's end."""
        cr, lf = byte == 13, byte == 10
        state = self._state
        position = len(self._line)
        self._line.append(byte)
        if state == _STATUS:
            if cr or (self.ignorecr and lf):
                self._eol = position
                state = _STATUS_CR if cr else _STATUS_END
        elif state == _STATUS_CR:
            state = _STATUS_END if lf else _STATUS
        elif state in (_STATUS_END, _HEADER_END):
            if cr:
                state = _BLANK_CR
            elif self.ignorecr and lf:
                state = _DONE
            else:
                state = _HEADER
        elif state == _HEADER:
            if cr or (self.ignorecr and lf):
                self._eol = position
                state = _HEADER_CR if cr else _HEADER_END
        elif state == _HEADER_CR:
            state = _HEADER_END if lf else _HEADER
        elif state == _BLANK_CR:
            if lf:
                state = _DONE
            elif cr:
                state = _BLANK_CR if self.ignorecr else _HEADER_CR
            else:
                state = _HEADER
        self._state = state
        # both end states are left again by the next byte, so being in one means just arrived
        if state == _STATUS_END:
            self._status_line()
        elif state == _HEADER_END:
            self._say("I", f'proxy_connect: received header "{sanitize(bytes(self._line))}"')
            self._line.clear()

    def _status_line(self) -> None:
        line = bytes(self._line)
        self._say("I", f'proxy_connect: received answer "{sanitize(line)}"')
        status = line[: self._eol]
        if not (status.startswith(b"HTTP/1.0 ") or status.startswith(b"HTTP/1.1 ")):
            raise ProxyError(f'proxy: invalid answer "{sanitize(status)}"')
        rest = status[9:].lstrip(b" ")
        if not rest.startswith(b"200"):
            reason = rest[3:].lstrip(b" ")
            raise ProxyError(f"{self.connect_text}: {reason.decode('latin-1')}")
        self._line.clear()


# ---------------------------------------------------------------- SOCKS4 and SOCKS4a

SOCKS4_BUFFER = 8 + 512  # socat's BUFF_LEN: the request with user name (and 4a host name)
SOCKS4_REPLY = 8
_SOCKS4_FAILURES = {91: "socks: connect request rejected or failed", 92: "socks: ident refused by client",
                    93: "socks: ident failed"}


def socks4_request(port: int, address: bytes | None, user: str, hostname: str | None = None) -> bytes:
    """VN=4 CD=1 DSTPORT DSTIP USERID NUL [HOSTNAME NUL]; for SOCKS4a `address` is None and
    DSTIP is 0.0.0.1. Truncated as socat truncates into its 520-byte buffer."""
    head = struct.pack("!BBH", 4, 1, port) + (address if address is not None else b"\0\0\0\1")
    user_bytes = user.encode()[: SOCKS4_BUFFER - 8 - 1]
    request = head + user_bytes + b"\0"
    if hostname is not None:
        room = SOCKS4_BUFFER - len(request) - 1
        name = hostname.encode()
        request += name[:room] + b"\0"
        if len(request) > SOCKS4_BUFFER:
            request = request[: SOCKS4_BUFFER - 1] + b"\0"
    return request


class Socks4(Handshake):
    """The SOCKS4 (or 4a) CONNECT request and its 8-byte reply (socat's messages, with its
    Info and Debug lines)."""

    def __init__(self, port: int, address: bytes | None, user: str, hostname: str | None = None) -> None:
        super().__init__()
        self.request = socks4_request(port, address, user, hostname)
        self.port, self.address, self.user, self.hostname = port, address, user, hostname
        self._sent = False
        self._reply = bytearray()

    def outgoing(self) -> bytes:
        if self._sent:
            return b""
        self._sent = True
        ip = self.address if self.address is not None else b"\0\0\0\1"
        name = f" DESTNAME={self.hostname}" if self.hostname is not None else ""
        self._say("I", f"sending socks4{'a' if self.hostname is not None else ''} request VN=4 DC=1 "
                       f"DSTPORT={self.port} DSTIP={'.'.join(str(b) for b in ip)} USERID={self.user}{name}")
        self._say("D", f"sending socks4(a) request data {hexdump(self.request)}")
        self._say("I", "waiting for socks reply")
        return self.request

    def wanted(self) -> int:
        return SOCKS4_REPLY - len(self._reply)

    def receive(self, data: bytes) -> int:
        chunk = data[: self.wanted()]
        self._say("D", f"received socks4 reply data (offset {len(self._reply)}): {hexdump(chunk)}")
        self._reply += chunk
        if len(self._reply) < SOCKS4_REPLY:
            self._say("D", f"received {len(chunk)} bytes, waiting for {self.wanted()} more bytes")
            return len(chunk)
        self._say("D", f"received all {SOCKS4_REPLY} bytes")
        version, code, port = struct.unpack("!BBH", self._reply[:4])
        ip = ".".join(str(b) for b in self._reply[4:8])
        self._say("I", f"received socks reply VN={version} CD={code} DSTPORT={port} DSTIP={ip}")
        if version != 0:
            self._say("W", f"socks: reply code version is not 0 ({version})")
        if code in _SOCKS4_FAILURES:
            raise ProxyError(_SOCKS4_FAILURES[code])
        if code == 90:
            self._say("N", "successfully connected via socks4")
        else:
            # socat logs it at the attempt's level and carries on with the connection
            self._say(ATTEMPT, f"socks: undefined status {code}")
        self.done = True
        return len(chunk)

    def eof(self) -> None:
        raise ProxyError("read(): EOF during read of socks reply, peer might not be a socks4 server")


# ---------------------------------------------------------------- SOCKS5 (RFC 1928, RFC 1929)

SOCKS5_CONNECT, SOCKS5_BIND = 1, 2
AUTH_NONE, AUTH_USERPASS, AUTH_NO_ACCEPTABLE = 0, 2, 0xFF
_SOCKS5_ERRORS = {
    0: "succeeded", 1: "general SOCKS server failure", 2: "connection not allowed by ruleset",
    3: "network unreachable", 4: "host unreachable", 5: "connection refused", 6: "TTL expired",
    7: "command not supported", 8: "address type not supported",
}


def socks5_request(command: int, host: str, port: int) -> bytes:
    """VER CMD RSV ATYP DST.ADDR DST.PORT: an IPv4 or IPv6 literal as such, anything else as
    a domain name for the server to resolve (socat: at most 255 bytes)."""
    for version, atype in ((4, 1), (6, 4)):
        try:
            packed = ipaddress.ip_address(host).packed
        except ValueError:
            break
        if (len(packed) == 4) == (version == 4):
            return struct.pack("!BBBB", 5, command, 0, atype) + packed + struct.pack("!H", port)
    name = host.encode()
    if len(name) > 255:
        raise ProxyError("target hostname too long (>255 bytes), aborting", retry=False)
    return struct.pack("!BBBBB", 5, command, 0, 3, len(name)) + name + struct.pack("!H", port)


def socks5_address(reply: bytes) -> tuple[str, int]:
    """BND.ADDR and BND.PORT of a complete reply."""
    atype = reply[3]
    if atype == 1:
        host = str(ipaddress.IPv4Address(reply[4:8]))
    elif atype == 4:
        host = str(ipaddress.IPv6Address(reply[4:20]))
    else:
        host = reply[5 : 5 + reply[4]].decode(errors="replace")
    return host, struct.unpack("!H", reply[-2:])[0]


class Socks5(Handshake):
    """Greeting, optional username/password sub-negotiation (RFC 1929, offered only with
    credentials), then one CONNECT or BIND request; BIND waits for the second reply, which
    comes when a peer has connected to the server's listening port. Each receive() is one
    of socat's reads: a reply is read as its first 5 bytes, then the rest its type needs.

    The greeting, request and reply diagnostics are socat 1.8's; the username/password
    exchange is pysocat's own wording (socat 1.8.1's could not be checked here)."""

    def __init__(self, command: int, host: str, port: int, credentials: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.command, self.host, self.port, self.credentials = command, host, port, credentials
        self.bound: tuple[str, int] | None = None  # BIND: where the server listens for the peer
        self.peer: tuple[str, int] | None = None  # BIND: who connected there
        self._phase = "hello"
        self._got = bytearray()
        self._need = 2
        self._typed = False  # the reply's length is known (its first 5 bytes are in)
        methods = bytes([AUTH_NONE, AUTH_USERPASS]) if credentials else bytes([AUTH_NONE])
        self._pending = bytes([5, len(methods)]) + methods
        self._say("I", f"sending socks5 client hello version=5 nmethods={len(methods)}")
        self._say("D", f"sending socks5 client hello {hexdump(self._pending)}")
        self._say("I", "waiting for socks5 reply")

    def outgoing(self) -> bytes:
        data, self._pending = self._pending, b""
        return data

    def wanted(self) -> int:
        return self._need - len(self._got)

    def receive(self, data: bytes) -> int:
        reply = self._phase == "reply"
        if reply:
            self._say("I", "reading SOCKS5 reply")
        chunk = data[: self.wanted()]
        self._got += chunk
        if reply and not self._typed and not self.wanted():
            self._need, self._typed = self._reply_length(bytes(self._got)), True
            return len(chunk)
        if self.wanted():
            self._say("D", f"received {len(self._got)} of {self._need} bytes, waiting" if reply else
                      f"received {len(chunk)} bytes, waiting for {self.wanted()} more bytes")
            return len(chunk)
        self._say("D", f"received all {len(self._got)} bytes")
        message, self._got = bytes(self._got), bytearray()
        {"hello": self._hello, "auth": self._auth, "reply": self._reply}[self._phase](message)
        return len(chunk)

    def eof(self) -> None:
        if self._phase == "hello":
            raise ProxyError("read(): EOF during read of SOCKS5 server hello, peer might not be a SOCKS5 server")
        if self._phase == "auth":
            raise ProxyError("read(): EOF during read of SOCKS5 authentication reply")
        raise ProxyError("read(): EOF during read of SOCKS5 reply")

    def _hello(self, message: bytes) -> None:
        version, method = message
        self._say("I", f"received SOCKS5 server hello version={version} method={method}")
        if version != 5:
            raise ProxyError(f"SOCKS5 Server Hello version was {version}, not the expected 5, peer might not "
                             "be a SOCKS5 server")
        if method == AUTH_NO_ACCEPTABLE:
            raise ProxyError("SOCKS5 authentication negotiation failed - client & server have no common "
                             "supported methods")
        if method == AUTH_USERPASS and self.credentials:
            user, password = (part.encode() for part in self.credentials)
            if len(user) > 255 or len(password) > 255:
                raise ProxyError("SOCKS5 user name or password too long (>255 bytes), aborting", retry=False)
            self._say("I", f'sending SOCKS5 username/password authentication for user "{self.credentials[0]}"')
            self._pending = bytes([1, len(user)]) + user + bytes([len(password)]) + password
            self._phase, self._need = "auth", 2
            return
        if method != AUTH_NONE:
            raise ProxyError(f"SOCKS5 server requested unsupported auth method ({method})")
        self._send_request()

    def _auth(self, message: bytes) -> None:
        version, status = message
        self._say("I", f"received SOCKS5 authentication reply version={version} status={status}")
        if status != 0:
            raise ProxyError(f"SOCKS5 username/password authentication failed (status {status})")
        self._send_request()

    def _send_request(self) -> None:
        if self.port == 0:
            raise ProxyError(f'SOCKS5: invalid port 0 of "{self.host}", aborting', retry=False)
        request = socks5_request(self.command, self.host, self.port)
        self._say("I", f"sending socks5 request version=5 command={self.command} reserved=0 "
                       f"address_type={request[3]}")
        self._say("D", f"sending socks5 request {hexdump(request)}")
        self._pending = request
        self._expect_reply()

    def _expect_reply(self) -> None:
        self._phase, self._need, self._typed = "reply", 5, False

    def _reply_length(self, head: bytes) -> int:
        atype = head[3]
        if atype == 1:
            return 10
        if atype == 4:
            return 22
        if atype == 3:
            return 7 + head[4]
        raise ProxyError(f"invalid SOCKS5 reply address type ({atype})")

    def _reply(self, message: bytes) -> None:
        version, code, _reserved, atype = message[:4]
        if self.bound is None:
            self._say("I", f"received SOCKS5 reply version={version} reply={code} address_type={atype}")
            if version != 5:
                raise ProxyError(f"SOCKS5 reply version was {version}, not the expected 5, peer might not be a "
                                 "SOCKS5 server")
            if code == 0 and self.command == SOCKS5_BIND:
                self.bound = socks5_address(message)
                self._say("N", "listening on remote host, waiting for connection")
                # socat 1.8 does not say where, but the server picks the port (pysocat's own line)
                self._say("I", f"SOCKS5 server listens on {self.bound[0]}:{self.bound[1]}")
                self._expect_reply()
                return
        else:
            self._say("N", "received connection on remote host")
            self._say("I", f"received second SOCKS5 reply version={version} reply={code} address_type={atype}")
            self.peer = socks5_address(message)
        if code != 0:
            raise ProxyError(f"SOCKS5 server error {code}: {_SOCKS5_ERRORS.get(code, 'unknown error')}")
        self.done = True
