"""The ctypes binding to libwrap.so.0: struct layout, address conversion, a missing library."""
from __future__ import annotations

import socket
import struct

import pytest

from pysocat.errors import SocatError
from pysocat.net import libwrap


def test_sockaddr_in_layout() -> None:
    raw = libwrap.sockaddr_bytes(socket.AF_INET, ("127.0.0.2", 4660))
    assert len(raw) == 16
    assert struct.unpack("=H", raw[:2])[0] == socket.AF_INET
    assert raw[2:4] == b"\x12\x34" and raw[4:8] == bytes([127, 0, 0, 2])


def test_sockaddr_in6_layout() -> None:
    raw = libwrap.sockaddr_bytes(socket.AF_INET6, ("::1", 80, 0, 0))
    assert len(raw) == 28
    assert raw[2:4] == b"\x00\x50" and raw[8:24] == socket.inet_pton(socket.AF_INET6, "::1")


def test_an_unset_address_has_family_zero() -> None:
    assert libwrap.sockaddr_bytes(socket.AF_INET, None) == bytes(28)


@pytest.mark.skipif(not libwrap.available(), reason="libwrap.so.0 is not installed")
def test_the_request_layout_matches_the_library() -> None:
    loaded = libwrap.load()
    assert loaded.lib is not None and libwrap._layout_matches(loaded.lib)


@pytest.mark.skipif(not libwrap.available(), reason="libwrap.so.0 is not installed")
def test_hosts_access_reads_the_given_tables(tmp_path) -> None:
    (tmp_path / "allow").write_text("unit: 127.0.0.1\n")
    (tmp_path / "deny").write_text("ALL: ALL\n")
    local = libwrap.sockaddr_bytes(socket.AF_INET, ("127.0.0.1", 9))

    def ask(client: str, daemon: str = "unit") -> bool:
        request = libwrap.AccessRequest(-1, daemon, libwrap.sockaddr_bytes(socket.AF_INET, (client, 1)), local,
                                        str(tmp_path / "allow"), str(tmp_path / "deny"))
        request.prepare()
        return request.hosts_access()

    assert ask("127.0.0.1") is True
    assert ask("127.0.0.2") is False
    assert ask("127.0.0.1", daemon="other") is False


def test_a_missing_library_is_a_clean_error(monkeypatch) -> None:
    from pysocat import option_table as O
    from pysocat.addresses import tcpwrap
    from pysocat.options import OptionValues

    monkeypatch.setattr(libwrap, "LIBRARY", "libwrap-that-is-not-there.so.0")
    monkeypatch.setattr(libwrap, "_state", None)
    assert libwrap.available() is False
    opts = OptionValues()
    opts.values[O.TCPWRAP] = None
    with pytest.raises(SocatError) as caught:
        tcpwrap.require_libwrap(opts)
    assert caught.value.text.startswith('option "tcpwrappers": libwrap (tcp wrappers) is not available: ')
    assert "libwrap-that-is-not-there.so.0" in caught.value.text
