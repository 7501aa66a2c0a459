"""The registry: keyword and option lookup, parameter counts and group checks, with
socat's diagnostics (1.8 wording for parameter counts, reference section 4.1/4.4)."""
from __future__ import annotations

import pytest

from pysocat.errors import SocatError
from pysocat.grammar import parse_address
from pysocat.options import all_option_names, lookup_option
from pysocat.registry import ALL_ADDRESSES, load_families, lookup_address, resolve

load_families()
NAMES = sorted({name for a in ALL_ADDRESSES for name in a.names})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
def test_keywords_are_case_insensitive(name: str, spelling):
    assert lookup_address(spelling(name)) == lookup_address(name) != []


@pytest.mark.parametrize("address", ["StDiO", "stdin", "Stdout", "pipe", "Echo", "open:/dev/null", "File:/dev/null",
                                     "gopen:/dev/null", "fd:1", "Exec:true", "system:true", "pty", "SocketPair"])
def test_addresses_resolve_whatever_the_case(address: str):
    resolved = resolve(parse_address(address))
    assert resolved.type in lookup_address(address.split(":")[0])


ALIASES = [(alias, opt.name) for opt in {id(o): o for o in all_option_names().values()}.values() for alias in opt.aliases]


@pytest.mark.parametrize("alias,canonical", ALIASES)
def test_an_alias_is_the_same_record_in_any_case(alias: str, canonical: str):
    assert lookup_option(alias) is lookup_option(canonical) is lookup_option(alias.upper())
    assert lookup_option(canonical).name == canonical


def test_there_are_many_aliases():
    assert len(ALIASES) >= 60


@pytest.mark.parametrize("address,message", [
    ("STDIO:x", "STDIO: wrong number of parameters (1 instead of 0)"),
    ("stdio:x:y", "stdio: wrong number of parameters (2 instead of 0)"),
    ("OPEN", "OPEN: wrong number of parameters (0 instead of 1): usage: OPEN:<filename>"),
    ("OPEN:a:b", "OPEN: wrong number of parameters (2 instead of 1): usage: OPEN:<filename>"),
    ("EXEC:echo a:b", "EXEC: wrong number of parameters (2 instead of 1): usage: EXEC:<command-line>"),
    ("SYSTEM", "SYSTEM: wrong number of parameters (0 instead of 1): usage: SYSTEM:<shell-command>"),
    ("FD", "FD: wrong number of parameters (0 instead of 1): usage: FD:<num>"),
    ("PIPE:a:b", "PIPE: wrong number of parameters (2 instead of 1)"),  # socat 1.7.4.4: the last variant
    ("PTY:x", "PTY: wrong number of parameters (1 instead of 0)"),
    ("/tmp/a:b", "GOPEN: wrong number of parameters (2 instead of 1): usage: GOPEN:<filename>"),
    ("3:4", "FD: wrong number of parameters (2 instead of 1): usage: FD:<num>"),
])
def test_parameter_count_errors_in_socat_18_words(address: str, message: str):
    with pytest.raises(SocatError) as info:
        resolve(parse_address(address))
    assert info.value.text == message


@pytest.mark.parametrize("address,message", [
    # socat parses every option before it counts parameters (seen on 1.7.4.4)
    ("STDIO:x,foo", 'parseopts_table(): unknown option "foo"'),
    ("OPEN:/dev/null:x,foo", 'parseopts_table(): unknown option "foo"'),
    ("STDIO:x,pipes", 'parseopts_table(): option "pipes" not supported with this address type'),
    ("STDIO:x,cloexec=yes", 'parseopts(): missing numerical value of option "cloexec=yes"'),
    ("STDIO:x,crnl=1", 'no value permitted for option "crnl"'),
    ("PIPE:a:b,foo", 'parseopts_table(): unknown option "foo"'),
    ("OPEN,rdonly=yes", 'parseopts(): missing numerical value of option "rdonly=yes"'),
])
def test_options_are_checked_before_the_parameter_count(address: str, message: str):
    with pytest.raises(SocatError) as info:
        resolve(parse_address(address))
    assert info.value.text == message


@pytest.mark.parametrize("address,option", [
    ("STDIO,pipes", "pipes"), ("STDIN,creat", "creat"), ("OPEN:/dev/null,pty", "pty"), ("PIPE,link=x", "link"),
    ("SYSTEM:true,rdonly", "rdonly"), ("EXEC:true,Creat", "Creat"), ("PTY,history=x", "history"),
    ("STDOUT,pty", "pty"), ("SOCKETPAIR,link=x", "link"), ("FD:1,wait-slave", "wait-slave"),
])
def test_group_check_and_dash_g(address: str, option: str):
    with pytest.raises(SocatError) as info:
        resolve(parse_address(address))
    assert info.value.text == f'parseopts_table(): option "{option}" not supported with this address type'
    assert info.value.position == address.index("," + option) + 1
    resolved = resolve(parse_address(address), check_groups=False)  # -g
    assert resolved.unknown_groups_ok
    assert [o.name for o, _ in resolved.options.occurrences] == [lookup_option(option).name]


@pytest.mark.parametrize("address,name", [("PIPE,foo", "foo"), ("STDIO,Forkx", "Forkx"), ("OPEN:/dev/null,x=1", "x"),
                                          ("SYSTEM:true,pipes,nosuch", "nosuch"), ("PIPE,\"fo,o\"", "fo,o")])
def test_unknown_option(address: str, name: str):
    for check_groups in (True, False):  # -g does not make an unknown option known
        with pytest.raises(SocatError) as info:
            resolve(parse_address(address), check_groups=check_groups)
        assert info.value.text == f'parseopts_table(): unknown option "{name}"'


@pytest.mark.parametrize("keyword", ["FOO", "10", "TCPX", "", "-x", "STDIO2"])
def test_unknown_address(keyword: str):
    with pytest.raises(SocatError) as info:
        resolve(parse_address(keyword + ",foo"))
    assert info.value.text == f'unknown device/address "{keyword}"'


def test_universal_options_work_everywhere_and_last_value_wins():
    resolved = resolve(parse_address("PIPE,setsid,crnl,readbytes=5,bytes=0x10"))
    assert resolved.options.get(lookup_option("readbytes")) == 16
    assert resolved.options.all(lookup_option("readbytes")) == [5, 16]
    assert resolved.options.flag(lookup_option("setsid"))


def test_dual_resolves_both_halves_and_reports_the_writer():
    dual = resolve(parse_address("OPEN:/dev/null,rdonly!!STDOUT,crnl"))
    assert dual.reader.type.name == "OPEN" and dual.writer.type.name == "STDOUT"
    with pytest.raises(SocatError) as info:
        resolve(parse_address("STDIN!!STDOUT,rdonly=yes,crnl"))
    assert info.value.text == 'parseopts_table(): option "rdonly" not supported with this address type'
    with pytest.raises(SocatError) as info:
        resolve(parse_address("STDIN,cloexec=yes!!STDOUT"))
    assert info.value.text == 'parseopts(): missing numerical value of option "cloexec=yes!!STDOUT"'


def test_an_option_of_another_variant_fails_only_when_applied():
    """`PIPE,creat`: creat belongs to PIPE:<filename>; socat accepts it and then fails in
    applyopts() when opening (registry.open_checked), so resolving keeps it as foreign."""
    from pysocat import option_table as O
    from pysocat.registry import foreign_disposition

    resolved = resolve(parse_address("PIPE,creat"))
    assert resolved.foreign == [O.CREAT]
    assert foreign_disposition(resolved.type, O.CREAT) == "not implemented"


def test_the_family_index_names_the_module_of_every_keyword() -> None:
    """registry.FAMILY_MODULES lets one address import one family; it must match the
    declarations, or a keyword would be found only after loading everything."""
    from pysocat.registry import ALL_ADDRESSES, FAMILY_MODULES, keyword_stem, load_families

    load_families()
    for record in ALL_ADDRESSES:
        module = getattr(record.opener, "__wrapped__", record.opener).__module__.rsplit(".", 1)[1]
        for name in record.names:
            assert keyword_stem(name) in FAMILY_MODULES[module], (name, module)


def test_a_plain_address_loads_only_its_own_family() -> None:
    import subprocess
    import sys

    code = ("import sys; from pysocat.registry import lookup_address; lookup_address('OPEN'); "
            "print(sorted(m for m in sys.modules if m.startswith('pysocat.addresses.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pysocat.addresses.file" in out.stdout
    assert "pysocat.addresses.tcp" not in out.stdout and "pysocat.addresses.sockets" not in out.stdout
