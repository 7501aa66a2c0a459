"""Records what real socat does with each grammar oracle case (run once by hand).

    .venv/bin/python tests/unit/data/record_socat_oracle.py

writes socat_grammar_oracle.json next to this file: for every address, socat's outcome
("exec", the shell command it executed) or ("error", its first E line). The cases are
SYSTEM addresses whose text is harmless as a shell command (no redirections, no command
substitution), run in a temporary directory with output to /dev/null.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from socat_oracle import SOCAT, socat_outcomes  # noqa: E402

S = "SYSTEM:"
CASES: list[str] = [S + t for t in [
    # separators and escaped separators
    "echo a", "echo a,b", "echo a\\,b", "echo a\\:b", "echo a\\,b\\:c", "echo a=b", "echo a==b",
    "echo a!b", "echo a!", "echo !a", "echo a!!b", "echo a\\!!b", "echo a!\\!b", "echo a\\!\\!b", "echo a!!!b",
    "echo x,,pipes", "echo x,", "echo x,,,", "echo x,pipes,", "echo x,=y", "echo x,=y,pipes", "echo x,=",
    "echo x,pipes=1", "echo x,pipes=0x1", "echo x,pipes=01", "echo x,pipes=", "echo x,foo:b",
    "echo x,foo=a:b", "echo x,,foo", "echo x,pipes,foo", "echo x,PIPES", "echo x,Pipes=1", "echo x,StdErr",
    "echo a b  c", " echo a", "echo a ", "echo\ta", "echo x,setsid", "echo x,sid=0",
    # double quotes
    '"echo a,b"', 'echo "a,b"', 'echo "a:b"', 'echo "a!!b"', 'echo "a=b"', 'echo "a\'b"', 'echo "a\\"b"',
    'echo ""', 'echo a""b', '"echo" a', 'e"ch"o a', 'echo "a\\nb"', 'echo "a\\\\b"', 'echo "a\\x41"',
    'echo "(a,b"', 'echo "[a:b"', 'echo "{a,b"', 'echo "(a,b)"', 'echo "a\'b,c\'d"', 'echo "\'a,b\'"',
    'echo "a","b"', 'echo "a"",b"', 'echo x,"pipes"', 'echo x,"pi"pes', 'echo x,"fo,o"', 'echo x,"fo=o"',
    'echo x,"fo:o"', 'echo "a"\\,b',
    # single quotes
    "'echo a,b'", "echo 'a,b'", "echo 'a:b'", "echo 'a!!b'", "echo 'a\"b'", "echo 'it\\'s'", "echo ''",
    "echo a''b", "'echo' a", "ec'ho' a", "echo 'a\\nb'", "echo 'a\\tb'", "echo 'a\\\\b'", "echo '(a,b'",
    "echo '[a'", "echo '\"a,b\"'", "echo 'a'\"b\"'c'", "echo x,'pipes'", "echo x,'fo,o'",
    # mixed quotes concatenate
    'echo "a"\'b\'"c"', 'echo "a,b"\'c:d\'e\\,f', "echo a'b'c\"d\"e", 'echo "a"\'\'"b"',
    # brackets
    "echo (a,b)", "echo [a:b]", "echo {a,b}", "echo (a!!b)", "echo (a:b),pipes", "echo ((a,b),c)",
    "echo [{(a,b)}]", "echo (a[b)c],d", "echo {a", "echo (a", "echo [a,b", "echo a)b,c", "echo a]b,c",
    "echo a}b,c", "echo ]a,b", "echo a(b:c)d", "echo (a)(b,c)", "echo ([a)],b", 'echo ["x,y"]',
    "echo [a'b,c'd]", "echo ('a)b')", 'echo ("a)b")', 'echo ("a,b")', "echo (a\\,b)", "echo (a\\)b),c",
    "echo [a\\nb]", "echo {'a\\nb'}", "echo (a\"b'c\"d)", "echo x,pipes=(a,b)", "echo x,(fo,o)",
    "echo x,fo(o,p)", "echo x,setsid=(1,2)", "echo (\"a'b,c\")", "echo ['a\"b'c\"]", "echo (\"a'\")", "echo \"(a'b)\"",
    "echo ['a\"b'],c", "echo \"a'b\"c'd\"", "echo {a,pipes", "echo (a,b", "echo x,pipes=(1",
    # backslash escapes
    "echo a\\nb", "echo a\\tb", "echo a\\rb", "echo a\\0b", "echo a\\ab", "echo a\\bb", "echo a\\fb",
    "echo a\\vb", "echo a\\x41b", "echo a\\eb", "echo a\\qb", "echo a\\\\b", "echo a\\\\", 'echo a\\"b',
    "echo a\\'b", "echo a\\ b", "echo \\(a,b", "echo \\[a,b", 'echo \\"a,b', "echo \\'a,b", "echo a\\\\,b",
    "echo a\\\\\\,b", "echo \\n", "echo a\\Nb", "echo a\\Tb", "echo a\\1b", "echo a\\00b",
    "echo a\\0b,pipes", "echo x,pi\\0pes", "echo x,\\0abc", "echo x,p\\ipes", "echo x,pipes\\=1",
    "echo x,pipes=\\1", "echo x,pipes=1\\0x",
    # option values: the lexed value and socat's text of the option in numeric errors
    "echo x,setsid=yes", "echo x,setsid=1x", "echo x,setsid=yes,pipes", 'echo x,setsid="a,b":c',
    "echo x,setsid='a:b'", "echo x,setsid=a=b", "echo x,setsid=a:b,pipes", "echo x,setsid=a\\nb",
    'echo x,"set"sid=yes', "echo x,setsid= 1", "echo x,setsid=1 ", "echo x,setsid=+1", "echo x,setsid=-1",
    "echo x,setsid=0x", "echo x,setsid=0xg", "echo x,setsid=08", "echo x,setsid=0b1", "echo x,setsid=1e3",
    "echo x,setsid=!", "echo x,setsid=yes!!STDOUT", "echo x,setsid=!!STDOUT", "echo x,pipes=yes",
    "echo x,crnl=1", "echo x,crnl=", "echo x,crnl", "echo x,su=nosuchuserzz", "echo x,fdin=abc",
    "echo x,fdin=", "echo x,pipes,nosuch", "echo x,nosuch=1",
    # non-ASCII and odd characters
    "echo é,pipes", "echo a#b", "echo a%b", "echo a*b", "echo ~", "echo a@b",
    # dual addresses with SYSTEM as the read half
    "echo a!!/dev/null", "echo a!!STDOUT", "echo a!!b", "echo a!!", "echo a!!-", "echo a!!10",
    "echo a!!STDOUT,foo", "echo a,pipes!!STDOUT", "echo a!!3,foo",
]] + [
    # keyword spelling
    "system:echo a", "SyStEm:echo a", '"SYSTEM":echo a', "'SYSTEM':echo a", "SYS\\TEM:echo a", "SYSTEM\\:echo a",
    "SYS(TEM):echo a", "SYSTEM:", "SYSTEMX:echo a", "STDIN!!SYSTEM:echo a,setsid=yes",
    "STDIN,setsid=yes!!SYSTEM:echo a", "SYSTEM:echo a,,,!!STDOUT", "SYSTEM:echo a!!SYSTEM:echo b",
]


def main() -> None:
    assert SOCAT, "real socat is needed to record the oracle"
    version = subprocess.run([SOCAT, "-V"], capture_output=True, text=True).stdout.splitlines()[1]
    with tempfile.TemporaryDirectory() as cwd:
        outcomes = socat_outcomes(CASES, cwd, probe=True)
    table = {"socat": version, "cases": [[a, *outcomes[a]] for a in CASES]}
    (HERE / "socat_grammar_oracle.json").write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(CASES)} cases recorded with {version}")


if __name__ == "__main__":
    main()
