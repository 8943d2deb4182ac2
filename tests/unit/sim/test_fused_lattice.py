"""The fused lattice intensity and its derivative equal the plain formula and its autograd
gradient, including at Bragg nodes (the removable singularity) and at the sincg zeros."""

from __future__ import annotations

import pytest
import torch

from braggcheck.sim.amplitudes import AmplitudeLookup
from braggcheck.sim.fused_lattice import (
    LatticeSetup,
    Workspace,
    fused_applies,
    intensity_and_derivative,
    reduced_indices,
)
from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS, square_lattice_factor

CELLS = [(1, 1, 1), (2, 2, 2), (3, 4, 5), (5, 5, 5), (1, 7, 8), (CHEBYSHEV_MAX_CELLS, 9, 2)]


def _hkl() -> torch.Tensor:
    """Miller indices (3, R=2, 40): random, exact integers in the first 8 samples of block 0,
    half-integer k in block 1."""
    generator = torch.Generator().manual_seed(7)
    hkl = torch.randn(3, 2, 40, generator=generator, dtype=torch.float64) * 4
    hkl[:, 0, :8] = torch.round(hkl[:, 0, :8])
    hkl[1, 1, :8] = torch.round(hkl[1, 1, :8]) + 0.5
    return hkl


def _lookup(requires_grad: bool = False) -> AmplitudeLookup:
    """A made-up F that changes from reflection to reflection (F^2 = 1 + h % 3 + 2 (l % 2)),
    on a grid covering every index drawn here."""
    h, _, l = torch.meshgrid(*(torch.arange(-30, 31, dtype=torch.float64),) * 3,
                             indexing="ij")
    grid = torch.sqrt(1 + (h % 3) + 2 * (l % 2)).requires_grad_(requires_grad)
    return AmplitudeLookup(grid, (-30, -30, -30), 0.0)


_amplitudes = _lookup()


def _work() -> Workspace:
    return Workspace(torch.device("cpu"))


def _plain(hkl: torch.Tensor, setup: LatticeSetup) -> torch.Tensor:
    reduced = reduced_indices(hkl, setup.sample_dtype).permute(1, 2, 0)
    squared = square_lattice_factor(reduced, setup.cells, reduced=True) ** 2
    if setup.squared_amplitudes is not None:
        squared = squared * setup.squared_amplitudes(hkl.detach())
    return squared.sum(0)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cells", CELLS)
def test_value_and_derivative_match_plain_autograd(cells, weighted):
    setup = LatticeSetup(cells, torch.float64, _amplitudes if weighted else None)
    hkl = _hkl().requires_grad_(True)
    derivative = torch.empty_like(hkl)
    fused = intensity_and_derivative(hkl.detach(), setup, derivative, _work())
    plain = _plain(hkl, setup)
    if plain.requires_grad:
        (expected,) = torch.autograd.grad(plain.sum(), hkl)
    else:  # N = 1 on every axis: L = 1, no dependence on h
        expected = torch.zeros_like(hkl)
    scale = float(plain.detach().abs().max())
    torch.testing.assert_close(fused, plain.detach(), rtol=1e-13, atol=1e-13 * scale)
    assert torch.all(torch.isfinite(derivative))
    torch.testing.assert_close(derivative, expected, rtol=1e-11,
                               atol=1e-11 * float(expected.abs().max()) + 1e-300)


def test_float32_samples_match_float64_to_float32_rounding():
    hkl = _hkl()
    results = []
    for dtype in (torch.float32, torch.float64):
        derivative = torch.empty(hkl.shape, dtype=dtype)
        value = intensity_and_derivative(hkl, LatticeSetup((5, 5, 5), dtype, _amplitudes),
                                         derivative, _work())
        assert value.dtype == dtype
        results.append((value.double(), derivative.double()))
    (v32, d32), (v64, d64) = results
    torch.testing.assert_close(v32, v64, rtol=1e-5, atol=1e-5 * float(v64.max()))
    torch.testing.assert_close(d32, d64, rtol=1e-4, atol=1e-5 * float(d64.abs().max()))


def test_at_bragg_nodes_the_slope_is_zero():
    hkl = torch.tensor([3.0, -2.0, 0.0], dtype=torch.float64).view(3, 1, 1)
    derivative = torch.empty_like(hkl)
    value = intensity_and_derivative(hkl, LatticeSetup((5, 4, 3), torch.float64, None),
                                     derivative, _work())
    assert value.item() == pytest.approx((5 * 4 * 3) ** 2, rel=1e-15)
    assert torch.equal(derivative, torch.zeros_like(derivative))


def test_a_reused_workspace_gives_the_same_results():
    """Buffers carry over from call to call (and across axes); nothing stale may leak in."""
    setup = LatticeSetup((5, 3, 7), torch.float64, _amplitudes)
    hkl = _hkl()
    work = _work()
    first = [torch.empty_like(hkl), None]
    first[1] = intensity_and_derivative(hkl, setup, first[0], work).clone()
    intensity_and_derivative(hkl * 1.1 + 0.3, setup, torch.empty_like(hkl), work)  # dirty it
    again = torch.empty_like(hkl)
    value = intensity_and_derivative(hkl, setup, again, work)
    assert torch.equal(value, first[1]) and torch.equal(again, first[0])


def test_applies_only_in_the_chebyshev_range():
    assert fused_applies((5, 5, 5))
    assert fused_applies((1, 5, 5))
    assert not fused_applies((5, CHEBYSHEV_MAX_CELLS + 1, 5))
