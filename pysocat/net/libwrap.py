"""libwrap (tcp wrappers) through ctypes: the hosts_access() check socat's xio-tcpwrap.c makes.

The library is opened only when an address asks for tcpwrap (or -V asks whether it is there),
so that every other run starts as fast as before. The check is socat's: request_init() with
the socket, the client and server addresses and the daemon name, the sock_methods() macro
(hostname/hostaddr conversion by libwrap's own sock_hostname/sock_hostaddr, so name patterns
resolve as they do for socat), hosts_access() with hosts_allow_table / hosts_deny_table set
for the duration of the call, and hosts_access_verbose = 32767 as socat sets it.
"""
from __future__ import annotations

import ctypes
import socket
import struct
from dataclasses import dataclass

LIBRARY = "libwrap.so.0"
STRING_LENGTH = 128
# tcpd.h request_init() keys
RQ_FILE, RQ_DAEMON, RQ_CLIENT_SIN, RQ_SERVER_SIN = 1, 2, 6, 9


class _HostInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * STRING_LENGTH), ("addr", ctypes.c_char * STRING_LENGTH),
                ("sin", ctypes.c_void_p), ("unit", ctypes.c_void_p), ("request", ctypes.c_void_p)]


class RequestInfo(ctypes.Structure):
    """tcpd.h's struct request_info (the layout is checked against request_init() on loading)."""

    _fields_ = [("fd", ctypes.c_int), ("user", ctypes.c_char * STRING_LENGTH),
                ("daemon", ctypes.c_char * STRING_LENGTH), ("pid", ctypes.c_char * 10),
                ("client", _HostInfo), ("server", _HostInfo), ("sink", ctypes.c_void_p),
                ("hostname", ctypes.c_void_p), ("hostaddr", ctypes.c_void_p), ("cleanup", ctypes.c_void_p),
                ("config", ctypes.c_void_p)]


@dataclass
class _Loaded:
    lib: ctypes.CDLL | None
    error: str  # why it could not be used ("" when lib is set)


_state: _Loaded | None = None


def load() -> _Loaded:
    """Opens libwrap once; a library that is missing, lacks a symbol or whose request_info
    does not match the layout above counts as absent (error says why)."""
    global _state
    if _state is None:
        try:
            lib = ctypes.CDLL(LIBRARY)
            for symbol in ("request_init", "hosts_access", "sock_hostname", "sock_hostaddr",
                           "hosts_allow_table", "hosts_deny_table", "hosts_access_verbose"):
                getattr(lib, symbol)
            lib.request_init.restype = ctypes.c_void_p
            lib.hosts_access.restype = ctypes.c_int
            _state = _Loaded(lib, "" if _layout_matches(lib) else f"{LIBRARY}: unexpected struct request_info layout")
            if _state.error:
                _state.lib = None
        except (OSError, AttributeError) as err:
            _state = _Loaded(None, str(err))
    return _state


def available() -> bool:
    return load().lib is not None


def _layout_matches(lib: ctypes.CDLL) -> bool:
    """request_init() must store fd, daemon and the client address where RequestInfo says."""
    request = RequestInfo()
    client = ctypes.create_string_buffer(sockaddr_bytes(socket.AF_INET, ("127.0.0.1", 1)), 16)
    lib.request_init(ctypes.byref(request), ctypes.c_int(RQ_FILE), ctypes.c_int(4242),
                     ctypes.c_int(RQ_CLIENT_SIN), client, ctypes.c_int(RQ_DAEMON), ctypes.c_char_p(b"probe"),
                     ctypes.c_int(0))
    return (request.fd == 4242 and request.daemon == b"probe" and request.client.sin == ctypes.addressof(client)
            and request.client.request == ctypes.addressof(request))


def sockaddr_bytes(family: int, address: tuple | None) -> bytes:
    """struct sockaddr_in / sockaddr_in6 for a Python address; None: an unset address
    (family 0), what socat hands over where it has no local address at hand."""
    if address is None:
        return bytes(28)
    host = str(address[0]).split("%")[0]
    if family == socket.AF_INET6:
        flow = address[2] if len(address) > 2 else 0
        scope = address[3] if len(address) > 3 else 0
        return struct.pack("=H", family) + struct.pack("!HI", address[1], flow) + \
            socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", scope)
    return struct.pack("=H", family) + struct.pack("!H", address[1]) + socket.inet_pton(socket.AF_INET, host) + bytes(8)


@dataclass
class AccessRequest:
    """One hosts_access() question, with the pointer socat's debug lines print."""

    fd: int
    daemon: str
    client: bytes  # struct sockaddr
    server: bytes
    allow_table: str | None
    deny_table: str | None
    request: RequestInfo | None = None

    @property
    def pointer(self) -> str:
        return f"0x{ctypes.addressof(self.request):x}" if self.request is not None else "(nil)"

    def prepare(self) -> None:
        self.request = RequestInfo()

    def hosts_access(self) -> bool:
        """request_init(), sock_methods(), hosts_access(); the tables are the library's
        defaults again afterwards, as socat restores them."""
        lib = load().lib
        assert lib is not None and self.request is not None
        client = ctypes.create_string_buffer(self.client, len(self.client))
        server = ctypes.create_string_buffer(self.server, len(self.server))
        daemon = self.daemon.encode(errors="surrogateescape")
        # the table pointers are saved and restored as addresses: the defaults are the
        # library's own strings, and a pointer into a freed Python object must never stay
        tables = [(ctypes.c_void_p.in_dll(lib, name), table)
                  for name, table in (("hosts_allow_table", self.allow_table), ("hosts_deny_table", self.deny_table))]
        saved = [pointer.value for pointer, _table in tables]
        keep = []  # the buffers must outlive the call
        try:
            for pointer, table in tables:
                if table is not None:
                    buffer = ctypes.create_string_buffer(table.encode(errors="surrogateescape"))
                    keep.append(buffer)
                    pointer.value = ctypes.addressof(buffer)
            ctypes.c_int.in_dll(lib, "hosts_access_verbose").value = 32767
            lib.request_init(ctypes.byref(self.request), ctypes.c_int(RQ_FILE), ctypes.c_int(self.fd),
                             ctypes.c_int(RQ_CLIENT_SIN), client, ctypes.c_int(RQ_SERVER_SIN), server,
                             ctypes.c_int(RQ_DAEMON), ctypes.c_char_p(daemon), ctypes.c_int(0))
            # tcpd.h's sock_methods() is a macro: install libwrap's conversion functions
            self.request.hostname = ctypes.cast(lib.sock_hostname, ctypes.c_void_p).value
            self.request.hostaddr = ctypes.cast(lib.sock_hostaddr, ctypes.c_void_p).value
            return lib.hosts_access(ctypes.byref(self.request)) != 0
        finally:
            for (pointer, _table), value in zip(tables, saved):
                pointer.value = value
