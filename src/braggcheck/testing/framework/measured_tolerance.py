"""Tier-2 tolerances measured from the finite differences of each case, not chosen.

torch's defaults (atol 1e-5, rtol 1e-3) would pass a gradient 6e-4 off where the right one
agrees with the differences to 1e-9. Here each comparison's tolerance is what its central
difference may be off (:class:`braggcheck.testing.framework.differences.Differences`: the spread
between steps h and 2h plus 10x the measured rounding noise), and gradcheck runs with that
atol and rtol 0.

The step follows the verdict engine's retry rule (:func:`verdict.settled_step`): when the
analytic derivative disagrees with the differences at the case's step, or agrees only at a
tolerance inflated past the ceiling, the differences are taken again at 10x and 100x the step
(rounding falls as the step grows, a wrong derivative's error does not) and gradcheck runs at
the first step where every entry agrees under the ceiling; else at the case's step, where the
failure stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import torch

from braggcheck.testing.framework.check_support import gradient_of
from braggcheck.testing.framework.derivatives import (
    first_derivative_errors,
    second_derivative_errors,
)
from braggcheck.testing.framework.differences import Differences
from braggcheck.testing.framework.target import steppable
from braggcheck.testing.framework.tolerances import MAX_MEASURED_RTOL
from braggcheck.testing.framework.verdict import INFLATED, settled_step

if TYPE_CHECKING:
    from braggcheck.testing.framework.table import TableCase as GradcheckCase



@dataclass(frozen=True)
class MeasuredTolerance:
    """What the finite differences of one case resolve, and the tolerances that follow."""

    first: tuple[Differences, ...]
    """Per parameter: differences of the loss (gradcheck, forward mode)."""
    second: tuple[Differences, ...] | None
    """Per parameter: differences of the gradient (gradgradcheck); None without one."""
    eps: float = 0.0
    """The step ``first`` was taken at (the case's, or a retry's: :func:`settled_step`)."""
    second_eps: float = 0.0

    @property
    def atol(self) -> float:
        """gradcheck compares each entry as |analytic - D(h)| <= atol: the largest entry's
        measured error of D(h) (one parameter per case today)."""
        return max(e.tolerance for e in self.first)

    @property
    def second_atol(self) -> float:
        return max(e.tolerance for e in self.second or ())


def analytic_derivatives(probe, order: int = 1) -> list[float]:
    """What gradcheck (order 1: dL/dx_i) or gradgradcheck with grad_outputs 1 (order 2:
    d/dx_i of sum dL/dx) compares with the differences, by reverse mode."""
    leaf = probe.point().requires_grad_(True)
    value = probe.loss(leaf)
    if not value.requires_grad:  # a detached parameter: zero, to be compared, not a crash
        return [0.0] * leaf.numel()
    (grad,) = torch.autograd.grad(value, leaf, create_graph=order == 2, allow_unused=True)
    if grad is None:
        return [0.0] * leaf.numel()
    if order == 1:
        return grad.tolist()
    return gradient_of(grad.sum(), leaf).tolist()


@cache
def measured_tolerance(case_: GradcheckCase) -> MeasuredTolerance:
    probe = case_.probe()

    def can_step(reach: float) -> bool:
        return all(steppable(case_.target, probe.config, n, reach) for n in case_.parameters)

    eps, first = settled_step(analytic_derivatives(probe),
                              lambda e: first_derivative_errors(probe, e), case_.eps, can_step)
    second, second_eps = None, 0.0
    if case_.gradgrad:
        second_eps, second = settled_step(analytic_derivatives(probe, 2),
                                          lambda e: second_derivative_errors(probe, e),
                                          case_.eps, can_step)
    return MeasuredTolerance(first, second, eps, second_eps)


def measured_tolerances(case_: GradcheckCase, order: int = 1) -> dict[str, float]:
    """Keyword arguments for run_gradcheck (order 1) or run_gradgradcheck (order 2): the
    settled step, the measured atol and rtol 0 (the atol already scales with the derivative's
    own error, relative or not)."""
    measured = measured_tolerance(case_)
    if order == 1:
        return {"eps": measured.eps, "atol": measured.atol, "rtol": 0.0}
    return {"eps": measured.second_eps, "atol": measured.second_atol, "rtol": 0.0}


def unresolved(case_: GradcheckCase, what: str, errors: tuple[Differences, ...]
                ) -> str | None:
    for e in errors:
        if not e.tolerance <= MAX_MEASURED_RTOL * abs(e.single):
            return (f"{case_.id}: {INFLATED}: the measured tolerance of {what} at step "
                    f"{e.h:g} ({e.tolerance:.1e}: spread "
                    f"{e.spread:.1e}, rounding {e.rounding:.1e}) exceeds {MAX_MEASURED_RTOL:g} "
                    f"x |{what}| = {MAX_MEASURED_RTOL * abs(e.single):.1e}: a 6e-4 error "
                    "could pass")
    return None
