"""socat's dalan data syntax (pysocat/dalan.py). Every expected value was produced by real
socat 1.7.4.4 (the bytes it passed to setsockopt()/connect(), seen with strace) unless
the test says it follows socat 1.8."""
from __future__ import annotations

import struct
import sys

import pytest

from pysocat.dalan import DalanError, parse

LITTLE = sys.byteorder == "little"


@pytest.mark.parametrize("text,expected", [
    ("x0102", "0102"),
    ("x7f000001", "7f000001"),
    ("xAB", "ab"),
    ("xab", "ab"),
    ("x", ""),  # no digits: no bytes, no error
    ("x01x02", "0102"),
    ("x01 x02", "0102"),
    ("x01 02", "0102"),  # a new item without a type letter continues the last type (hex)
    (" x01", "01"),
    ("x01 ", "01"),
    ("x1f90 x7f000001 x0000000000000000", "1f907f0000010000000000000000"),
])
def test_hex_items(text: str, expected: str):
    assert parse(text).hex() == expected


@pytest.mark.skipif(not LITTLE, reason="the expected bytes are little-endian (socat stores numbers in host order)")
@pytest.mark.parametrize("text,expected", [
    ("i1", "01000000"),
    ("i-1000", "18fcffff"),
    ("I5", "05000000"),
    ("I-1", "ffffffff"),
    ("i99999999999", "ffe77648"),  # strtol's long, cut to an int
    ("i010", "0a000000"),  # decimal only: a leading 0 is not octal
    ("i0x10", "0000000010"),  # i0, then an x item
    ("s1", "0100"),
    ("S65535", "ffff"),
    ("S-1", "ffff"),
    ("s70000", "7011"),
    ("l-1", "ffffffffffffffff"),
    ("L5", "0500000000000000"),
    ("B5", "05"),
    ("B300", "2c"),
    ("b5", "0500"),  # dalan.c's b falls through into B, which reads nothing more: a second byte 0
    ("b-1", "ff00"),
    ("b5 6", "0506"),  # ... or the next number: strtoul skips the blank
    ("i1 2 3", "010000000200000003000000"),
    ("5", "05000000"),  # the default type of an address is int
    ("8080", "901f0000"),
])
def test_number_items_in_host_order_and_size(text: str, expected: str):
    assert parse(text).hex() == expected


def test_number_sizes_are_the_c_types():
    assert len(parse("i1")) == struct.calcsize("i")
    assert len(parse("s1")) == struct.calcsize("h")
    assert len(parse("l1")) == struct.calcsize("l")


@pytest.mark.parametrize("text,expected", [
    ('"ab"', b"ab"),
    ('"ab\\n"', b"ab\n"),
    ('"\\r\\t\\f\\b\\a\\e\\0"', b"\r\t\f\b\a\x1b\0"),
    ('"a\\qb"', b"aqb"),  # an unknown escape is the character itself
    ('"a" "b"', b"ab"),
    ('"a"x41', b"aA"),
    ("'a'", b"a"),
    ("'\\n'", b"\n"),
    ("'\\0'", b"0"),  # \0 is a NUL in strings only, as in dalan.c
    ("'a''b'", b"ab"),
])
def test_strings_and_characters(text: str, expected: bytes):
    assert parse(text) == expected


def test_a_default_type_other_than_int():
    assert parse("41 42", default="x") == b"AB"
    assert parse('"a"') == b"a"


@pytest.mark.parametrize("text,note,position", [
    ("x1", "odd number of hexadecimal digits", 2),
    ("x1f90x7f00000", "odd number of hexadecimal digits", 13),
    ('"abc', "unterminated string", 4),
    ('"ab\\', "continuation line not implemented", 4),
    ("'a", "error in character termination", 2),
    ("'ab'", "error in character termination", 2),
    ("''", "error in character", 1),
    ("'", "unterminated character", 1),
])
def test_syntax_errors_carry_socats_stderr_line_and_the_offset(text: str, note: str, position: int):
    with pytest.raises(DalanError) as caught:
        parse(text)
    assert caught.value.note == note
    assert caught.value.position == position
    assert not caught.value.too_long


@pytest.mark.parametrize("text,position", [
    ("a", 0), ("i1a", 2), ("X01", 0), ("xg", 1), ("x01 zz", 4), ("127.0.0.1", 3),
])
def test_text_the_current_type_cannot_read_is_a_syntax_error(text: str, position: int):
    """socat 1.7.4.4 loops on these (hangs, SIGSEGV, or hundreds of zero bytes);
    socat 1.8 (dalan.c: "Nothing was parsed") and pysocat report a syntax error."""
    with pytest.raises(DalanError) as caught:
        parse(text)
    assert caught.value.position == position
    assert caught.value.note is None


@pytest.mark.parametrize("sizes,fits", [
    ((112,), True), ((113,), False),
    ((55, 1), True), ((56, 1), False),  # the second item may only fill what is left of 112 - 56
    ((50, 10), True), ((60, 60), False),
    ((30, 20, 10), True), ((30, 30, 30), False),
])
def test_the_size_limit_as_socats_dalan_counts_it(sizes: tuple[int, ...], fits: bool):
    """Measured with SOCKET-CONNECT (a 112-byte buffer): dalan.c compares the bytes written
    so far with the room left after the earlier items."""
    text = " ".join("x" + "41" * size for size in sizes)
    if fits:
        assert parse(text, limit=112) == b"A" * sum(sizes)
    else:
        with pytest.raises(DalanError) as caught:
            parse(text, limit=112)
        assert caught.value.too_long
        assert caught.value.note is None


def test_numbers_count_against_the_limit_too():
    assert parse("i1", limit=4) == parse("i1")
    with pytest.raises(DalanError) as caught:
        parse("i1 i2", limit=4)
    assert caught.value.too_long


def test_non_ascii_text_is_taken_as_its_bytes():
    assert parse('"é"') == "é".encode()
