"""`pysocat help` without a type: the list of every address type, from the registry."""
from __future__ import annotations

from pysocat.registry import ALL_ADDRESSES, load_families
from tests.conftest import run_pysocat


def test_help_alone_lists_every_address_type_with_its_help() -> None:
    result = run_pysocat("help")
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    text = result.stdout.decode()
    assert text.startswith("address types (pysocat help TYPE shows one type's options):\n")
    load_families()
    for record in ALL_ADDRESSES:
        assert f"\n    {record.usage}\n        {record.help}\n" in text, record.usage
