"""Every parameter of a target moves its output: the resolution test, derived from the registry.

The derivative checks judge only what they resolve. A target wrapper that ignores a parameter's
override entirely (neither the value nor the graph depends on it) has analytic and numerical
derivatives both 0, below the finite-difference noise: every check is INCONCLUSIVE, rejected,
and none fails. So, for each parameter of the target, a small derandomized sample of cases
where it applies (its ``needs`` hold and it can be stepped) and focused on it must hold one whose
gradient check resolves it (its row "ok"); when none does, the test fails with one line naming
the parameter, the number of cases and what each gave. Where a parameter's ``needs`` do not
hold, its derivative is legitimately zero and it is never demanded.

The sample is drawn lazily and the loop stops at the first resolving case (mostly the first),
and a case differentiates the focused parameter alone: one gradient check per parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from hypothesis import strategies as st

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.checks import check_gradient
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.framework.strategies import lazy_sample, target_cases
from braggcheck.testing.framework.target import Target

RESOLUTION = "resolves_every_parameter"
"""The name of the resolution test among a target's property tests
(``test_<target>_resolves_every_parameter``, one pytest case per parameter)."""

RESOLUTION_SAMPLE = 8
"""Focused cases per parameter, of which at least one must resolve its derivative. Not 1: a
derivative may be legitimately small in one case (nanoBragg's polarization, proportional to
sin^2(2 theta), near the direct beam; an ellipse's position angle when it is nearly round), and
the derandomized sample changes with any edit of the strategies, so one case would make the
verdict depend on which case came first. Small: the loop stops at
the first resolving case, and a wrapper that ignores the parameter costs all of them."""


class UnresolvedParameter(AssertionError):
    """No case where a parameter applies resolved its derivative (the output ignores it?)."""


def focused_cases(target: Target, name: str) -> st.SearchStrategy[TargetCase]:
    """Cases of ``target`` where ``name`` applies and can be stepped, differentiating it alone."""
    return target_cases(target, max_names=1, focus=name)


def _what_it_gave(result: CheckResult, name: str) -> str:
    row = next((r for r in result.rows if r.name == name), None)
    return row.status if row is not None else result.message or "no row"


def _summary(outcomes: list[str]) -> str:
    counts = Counter(outcomes)
    if len(counts) == 1:
        return f"{outcomes[0]} in all"
    return ", ".join(f"{what} in {count}" for what, count in counts.items())


def unresolved(name: str, cases: Iterable[TargetCase],
               run: Callable[[TargetCase], CheckResult], target_name: str = "") -> str | None:
    """None as soon as the gradient check (``run``) of a case resolves ``name`` (its row
    "ok"); otherwise the one-line reason, naming the parameter, the number of cases and what
    each gave. A failed check (a real mismatch) raises :class:`UnresolvedParameter` with its
    report at once: the derivative is wrong, which the gradient property reports too."""
    outcomes = []
    for case in cases:
        result = run(case)
        if result.failed:
            raise UnresolvedParameter(f"{name}: the gradient check failed on a focused case:\n"
                                      f"{result.report()}")
        what = _what_it_gave(result, name)
        if what == "ok":
            return None
        outcomes.append(what)
    owner = f"{target_name}: " if target_name else ""
    if not outcomes:
        return (f"{owner}no case where {name} applies was drawn (its needs never hold, or it "
                f"is never steppable, in the target's configurations): its derivative is "
                f"never checked")
    if set(outcomes) == {"below noise"}:
        return (f"{owner}the output does not respond to {name} in any of {len(outcomes)} "
                f"cases where it applies (below noise in all): is the override used?")
    return (f"{owner}no derivative of {name} resolved in any of {len(outcomes)} cases where "
            f"it applies ({_summary(outcomes)})")


def check_resolves(target: Target, name: str, sample: int = RESOLUTION_SAMPLE) -> None:
    """Raise :class:`UnresolvedParameter` unless one of ``sample`` derandomized
    :func:`focused_cases` of ``name`` resolves its derivative (see :func:`unresolved`)."""
    reason = unresolved(name, lazy_sample(focused_cases(target, name), sample),
                        lambda case: check_gradient(target, case), target.name)
    if reason is not None:
        raise UnresolvedParameter(reason)


def unresolved_parameters(target: Target, sample: int = RESOLUTION_SAMPLE) -> list[str]:
    """The one-line reason of every parameter of ``target`` no case resolves (see
    :func:`check_resolves`); empty when each one moves the output somewhere."""
    failures = []
    for name in target.parameters:
        try:
            check_resolves(target, name, sample)
        except UnresolvedParameter as failure:
            failures.append(str(failure))
    return failures


def resolution_test(target: Target, test_name: str,
                    sample: int = RESOLUTION_SAMPLE) -> Callable[[str], None]:
    """``test(parameter)``: :func:`check_resolves`, parametrized under pytest over the
    target's parameters (one test case each)."""

    def test(parameter: str) -> None:
        check_resolves(target, parameter, sample)

    test.__name__ = test.__qualname__ = test_name
    test.__doc__ = (f"A parameter of target {target.name}: some derandomized case where it "
                    f"applies resolves its derivative (the output responds to its override).")
    test.parameters = tuple(target.parameters)  # type: ignore[attr-defined]
    try:
        import pytest
    except ImportError:  # outside pytest: call test(name) for each of test.parameters
        return test
    test.pytestmark = [  # type: ignore[attr-defined]
        pytest.mark.parametrize("parameter", list(target.parameters))]
    return test
