"""braggcheck's simulator as an ordinary client of the framework's property runner and store.

Everything here binds the framework (:mod:`braggcheck.testing.framework.harness`) to the
nanoBragg target: its registry of checks (the generic ones plus the physics checks, each run with
the case's pixel chunking), its coverage labels and its stored examples. ``run_property`` is
what every nanoBragg property test calls with its drawn case: the framework's runner records
coverage, steers generation, rejects inconclusive examples (counted, never passed) and, on
failure, stores the case in the one document format and raises with the command that replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from hypothesis import example

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.harness import (
    TargetCheck,
    read_target_case,
    run_target_property,
    stored_files,
)
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.framework.store import FAILURES_DIR
from braggcheck.testing.framework.target import Target
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks import CHECKS
from braggcheck.testing.nanobragg.coverage import coverage_labels
from braggcheck.testing.nanobragg.target import NANOBRAGG

EXAMPLES_DIR = Path(__file__).parent / "examples"
"""braggcheck's stored examples, replayed first by every property; copy a failure file from
``reports/failures/`` here to keep it forever."""


def _with_chunking(check: Callable[[Case], CheckResult]) -> TargetCheck:
    def run(target: Target, case: TargetCase) -> CheckResult:
        if not isinstance(case, Case):
            raise TypeError(f"nanoBragg checks take a nanoBragg Case, got {type(case).__name__}")
        with case.simulation():
            return check(case)

    run.__name__ = run.__qualname__ = check.__name__
    return run


NANOBRAGG_CHECKS: dict[str, TargetCheck] = {
    name: _with_chunking(check) for name, check in CHECKS.items()}
"""The nanoBragg target's registry in the framework's form (target, case) -> result."""


def run_check(check: str, case: Case) -> CheckResult:
    """One check on one case, with the case's simulation settings (pixel chunking)."""
    return NANOBRAGG_CHECKS[check](NANOBRAGG, case)


def replay_command(path: Path) -> str:
    return f"braggcheck replay {path}"


def run_property(check: str, case: Case, name: str | None = None,
                 failures_dir: str | Path = FAILURES_DIR) -> CheckResult:
    return run_target_property(NANOBRAGG, check, case, name or check, failures_dir,
                               registry=NANOBRAGG_CHECKS, labels=coverage_labels(case),
                               command=replay_command)


def read_case_file(path: str | Path) -> tuple[str | None, Case, str]:
    """(check name or None, case, description) from a stored example or failure file."""
    check, case, description = read_target_case(NANOBRAGG, path, NANOBRAGG_CHECKS)
    return check, cast(Case, case), description  # the target's case_type


def stored_examples(check: str | None = None) -> list[tuple[str, Case]]:
    """(file stem, case) for each stored example that applies to ``check``."""
    return [(path.stem, cast(Case, case)) for path, case in
            stored_files(NANOBRAGG, EXAMPLES_DIR, check, NANOBRAGG_CHECKS)]


def with_stored_examples(check: str) -> Callable[[Callable], Callable]:
    """Decorate a ``@given(case=...)`` test so every stored example is replayed first."""

    def decorate(test: Callable) -> Callable:
        for _, case in reversed(stored_examples(check)):
            test = example(case=case)(test)
        return test

    return decorate
