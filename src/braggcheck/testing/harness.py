"""Glue between the checks and Hypothesis: events, targets, rejection, failure files.

``run_property`` is what every property test calls with its drawn case. It records coverage
(``event``), steers generation toward large errors (``target``), rejects inconclusive examples
(they are counted, never passed), and on failure writes the case to ``reports/failures/`` and
raises with the one command that replays it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import event, example, note, reject, target

from braggcheck.testing.cases import Case
from braggcheck.testing.checks import CHECKS, CheckResult
from braggcheck.testing.example_store import (
    FAILURES_DIR,
    replay_command,
    stored_examples,
    write_failure,
)
from braggcheck.testing.strategies import coverage_labels


class PropertyFailure(AssertionError):
    """A property check failed; the message holds the table and the replay command."""


def run_check(check: str, case: Case) -> CheckResult:
    """One check on one case, with the case's simulation settings (pixel chunking)."""
    with case.simulation():
        return CHECKS[check](case)


def run_property(check: str, case: Case, name: str | None = None,
                 failures_dir: Any = FAILURES_DIR) -> CheckResult:
    result = run_check(check, case)
    for label in coverage_labels(case) + result.events:
        event(label)
    # A NaN or Inf error is a failure (below), never a target: Hypothesis refuses non-finite
    # targets with InvalidArgument, which would end the run with a traceback and no file.
    if (check in ("gradient", "forward_reverse") and result.rows and not result.inconclusive
            and math.isfinite(result.worst)):
        target(result.worst, label=f"{check}: worst relative error")
    note(result.report())
    if result.inconclusive:
        event(f"{check}: inconclusive ({result.message})")
        reject()
    if not result.passed:
        path = write_failure(name or check, check, case, result.message, failures_dir)
        raise PropertyFailure(f"{result.report()}\n\nreplay with: {replay_command(path)}")
    return result


def with_stored_examples(check: str) -> Callable[[Callable], Callable]:
    """Decorate a ``@given(case=...)`` test so every stored example is replayed first."""

    def decorate(test: Callable) -> Callable:
        for _, case in reversed(stored_examples(check)):
            test = example(case=case)(test)
        return test

    return decorate
