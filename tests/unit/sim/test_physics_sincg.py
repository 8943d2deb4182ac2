"""``sincg`` = sin(N pi h) / sin(pi h) up to sign, finite with the right slope at integer h."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS, sincg


@pytest.mark.parametrize("cells", [2, 3, 5, 8, CHEBYSHEV_MAX_CELLS, CHEBYSHEV_MAX_CELLS + 1, 40])
def test_magnitude_matches_the_ratio_away_from_integers(cells):
    h = torch.linspace(-7.3, 9.1, 4001, dtype=torch.float64)
    h = h[(h - torch.round(h)).abs() > 1e-3]
    ratio = torch.sin(cells * math.pi * h) / torch.sin(math.pi * h)
    torch.testing.assert_close(sincg(h, cells).abs(), ratio.abs(), rtol=1e-9, atol=1e-9 * cells)


@pytest.mark.parametrize("cells", [2, 5, CHEBYSHEV_MAX_CELLS, CHEBYSHEV_MAX_CELLS + 1, 40])
def test_value_n_and_slope_zero_at_integers(cells):
    h = torch.tensor([-3.0, 0.0, 1.0, 12.0], dtype=torch.float64, requires_grad=True)
    value = sincg(h, cells)
    (slope,) = torch.autograd.grad(value.sum(), h)
    expected = torch.full_like(value, float(cells))
    torch.testing.assert_close(value.abs(), expected, rtol=1e-15, atol=0)
    torch.testing.assert_close(slope, torch.zeros_like(slope), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cells", [3, 5, CHEBYSHEV_MAX_CELLS + 1])
def test_gradcheck_across_a_bragg_node(cells):
    h = torch.tensor([-1e-9, 0.0, 2.0, 2.3, 4.49], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: sincg(x, cells), (h,))
