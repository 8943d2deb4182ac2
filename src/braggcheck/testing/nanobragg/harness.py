"""Glue between the checks and Hypothesis: events, targets, rejection, failure files.

``run_property`` is what every property test calls with its drawn case. It records coverage
(``event``), steers generation toward large errors (``target``), rejects inconclusive examples
(they are counted, never passed), and on failure writes the case to ``reports/failures/`` and
raises with the one command that replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import example

from braggcheck.testing.framework.harness import judge
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.framework.store import FAILURES_DIR
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks import CHECKS
from braggcheck.testing.nanobragg.coverage import coverage_labels
from braggcheck.testing.nanobragg.store import replay_command, stored_examples, write_failure


def run_check(check: str, case: Case) -> CheckResult:
    """One check on one case, with the case's simulation settings (pixel chunking)."""
    with case.simulation():
        return CHECKS[check](case)


def run_property(check: str, case: Case, name: str | None = None,
                 failures_dir: Any = FAILURES_DIR) -> CheckResult:
    result = run_check(check, case)

    def write(failed: CheckResult) -> str:
        return replay_command(write_failure(name or check, check, case, failed.message,
                                            failures_dir))

    return judge(check, result, coverage_labels(case), write)


def with_stored_examples(check: str) -> Callable[[Callable], Callable]:
    """Decorate a ``@given(case=...)`` test so every stored example is replayed first."""

    def decorate(test: Callable) -> Callable:
        for _, case in reversed(stored_examples(check)):
            test = example(case=case)(test)
        return test

    return decorate
