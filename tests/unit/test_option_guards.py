"""The appliers that a forked connection child runs skip their work when an address has
none of their options (common.FD_APPLIED, endpoint.POLICY_OPTIONS, sockets.*_APPLIED).
Each guard must name every option its applier looks at, or that option would silently
stop working: these tests read the option names out of the appliers' code."""
from __future__ import annotations

import dis
import os
import types

import pytest

from pysocat import option_table as O
from pysocat.addresses import common, sockets
from pysocat.endpoint import POLICY_OPTIONS, policy_from_options
from pysocat.options import Option, OptionValues
from pysocat.transfer.convert import CRNL


def options_named_by(*functions: types.FunctionType) -> set[Option]:
    """Every option record (or table of records) the functions' code reads as O.<NAME>."""
    found: set[Option] = set()

    def visit(code: types.CodeType) -> None:
        previous = None
        for instruction in dis.get_instructions(code):
            if instruction.opname == "LOAD_ATTR" and previous is not None and previous.opname == "LOAD_GLOBAL" \
                    and previous.argval == "O":
                value = getattr(O, instruction.argval)
                if isinstance(value, Option):
                    found.add(value)
                elif isinstance(value, dict) and value and all(isinstance(key, Option) for key in value):
                    found.update(value)
            previous = instruction
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const)

    for function in functions:
        visit(function.__code__)
    return found


def test_the_fd_guard_names_every_option_apply_fd_options_reads():
    named = options_named_by(common.apply_fd_options, common._apply_locks)
    assert named and named <= common.FD_APPLIED | common.TERMIOS_OPTIONS
    # apply_termios acts on TERMIOS options only, which the guard lets through
    assert options_named_by(common.apply_termios) - {O.CFMAKERAW, O.RAWER} <= common.TERMIOS_OPTIONS


def test_the_policy_guard_names_every_option_policy_from_options_reads():
    named = options_named_by(policy_from_options)
    assert named and named <= POLICY_OPTIONS


def test_the_socket_guards_name_every_option_their_appliers_read():
    named = options_named_by(sockets.apply_socket_options)
    assert named and named <= sockets.PREBIND_APPLIED | sockets.SOCKET_APPLIED
    assert set(O.PREBIND_SOCKOPTS) <= sockets.PREBIND_APPLIED and set(O.SOCKOPTS) <= sockets.SOCKET_APPLIED
    named = options_named_by(sockets.apply_connected_options)
    assert named and named <= sockets.CONNECTED_APPLIED


def _values(*pairs: tuple[Option, object]) -> OptionValues:
    values = OptionValues()
    for opt, value in pairs:
        values.add(opt, value)
    return values


def test_an_fd_option_is_still_applied_past_the_guard():
    read_end, write_end = os.pipe()
    try:
        assert os.get_blocking(write_end)
        common.apply_fd_options(write_end, _values((O.FORK, True)))  # none of its options: nothing done
        assert os.get_blocking(write_end)
        common.apply_fd_options(write_end, _values((O.FORK, True), (O.NONBLOCK, True)))
        assert not os.get_blocking(write_end)
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize("pairs, field, expected", [
    ((), "read_lineterm", "raw"),
    (((O.CRNL, True),), "read_lineterm", CRNL),
    (((O.IGNOREEOF, True),), "ignoreeof", True),
    (((O.FORK, True), (O.SHUT_NONE, True)), "shut", "none"),
])
def test_policies_with_and_without_their_options(pairs, field, expected):
    policy = policy_from_options(_values(*pairs))
    assert getattr(policy, field) == expected
    assert policy_from_options(_values()) is not policy_from_options(_values())  # never shared: stdio edits its own
