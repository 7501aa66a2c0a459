"""A socket of any family whose addresses are raw bytes (rawaddr.RawAddress), for socat's
generic SOCKET-* addresses. The only ctypes user of pysocat.

Python's socket module packs addresses only for the families it knows, from tuples;
socat passes `sa_family + dalan bytes` with exactly their length (a 6-byte AF_INET
address gets EINVAL, as in socat). So bind, connect, sendto, recvfrom, accept and the
name queries go to libc with the raw sockaddr; everything else (setsockopt, listen,
close, detach, timeouts) is the ordinary socket.socket this class extends, so that the
shared socket helpers (options, the accept loop, the datagram endpoint) take it as it is.
"""
from __future__ import annotations

import ctypes
import errno
import os
import select
import socket

from ..rawaddr import RawAddress

_libc = ctypes.CDLL(None, use_errno=True)
_ADDRESS_BUFFER = 128  # sizeof(struct sockaddr_storage)


def _check(result: int) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def _sockaddr(addr: RawAddress) -> tuple[ctypes.Array[ctypes.c_char], int]:
    packed = addr.pack()
    return ctypes.create_string_buffer(packed, len(packed)), len(packed)


def sendto_no_address(fd: int, data: bytes) -> None:
    """sendto() with an empty address (length 0), as socat writes on a receive-only socket
    (UDP-RECV, UNIX-RECV, IP-RECV): the kernel's refusal is socat's error text."""
    empty = ctypes.create_string_buffer(_ADDRESS_BUFFER)
    payload = bytes(data)
    while True:
        try:
            _check(_libc.sendto(fd, payload, ctypes.c_size_t(len(payload)), 0, empty, 0))
            return
        except InterruptedError:
            continue


class RawSocket(socket.socket):
    """socket.socket with raw-address bind/connect/sendto/recvfrom/accept/getsockname/
    getpeername; addresses it returns carry the socket's protocol (for the environment)."""

    def _raw(self, call: object, *args: object) -> int:
        while True:
            try:
                return _check(call(self.fileno(), *args))  # type: ignore[operator]
            except InterruptedError:
                continue

    def _name(self, call: object) -> RawAddress:
        buffer = ctypes.create_string_buffer(_ADDRESS_BUFFER)
        size = ctypes.c_uint32(_ADDRESS_BUFFER)
        self._raw(call, buffer, ctypes.byref(size))
        return RawAddress.unpack(buffer.raw[: size.value], self.proto)

    def bind(self, addr: RawAddress) -> None:  # type: ignore[override]
        buffer, size = _sockaddr(addr)
        self._raw(_libc.bind, buffer, size)

    def connect(self, addr: RawAddress) -> None:  # type: ignore[override]
        """connect(); with a timeout set (connect-timeout) the non-blocking connect is waited
        for, TimeoutError when it expires, the connection's own error otherwise. A connect
        interrupted by a signal goes on in the kernel: it is waited for, not repeated."""
        buffer, size = _sockaddr(addr)
        timeout = self.gettimeout()
        try:
            _check(_libc.connect(self.fileno(), buffer, size))
            return
        except InterruptedError:
            pass
        except OSError as err:
            if timeout is None or err.errno != errno.EINPROGRESS:
                raise
        poller = select.poll()
        poller.register(self.fileno(), select.POLLOUT)
        if not poller.poll(None if timeout is None else int(timeout * 1000)):
            raise TimeoutError("connect timed out")
        code = self.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, os.strerror(code))

    def getsockname(self) -> RawAddress:  # type: ignore[override]
        return self._name(_libc.getsockname)

    def getpeername(self) -> RawAddress:  # type: ignore[override]
        return self._name(_libc.getpeername)

    def sendto(self, data: bytes, addr: RawAddress) -> int:  # type: ignore[override]
        buffer, size = _sockaddr(addr)
        payload = bytes(data)
        return self._raw(_libc.sendto, payload, ctypes.c_size_t(len(payload)), 0, buffer, size)

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, RawAddress]:  # type: ignore[override]
        data = ctypes.create_string_buffer(max(bufsize, 1))
        name = ctypes.create_string_buffer(_ADDRESS_BUFFER)
        size = ctypes.c_uint32(_ADDRESS_BUFFER)
        count = self._raw(_libc.recvfrom, data, ctypes.c_size_t(max(bufsize, 1)), flags, name, ctypes.byref(size))
        return data.raw[:count], RawAddress.unpack(name.raw[: size.value], self.proto)

    def accept(self) -> tuple["RawSocket", RawAddress]:  # type: ignore[override]
        name = ctypes.create_string_buffer(_ADDRESS_BUFFER)
        size = ctypes.c_uint32(_ADDRESS_BUFFER)
        fd = self._raw(_libc.accept4, name, ctypes.byref(size), socket.SOCK_CLOEXEC)
        conn = RawSocket(self.family, self.type, self.proto, fileno=fd)
        return conn, RawAddress.unpack(name.raw[: size.value], self.proto)


_libc.bind.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_libc.connect.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_libc.getsockname.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint32)]
_libc.getpeername.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint32)]
_libc.sendto.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint32]
_libc.sendto.restype = ctypes.c_ssize_t
_libc.recvfrom.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                           ctypes.POINTER(ctypes.c_uint32)]
_libc.recvfrom.restype = ctypes.c_ssize_t
_libc.accept4.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_int]
