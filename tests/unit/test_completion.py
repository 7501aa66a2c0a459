"""Bash completion comes from the tables: current, and completing what a user types."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from pysocat import completion
from tests.conftest import ROOT


def test_the_committed_script_is_what_the_generator_produces() -> None:
    assert (ROOT / "completions" / "pysocat").read_text() == completion.render(), \
        "completions/pysocat is stale: run .venv/bin/python -m pysocat.completion"


def _complete(line: str) -> list[str]:
    """Runs the completion function as bash would for `line` with the cursor at its end."""
    script = completion.render() + f"""
COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}
COMP_WORDBREAKS=$' \\t\\n"\\'><=;|&(:'
read -ra COMP_WORDS <<< "$(printf '%s' "$COMP_LINE" | sed -e 's/\\([:=]\\)/ \\1 /g')"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_pysocat
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def test_keywords_complete_case_insensitively() -> None:
    assert _complete("pysocat -u socketp") == ["SOCKETPAIR"]
    assert "SOCKET-CONNECT" in _complete("pysocat -u soc")
    assert "STDIO" in _complete("pysocat STD")


def test_option_names_complete_after_a_comma() -> None:
    found = _complete("pysocat OPEN:/tmp/x,crea")
    assert "/tmp/x,creat" in found and "/tmp/x,cread" in found, found
    assert all(candidate.startswith("/tmp/x,crea") for candidate in found), found


def test_the_help_subcommand_and_its_type_complete() -> None:
    assert "help" in _complete("pysocat he")
    assert "TCP4-LISTEN" in _complete("pysocat help tcp4-l")
    assert "help" not in _complete("pysocat - he")  # only as the first word


def test_global_options_complete() -> None:
    assert set(_complete("pysocat -hh")) == {"-hh", "-hhh"}


def test_every_keyword_and_option_is_offered() -> None:
    from pysocat.options import all_option_names
    from pysocat.registry import ALL_ADDRESSES, load_families

    load_families()
    text = completion.render()
    for record in ALL_ADDRESSES:
        assert record.name.upper() in text
    for name in all_option_names():
        assert f" {name} " in f" {text.split('_pysocat_options=')[1].split(chr(10))[0].strip(chr(34))} "
