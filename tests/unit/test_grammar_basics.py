"""The address grammar: socat's separators, quoting, escaping, nesting and shorthands."""
from __future__ import annotations

import pytest

from pysocat.errors import GrammarError
from pysocat.grammar import parse_address, split_command_line
from pysocat.spec import AddressSpec, DualSpec

# (address text, keyword, params, options as (name, value))
CASES = [
    ("STDIO", "STDIO", (), ()),
    ("-", "-", (), ()),
    ("3", "FD", ("3",), ()),
    ("./x", "GOPEN", ("./x",), ()),
    ("/tmp/a:b", "GOPEN", ("/tmp/a", "b"), ()),
    ("TCP:[::1]:80", "TCP", ("[::1]", "80"), ()),
    ("TCP4-LISTEN:8080,fork,reuseaddr", "TCP4-LISTEN", ("8080",), (("fork", None), ("reuseaddr", None))),
    ("OPEN:f,rdonly=", "OPEN", ("f",), (("rdonly", ""),)),
    ("TCP:h:1,bind=1.2.3.4:5,range=[::1]/128", "TCP", ("h", "1"), (("bind", "1.2.3.4:5"), ("range", "[::1]/128"))),
    ("PIPE,,,", "PIPE", (), ()),
    ("SYSTEM:'echo a,b'", "SYSTEM", ("echo a,b",), ()),
    ('SYSTEM:"echo a,b"', "SYSTEM", ("echo a,b",), ()),
    ("SYSTEM:echo a\\,b\\:c", "SYSTEM", ("echo a,b:c",), ()),
    ("SYSTEM:echo (a,b)", "SYSTEM", ("echo (a,b)",), ()),
    ("SYSTEM:echo [a:b]", "SYSTEM", ("echo [a:b]",), ()),
    ('SYSTEM:echo ["x,y"]', "SYSTEM", ('echo ["x,y"]',), ()),
    ("SYSTEM:echo [a'b,c'd]", "SYSTEM", ("echo [a'b,c'd]",), ()),
    ("SYSTEM:echo \"a\"'b'\"c\"", "SYSTEM", ("echo abc",), ()),
    ("SYSTEM:echo a\\nb", "SYSTEM", ("echo a\nb",), ()),
    ("SYSTEM:echo 'a\\nb'", "SYSTEM", ("echo a\nb",), ()),
    ("SYSTEM:echo 'it\\'s'", "SYSTEM", ("echo it's",), ()),
    ("SYSTEM:echo a\\x41b", "SYSTEM", ("echo ax41b",), ()),
    ("SYSTEM:echo a\\!!b", "SYSTEM", ("echo a!!b",), ()),
    ('SYSTEM:echo "a!!b"', "SYSTEM", ("echo a!!b",), ()),
    ("SYSTEM:echo x,,pipes", "SYSTEM", ("echo x",), (("pipes", None),)),
    ("SYSTEM:echo \"a'b,c'd\"", "SYSTEM", ("echo a'b,c'd",), ()),
    ("SYSTEM:echo (a[b)c],d", "SYSTEM", ("echo (a[b)c],d",), ()),
    ("SYSTEM:echo {a", "SYSTEM", ("echo {a",), ()),
    ("SYSTEM:echo a)b,c", "SYSTEM", ("echo a)b",), (("c", None),)),
    ("SYSTEM:ec'ho' a", "SYSTEM", ("echo a",), ()),
    ("SYSTEM:echo 'a(b'", "SYSTEM", ("echo a(b",), ()),
    ('SYSTEM:echo "(a)",b', "SYSTEM", ("echo (a)",), (("b", None),)),
    ("StDiO", "StDiO", (), ()),
    ("PROXY:p:h:80,proxyauth=\"u:p,w\"", "PROXY", ("p", "h", "80"), (("proxyauth", "u:p,w"),)),
]


@pytest.mark.parametrize("text,keyword,params,options", CASES)
def test_single_address_parses_like_socat(text, keyword, params, options):
    spec = parse_address(text)
    assert isinstance(spec, AddressSpec)
    assert spec.keyword == keyword
    assert spec.params == params
    assert tuple((o.name, o.value) for o in spec.options) == options


def test_dual_address_splits_at_double_bang():
    spec = parse_address("OPEN:in,rdonly!!OPEN:out,wronly")
    assert isinstance(spec, DualSpec)
    assert spec.reader.params == ("in",) and spec.writer.params == ("out",)


@pytest.mark.parametrize("text", ['SYSTEM:echo "unterminated', "SYSTEM:echo 'unterminated", "SYSTEM:echo a\\",
                                  'SYSTEM:echo "a(b"'])
def test_unterminated_input_is_an_error_not_an_over_read(text):
    with pytest.raises(GrammarError) as info:
        parse_address(text)
    assert info.value.text == f'unexpected end of address "{text}"'
    assert info.value.position is not None


def test_a_third_part_is_ignored():
    """socat 1.7.4.4 reads two parts and ignores whatever follows a second "!!"."""
    spec = parse_address("SYSTEM:echo a!!b!!c,foo")
    assert [spec.reader.keyword, spec.writer.keyword] == ["SYSTEM", "b"]
    assert spec.writer.text == "b"


@pytest.mark.parametrize("line,argv", [
    ("/bin/echo a  b", ["/bin/echo", "a", "b"]),
    ('sh -c "echo x y"', ["sh", "-c", "echo x y"]),
    ("x (a b) [c d]", ["x", "(a b)", "[c d]"]),
    ("  lead trail  ", ["lead", "trail"]),
])
def test_exec_command_line_splits_like_socat(line, argv):
    assert split_command_line(line) == argv
