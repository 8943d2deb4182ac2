"""The property suite, stored examples and replay for any target.

``property_tests(target)`` returns one Hypothesis test per check, ready for a test module
(``globals().update(property_tests(MY_TARGET))``), and the resolution test of
:mod:`~braggcheck.testing.framework.resolution` (every parameter moves the output somewhere).
Each check's test runs the target's declared defaults first, then the stored examples of a
folder, then draws cases of the target; it records coverage (``event``), steers generation
toward large errors (``target``), rejects inconclusive examples (counted, never passed), and on
failure writes the shrunk case to ``reports/failures/<name>.json`` and raises with the command
that replays it, :func:`replay`.

A check the target cannot run (its :func:`~braggcheck.testing.framework.target.not_applicable`
reason) still gets a test: marked ``braggcheck_not_applicable``, deselected by braggcheck's
pytest plugin and listed with its reason in the run's summary (skipped with the reason where
the plugin is not loaded); never a pass, never a failure.

Cost (:mod:`~braggcheck.testing.framework.cost`): each test times one render at its first
example and counts the renders of every example (printed once, ``event``-ed per example);
shrinking a failure stops after a time budget ($BRAGGCHECK_SHRINK_SECONDS, or
``property_tests(shrink_seconds=...)``), printing its progress, and the best case found so far
is the one reported and stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, note, reject, seed, settings
from hypothesis import strategies as st
from hypothesis import target as hypothesis_target
from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument, Unsatisfiable, UnsatisfiedAssumption

from braggcheck.testing.framework.case import TargetCase, case_from_json, case_to_json
from braggcheck.testing.framework.checks import check_forward_reverse, check_gradient, check_taylor
from braggcheck.testing.framework.cost import (
    CountingTarget,
    RunCost,
    ShrinkClock,
    case_key,
    render_seconds,
    shrink_budget,
    shrink_step,
)
from braggcheck.testing.framework.invariants import (
    check_finite,
    check_linearity,
    check_periodicity,
    check_repeatable,
)
from braggcheck.testing.framework.loader import target_spec
from braggcheck.testing.framework.resolution import RESOLUTION, resolution_test
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.framework.store import (
    FAILURES_DIR,
    example_files,
    read_document,
    write_document,
)
from braggcheck.testing.framework.strategies import target_cases
from braggcheck.testing.framework.target import (
    Target,
    applicable,
    defaults,
    not_applicable,
    periodic,
)
from braggcheck.util.errors import ConfigError

TargetCheck = Callable[[Target, TargetCase], CheckResult]

TARGET_CHECKS: dict[str, TargetCheck] = {
    "gradient": check_gradient,
    "forward_reverse": check_forward_reverse,
    "taylor": check_taylor,
    "finite": check_finite,
    "repeatable": check_repeatable,
    "periodicity": check_periodicity,
    "linearity": check_linearity,
}
"""Every target-generic check by name (the name stored in failure files)."""

TARGETED = ("gradient", "forward_reverse")
"""Checks whose worst relative error Hypothesis maximises (``hypothesis.target``)."""



NOT_APPLICABLE_MARK = "braggcheck_not_applicable"
"""The pytest mark of a property test the target cannot run (deselected, listed with its
reason by braggcheck's pytest plugin)."""



class PropertyFailure(AssertionError):
    """A property check failed; the message holds the table and the replay command."""


def judge(check: str, result: CheckResult, labels: Iterable[str],
          write: Callable[[CheckResult], str]) -> CheckResult:
    """Hypothesis's side of a check: events, target, rejection; on failure ``write`` stores the
    case and returns how to replay it, and PropertyFailure is raised."""
    for label in [*labels, *result.events]:
        event(label)
    # A NaN or Inf error is a failure (below), never a target: Hypothesis refuses non-finite
    # targets with InvalidArgument, which would end the run with a traceback and no file.
    if (check in TARGETED and result.rows and not result.inconclusive
            and math.isfinite(result.worst)):
        hypothesis_target(result.worst, label=f"{check}: worst relative error")
    note(result.report())
    if result.inconclusive:
        event(f"{check}: inconclusive ({result.message})")
        if _explicit():  # Hypothesis passes a rejected explicit example silently: say it
            print(f"{check}: an explicit example (a default or stored case) is INCONCLUSIVE "
                  f"and proves nothing: {result.message}")
        reject()
    if not result.passed:
        raise PropertyFailure(f"{result.report()}\n\nreplay with: {write(result)}")
    return result


def _explicit() -> bool:
    """Whether the example running now is an explicit one (or the final replay of a failure,
    which is never inconclusive)."""
    try:
        return current_build_context().is_final
    except InvalidArgument:  # not inside a Hypothesis test
        return False


def target_document(target: Target, check: str | None, case: TargetCase, description: str
             ) -> dict[str, Any]:
    return {"description": description, "target": target.name, "check": check,
            "case": case_to_json(target, case)}


def read_target_case(target: Target, path: str | Path,
                     registry: Mapping[str, TargetCheck] = TARGET_CHECKS,
                     ) -> tuple[str | None, TargetCase, str]:
    """(check name or None, case, description) of a stored file of ``target`` (the check must
    be one of ``registry``: a target's suite may pass its own, the generic checks and more)."""
    data = read_document(path)
    stored = data.get("target", target.name)
    if stored != target.name:
        raise ConfigError(f"replay: {str(path)!r} is a case of target {stored!r}, not "
                          f"{target.name!r}")
    check = data.get("check")
    if check is not None and check not in registry:
        raise ConfigError(f"replay: unknown check {check!r} in {path}; valid: "
                          f"{', '.join(registry)}")
    case = case_from_json(target, data["case"], Path(path).parent)
    return check, case, str(data.get("description", ""))


def stored_files(target: Target, directory: str | Path | None, check: str | None,
                 registry: Mapping[str, TargetCheck] = TARGET_CHECKS,
                 ) -> list[tuple[Path, TargetCase]]:
    """(path, case) of each ``directory/*.json`` that applies to ``check`` (all for a file
    naming none, or for ``check`` None); a ConfigError when a folder is named but holds no
    example (a mistyped folder would silently replay nothing)."""
    if directory is None:
        return []
    found = []
    for path in example_files(directory):  # a missing or empty folder is an error
        stored, case, _ = read_target_case(target, path, registry)
        if stored is None or check is None or stored == check:
            found.append((path, case))
    return found


def replay_command(target: Target, path: str | Path) -> str:
    """The command that replays the stored file ``path`` of ``target`` from any directory:
    absolute paths (``braggcheck replay /abs/file.json --target /abs/module.py:NAME``), or the
    Python call for a target bound to no module-level name."""
    absolute = Path(path).resolve()
    spec = target_spec(target)
    if spec is not None:
        return f"braggcheck replay {absolute} --target {spec}"
    return (f"braggcheck.testing.replay(TARGET, {str(absolute)!r})  (TARGET: the "
            f"{target.name} target)")


def run_check(target: Target, check: str, case: TargetCase,
              registry: Mapping[str, TargetCheck] = TARGET_CHECKS) -> CheckResult:
    """``check`` of ``registry`` on ``case``, or its NOT APPLICABLE result when the target
    cannot run it."""
    reason = not_applicable(target, check)
    if reason is not None:
        return CheckResult(check, False, reason, not_applicable=reason)
    return registry[check](target, case)


def stored_cases(target: Target, directory: str | Path | None, check: str,
                 registry: Mapping[str, TargetCheck] = TARGET_CHECKS) -> list[TargetCase]:
    """The cases of ``directory/*.json`` that apply to ``check`` (all, for a file naming none)."""
    return [case for _, case in stored_files(target, directory, check, registry)]


def write_failure(target: Target, name: str, check: str, case: TargetCase, description: str,
                  failures_dir: str | Path = FAILURES_DIR) -> Path:
    """Store a failing case as ``failures_dir/name.json`` (atomically); return its path."""
    return write_document(name, target_document(target, check, case, description),
                          failures_dir)


def run_target_property(target: Target, check: str, case: TargetCase, name: str | None = None,
                        failures_dir: str | Path = FAILURES_DIR,
                        registry: Mapping[str, TargetCheck] = TARGET_CHECKS,
                        labels: Iterable[str] | None = None,
                        command: Callable[[Path], str] | None = None) -> CheckResult:
    """One check of ``registry`` on one drawn case, inside Hypothesis (see :func:`judge`).

    The one property runner of every target: a target's suite passes its own registry (the
    generic checks plus its physics checks), its coverage ``labels`` and, when it has one, a
    shorter replay ``command``; braggcheck's own suite is such a client."""
    result = run_check(target, check, case, registry)
    inner = target.target if isinstance(target, CountingTarget) else target

    def write(failed: CheckResult) -> str:
        path = write_failure(inner, name or f"{inner.name}_{check}", check, case,
                             failed.message, failures_dir)
        return command(path) if command is not None else replay_command(inner, path)

    chosen = [f"{check}: {n}" for n in case.names] if labels is None else labels
    return judge(check, result, chosen, write)


def replay(target: Target, path: str | Path, check: str | None = None,
           registry: Mapping[str, TargetCheck] = TARGET_CHECKS) -> list[CheckResult]:
    """Rerun a stored case of ``target``: the check it names (or ``check``, or every one; a
    check the target cannot run comes back NOT APPLICABLE)."""
    stored, case, _ = read_target_case(target, path, registry)
    chosen = check or stored
    if chosen is not None and chosen not in registry:
        raise ConfigError(f"replay: unknown check {chosen!r}; valid: {', '.join(registry)}")
    names = [chosen] if chosen else list(registry)
    return [run_check(target, name, case, registry) for name in names]


def default_cases(target: Target) -> dict[str, TargetCase]:
    """One case per declared default configuration (``target.defaults()``): every parameter
    its output depends on, normal weights, the all-ones direction, the first periodic
    parameter. Property tests run these first."""
    angles = periodic(target)
    return {setup: TargetCase(config, applicable(target, config) or tuple(target.parameters),
                              angle=angles[0] if angles else None)
            for setup, config in defaults(target).items()}


def property_tests(target: Target, checks: Iterable[str] | None = None,
                   examples_dir: str | Path | None = None,
                   failures_dir: str | Path = FAILURES_DIR,
                   max_names: int = 3,
                   shrink_seconds: float | None = None) -> dict[str, Callable[..., None]]:
    """``{"test_<target>_<check>": test}`` for every check (default: all of them; one the
    target cannot run is a NOT APPLICABLE test, see the module doc), and by default
    ``test_<target>_resolves_every_parameter`` (:data:`RESOLUTION`; one pytest case per
    parameter, :mod:`~braggcheck.testing.framework.resolution`): a parameter whose override
    the output ignores is inconclusive in every check, never a failure, so that test demands
    each one resolved in some case where it applies. ``shrink_seconds``: the shrinking budget
    per failure (default $BRAGGCHECK_SHRINK_SECONDS, else 60 s)."""
    budget = shrink_budget(shrink_seconds)
    tests = {}
    valid = [*TARGET_CHECKS, RESOLUTION]
    for check in (list(checks) if checks is not None else valid):
        if check not in valid:
            raise ConfigError(f"property_tests: unknown check {check!r}; valid: "
                              f"{', '.join(valid)}")
        name = f"test_{target.name}_{check}"
        if check == RESOLUTION:
            tests[name] = resolution_test(target, name)
            continue
        reason = not_applicable(target, check)
        tests[name] = (_not_applicable_test(name, reason) if reason is not None else
                       _property_test(target, check, name, examples_dir, failures_dir,
                                      max_names, budget))
    return tests


def _not_applicable_test(name: str, reason: str) -> Callable[..., None]:
    message = f"NOT APPLICABLE: {reason}"

    def test() -> None:
        # Reached only where braggcheck's pytest plugin (which deselects it) is not loaded.
        import pytest

        pytest.skip(message)

    test.__name__ = test.__qualname__ = name
    test.__doc__ = message
    test.not_applicable = reason  # type: ignore[attr-defined]
    try:
        import pytest
    except ImportError:  # outside pytest: the attribute says it
        return test
    test.pytestmark = [getattr(pytest.mark, NOT_APPLICABLE_MARK)(reason)]  # type: ignore
    return test


def _property_test(target: Target, check: str, name: str, examples_dir: str | Path | None,
                   failures_dir: str | Path, max_names: int, budget: float
                   ) -> Callable[..., None]:
    cost = RunCost()
    clock = ShrinkClock(budget)
    counted = CountingTarget(target)

    def test(case: TargetCase) -> None:
        final = current_build_context().is_final  # an explicit example or the final replay
        key = case_key(target, case)
        if clock.spent and not final and key not in clock.seen:
            # Budget spent: the shrinker's remaining new tries cost nothing. A case already
            # run is run again (Hypothesis calls a replay that changes its outcome flaky).
            reject()
        clock.seen.add(key)
        if cost.render_seconds is None:
            cost.render_seconds = render_seconds(target, case.config)
        counted.renders = 0
        try:
            run_target_property(counted, check, case, name, failures_dir)
        except UnsatisfiedAssumption:  # inconclusive: rejected, no step of a shrink
            raise
        except Exception:  # a failed check, or the target raising: both are shrunk
            if not final:
                shrink_step(clock, name, case, failed=True)
            raise
        else:
            if not final and clock.started is not None:
                shrink_step(clock, name, case, failed=False)
        finally:
            cost.renders.append(counted.renders)
            event(f"{check}: renders per example: {counted.renders}")
            if len(cost.renders) == 1:
                print(cost.summary(name))
            if final:
                clock.reset()

    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"The {check} check of target {target.name} on drawn cases."
    decorated: Callable[..., None] = given(case=target_cases(target, max_names))(test)
    # Hypothesis runs explicit examples outermost first: stored examples, then the defaults
    # applied last, so that they run first.
    for case in reversed(stored_cases(target, examples_dir, check)):
        decorated = example(case=case)(decorated)
    for case in reversed(list(default_cases(target).values())):
        decorated = example(case=case)(decorated)
    decorated.cost = cost  # type: ignore[attr-defined]
    decorated.shrink_clock = clock  # type: ignore[attr-defined]
    return decorated


def run_outside_pytest(test: Callable[[Any], None], strategy: st.SearchStrategy[Any],
                       examples: int, seed_value: int,
                       explicit: Iterable[Any] = (),
                       overrides: Mapping[str, Any] | None = None) -> str | None:
    """Run ``test(case)`` over the ``explicit`` cases, then ``examples`` cases drawn from
    ``strategy`` with ``seed_value``, as a command does outside pytest (``braggcheck check``,
    ``diff``): no example database, no deadline. Returns the shrunk failure's message (a
    :class:`PropertyFailure`), or None when every case passed or was inconclusive; every other
    error propagates. The one runner behind the commands, so they share the property tests'
    judge, store and shrinking."""
    prop: Callable[..., None] = given(case=strategy)(lambda case: test(case))
    for case in reversed(list(explicit)):
        prop = example(case=case)(prop)
    values: dict[str, Any] = {
        "max_examples": examples, "database": None, "deadline": None, "derandomize": False,
        "print_blob": False,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}
    values.update(overrides or {})
    prop = seed(seed_value)(settings(**values)(prop))
    try:
        prop()
    except PropertyFailure as failure:
        return str(failure)
    except Unsatisfiable:  # every drawn case was inconclusive: nothing resolved, no failure
        return None
    return None
