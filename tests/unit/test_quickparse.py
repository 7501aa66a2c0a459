"""The pyparsing-free path must agree exactly with the grammar on every plain address."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from pysocat.errors import GrammarError
from pysocat.grammar import parse_address as grammar_parse
from pysocat.quickparse import parse_address, parse_plain

PLAIN = st.text(alphabet=st.sampled_from(list(":,=!-/._ aZ09")), max_size=40)
ANY = st.text(alphabet=st.sampled_from(list(":,=!-/ aZ09\"'\\([{}])")), max_size=30)


@settings(max_examples=600, deadline=None)
@given(PLAIN)
def test_fast_path_equals_grammar_on_plain_text(text):
    fast = parse_plain(text)
    try:
        expected = grammar_parse(text)
    except GrammarError:
        assert fast is None  # errors are always the grammar's to report
        return
    if fast is not None:
        assert fast == expected
        assert fast.to_json() == expected.to_json()


@settings(max_examples=300, deadline=None)
@given(ANY)
def test_entry_point_gives_the_grammars_answer(text):
    try:
        expected = grammar_parse(text)
    except GrammarError as err:
        try:
            parse_address(text)
        except GrammarError as again:
            assert again.text == err.text
        else:
            raise AssertionError(f"fast path accepted {text!r}")
        return
    assert parse_address(text) == expected


def test_fast_path_declines_anything_that_needs_the_lexer():
    for text in ["SYSTEM:'a,b'", 'SYSTEM:"x"', "SYSTEM:a\\,b", "TCP:[::1]:80", "EXEC:(a)", "a!!b!!c", "a!!!b"]:
        assert parse_plain(text) is None
