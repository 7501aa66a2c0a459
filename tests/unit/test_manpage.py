"""The man page is generated from the tables: it must be current, lint-clean, and every
example in it must be a command line pysocat accepts."""
from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from pysocat import manpage
from pysocat.options import ALL_OPTIONS, all_option_names
from pysocat.registry import ALL_ADDRESSES, load_families
from tests.conftest import ROOT, pysocat_command


def test_the_committed_page_is_what_the_generator_produces() -> None:
    assert (ROOT / "man" / "pysocat.1").read_text() == manpage.render(), \
        "man/pysocat.1 is stale: run .venv/bin/python -m pysocat.manpage"


def test_every_address_type_and_option_is_documented() -> None:
    load_families()
    all_option_names()
    page = manpage.render()
    for record in ALL_ADDRESSES:
        assert f".B {manpage.escape(record.usage)}" in page, record.usage
    for opt in ALL_OPTIONS:
        assert manpage.escape(opt.name) in page, opt.name


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_reports_no_warnings(tmp_path) -> None:
    page = tmp_path / "pysocat.1"
    page.write_text(manpage.render())
    result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", str(page)], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stderr == b"", result.stderr.decode()


def _pysocat_arguments(command: str) -> list[str]:
    """The arguments of the pysocat invocation in a one-line example (up to a pipe)."""
    words = shlex.split(command.replace("$HOME", "/root"))
    start = words.index("pysocat") + 1
    end = words.index("|", start) if "|" in words[start:] else len(words)
    return words[start:end]


@pytest.mark.parametrize("command", [command for command, _text in manpage.EXAMPLES])
def test_every_example_is_accepted(command: str) -> None:
    result = subprocess.run(pysocat_command() + ["--explain", *_pysocat_arguments(command)],
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    assert b'"addresses"' in result.stdout


def test_troff_escaping_protects_control_characters() -> None:
    assert manpage.escape(".x") == "\\&.x"
    assert manpage.escape("a\\b-c") == "a\\eb\\-c"


def test_the_wire_format_and_auto_mtu_rules_are_in_the_page() -> None:
    page = manpage.render()
    framing = page[page.index(".SH FRAMING"):page.index(".SH AUTO-MTU")]
    assert "offset 0  2 bytes  LENGTH" in framing and "MAGIC" in framing and "CSUM_OFFSET" in framing
    auto_mtu = page[page.index(".SH AUTO-MTU"):page.index(".SH DATA VALUES")]
    assert "path MTU" in auto_mtu and "framed" in auto_mtu
