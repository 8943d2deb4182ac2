"""The fused squared lattice factor equals the plain formula squared, value and derivatives."""

from __future__ import annotations

import pytest
import torch

from braggcheck.fused_lattice import fused_applies, square_lattice_intensity
from braggcheck.physics import CHEBYSHEV_MAX_CELLS, square_lattice_factor

CELLS = [(2, 2, 2), (3, 4, 5), (5, 5, 5), (6, 7, 8), (CHEBYSHEV_MAX_CELLS, 9, 2)]


def _hkl(requires_grad: bool = True) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    hkl = torch.randn(3, 40, 3, generator=generator, dtype=torch.float64) * 4
    hkl[0, :8] = torch.round(hkl[0, :8])  # exact Bragg nodes: the removable singularity
    hkl[1, :8, 1] = torch.round(hkl[1, :8, 1]) + 0.5  # half-integers: the sincg zeros
    return hkl.requires_grad_(requires_grad)


@pytest.mark.parametrize("cells", CELLS)
def test_value_and_gradient_match_plain_autograd(cells):
    hkl = _hkl()
    fused = square_lattice_intensity(hkl, cells)
    plain = square_lattice_factor(hkl, cells) ** 2
    weights = torch.linspace(-1, 2, fused.numel(), dtype=torch.float64).reshape(fused.shape)
    (g_fused,) = torch.autograd.grad((fused * weights).sum(), hkl)
    (g_plain,) = torch.autograd.grad((plain * weights).sum(), hkl)
    scale, slope_scale = float(plain.detach().max()), float(g_plain.abs().max())
    torch.testing.assert_close(fused, plain, rtol=1e-13, atol=1e-13 * scale)
    torch.testing.assert_close(g_fused, g_plain, rtol=1e-12, atol=1e-12 * slope_scale)
    assert torch.all(torch.isfinite(g_fused))


@pytest.mark.parametrize("cells", [(2, 3, 5), (5, 5, 5)])
def test_gradcheck_and_gradgradcheck(cells):
    hkl = _hkl()[0, :6].clone().detach().requires_grad_(True)  # includes integer (h, k, l)
    def function(x):
        return square_lattice_intensity(x, cells)
    assert torch.autograd.gradcheck(function, (hkl,))
    assert torch.autograd.gradgradcheck(function, (hkl,))


def test_at_a_bragg_node_the_slope_is_zero():
    hkl = torch.tensor([[3.0, -2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    value = square_lattice_intensity(hkl, (5, 4, 3))
    (grad,) = torch.autograd.grad(value.sum(), hkl)
    assert value.item() == pytest.approx((5 * 4 * 3) ** 2, rel=1e-15)
    assert torch.equal(grad, torch.zeros_like(grad))


def test_applies_only_in_the_chebyshev_range():
    assert fused_applies((5, 5, 5))
    assert not fused_applies((1, 5, 5))
    assert not fused_applies((5, CHEBYSHEV_MAX_CELLS + 1, 5))
