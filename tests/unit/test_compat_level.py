"""The compatibility record (pysocat/compat.py) and the code that reads it: one field per
difference between socat 1.7.4 and 1.8, chosen by --compat=<level> or PYSOCAT_COMPAT."""
from __future__ import annotations

import pytest

from pysocat import children, compat
from pysocat.cli import UsageExit, compat_argument, parse_arguments
from pysocat.errors import SocatError
from pysocat.grammar import parse_address
from pysocat.log import LEVELS
from pysocat.options import all_option_names, lookup_option
from pysocat.record import FrozenInstanceError
from pysocat.registry import ALL_ADDRESSES, load_families, resolve

FIELDS = [f.name for f in compat.Compat.__record_fields__]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def default_level(monkeypatch):
    """Every test starts at the default level, without PYSOCAT_COMPAT, and leaves it so."""
    monkeypatch.delenv(compat.ENVIRONMENT_VARIABLE, raising=False)
    compat.select(compat.DEFAULT)
    yield
    compat.select(compat.DEFAULT)


@pytest.fixture
def level17():
    return compat.select(compat.SOCAT_1_7)


# ---------------------------------------------------------------- the record

def test_every_field_says_why_and_no_reason_is_left_over():
    assert set(REASONS_KEYS := compat.REASONS) == set(FIELDS), set(REASONS_KEYS) ^ set(FIELDS)
    assert all(len(text) > 20 for text in compat.REASONS.values())


@pytest.mark.parametrize("name", [n for n in FIELDS if n != "level"])
def test_every_field_is_a_real_difference_between_the_levels(name):
    """A field that is the same for both levels would be no difference at all."""
    assert getattr(compat.SOCAT_1_7, name) != getattr(compat.SOCAT_1_8, name)


def test_records_are_frozen():
    with pytest.raises(FrozenInstanceError):
        compat.SOCAT_1_7.default_log_level = "W"  # type: ignore[misc]


def test_the_default_is_socat_1_8_and_the_levels_are_named_by_their_version():
    assert compat.current() is compat.DEFAULT is compat.SOCAT_1_8
    assert compat.SOCAT_1_7.socat_version.startswith(compat.SOCAT_1_7.level + ".")
    assert compat.SOCAT_1_8.socat_version.startswith(compat.SOCAT_1_8.level + ".")


def test_names_in_the_1_7_tables_exist_in_pysocats_option_table():
    """A misspelt name would silently change nothing."""
    names = all_option_names()
    c = compat.SOCAT_1_7
    for name in set(c.unknown_options) | set(c.option_groups) | set(c.option_help_attributes):
        assert name in names and names[name].name == name, name
    # the nickname table is socat 1.7.4.4's own (options pysocat lacks included); where pysocat
    # has the option, the entry names it by its canonical name
    for name in c.option_nicknames:
        assert name not in names or names[name].name == name, name


def test_a_1_7_nickname_pysocat_does_not_accept_is_not_shown(level17):
    """socat 1.7 lists ip-multicast-ttl at -hh as multicastttl, an alias pysocat lacks: a
    name that would be refused is not printed; the option's shortest name is."""
    from pysocat.help_socat17 import nickname

    opt = lookup_option("ip-multicast-ttl")
    assert nickname(compat.SOCAT_1_7, opt, ["ip-multicast-ttl", "multicast-ttl"]) == "multicast-ttl"
    assert nickname(compat.SOCAT_1_7, opt, ["ip-multicast-ttl", "multicastttl"]) == "multicastttl"
    assert nickname(compat.SOCAT_1_7, lookup_option("ipv6-tclass"), ["ipv6-tclass", "tclass"]) is None


def test_the_1_7_feature_list_uses_names_the_registry_knows():
    from pysocat.registry import SOCAT_FEATURE_ORDER

    assert set(compat.FEATURES_1_7) <= set(SOCAT_FEATURE_ORDER)
    assert "HELP" not in compat.FEATURES_1_7 and "SOCKETPAIR" not in compat.FEATURES_1_7


# ---------------------------------------------------------------- choosing the level

def test_the_option_wins_over_the_variable():
    assert compat.choose("1.8", {"PYSOCAT_COMPAT": "1.7"}) is compat.SOCAT_1_8
    assert compat.choose("1.7", {"PYSOCAT_COMPAT": "1.8"}) is compat.SOCAT_1_7


def test_the_variable_counts_without_the_option():
    assert compat.choose(None, {"PYSOCAT_COMPAT": "1.7"}) is compat.SOCAT_1_7
    assert compat.choose(None, {"PYSOCAT_COMPAT": ""}) is compat.SOCAT_1_8
    assert compat.choose(None, {}) is compat.SOCAT_1_8


@pytest.mark.parametrize("text", ["1.7", "1.7.4", "1.7.4.4"])
def test_a_longer_version_names_the_same_level(text):
    assert compat.lookup(text, "x") is compat.SOCAT_1_7


@pytest.mark.parametrize("text,source", [("1.6", "--compat"), ("1.70", "PYSOCAT_COMPAT"), ("", "--compat")])
def test_an_unknown_level_is_an_error_naming_its_source(text, source):
    with pytest.raises(SocatError) as info:
        compat.choose(text, {}) if source == "--compat" else compat.choose(None, {source: text})
    assert info.value.text == f'{source}: unknown compatibility level "{text}" (use 1.7 or 1.8)'


@pytest.mark.parametrize("args,value", [
    (["--compat=1.7", "-", "-"], "1.7"),
    (["-d", "-d", "-b", "512", "--compat=1.7", "-", "-"], "1.7"),
    (["-lf", "--compat=1.7", "-", "-"], None),  # the log file's name
    (["-lp", "x", "--compat=1.7", "-", "-"], "1.7"),
    (["--compat=1.7", "--compat=1.8", "-", "-"], "1.8"),  # the last one wins
    (["-", "--compat=1.7", "-"], None),  # an address ends the options
    (["-u", "-!!-", "--compat=1.7"], None),
    (["-h", "--compat=1.7"], None),  # nothing after -h is looked at
    (["-d0", "--compat=1.7"], "1.7"),  # found wherever it stands
])
def test_compat_argument_scans_the_global_options_only(args, value):
    assert compat_argument(args) == value


def test_parse_arguments_selects_the_level_for_the_whole_process(monkeypatch):
    parse_arguments(["--compat=1.7", "-", "-"])
    assert compat.current() is compat.SOCAT_1_7
    monkeypatch.setenv(compat.ENVIRONMENT_VARIABLE, "1.7")
    parse_arguments(["--compat=1.8", "-", "-"])
    assert compat.current() is compat.SOCAT_1_8
    parse_arguments(["-", "-"])
    assert compat.current() is compat.SOCAT_1_7


def test_bare_compat_option_asks_for_a_value():
    with pytest.raises(SocatError, match=r"option --compat requires a value"):
        parse_arguments(["--compat", "-", "-"])


# ---------------------------------------------------------------- the command line under each level

@pytest.mark.parametrize("args,level_17,level_18", [
    ([], "E", "W"),
    (["-d"], "W", "W"),
    (["-d", "-d"], "N", "N"),
    (["-dd"], "N", "N"),
    (["-d", "-d", "-d", "-d"], "D", "D"),
])
def test_log_level_without_and_with_d(args, level_17, level_18):
    assert LEVELS[parse_arguments(["--compat=1.7", *args, "-", "-"]).debug_level] == level_17
    assert LEVELS[parse_arguments(["--compat=1.8", *args, "-", "-"]).debug_level] == level_18


@pytest.mark.parametrize("flag", ["-d0", "-d2", "-d4", "-d5", "-dx", "-ddx"])
def test_d_digits_are_unknown_to_1_7(flag):
    with pytest.raises(UsageExit) as info:
        parse_arguments(["--compat=1.7", flag, "-", "-"])
    assert info.value.code == 1


def test_d_digits_set_the_level_in_1_8():
    assert LEVELS[parse_arguments(["-d0", "-", "-"]).debug_level] == "E"
    assert LEVELS[parse_arguments(["-d4", "-", "-"]).debug_level] == "D"


@pytest.mark.parametrize("value,level_17,level_18", [
    ("0", None, 0.0), ("0.0", None, 0.0), ("0.5", 0.5, 0.5), ("-1", -1.0, None), ("-0.5", -0.5, None),
])
def test_inactivity_timeout(value, level_17, level_18):
    assert parse_arguments(["--compat=1.7", "-T", value, "-", "-"]).inactivity_timeout == level_17
    assert parse_arguments(["--compat=1.8", "-T", value, "-", "-"]).inactivity_timeout == level_18


@pytest.mark.parametrize("args", [["-0"], ["-S", "0x89de"], ["-S0x89de"], ["--statistics"], ["--experimental"]])
def test_global_options_new_in_1_8_are_unknown_to_1_7(args, monkeypatch):
    with pytest.raises(SocatError) as info:
        parse_arguments(["--compat=1.7", *args, "-", "-"])
    assert info.value.text == f'unknown option "{args[0]}"; use option "-h" for help'
    monkeypatch.setenv("SOCAT_PREFERRED_RESOLVE_IP", "4")  # -0 sets it; restored afterwards
    parse_arguments([*args, "-", "-"])  # and known to 1.8


def test_pysocats_own_options_stay_under_1_7():
    assert parse_arguments(["--compat=1.7", "--explain", "-", "-"]).explain


# ---------------------------------------------------------------- addresses and options under each level

def _resolve(text: str):
    return resolve(parse_address(text))


@pytest.mark.parametrize("text,keyword", [("SOCKETPAIR", "SOCKETPAIR"), ("shell:true", "shell"),
                                          ("ABSTRACT-L:x", "ABSTRACT-L"), ("ACCEPT-FD:3", "ACCEPT-FD")])
def test_address_types_new_in_1_8_are_unknown_to_1_7(level17, text, keyword):
    with pytest.raises(SocatError) as info:
        _resolve(text)
    assert info.value.text == f'unknown device/address "{keyword}"'
    compat.select(compat.SOCAT_1_8)
    _resolve(text)


def test_every_1_7_unknown_address_pysocat_has_is_one_1_7_lacks():
    """Only names socat 1.7.4.4 really lacks (verified: E unknown device/address)."""
    load_families()
    ours = {name for record in ALL_ADDRESSES for name in record.names}
    assert ours & compat.SOCAT_1_7.unknown_addresses <= {"SOCKETPAIR", "SHELL", "ACCEPT", "ACCEPT-FD", "ABSTRACT-L",
                                                         "ABSTRACT-SEND", "SOCKS5", "SOCKS5-CONNECT",
                                                         "SOCKS5-LISTEN", "SOCKS5-BIND"}


@pytest.mark.parametrize("text,option", [("EXEC:pwd,chdir=/", "chdir"), ("EXEC:pwd,cd=/", "cd"),
                                         ("PIPE,f-setpipe-sz=8192", "f-setpipe-sz"),
                                         ("STDOUT,so-rcvtimeo=1", "so-rcvtimeo")])
def test_options_new_in_1_8_are_unknown_to_1_7(level17, text, option):
    with pytest.raises(SocatError) as info:
        _resolve(text)
    assert info.value.text == f'parseopts_table(): unknown option "{option}"'


def test_umask_is_a_named_option_only_in_1_7(level17):
    with pytest.raises(SocatError, match='option "umask" not supported with this address type'):
        _resolve("SYSTEM:umask,umask=027")
    assert _resolve("OPEN:out,creat,umask=077").options.get(lookup_option("umask")) == 0o077
    compat.select(compat.SOCAT_1_8)
    _resolve("SYSTEM:umask,umask=027")


def test_count_error_has_the_usage_tail_in_1_8_only():
    with pytest.raises(SocatError) as info:
        _resolve("TCP:127.0.0.1")
    assert info.value.text.endswith(": usage: TCP:<host>:<port>")
    compat.select(compat.SOCAT_1_7)
    with pytest.raises(SocatError) as info:
        _resolve("TCP:127.0.0.1")
    assert info.value.text == "TCP: wrong number of parameters (1 instead of 2)"


# ---------------------------------------------------------------- children: what a failure does

@pytest.fixture
def fake_child():
    pid = 2_000_000_000  # no such process: _report() is given its status directly
    saved = children.on_failure, children.failed_children
    children.register(pid, "fake")
    yield pid
    children._children.pop(pid, None)
    children.on_failure, children.failed_children = saved


def test_failed_child_warns_and_counts_in_1_8(fake_child):
    children.on_failure = "warn"
    before = children.failed_children
    children._report(fake_child, 3 << 8)
    assert children.failed_children == before + 1


def test_failed_child_ends_the_run_in_1_7(fake_child):
    children.on_failure = "exit"
    with pytest.raises(children.ChildFailed, match="child 2000000000 exited with status 3"):
        children._report(fake_child, 3 << 8)


def test_failed_child_after_the_transfer_is_silent_in_1_7(fake_child):
    children.on_failure = "ignore"
    before = children.failed_children
    children._report(fake_child, 3 << 8)
    assert children.failed_children == before


def test_a_write_only_child_given_eof_is_collected_quietly_in_1_7(fake_child, monkeypatch):
    seen = []
    monkeypatch.setattr(children, "wait_exit", lambda pid, timeout: seen.append(children._children[pid].quiet))
    children.on_failure = "warn"
    children.wait_exit_after_eof(fake_child, 0)
    children.on_failure = "exit"
    children.wait_exit_after_eof(fake_child, 0)
    assert seen == [False, True]


# ---------------------------------------------------------------- help layout

def test_1_7_help_layout_shapes(level17):
    from pysocat.help import usage

    text = usage("socat", 3)
    lines = text.splitlines()
    assert lines[3] == "   options:"
    assert "      -d[ddd]         increase verbosity (use up to 4 times; 2 are recommended)" in lines
    assert "      -ls            log to stderr (default if no other log)" in lines
    assert "      pipe[,<opts>]\tgroups=FD,FIFO" in lines
    assert "      echo is an alias for pipe" in lines
    assert "         tcp-l is an alias name for tcp-listen" in lines
    assert "      udp6-recv:<port>\tgroups=FD,SOCKET,RANGE,IP6,UDP" in lines
    assert "      reuseaddr is an alias for so-reuseaddr" in lines
    assert not any(" -d0" in line or "--statistics" in line or "socketpair" in line for line in lines)
    assert any(line.startswith("      --compat=<level> ") for line in lines)
    brief = usage("socat", 1, brief=True).splitlines()
    assert brief[-1] == "      -6     prefer IPv6 if version is not explicitly specified"
    assert not any("--" in line and "explain" not in line and "compat" not in line for line in brief)


def test_1_7_hh_lists_options_under_their_nicknames(level17):
    from pysocat.help import usage

    lines = usage("socat", 2).splitlines()
    assert "      listen-timeout\tgroups=LISTEN\tphase=LISTEN\ttype=STRUCT-TIMEVAL" in lines
    assert "      reuseaddr\tgroups=SOCKET\tphase=PREBIND\ttype=INT" in lines
    assert not any(line.startswith("      accept-timeout\t") for line in lines)


def test_1_8_help_layout_is_unchanged_by_the_1_7_one():
    from pysocat.help import usage

    lines = usage("socat", 3).splitlines()
    assert lines[3] == "   options (general command line options):"
    assert any(line.startswith("      UDP6-RECV:<port>\t") for line in lines)
    assert "      -ls            log to stderr (default if no other log)" in lines


def test_version_line_two_follows_the_level():
    from pysocat.help import version_text
    from pysocat.registry import features

    assert version_text(features()).splitlines()[1].startswith("socat version 1.8.0.1 on ")
    compat.select(compat.SOCAT_1_7)
    text = version_text(features())
    assert text.splitlines()[1].startswith("socat version 1.7.4.4 on ")
    assert "WITH_DEFAULT_IPV" not in text and "WITH_HELP" not in text
    assert text.splitlines()[4] == "  #define WITH_STDIO 1"


# ---------------------------------------------------------------- the differential runner's support

def test_runner_runs_pysocat_at_a_scenarios_level(monkeypatch):
    from compat import runner

    assert runner.pysocat_compat({}) == ([], {})
    assert runner.pysocat_compat({"compat": "1.7"}) == ([], {"PYSOCAT_COMPAT": "1.7"})
    assert runner.pysocat_compat({"compat": "1.7", "compat_via": "option"}) == (["--compat=1.7"], {})
    monkeypatch.setattr(runner, "socat_available", lambda: True)
    monkeypatch.setattr(runner, "socat_version", lambda: "1.8.0.1")
    assert runner.skip_reason({"id": "x", "argv": [], "compat": "1.7"}) == \
        "compares pysocat --compat=1.7 with socat 1.7 (have 1.8.0.1)"
    monkeypatch.setattr(runner, "socat_version", lambda: "1.7.4.4")
    assert runner.skip_reason({"id": "x", "argv": [], "compat": "1.7"}) == ""


def test_runner_filters_stdout_lines_as_text():
    from compat import runner

    run = runner.Run(0, b"a udp6-x\nTCP6-y\n", [], {}, 0.0)
    scenario = {"id": "x", "argv": [], "compare": ("stdout",), "stdout_filter": " udp6-"}
    assert runner.compare(scenario, run, runner.Run(0, b"a udp6-x\nother\n", [], {}, 0.0))[0] == ""
    assert runner.compare(scenario, run, runner.Run(0, b"A UDP6-x\n", [], {}, 0.0))[0] != ""
