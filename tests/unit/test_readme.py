"""The README's command lines are ones pysocat accepts: every `pysocat` line of its shell
blocks goes through `pysocat --explain` (which opens and resolves nothing)."""
from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from tests.conftest import ROOT, pysocat_command


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if re.match(r"^(\S+ \| )?pysocat ", line) or "| pysocat " in line:
                commands.append(line)
    return commands


def _pysocat_arguments(command: str) -> list[str]:
    words = shlex.split(command)
    start = words.index("pysocat") + 1
    end = words.index("|", start) if "|" in words[start:] else len(words)
    return words[start:end]


def test_the_readme_shows_commands() -> None:
    commands = _readme_commands()
    assert len(commands) >= 10, commands
    assert any("TUN:" in c and ",framed" in c for c in commands)


@pytest.mark.parametrize("command", _readme_commands())
def test_every_readme_command_is_accepted(command: str) -> None:
    arguments = _pysocat_arguments(command)
    if "--explain" not in arguments:
        arguments = ["--explain", *arguments]
    result = subprocess.run(pysocat_command() + arguments, capture_output=True, timeout=30)
    assert result.returncode == 0, f"{command}: {result.stderr.decode()}"
