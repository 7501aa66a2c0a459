"""socat's "dalan" data syntax (dalan.c): the text of a generic socket address, a bind= or
range= value of one and a setsockopt-bin value, turned into bytes. Pure.

An item starts with its type: `x` hex bytes (an even number of digits), `"..."` a string
and `'c'` one character (escapes \\n \\r \\t \\f \\b \\a \\e, and \\0 in strings), `i`/`I` int,
`l`/`L` long, `s`/`S` short, `b`/`B` byte, numbers decimal (strtol/strtoul) in host byte
order and size. Items may follow each other directly or after white space; text that
starts with no type letter continues with the type of the item before it (the caller's
default, `i`, at the start), so `x01 02` is two hex bytes and `5` is an int.

socat's quirks are kept where its result is defined: `b` stores its byte and then reads
a `B` item too (`b5` is 05 00, a fall-through in dalan.c), and the size limit is checked
against what is left after the earlier items while counting from the start (dalan.c
subtracts twice), so `x<56 bytes> x00` is too long for socat's 112-byte address buffer.
Where socat 1.7.4.4 misbehaves (text its default type cannot read makes it loop: it hangs,
dies of SIGSEGV or passes hundreds of zero bytes) pysocat does what socat 1.8 does: a
syntax error. Every error carries its byte offset in the text, and `note`, the line socat
writes to stderr before its own error message (None where it writes none).
"""
from __future__ import annotations

import os
import struct
import sys

TYPE_LETTERS = frozenset('"\'xiIlLsSbB')
WHITE_SPACE = frozenset(b" \t\r\n")
C_SPACE = frozenset(b" \t\n\v\f\r")  # what strtol() skips
HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
ESCAPES = {ord("n"): 0x0A, ord("r"): 0x0D, ord("t"): 0x09, ord("f"): 0x0C, ord("b"): 0x08, ord("a"): 0x07,
           ord("e"): 0x1B}
STRING_ESCAPES = {**ESCAPES, ord("0"): 0x00}  # in a character item \0 stays "0", as in dalan.c
SIZES = {"i": struct.calcsize("i"), "I": struct.calcsize("I"), "l": struct.calcsize("l"),
         "L": struct.calcsize("L"), "s": struct.calcsize("h"), "S": struct.calcsize("H")}
LONG_BITS = 8 * struct.calcsize("l")


class DalanError(ValueError):
    """Text that is not dalan: `too_long` when the data exceeds the limit, otherwise a
    syntax error; `position` is the byte offset where it was found."""

    def __init__(self, reason: str, position: int, too_long: bool = False, note: str | None = None) -> None:
        super().__init__(f"{reason} at offset {position}")
        self.reason = reason
        self.position = position
        self.too_long = too_long
        self.note = note


def parse(text: str, default: str = "i", limit: int | None = None) -> bytes:
    """The bytes `text` describes; `limit` is the size of the buffer socat parses into."""
    return _Parser(os.fsencode(text), limit).run(default)


class _Parser:
    def __init__(self, data: bytes, limit: int | None) -> None:
        self.data = data
        self.pos = 0
        self.out = bytearray()
        self.room = limit  # dalan()'s n: shrinks by each item's size, compared with len(out)

    def run(self, default: str) -> bytes:
        while self.pos < len(self.data):
            letter = chr(self.data[self.pos])
            before = len(self.out)
            if self.data[self.pos] in WHITE_SPACE:
                self.pos += 1
                continue
            if letter in TYPE_LETTERS:
                self.pos += 1
                self.item(letter)
                default = letter
            else:
                start = self.pos
                self.item(default)
                if self.pos == start:
                    raise DalanError(f"no {_TYPE_NAMES[default]} data", start)
            if self.room is not None:
                self.room -= len(self.out) - before
        return bytes(self.out)

    # ------------------------------------------------------------ items

    def item(self, letter: str) -> None:
        if letter == '"':
            self.string()
        elif letter == "'":
            self.character()
        elif letter == "x":
            self.hex_bytes()
        elif letter in SIZES:
            self.put(_native(self.strtol(), SIZES[letter]))
        elif letter == "b":
            self.put(_native(self.strtoul(), 1))
            self.put(_native(self.strtoul(), 1))  # dalan.c falls through into the B case
        elif letter == "B":
            self.put(_native(self.strtoul(), 1))

    def string(self) -> None:
        data = self.data
        while True:
            if self.pos >= len(data):
                raise DalanError("unterminated string", self.pos, note="unterminated string")
            char = data[self.pos]
            self.pos += 1
            if char == ord('"'):
                return
            if char == ord("\\"):
                if self.pos >= len(data):
                    raise DalanError("backslash at the end", self.pos, note="continuation line not implemented")
                char = STRING_ESCAPES.get(data[self.pos], data[self.pos])
                self.pos += 1
            self.put(bytes((char,)))

    def character(self) -> None:
        data = self.data
        if self.pos >= len(data):
            raise DalanError("unterminated character", self.pos, note="unterminated character")
        char = data[self.pos]
        self.pos += 1
        if char == ord("'"):
            raise DalanError("empty character", self.pos - 1, note="error in character")
        if char == ord("\\"):
            if self.pos >= len(data):
                raise DalanError("backslash at the end", self.pos, note="continuation line not implemented")
            char = ESCAPES.get(data[self.pos], data[self.pos])
            self.pos += 1
        self.put(bytes((char,)))
        if self.pos >= len(data) or data[self.pos] != ord("'"):
            raise DalanError("character not closed by '", self.pos, note="error in character termination")
        self.pos += 1

    def hex_bytes(self) -> None:
        data = self.data
        while self.pos < len(data) and data[self.pos] in HEX_DIGITS:
            if self.pos + 1 >= len(data) or data[self.pos + 1] not in HEX_DIGITS:
                raise DalanError("odd number of hexadecimal digits", self.pos + 1,
                                 note="odd number of hexadecimal digits")
            value = int(data[self.pos : self.pos + 2], 16)
            self.pos += 2
            self.put(bytes((value,)))

    def put(self, chunk: bytes) -> None:
        """Appends, unless the buffer is full (dalan.c: `p1 >= n`, before every byte)."""
        if self.room is not None and len(self.out) + len(chunk) > self.room:
            raise DalanError("data too long", self.pos, too_long=True)
        self.out += chunk

    # ------------------------------------------------------------ C's number parsing

    def _digits(self) -> tuple[int, bool]:
        """strtol()'s decimal scan from pos: (magnitude with sign, whether digits were found);
        pos moves past them only when there were digits."""
        data, i = self.data, self.pos
        while i < len(data) and data[i] in C_SPACE:
            i += 1
        negative = False
        if i < len(data) and data[i] in b"+-":
            negative = data[i] == ord("-")
            i += 1
        start = i
        while i < len(data) and 0x30 <= data[i] <= 0x39:
            i += 1
        if i == start:
            return 0, False
        self.pos = i
        value = int(data[start:i])
        return (-value if negative else value), True

    def strtol(self) -> int:
        value, _found = self._digits()
        return max(-(1 << (LONG_BITS - 1)), min(value, (1 << (LONG_BITS - 1)) - 1))

    def strtoul(self) -> int:
        value, _found = self._digits()
        if abs(value) >= 1 << LONG_BITS:
            return (1 << LONG_BITS) - 1
        return value % (1 << LONG_BITS)


_TYPE_NAMES = {'"': "string", "'": "character", "x": "hexadecimal", "i": "int", "I": "unsigned int",
               "l": "long", "L": "unsigned long", "s": "short", "S": "unsigned short", "b": "byte",
               "B": "unsigned byte"}


def _native(value: int, size: int) -> bytes:
    """A C assignment to an integer of `size` bytes: the low bytes, in host byte order."""
    return (value % (1 << (8 * size))).to_bytes(size, sys.byteorder)
