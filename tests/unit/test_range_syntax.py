"""socat's range= syntax: address/bits, address:mask, [ip6]/bits, and a host name for the
IPv4 address (socat's test FDLEAK uses range=localhost:255.255.255.255)."""
from __future__ import annotations

import ipaddress

import pytest

from pysocat.addresses.sockets import parse_range
from pysocat.errors import SocatError


@pytest.mark.parametrize("text, network", [
    ("127.0.0.1/32", "127.0.0.1/32"),
    ("127.0.0.0:255.255.0.0", "127.0.0.0/16"),
    ("127.1.0.1:255.255.255.255", "127.1.0.1/32"),
    ("192.0.2.7", "192.0.2.7/32"),
    ("[::1]/128", "::1/128"),
    ("[2001:db8::]/32", "2001:db8::/32"),
    ("localhost:255.255.255.255", "127.0.0.1/32"),
    ("localhost/8", "127.0.0.0/8"),
])
def test_range_values(text: str, network: str) -> None:
    assert parse_range(text) == ipaddress.ip_network(network)


@pytest.mark.parametrize("text", ["127.0.0.1/33", "[::1", "127.0.0.1:255.0.255.0x", "[nosuch]/8"])
def test_bad_ranges_are_socats_syntax_error(text: str) -> None:
    with pytest.raises(SocatError, match=r'range option: syntax error in "'):
        parse_range(text)
