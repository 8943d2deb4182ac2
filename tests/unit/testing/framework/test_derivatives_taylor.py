"""Step choice of the Taylor test and the finite-difference noise floor (testing.gradients)."""

from __future__ import annotations

import pytest
import torch

from braggcheck.testing.framework.derivatives import (
    compare_derivatives,
    convergence_rates,
    taylor_first_step,
    taylor_remainders,
)
from braggcheck.testing.framework.tolerances import TAYLOR_CURVATURE_SHARE
from braggcheck.testing.nanobragg.target import GradientProbe
from braggcheck.testing.nanobragg.tier2.table import SETUPS

CURVATURE = torch.tensor([40.0, -25.0, 60.0], dtype=torch.float64)
X = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
DIRECTION = torch.tensor([0.6, 0.0, 0.8], dtype=torch.float64)


def _curved(x: torch.Tensor) -> torch.Tensor:
    """exp(c . x): second derivative c^2 times larger than the first along the direction."""
    return torch.exp((CURVATURE * x).sum())


def _gradient() -> torch.Tensor:
    return CURVATURE * _curved(X)


def _rates(first_step: float, scale: float) -> list[float]:
    steps = [first_step / 2**i for i in range(5)]
    return convergence_rates(taylor_remainders(_curved, X, DIRECTION, _gradient() * scale,
                                               steps))


def test_the_chosen_first_step_makes_the_remainder_the_wanted_share_of_the_slope():
    gradient = _gradient()
    step = taylor_first_step(_curved, X, DIRECTION, gradient)
    slope = float((gradient * DIRECTION).sum())
    remainder = float(_curved(X + step * DIRECTION) - _curved(X) - step * slope)
    assert abs(remainder) / abs(step * slope) == pytest.approx(TAYLOR_CURVATURE_SHARE, rel=0.1)


def test_with_the_chosen_steps_a_right_gradient_gives_2_and_a_1_percent_wrong_one_gives_1():
    for scale, low, high in ((1.0, 1.95, 2.05), (1.01, 0.9, 1.1), (0.99, 0.9, 1.1)):
        step = taylor_first_step(_curved, X, DIRECTION, _gradient() * scale)
        assert all(low <= rate <= high for rate in _rates(step, scale)), scale


def test_a_fixed_step_of_1e_2_hides_a_1_percent_error_on_a_curved_loss():
    """Why the step is chosen: the old default shows rate ~2 for a wrong gradient here."""
    assert min(_rates(1e-2, 1.01)) > 1.5


def test_the_noise_floor_counts_the_magnitude_of_the_summed_terms():
    probe = GradientProbe(SETUPS["direct"].config(), ("fluence",))
    assert probe.magnitude() == pytest.approx(1.0, rel=1e-12)
    (result,) = compare_derivatives(probe)
    assert result.noise_floor == pytest.approx(torch.finfo(torch.float64).eps / result.eps,
                                               rel=1e-9)
