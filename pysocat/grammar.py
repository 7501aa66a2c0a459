"""socat's address syntax as a pyparsing grammar: text in, AddressSpec/DualSpec out, no I/O.

The rules follow socat's lexer (nestlex.c as called from xioopen.c and xioopts.c), as
verified against socat 1.7.4.4 and 1.8.0.1:

* a keyword or parameter ends at an unnested ``:``, ``,`` or ``!!``; an option name at
  ``,``, ``=`` or ``!!``; an option value at ``,`` or ``!!`` (so ``:`` and ``=`` are
  literal in values);
* ``"..."`` and ``'...'`` are dropped at the outer level and hide the separators;
  backslash escapes work everywhere, single quotes included (``'it\\'s'``), with the C
  escapes ``\\0 \\a \\b \\f \\n \\r \\t \\v``; any other ``\\c`` is ``c``; tokens are C
  strings, so a ``\\0`` ends the keyword, parameter, option name or value where it stands;
* brackets ``()``, ``[]``, ``{}`` nest, hide separators and are kept in the token, as are
  quotes inside them (and single quotes inside double quotes); a bracket left open at the
  end of the text just ends there;
* adjacent quoted and plain parts concatenate.

Where socat reads past the end of its argument (an unterminated single quote, a trailing
backslash) pysocat reports ``unexpected end of address`` instead.

pyparsing is imported here and nowhere else, and this module is imported only when an
address is parsed, so ``-V`` and ``-h`` do not pay for it.
"""
from __future__ import annotations

from .record import replace
from functools import lru_cache
from typing import Any

import pyparsing as pp

from .errors import GrammarError
from .spec import AddressSpec, DualSpec, OptionSpec, Spec, single_spec

C_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
BRACKETS = {"(": ")", "[": "]", "{": "}"}
DUAL_SEPARATOR = "!!"


class _UnexpectedEnd(pp.ParseFatalException):
    """Raised inside the grammar where the text ends inside a quote or after a backslash."""


def _fatal_end(s: str, loc: int, _toks: pp.ParseResults) -> None:
    raise _UnexpectedEnd(s, loc, "unexpected end of address")


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(C_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _build() -> dict[str, pp.ParserElement]:
    """Builds the grammar once; whitespace is significant everywhere."""
    saved = pp.ParserElement.DEFAULT_WHITE_CHARS
    pp.ParserElement.set_default_whitespace_chars("")
    try:
        escape = pp.Regex(r"\\(?P<c>.)", flags=pp.re.DOTALL).set_parse_action(
            lambda t: C_ESCAPES.get(t["c"], t["c"])
        )
        trailing_backslash = pp.Regex(r"\\\Z").set_parse_action(_fatal_end)

        # hard quotes: nothing nests inside, only backslash escapes
        single_body = r"'(?P<b>(?:\\.|[^'\\])*)'"
        single_dropped = pp.Regex(single_body, flags=pp.re.DOTALL).set_parse_action(
            lambda t: _unescape(t["b"])
        )
        single_kept = pp.Regex(single_body, flags=pp.re.DOTALL).set_parse_action(
            lambda t: "'" + _unescape(t["b"]) + "'"
        )
        single_open = pp.Regex(r"'(?:\\.|[^'\\])*\\?\Z", flags=pp.re.DOTALL).set_parse_action(_fatal_end)

        nest = pp.Forward()
        double_item = escape | single_kept | single_open | nest | pp.Regex(r"[^\"\\'(\[{]+")
        double_body = pp.Suppress('"') + pp.ZeroOrMore(double_item) + pp.Suppress('"')
        double_dropped = pp.Combine(double_body)
        double_kept = pp.Combine(pp.Literal('"') + pp.ZeroOrMore(double_item) + pp.Literal('"'))
        double_open = (pp.Literal('"') + pp.ZeroOrMore(double_item) + pp.StringEnd()).set_parse_action(
            _fatal_end
        )

        nests = []
        for opener, closer in BRACKETS.items():
            plain_inside = pp.Regex(r"[^\\'\"(\[{" + pp.re.escape(closer) + r"]+")
            item = escape | trailing_backslash | single_kept | single_open | double_kept | double_open | nest | plain_inside
            nests.append(
                pp.Combine(pp.Literal(opener) + pp.ZeroOrMore(item) + (pp.Literal(closer) | pp.StringEnd()))
            )
        nest <<= pp.MatchFirst(nests)

        def token(end_chars: str, dual_ends: bool = True) -> pp.ParserElement:
            """A lexed token that ends at one of `end_chars` or at "!!" (both unnested)."""
            if dual_ends:
                plain = pp.Regex(r"(?:[^\\\"'(\[{!" + pp.re.escape(end_chars) + r"]|!(?!!))+")
            else:
                plain = pp.Regex(r"[^\\\"'(\[{" + pp.re.escape(end_chars) + r"]+")
            part = escape | trailing_backslash | double_dropped | double_open | single_dropped | single_open | nest | plain
            # socat's tokens are C strings: a "\0" escape ends the token there (`rd\0only` is "rd")
            return pp.Combine(pp.OneOrMore(part)).add_parse_action(lambda t: t[0].split("\0", 1)[0])

        head_token = token(":,")
        name_token = token(",=")
        value_token = token(",")

        keyword = pp.Optional(head_token, default="").set_parse_action(lambda s, loc, t: _Marked(loc, t[0]))
        param = pp.Suppress(":") + pp.Optional(head_token, default="")
        # socat skips an option with an empty name (`PIPE,=x`), as it skips empty options
        nameless = (pp.Literal("=") + pp.Optional(value_token)).suppress()
        option = (name_token + pp.Optional(pp.Literal("=") + pp.Optional(value_token, default=""))).set_parse_action(
            lambda s, loc, t: OptionSpec(t[0], t[2] if len(t) > 2 else None, loc)
        )
        options = pp.ZeroOrMore(pp.Suppress(",") + pp.Optional(option | nameless))
        single = (keyword + pp.Group(pp.ZeroOrMore(param)) + pp.Group(options)).set_parse_action(_single)
        # socat reads at most two parts: whatever follows a second "!!" is ignored (verified
        # with 1.7.4.4: `STDIN!!STDOUT!!FOO` relays stdin to stdout, exit 0)
        ignored = pp.Literal(DUAL_SEPARATOR).set_parse_action(lambda s, loc, t: _Cut(loc)) + pp.Suppress(
            pp.Regex(r"(?s).*"))
        address = single + pp.Optional(pp.Suppress(DUAL_SEPARATOR) + single + pp.Optional(ignored)) + pp.StringEnd()
        words = pp.Optional(pp.Suppress(pp.Regex(" +"))) + pp.ZeroOrMore(
            token(" ", dual_ends=False) + pp.Optional(pp.Suppress(pp.Regex(" +")))
        ) + pp.StringEnd()
        # pyparsing expands tabs by default; a TAB in an address is data
        return {"address": address.parse_with_tabs(), "words": words.parse_with_tabs()}
    finally:
        pp.ParserElement.set_default_whitespace_chars(saved)


@lru_cache(maxsize=1)
def _grammars() -> dict[str, pp.ParserElement]:
    return _build()


def _grammar() -> pp.ParserElement:
    return _grammars()["address"]


def split_command_line(text: str) -> list[str]:
    """Splits EXEC's command line into argv as socat does: on runs of spaces, with the
    same quoting, escaping and bracket nesting as addresses (quotes dropped, brackets kept)."""
    try:
        return list(_grammars()["words"].parse_string(text, parse_all=True))
    except _UnexpectedEnd as exc:
        raise GrammarError(f'unexpected end of address "{text}"', position=exc.loc) from None


class _Cut:
    """Where the ignored third part of an address starts (its "!!")."""

    def __init__(self, loc: int) -> None:
        self.loc = loc


class _Marked:
    """A keyword with the offset where it starts."""

    def __init__(self, loc: int, value: str) -> None:
        self.loc, self.value = loc, value


def _single(text: str, loc: int, toks: pp.ParseResults) -> AddressSpec:
    marked, params, options = toks[0], tuple(toks[1]), tuple(toks[2])
    return single_spec(marked.value, params, options, marked.loc)


def parse_address(text: str) -> Spec:
    """Parses one command-line address argument, single or dual (`read!!write`).

    Raises GrammarError with socat's message and the offset where parsing failed.
    """
    try:
        result = _grammar().parse_string(text, parse_all=True)
    except _UnexpectedEnd as exc:
        raise GrammarError(f'unexpected end of address "{text}"', position=exc.loc) from None
    except pp.ParseBaseException as exc:
        # not expected (every text parses); kept as socat's reaction to an unreadable part
        rest = text[exc.loc :]
        bad = rest[2:] if rest.startswith(DUAL_SEPARATOR) else rest
        raise GrammarError(f'unknown device/address "{bad.split(",")[0].split(":")[0]}"', position=exc.loc) from None
    singles: list[AddressSpec] = [part for part in result if isinstance(part, AddressSpec)]
    end = next((part.loc for part in result if isinstance(part, _Cut)), len(text))
    if len(singles) == 2:
        reader, writer = singles
        reader = replace(reader, text=text[: singles[1].position - 2])
        writer = replace(writer, text=text[singles[1].position : end])
        return DualSpec(reader, writer, text)
    return replace(singles[0], text=text)
