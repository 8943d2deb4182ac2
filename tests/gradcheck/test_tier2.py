"""Tier 2: deterministic float64 gradient checks, parametrized from
``braggcheck.testing.nanobragg.tier2.table.CASES``.

Every test first proves it can fail (``_assert_meaningful``): the image holds Bragg spots, the
derivative it checks is >= 1e3 x the finite-difference noise floor, and its tolerance, measured
from the finite differences themselves (``tier2.measured_tolerances``), is below 3e-4 of the
derivative, so a gradient 6e-4 off fails. Test ids are ``parameter@setup``.
"""

from __future__ import annotations

from functools import cache

import pytest
import torch
from torch.autograd.gradcheck import GradcheckError

from braggcheck.testing.framework.derivatives import (
    compare_derivatives,
    run_gradcheck,
    run_gradgradcheck,
    taylor_failure,
    taylor_run,
)
from braggcheck.testing.framework.measured_tolerance import measured_tolerance, measured_tolerances
from braggcheck.testing.framework.table import (
    first_order_vacuity,
    forward_reverse_row,
    second_derivative,
    second_order_vacuity,
)
from braggcheck.testing.framework.tolerances import MAX_MEASURED_RTOL
from braggcheck.testing.nanobragg.target import GradientProbe
from braggcheck.testing.nanobragg.tier2.table import (
    CASES,
    GradcheckCase,
    joint_direction,
    joint_probe,
)

from ..planted import ScaledGradient

GRADGRAD_CASES = [c for c in CASES if c.gradgrad]

# torch loads its forward-mode decompositions with torch.jit.script on first use (torch 2.13).
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


@cache
def _derivative(case: GradcheckCase):
    (result,) = compare_derivatives(case.probe(), eps=case.eps)
    return result


def _assert_meaningful(case: GradcheckCase) -> None:
    problem = first_order_vacuity(case, case.probe().baseline_image(), _derivative(case))
    assert problem is None, problem


def _tolerances(case: GradcheckCase, order: int = 1) -> dict[str, float]:
    return measured_tolerances(case, order)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradcheck(case):
    """Reverse mode against central differences with a relative step, through the image."""
    _assert_meaningful(case)
    assert run_gradcheck(case.probe(), **_tolerances(case))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forward_mode(case):
    """Forward mode against central differences, and jvp against the reverse-mode gradient."""
    _assert_meaningful(case)
    probe = case.probe()
    assert run_gradcheck(probe, check_forward_ad=True, check_backward_ad=False,
                         **_tolerances(case))
    row = forward_reverse_row(case)  # within AD_RTOL, or within its measured scatter
    assert row.status == "ok", (row.name, row.analytic, row.numerical, row.tolerance)


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=lambda c: c.id)
def test_gradgradcheck(case):
    """Second derivatives (cell, misset, wavelength): double backward against differences."""
    _assert_meaningful(case)
    probe = case.probe()
    problem = second_order_vacuity(case, second_derivative(probe, case.eps))
    assert problem is None, problem
    assert run_gradgradcheck(probe, **_tolerances(case, order=2))


@cache
def _joint():
    probe = joint_probe()
    return probe, joint_direction(probe)


def test_taylor_remainder_falls_at_second_order_for_all_parameters_jointly():
    probe, direction = _joint()
    result = taylor_run(probe, direction)
    assert abs(result.slope) > 1e-3, "the direction must have a first-order term to test"
    rounding = torch.finfo(torch.float64).eps * probe.magnitude()
    assert min(result.remainders) > 1e3 * rounding, "remainders must stand above rounding"
    failure = taylor_failure(result)
    assert failure is None, failure


@pytest.mark.parametrize("block", ["all", "scalars", "structure_factors"])
@pytest.mark.parametrize("scale", [1.01, 0.99])
def test_taylor_self_test_a_one_percent_wrong_gradient_gives_rate_one_and_fails(scale, block):
    """A 1 % error in the whole gradient, or in one block only (the scalars', or the
    amplitudes': a planted F-gradient bug), shows as rate 1."""
    probe, direction = _joint()
    count = len(probe.names)
    scales = torch.ones_like(direction)
    if block == "all":
        scales[:] = scale
    elif block == "scalars":
        scales[:count] = scale
    else:
        scales[count:] = scale
    result = taylor_run(probe, direction, gradient_scale=scales)
    assert all(0.9 <= rate <= 1.1 for rate in result.rates), result.rates
    assert taylor_failure(result) is not None


def test_the_joint_taylor_test_moves_every_structure_factor_with_its_share_of_the_slope():
    """The amplitudes are in the joint test: every one moves, and they carry as much of the
    first-order term as the scalars (measured here with the gradient, which the balance itself
    does not use)."""
    probe, direction = _joint()
    count = len(probe.names)
    assert probe.vector_size() > 100 and bool((direction[count:] != 0).all())
    x = probe.point().requires_grad_(True)
    (gradient,) = torch.autograd.grad(probe.loss(x), x)
    scalar = float((gradient[:count] * direction[:count]).sum())
    amplitude = float((gradient[count:] * direction[count:]).sum())
    assert amplitude == pytest.approx(scalar, rel=0.05)


class _HundredfoldGradient(torch.autograd.Function):
    """Identity whose backward is 100x too large: a planted gradient bug."""

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        pass

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return 100 * grad


class _WrongFluenceProbe(GradientProbe):
    def params(self, x):
        params = super().params(x)
        params["fluence"] = _HundredfoldGradient.apply(params["fluence"])
        return params


class _AbsoluteStepWrongFluenceProbe(_WrongFluenceProbe):
    """x is the fluence in photons/m^2 itself: an absolute step, as the predecessor took."""

    @property
    def scales(self) -> torch.Tensor:
        return torch.ones(len(self.names), dtype=torch.float64)


def _fluence_case() -> GradcheckCase:
    return next(c for c in CASES if c.parameters == ("fluence",))


def test_a_100x_wrong_fluence_gradient_is_caught_by_relative_steps():
    case = _fluence_case()
    wrong = _WrongFluenceProbe(case.config(), case.parameters)
    with pytest.raises(GradcheckError):
        run_gradcheck(wrong, **_tolerances(case))
    (result,) = compare_derivatives(wrong, eps=case.eps)
    assert result.analytic == pytest.approx(100 * result.numerical, rel=1e-6)


def test_absolute_steps_would_let_the_100x_wrong_gradient_pass_and_the_guard_flags_it():
    """Why steps are relative: 1e-6 added to a fluence of 1e29 is no step at all."""
    case = _fluence_case()
    wrong = _AbsoluteStepWrongFluenceProbe(case.config(), case.parameters)
    assert run_gradcheck(wrong, **_tolerances(case))  # the hazard: torch's gradcheck passes
    (result,) = compare_derivatives(wrong, eps=case.eps)
    assert result.numerical == 0.0
    assert first_order_vacuity(case, wrong.baseline_image(), result) is not None



class _SlightlyWrongProbe(GradientProbe):
    """One parameter's gradient 6e-4 too large (the forward is untouched)."""

    def params(self, x):
        params = super().params(x)
        name = self.names[0]
        params[name] = ScaledGradient.apply(params[name], 1.0006)
        return params


@pytest.mark.parametrize("case_id", ["lambda_A@direct", "dispersion@dispersive"])
def test_a_gradient_6e_4_off_passed_torch_tolerances_and_fails_measured_ones(case_id):
    """lambda_A's differences agree with the right gradient to ~1e-10; dispersion's is the
    noisiest case (measured tolerance ~1e-4). torch's rtol 1e-3 let the error through."""
    case = next(c for c in CASES if c.id == case_id)
    wrong = _SlightlyWrongProbe(case.config(), case.parameters)
    (result,) = compare_derivatives(wrong, eps=case.eps)
    assert result.analytic == pytest.approx(1.0006 * result.numerical, rel=1e-4)
    assert run_gradcheck(wrong, eps=case.eps, atol=1e-5, rtol=1e-3)  # before: it passed
    with pytest.raises(GradcheckError):
        run_gradcheck(wrong, **_tolerances(case))
    with pytest.raises(GradcheckError):
        run_gradcheck(wrong, check_forward_ad=True, check_backward_ad=False, **_tolerances(case))


def test_measured_tolerances_follow_the_noise_and_stay_below_the_guard():
    """Each tolerance is the measured error of its central difference, so they span decades:
    a fixed rtol would be either far too loose for most cases or too tight for some."""
    shares = []
    for case in CASES:
        (error,) = measured_tolerance(case).first
        shares.append(error.tolerance / abs(error.single))
        assert error.rounding > 0 and error.tolerance >= error.spread
    assert max(shares) < MAX_MEASURED_RTOL
    assert max(shares) / min(shares) > 1e3
    assert sorted(shares)[len(shares) // 2] < 1e-7  # the typical case resolves 1e-7
