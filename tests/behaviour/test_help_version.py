"""-V, -h, -hh, -hhh and --explain: generated from the registry, honest, in socat's layout
(socat's own test suite reads features from -V and option names from -hhh)."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from pysocat.options import ALL_OPTIONS, all_option_names
from pysocat.registry import ALL_ADDRESSES, load_families
from tests.conftest import diagnostics, run_pysocat


def _sections(text: str, start: str, end: str | None) -> list[str]:
    lines = text.splitlines()
    first = lines.index(start) + 1
    last = lines.index(end) if end else len(lines)
    return lines[first:last]


def test_version_line_two_gives_test_sh_a_socat_version():
    out = run_pysocat("-V").stdout.decode()
    line2 = out.splitlines()[1]
    # test.sh: sed 's/.* \([0-9][1-9]*\.[0-9][0-9]*\.[0-9][^[:space:]]*\).*/\1/'
    version = re.sub(r".* ([0-9][1-9]*\.[0-9][0-9]*\.[0-9][^\s]*).*", r"\1", line2)
    assert version == "1.8.0.1"


def test_version_features_are_honest_about_address_types():
    """A #define'd address feature must be usable; an #undef'd one must be unknown."""
    out = run_pysocat("-V").stdout.decode()
    defined = set(re.findall(r"^  #define WITH_(\w+) 1$", out, re.M))
    undefined = set(re.findall(r"^  #undef WITH_(\w+)$", out, re.M))
    assert {"STDIO", "EXEC", "SYSTEM", "PTY", "PIPE", "GOPEN"} <= defined
    assert not defined & undefined
    probes = {"EXEC": "EXEC", "SYSTEM": "SYSTEM", "PTY": "PTY", "PIPE": "PIPE", "GOPEN": "GOPEN",
              "TCP": "TCP", "UDP": "UDP", "OPENSSL": "OPENSSL", "TUN": "TUN", "UNIX": "UNIX-CONNECT"}
    for feature, keyword in probes.items():
        # test.sh's testaddrs: an unsupported type must say exactly "E unknown device/address"
        result = run_pysocat(f"{keyword}:::::", "/dev/null", input=b"")
        unknown = "E unknown device/address" in result.stderr.decode()
        assert result.returncode == 1
        assert unknown == (feature in undefined), (feature, result.stderr)


def test_version_with_garbage_prints_usage_and_fails():
    result = run_pysocat("-Vx")
    assert result.returncode == 1
    assert b"Usage:" in result.stderr


def test_hhh_lists_every_option_and_alias_where_test_sh_finds_them():
    out = run_pysocat("-hhh").stdout.decode()
    for name in all_option_names():
        # test.sh's testoptions: grep "[^a-z0-9-]$name[^a-z0-9-]"
        assert re.search(rf"[^a-z0-9-]{re.escape(name)}[^a-z0-9-]", out), name


def test_hhh_tables_are_sorted_like_socat_consistency_tests():
    out = run_pysocat("-hhh").stdout.decode()
    # test.sh reads each address keyword up to its first ":" (IFS holds ":"), of the
    # `groups=` lines, and compares with LC_ALL=C sort; alias lines follow their type
    heads = [l.split()[0].split(":")[0] for l in _sections(out, "   address-head:", "   opts:") if "groups=" in l]
    opts = [l.split()[0] for l in _sections(out, "   opt:", None)]
    assert heads == sorted(heads)
    assert opts == sorted(opts)
    assert len(opts) == len(all_option_names())


def test_h_lists_every_address_type_and_hh_only_common_options():
    load_families()
    h = run_pysocat("-h")
    assert h.returncode == 0
    text = h.stdout.decode()
    for record in ALL_ADDRESSES:
        assert f"      {record.usage}" in text
    assert "   opt:" not in text
    hh = run_pysocat("-hh").stdout.decode()
    listed = {l.split()[0] for l in _sections(hh, "   opt:", None)}
    assert listed == {o.name for o in ALL_OPTIONS if o.common}


def test_socat_link_name_makes_diagnostics_say_socat(tmp_path):
    from tests.conftest import pysocat_command

    command = pysocat_command()
    if len(command) != 1:
        pytest.skip("pysocat console script not installed")
    link = tmp_path / "socat"
    link.symlink_to(command[0])
    result = subprocess.run([str(link), "FOO", "-"], capture_output=True, timeout=20)
    assert re.match(rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d socat\[\d+\] E unknown device/address \"FOO\"$",
                    result.stderr.strip())


def test_explain_prints_resolved_tree_and_opens_nothing(tmp_path):
    target = tmp_path / "never-created"
    result = run_pysocat("--explain", "-u", "SYSTEM:echo a\\,b,pipes", f"CREATE:{target},perm=0600")
    assert result.returncode == 0, result.stderr
    tree = json.loads(result.stdout)
    first, second = tree["addresses"]
    assert first["resolved"]["type"] == "SYSTEM"
    assert first["resolved"]["params"] == ["echo a,b"]
    assert first["resolved"]["options"][0]["name"] == "pipes"
    assert second["resolved"]["options"][0] == {"name": "perm", "value": 0o600, "groups": ["FD", "NAMED"]}
    assert tree["unidirectional"] == "left-to-right"
    assert not target.exists()


@pytest.mark.parametrize("args", [
    ("FOO", "-"), ("OPEN:/x,foo", "-"), ("OPEN:/x,pty", "-"), ("PIPE:a:b", "-"), ("-",),
    ("OPEN:/x,rdonly=yes", "-"), ("SYSTEM:echo 'x", "-"),
])
def test_explain_errors_match_a_real_run(args):
    explained = run_pysocat("--explain", *args)
    real = run_pysocat("-u", *args, input=b"")
    assert explained.returncode == real.returncode == 1
    assert diagnostics(explained.stderr) == diagnostics(real.stderr)


def test_help_for_one_address_type_lists_its_forms_and_options() -> None:
    result = run_pysocat("help", "tcp-l")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert text.startswith("TCP-LISTEN:<port>\n")
    assert "aliases: TCP-L" in text
    assert "    fork: " in text and "    backlog=<int>: " in text
    assert "    creat" not in text  # an OPEN option is not accepted by TCP-LISTEN


def test_help_for_an_unknown_type_is_socats_error() -> None:
    result = run_pysocat("help", "NOPE")
    assert result.returncode == 1
    assert diagnostics(result.stderr) == ['E unknown device/address "NOPE"']
