"""The man page is generated from the tables: it must be current, lint-clean, and every
example in it must be a command line pysocat accepts."""
from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from pysocat import manpage, troff
from pysocat.options import ALL_OPTIONS, all_option_names
from pysocat.registry import ALL_ADDRESSES, load_families
from tests.conftest import ROOT, pysocat_command


def _plain(page: str) -> str:
    """The page without the marks the generator puts into words (no hyphenation, break points)."""
    return page.replace("\\%", "").replace("\\:", "")


def test_the_committed_page_is_what_the_generator_produces() -> None:
    assert (ROOT / "man" / "pysocat.1").read_text() == manpage.render(), \
        "man/pysocat.1 is stale: run .venv/bin/python -m pysocat.manpage"


def test_every_address_type_and_option_is_documented() -> None:
    load_families()
    all_option_names()
    page = _plain(manpage.render())
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
    arguments = _pysocat_arguments(command)
    if arguments[:1] == ["help"]:  # pysocat help TYPE: it runs as it is
        result = subprocess.run(pysocat_command() + arguments, capture_output=True, timeout=30)
        assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()
        assert b"options:" in result.stdout
        return
    if "--explain" not in arguments:
        arguments = ["--explain", *arguments]
    result = subprocess.run(pysocat_command() + arguments, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    assert b'"addresses"' in result.stdout


def test_the_examples_start_with_the_tun_tunnel() -> None:
    far, near = manpage.EXAMPLES[0][0], manpage.EXAMPLES[1][0]
    for command in (far, near):
        assert "TUN:" in command and ",framed" in command, command
    assert "LISTEN" in far and "LISTEN" not in near


def test_the_sections_are_in_the_order_socat_users_know() -> None:
    page = manpage.render()
    headings = [line[4:].strip('"') for line in page.splitlines() if line.startswith(".SH ")]
    wanted = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ADDRESS SPECIFICATIONS", "ADDRESS TYPES",
              "ADDRESS OPTIONS", "FRAMING", "AUTO-MTU", "DATA VALUES", "EXAMPLES", "DIAGNOSTICS",
              "EXIT STATUS", "SIGNALS", "ENVIRONMENT", "DIFFERENCES FROM SOCAT", "SEE ALSO"]
    assert [h for h in headings if h in wanted] == wanted, headings


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is not installed (apt-get install mandoc)")
def test_mandoc_lint_finds_nothing(tmp_path) -> None:
    page = tmp_path / "pysocat.1"
    page.write_text(manpage.render())
    result = subprocess.run(["mandoc", "-Tlint", "-Wstyle", str(page)], capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b"", \
        (result.stdout + result.stderr).decode()


def test_every_value_type_in_the_option_table_is_explained() -> None:
    all_option_names()
    used = {opt.vtype.socat_name for opt in ALL_OPTIONS}
    missing = used - set(manpage.VALUE_TYPES)
    assert not missing, f"add these value types to manpage.VALUE_TYPES: {sorted(missing)}"
    page = _plain(manpage.render())
    values = page[page.index(".SH DATA VALUES"):page.index(".SH EXAMPLES")]
    for name in used:
        assert f".B {manpage.escape(name)}" in values, name


def test_booleans_are_documented_as_socat_reads_them() -> None:
    """socat's BOOL is a number: `ignoreeof=yes` is an error, which the page must say."""
    result = subprocess.run(pysocat_command() + ["--explain", "OPEN:/dev/null,ignoreeof=yes", "-"],
                            capture_output=True, timeout=30)
    assert result.returncode == 1 and b"missing numerical value" in result.stderr
    assert "yes and no are not numbers" in manpage.VALUE_TYPES["BOOL"]


def test_the_differences_are_the_compat_suites_list() -> None:
    page = _plain(manpage.render())
    section = page[page.index(".SH DIFFERENCES FROM SOCAT"):page.index(".SH SEE ALSO")]
    entries = manpage.intended_differences()
    tags = [line for line in section.splitlines() if line.startswith(".B ")]
    assert len(tags) == len(entries)
    for name in entries:
        assert any(tag.startswith(f".B {manpage.escape(name)}") for tag in tags), name


def test_auto_mtu_examples_are_the_policys_own_numbers() -> None:
    from pysocat.net.mtu import choose_mtu

    page = manpage.render()
    auto_mtu = page[page.index(".SH AUTO-MTU"):page.index(".SH DATA VALUES")]
    flat = " ".join(auto_mtu.split())
    for _title, inputs in manpage.auto_mtu_cases():
        decision = choose_mtu(inputs)
        assert " ".join(manpage.escape(f"MTU {decision.effective}: {decision.reason}").split()) in flat
    assert "MTU 65531" in flat and "MTU 1468" in flat  # a framed TUN with packet information; UDP over 1500


def test_no_text_line_is_longer_than_80_bytes_and_no_paragraph_is_empty() -> None:
    lines = manpage.render().splitlines()
    no_fill = False
    for index, line in enumerate(lines):
        no_fill = line.startswith(".nf") or (no_fill and not line.startswith(".fi"))
        if not no_fill and not line.startswith((".", "'")):
            assert len(line.encode()) <= 80 or " " not in line, line
        if line == ".PP":
            assert not lines[index - 1].startswith((".SH", ".SS", ".PP")), lines[index - 1]


def test_troff_escaping_protects_control_characters() -> None:
    assert manpage.escape(".x") == "\\&.x"
    assert manpage.escape("a\\b-c") == "a\\eb\\-c"
    assert troff.macro_argument('say "hi"') == "say \\(dqhi\\(dq"


def test_help_texts_start_sentences_but_names_keep_their_case() -> None:
    assert troff.sentence("set O_APPEND") == "Set O_APPEND"
    assert troff.sentence("fcntl F_SETLK read lock") == "fcntl F_SETLK read lock"
    assert troff.sentence("chroot() into this directory") == "chroot() into this directory"
    assert troff.sentence("tun (IP packets) or tap") == "tun (IP packets) or tap"
    assert troff.sentence("socat's lexer") == "socat's lexer"


def test_wrapping_keeps_words_and_protects_a_leading_dot() -> None:
    line = "word " * 30 + ".hidden macro"
    wrapped = troff.wrap_line(line)
    assert all(len(part) <= 80 for part in wrapped)
    assert " ".join(part.removeprefix("\\&") for part in wrapped).split() == line.split()
    assert all(not part.startswith(".") for part in wrapped)
    after_abbreviation = troff.wrap_line("a " * 37 + "e.g. yyyyy zzzz")  # a break after "e.g." would fit
    assert after_abbreviation[0].endswith("a") and after_abbreviation[1] == "e.g. yyyyy zzzz"


def test_the_wire_format_and_auto_mtu_rules_are_in_the_page() -> None:
    page = manpage.render()
    framing = page[page.index(".SH FRAMING"):page.index(".SH AUTO-MTU")]
    assert "offset 0  2 bytes  LENGTH" in framing and "MAGIC" in framing and "CSUM_OFFSET" in framing
    auto_mtu = page[page.index(".SH AUTO-MTU"):page.index(".SH DATA VALUES")]
    assert "path MTU" in auto_mtu and "framed" in auto_mtu
