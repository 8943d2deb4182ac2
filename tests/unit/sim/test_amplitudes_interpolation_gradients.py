"""With ``-interpolate`` F depends on the Miller indices, so dF/dh enters the gradients of cell,
orientation, wavelength and detector: each agrees with the measured finite differences, forward
mode agrees with reverse mode, and value and gradient stay finite where a sample sits at an
exact integer index (the stencil's kink)."""

from __future__ import annotations

import pytest
import torch

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.testing.framework.derivatives import (
    compare_derivatives,
    first_derivative_errors,
    forward_reverse_gap,
)
from braggcheck.testing.nanobragg.strategies.hkl_tables import random_table
from braggcheck.testing.nanobragg.target import GradientProbe

WINDOW = ("-cell 100 100 100 90 90 90 -N 2 -lambda 1 -distance 100 -pixel 0.1 -detpixels 24 "
          "-default_F 10 -mosflm -misset 10 20 30")
NAMES = ("cell_a", "cell_gamma", "misset_rot_y", "lambda_A", "distance_mm")


def _config(interpolate: bool, centre_mm: float = -4.0,
            low: tuple[int, int, int] = (-10, -9, -1), high: tuple[int, int, int] = (1, 2, 10)):
    table = random_table(low, high, seed=11, density=0.7, fill=30.0)
    return parse_nanobragg_args(WINDOW).config.replace(
        hkl=table, default_F=0.0, interpolate=interpolate, beam_center_f_mm=centre_mm,
        beam_center_s_mm=centre_mm)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_through_the_interpolation_weights_match_differences(name):
    probe = GradientProbe(_config(True), (name,))
    (result,) = compare_derivatives(probe)
    (error,) = first_derivative_errors(probe)
    assert result.above_noise, f"d/d{name} must stand above the differences' noise"
    assert result.error <= error.tolerance, (result, error)
    jvp, vjp = forward_reverse_gap(probe, torch.ones(1, dtype=torch.float64))
    assert jvp == pytest.approx(vjp, rel=1e-9)


def test_interpolation_changes_the_geometry_gradients():
    """dF/dh counts: the same window without interpolation has another gradient."""
    with_f = compare_derivatives(GradientProbe(_config(True), ("cell_a",)))[0].analytic
    without = compare_derivatives(GradientProbe(_config(False), ("cell_a",)))[0].analytic
    assert abs(with_f - without) > 1e-3 * abs(without)


def test_value_and_gradient_are_finite_at_an_exact_integer_index():
    """Beam centre on the first subpixel of pixel (12, 12): a sample at h = k = l = 0, where
    the stencil's cell changes (the table spans -6..6, so the stencil is used there)."""
    config = _config(True, 1.225, (-6, -6, -6), (6, 6, 6)).replace(oversample=2)
    probe = GradientProbe(config, NAMES)
    x = probe.point().requires_grad_(True)
    loss = probe.loss(x)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and bool(torch.isfinite(grad).all())
    assert float(grad.abs().max()) > 0
