"""The differential suite: every scenario of compat/scenarios.py under real socat and pysocat.

All scenarios run once, in parallel (a thread pool: each scenario spawns two processes), the
first time any test here needs a result; each parametrized test then checks its own result.
A scenario that differs fails, unless it is marked `known_bug` (then it is an expected
failure, with the reason). Intended differences are handled by the runner (compat/
intended_differences.py). Without /usr/bin/socat everything is skipped.
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compat import runner  # noqa: E402
from compat.scenarios import SCENARIOS  # noqa: E402

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(not runner.socat_available(), reason=f"real socat is not installed at {runner.SOCAT}"),
]

_lock = threading.Lock()
_results: dict[str, runner.Result] = {}


def _result(scenario_id: str) -> runner.Result:
    with _lock:
        if not _results:
            jobs = int(os.environ.get("COMPAT_JOBS", "0")) or None
            for result in runner.run_all(SCENARIOS, jobs):
                _results[result.id] = result
    return _results[scenario_id]


def test_scenario_table_is_consistent() -> None:
    assert runner.check_table() == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_same_as_socat(scenario: dict) -> None:
    result = _result(scenario["id"])
    if result.status == "skipped":
        pytest.skip(result.reason)
    if result.status == "differs":
        if result.known_bug:
            pytest.xfail(f"known bug: {result.known_bug}")
        pytest.fail(f"pysocat differs from socat {runner.socat_version()} for argv {scenario['argv']!r}:\n"
                    f"{result.diff}", pytrace=False)
