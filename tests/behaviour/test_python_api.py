"""The documented Python API: parse_address, open_address, relay."""
from __future__ import annotations

import os

import pysocat
from pysocat.spec import AddressSpec


def test_parse_address_is_pure_and_typed():
    spec = pysocat.parse_address("SYSTEM:'tr a-z A-Z',pipes")
    assert isinstance(spec, AddressSpec)
    assert (spec.keyword, spec.params, [o.name for o in spec.options]) == ("SYSTEM", ("tr a-z A-Z",), ["pipes"])


def test_open_and_relay_copy_a_file_through_a_program(tmp_path):
    source = tmp_path / "in.txt"
    target = tmp_path / "out.txt"
    source.write_bytes(b"hello api\n" * 1000)
    left = pysocat.open_address(f"OPEN:{source}", writable=False)
    right = pysocat.open_address(f"SYSTEM:'tr a-z A-Z > {target}'", readable=False)
    try:
        stats = pysocat.relay(left, right, direction="left-to-right", close_timeout=5.0)
    finally:
        left.close()
        right.close()
    assert stats.left_to_right.bytes == 10_000
    assert target.read_bytes() == b"HELLO API\n" * 1000
    assert os.path.getsize(source) == 10_000
