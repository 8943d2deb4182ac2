"""Gradient checks of the nanoBragg target: analytic vs numerical derivatives, forward vs
reverse mode, finiteness and bit-identical repeats (the target-generic checks of
:mod:`braggcheck.testing.framework.checks` and :mod:`braggcheck.testing.framework.invariants`, run
on
:data:`~braggcheck.testing.nanobragg.target.NANOBRAGG`)."""

from __future__ import annotations

from braggcheck.sim.config import Config
from braggcheck.testing.framework import checks as target_checks
from braggcheck.testing.framework import invariants as target_invariants
from braggcheck.testing.framework import target
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.target import NANOBRAGG


def steppable(config: Config, name: str, reach: float) -> bool:
    """Whether ``name`` can move by +-``reach`` (scaled units) and stay valid."""
    return target.steppable(NANOBRAGG, config, name, reach)


def check_gradient(case: Case) -> CheckResult:
    """Reverse-mode gradient of a projection of the image vs central differences.

    Each drawn parameter is compared on its own, then the drawn direction (all at once). The
    numerical derivative is Richardson-extrapolated from steps h and 2h; their disagreement
    bounds its truncation error and decides whether the comparison counts.
    """
    return target_checks.check_gradient(NANOBRAGG, case)


def check_forward_reverse(case: Case) -> CheckResult:
    """Forward-mode (dual numbers) vs reverse-mode directional derivative, same direction."""
    return target_checks.check_forward_reverse(NANOBRAGG, case)


def check_finite(case: Case) -> CheckResult:
    """No NaN or Inf in the image or its gradient with respect to every applicable parameter."""
    result = target_invariants.check_finite(NANOBRAGG, case)
    if not result.inconclusive and not result.message.startswith("image not finite:"):
        result.events.append(f"finite: shape {case.config.crystal.shape}")
    return result


def check_repeatable(case: Case) -> CheckResult:
    """The same configuration and seed give bit-identical images and gradients."""
    return target_invariants.check_repeatable(NANOBRAGG, case)
