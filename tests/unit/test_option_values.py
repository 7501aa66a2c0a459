"""Option values are converted with socat's rules (xioopts.c parseopts_table).

Each error text below was produced by real socat 1.7.4.4 (`socat -u <address>
/dev/null`); the live test re-checks them when socat is installed. strtoul is also
compared with the C library's own on random text.
"""
from __future__ import annotations

import ctypes
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from pysocat.errors import SocatError
from pysocat.grammar import parse_address
from pysocat.options import lookup_option, strtod, strtoul
from pysocat.registry import resolve

from .socat_oracle import SOCAT

# (address, socat's error line without the "E ")
ERRORS = [
    ("OPEN:/dev/null,rdonly=yes", 'parseopts(): missing numerical value of option "rdonly=yes"'),
    ("OPEN:/dev/null,rdonly=1x", 'parseopts(): trailing garbage in numerical arg of option "rdonly=1x"'),
    ("OPEN:/dev/null,rdonly=0x1x", 'parseopts(): trailing garbage in numerical arg of option "rdonly=0x1x"'),
    ("OPEN:/dev/null,rdonly=", 'parseopts(): missing numerical value of option "rdonly="'),
    ("OPEN:/dev/null,rdonly=1 ", 'parseopts(): trailing garbage in numerical arg of option "rdonly=1 "'),
    ("OPEN:/dev/null,rdonly=-1x", 'parseopts(): trailing garbage in numerical arg of option "rdonly=-1x"'),
    ("OPEN:/dev/null,ignoreeof=2,rdonly=yes", 'parseopts(): missing numerical value of option "rdonly=yes"'),
    ("OPEN:/dev/null,rdonly=yes,ignoreeof", 'parseopts(): missing numerical value of option "rdonly=yes,ignoreeof"'),
    ("PIPE,mode=999", 'parseopts(): missing numerical value of option "mode=999"'),
    ("PIPE,perm=8", 'parseopts(): missing numerical value of option "perm=8"'),
    ("PIPE,mode=0x1", 'parseopts(): trailing garbage in numerical arg of option "mode=0x1"'),
    ("PIPE,mode", 'option "mode": value required'),
    ("OPEN:/dev/null,crnl=2", 'no value permitted for option "crnl"'),
    ("OPEN:/dev/null,crnl=", 'no value permitted for option "crnl"'),
    ("OPEN:/dev/null,CRNL=2", 'no value permitted for option "crnl"'),
    ("PTY,b9600=1", 'no value permitted for option "b9600"'),
    ("PTY,link", 'option "link": value required'),
    ("PTY,pty-interval=abc", 'parseopts(): missing numerical value of option "pty-interval=abc"'),
    ("PTY,pty-interval=1x", 'parseopts(): trailing garbage in numerical arg of option "pty-interval=1x"'),
    ("PTY,pty-interval", 'option "pty-interval": value required'),
    ("OPEN:/dev/null,readbytes=abc", 'parseopts(): missing numerical value of option "readbytes=abc"'),
    ("OPEN:/dev/null,readbytes=08", 'parseopts(): trailing garbage in numerical arg of option "readbytes=08"'),
    ("OPEN:/dev/null,readbytes=0x", 'parseopts(): trailing garbage in numerical arg of option "readbytes=0x"'),
    ("OPEN:/dev/null,seek=-x", 'parseopts(): missing numerical value of option "seek=-x"'),
    ("OPEN:/dev/null,escape=z", 'parseopts(): missing numerical value of option "escape=z"'),
    ("OPEN:/dev/null,user=", 'getpwnam(""): no such user'),
    ("PTY,min=x", 'parseopts(): missing numerical value of option "min=x"'),
    # "value required" names the option as written; "no value permitted" by its canonical name
    ("PIPE,MODE", 'option "MODE": value required'),
    ("PTY,Link", 'option "Link": value required'),
    ("OPEN:/dev/null,crlf=1", 'no value permitted for option "crnl"'),
    ("OPEN:/dev/null,RDONLY=yes", 'parseopts(): missing numerical value of option "RDONLY=yes"'),
]


@pytest.mark.parametrize("address,error", ERRORS)
def test_value_errors_have_socats_words(address: str, error: str):
    with pytest.raises(SocatError) as info:
        resolve(parse_address(address))
    assert info.value.text == error


@pytest.mark.skipif(SOCAT is None, reason="real socat (/usr/bin/socat) is not installed")
def test_the_error_texts_are_real_socats():
    from concurrent.futures import ThreadPoolExecutor

    def first_error(address: str) -> str:
        proc = subprocess.run([SOCAT, "-u", address, "/dev/null"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=5)
        line = proc.stderr.decode().splitlines()[0]
        return line.split("] E ", 1)[1]

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(first_error, [a for a, _ in ERRORS]))
    assert got == [e for _, e in ERRORS]


# (option text, converted value), all accepted by socat 1.7.4.4
VALUES = [
    ("rdonly", True), ("rdonly=0x1", True), ("rdonly=0", False), ("rdonly=00", False), ("rdonly=2", True),
    ("rdonly= 1", True), ("rdonly=+1", True),
    ("readbytes=10", 10), ("readbytes=0x10", 16), ("readbytes=010", 8), ("readbytes=0X1f", 31),
    ("readbytes=0", None), ("readbytes", 1), ("readbytes=-1", 2**64 - 1),
    ("seek=-1", -1), ("seek=0x10", 16), ("seek=077", 63),
    ("mode=644", 0o644), ("perm=0644", 0o644), ("mode=7", 7), ("umask=022", 0o22), ("mode=0", 0),
    ("pty-interval=0.5", 0.5), ("pty-interval=1e3", 1000.0), ("pty-interval=.25", 0.25), ("pty-interval=2", 2.0),
    ("link=a:b=c", "a:b=c"), ("link=", ""), ("escape=0x0f", 15), ("min=0x101", 1), ("user=0", 0), ("uid=0x0", 0),
    ("crnl", True), ("b9600", True),
]


@pytest.mark.parametrize("text,value", VALUES)
def test_values_convert_like_socat(text: str, value: object):
    name, eq, raw = text.partition("=")
    opt = lookup_option(name)
    assert opt is not None
    got = opt.parse(name, raw if eq else None)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text,value,rest", [
    ("0x10", 16, ""), ("010", 8, ""), ("10", 10, ""), ("0", 0, ""), ("0x", 0, "x"), ("0xg", 0, "xg"),
    ("08", 0, "8"), ("  12ab", 12, "ab"), ("-0x2", 2**64 - 2, ""), ("+7", 7, ""), ("", 0, ""), ("x", 0, "x"),
    ("-", 0, "-"), ("0X1F", 31, ""), ("\t\n9", 9, ""), ("1 2", 1, " 2"),
])
def test_strtoul_base_0(text: str, value: int, rest: str):
    assert strtoul(text, 0) == (value, rest)


@pytest.mark.parametrize("text,value,rest", [("644", 0o644, ""), ("999", 0, "999"), ("0x1", 0, "x1"),
                                             ("0644", 0o644, ""), ("78", 7, "8")])
def test_strtoul_base_8(text: str, value: int, rest: str):
    assert strtoul(text, 8) == (value, rest)


@pytest.mark.parametrize("text,value,rest", [("0.5", 0.5, ""), ("1e3x", 1000.0, "x"), ("abc", 0.0, "abc"),
                                             ("-2", -2.0, ""), (" .5", 0.5, "")])
def test_strtod(text: str, value: float, rest: str):
    assert strtod(text) == (value, rest)


_LIBC = ctypes.CDLL(None)
_LIBC.strtoul.restype = ctypes.c_ulong
_LIBC.strtoul.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]


def libc_strtoul(text: str, base: int) -> tuple[int, str]:
    """glibc's strtoul (saturating at ULONG_MAX on overflow, as C requires)."""
    raw = text.encode()
    buf = ctypes.create_string_buffer(raw)
    end = ctypes.c_char_p()
    value = _LIBC.strtoul(buf, ctypes.byref(end), base)
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buf)
    return value, raw[consumed:].decode()


NUMBERISH = st.text(alphabet=" \t+-0123456789abcdefxXgz8", max_size=12)


@settings(max_examples=400, deadline=None)
@given(NUMBERISH, st.sampled_from([0, 8, 10, 16]))
def test_strtoul_agrees_with_libc(text: str, base: int):
    value, rest = libc_strtoul(text, base)
    ours, our_rest = strtoul(text, base)
    assert our_rest == rest
    if len(text.strip(" \t+-")) < 16:  # no overflow: C saturates, Python does not
        assert ours == value
