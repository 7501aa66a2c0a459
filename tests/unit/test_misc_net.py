"""Pure pieces of VSOCK, SCTP, ACCEPT-FD and the UNIX client names: socat's address texts,
the CID/port parser, padded abstract names, and -V's run-time feature probes."""
from __future__ import annotations

import socket

import pytest

from pysocat import registry
from pysocat.addresses import sockets as S
from pysocat.addresses import unixnames as N
from pysocat.addresses import vsock
from pysocat.errors import SocatError


def test_vsock_addresses_read_as_socat_prints_them():
    assert S.sockaddr_info(socket.AF_VSOCK, (4294967295, 1234)) == "AF=40 cid:4294967295 port:1234"
    assert S.socklen(socket.AF_VSOCK, (1, 2)) == 16


@pytest.mark.parametrize("text, value", [("3", 3), ("0x10", 16), ("010", 8), ("-1", 0xFFFFFFFF), ("", 0)])
def test_cid_and_port_are_read_with_strtoul_base_0(text: str, value: int):
    assert vsock.parse_number(text, "cid") == value


def test_cid_garbage_is_socats_error():
    with pytest.raises(SocatError) as caught:
        vsock.parse_number("12ab", "port")
    assert caught.value.text == 'sockaddr_vm - garbage in port: "ab"'


@pytest.mark.parametrize("text, parsed", [("7", (7, None)), (":5555", (vsock.ANY, 5555)), ("2:99", (2, 99)),
                                          ("", (vsock.ANY, None))])
def test_vsock_bind_is_cid_and_optional_port(text: str, parsed: tuple):
    assert vsock.parse_bind(text) == parsed


def test_abstract_names_tight_and_padded():
    assert N.unix_address("srv", abstract=True, tight=True) == "\0srv"
    padded = N.unix_address("srv", abstract=True, tight=False)
    assert isinstance(padded, bytes) and len(padded) == 108 and padded.startswith(b"\0srv\0")
    assert N.unix_address("/tmp/x", abstract=False, tight=False) == "/tmp/x"
    assert N.address_length("/tmp/x", tight=True) == 8
    assert N.address_length("/tmp/x", tight=False) == 110


def test_a_padded_abstract_name_prints_every_nul_as_socat():
    text = S.sockaddr_info(socket.AF_UNIX, N.unix_address("ab", abstract=True, tight=False))
    assert text == 'AF=1 "\\0ab' + "\\0" * 105 + '"'
    assert S.sockaddr_info(socket.AF_UNIX, "\0ab") == 'AF=1 "\\0ab"'


def test_a_tempname_pattern_needs_six_x():
    with socket.socket(socket.AF_UNIX) as sock, pytest.raises(SocatError) as caught:
        N.bind_tempname(sock, "/tmp/none", abstract=True, tight=True)
    assert caught.value.text == 'tempnam("/tmp/none"): Invalid argument'


def test_an_abstract_tempname_fills_the_pattern():
    with socket.socket(socket.AF_UNIX) as sock:
        bound = N.bind_tempname(sock, "pysocat-unit-XXXXXX-end", abstract=True, tight=True)
        assert isinstance(bound, str) and bound.startswith("\0pysocat-unit-") and bound.endswith("-end")
        assert len(bound) == len("\0pysocat-unit-XXXXXX-end") and "XXXXXX" not in bound
        assert sock.getsockname() == bound.encode()


def test_a_feature_probe_decides_the_version_line(monkeypatch):
    calls = []

    def probe() -> bool:
        calls.append(1)
        return False

    registry.load_families()
    fakes = [registry.AddressType(("FAKE-SCTP-A",), (), frozenset(), "SCTP", "", lambda a, c: None, available=probe),
             registry.AddressType(("FAKE-SCTP-B",), (), frozenset(), "SCTP", "", lambda a, c: None, available=probe),
             registry.AddressType(("FAKE-TCP",), (), frozenset(), "TCP", "", lambda a, c: None)]
    monkeypatch.setattr(registry, "ALL_ADDRESSES", fakes)
    found = dict(registry.features())
    assert found["SCTP"] is False and found["TCP"] is True
    assert calls == [1]  # one probe per feature, not per address type


def test_the_sctp_probe_agrees_with_the_kernel():
    from pysocat.addresses.sctp import kernel_has_sctp

    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()
        expected = True
    except OSError:
        expected = False
    assert kernel_has_sctp() is expected
    assert dict(registry.features())["SCTP"] is expected
