"""The retry of a failed gradient comparison at larger steps (target_checks.retried_row)."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck.testing.framework.checks import derivative_row, retried_row
from braggcheck.testing.framework.results import Row
from braggcheck.testing.framework.tolerances import STEP

X0 = 0.3
NOISE = 1e-10
"""Rounding-like noise of each loss value: up to 1e-4 in a central difference at STEP = 1e-6,
100x more than RTOL allows of the derivative cos(0.3) ~ 0.96; 1e-6 at 100 x STEP."""
LOW_ESTIMATE = 0.02
"""The failed comparison's noise estimate fell this far below the noise (an unlucky sample)."""


def noisy_loss(x: torch.Tensor) -> float:
    """sin(x) plus a deterministic, rough 'rounding' term of size NOISE."""
    value = float(x[0])
    return math.sin(value) + NOISE * math.sin(1e12 * value)


def failed_row(analytic: float) -> Row:
    """The comparison at STEP with its noise estimate fallen 50x low: the noise makes it
    fail."""
    x = torch.tensor([X0], dtype=torch.float64)
    h = torch.tensor([STEP], dtype=torch.float64)
    numerical = (noisy_loss(x + h) - noisy_loss(x - h)) / (2 * STEP)
    row = derivative_row("x", analytic, numerical, 0.0, LOW_ESTIMATE * NOISE / STEP)
    assert row.status == "FAIL"
    return row


def retry(row: Row, can_step=lambda reach: True) -> Row:
    x = torch.tensor([X0], dtype=torch.float64)
    return retried_row(row, noisy_loss, x, torch.ones(1, dtype=torch.float64),
                       noisy_loss(x), can_step)


def test_a_right_derivative_failed_by_noise_passes_at_a_larger_step():
    row = failed_row(math.cos(X0))
    again = retry(row)
    assert again.status == "ok" and again.eps > STEP and again.tolerance <= row.tolerance


@pytest.mark.parametrize("relative_error", [1e-4, -1e-4, 1e-3])
def test_a_wrong_derivative_fails_at_every_step(relative_error):
    """Off by more than the failed comparison allowed (2e-5 here): no retry passes it, since a
    retry may be no looser than the comparison it replaces."""
    row = failed_row(math.cos(X0) * (1 + relative_error))
    assert retry(row) is row


def test_a_retry_never_passes_at_a_looser_tolerance():
    row = failed_row(math.cos(X0))
    strict = Row(row.name, row.analytic, row.numerical, 1e-15, "FAIL")
    assert retry(strict) is strict


def test_no_retry_where_the_parameters_cannot_step_that_far():
    row = failed_row(math.cos(X0))
    assert retry(row, can_step=lambda reach: reach <= 2 * STEP) is row
