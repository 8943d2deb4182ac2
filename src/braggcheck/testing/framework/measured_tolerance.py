"""Tier-2 tolerances measured from the finite differences of each case, not chosen.

torch's defaults (atol 1e-5, rtol 1e-3) would pass a gradient 6e-4 off where the right one
agrees with the differences to 1e-9. Here each comparison's tolerance is what its central
difference may be off (:class:`braggcheck.testing.framework.differences.Differences`: the spread
between steps h and 2h plus 10x the measured rounding noise), and gradcheck runs with that
atol and rtol 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from braggcheck.testing.framework.derivatives import (
    first_derivative_errors,
    second_derivative_errors,
)
from braggcheck.testing.framework.differences import Differences
from braggcheck.testing.framework.tolerances import MAX_MEASURED_RTOL

if TYPE_CHECKING:
    from braggcheck.testing.framework.table import TableCase as GradcheckCase



@dataclass(frozen=True)
class MeasuredTolerance:
    """What the finite differences of one case resolve, and the tolerances that follow."""

    first: tuple[Differences, ...]
    """Per parameter: differences of the loss (gradcheck, forward mode)."""
    second: tuple[Differences, ...] | None
    """Per parameter: differences of the gradient (gradgradcheck); None without one."""

    @property
    def atol(self) -> float:
        """gradcheck compares each entry as |analytic - D(h)| <= atol: the largest entry's
        measured error of D(h) (one parameter per case today)."""
        return max(e.tolerance for e in self.first)

    @property
    def second_atol(self) -> float:
        return max(e.tolerance for e in self.second or ())


@cache
def measured_tolerance(case_: GradcheckCase) -> MeasuredTolerance:
    probe = case_.probe()
    second = tuple(second_derivative_errors(probe, case_.eps)) if case_.gradgrad else None
    return MeasuredTolerance(tuple(first_derivative_errors(probe, case_.eps)), second)


def measured_tolerances(case_: GradcheckCase, order: int = 1) -> dict[str, float]:
    """Keyword arguments for run_gradcheck (order 1) or run_gradgradcheck (order 2): the
    case's eps, the measured atol and rtol 0 (the atol already scales with the derivative's
    own error, relative or not)."""
    measured = measured_tolerance(case_)
    atol = measured.atol if order == 1 else measured.second_atol
    return {"eps": case_.eps, "atol": atol, "rtol": 0.0}


def unresolved(case_: GradcheckCase, what: str, errors: tuple[Differences, ...]
                ) -> str | None:
    for e in errors:
        if not e.tolerance <= MAX_MEASURED_RTOL * abs(e.single):
            return (f"{case_.id}: the measured tolerance of {what} ({e.tolerance:.1e}: spread "
                    f"{e.spread:.1e}, rounding {e.rounding:.1e}) exceeds {MAX_MEASURED_RTOL:g} "
                    f"x |{what}| = {MAX_MEASURED_RTOL * abs(e.single):.1e}: a 6e-4 error "
                    "could pass")
    return None
