"""Lattice and polarization factors: right values, and finite right gradients at singularities."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck.sim.physics import (
    nearest_integer,
    polarization_factor,
    round_lattice_factor,
    sincg,
)

F64 = torch.float64


def test_nearest_integer_rounds_ties_down():
    values = torch.tensor([0.5, -0.5, 1.5, 0.49, -1.5, 2.0], dtype=F64)
    assert nearest_integer(values).tolist() == [0.0, -1.0, 1.0, 0.0, -2.0, 2.0]


@pytest.mark.parametrize("cells", [2, 5, 17, 60])
def test_sincg_matches_the_direct_ratio_away_from_integers(cells):
    h = torch.linspace(-2.4, 2.4, 97, dtype=F64) + 0.013
    direct = torch.sin(cells * math.pi * h) / torch.sin(math.pi * h)
    torch.testing.assert_close(sincg(h, cells).abs(), direct.abs(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cells", [2, 5, 17, 60])
@pytest.mark.parametrize("integer", [0.0, 1.0, -3.0])
def test_sincg_is_n_with_zero_slope_at_integers(cells, integer):
    h = torch.tensor(integer, dtype=F64, requires_grad=True)
    value = sincg(h, cells)
    (grad,) = torch.autograd.grad(value**2, h)
    assert abs(float(value.detach())) == cells
    assert float(grad) == 0.0


@pytest.mark.parametrize("cells", [2, 5, 60])
@pytest.mark.parametrize("offset", [1e-9, 1e-6, 1e-4, 2e-3, 0.011 / 5])
def test_sincg_gradient_is_right_near_integers(cells, offset):
    h = torch.tensor(1.0 + offset, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(sincg(h, cells) ** 2, h)
    x = math.pi * offset
    # d/dh of (sin(Nx)/sin x)^2 with x = pi*offset, written out analytically
    ratio = math.sin(cells * x) / math.sin(x)
    d_ratio = (cells * math.cos(cells * x) * math.sin(x) - math.sin(cells * x) * math.cos(x))
    d_ratio /= math.sin(x) ** 2
    expected = 2 * ratio * d_ratio * math.pi
    # the analytic expression itself cancels catastrophically for tiny x; use the series slope
    if cells * x < 1e-2:
        expected = 2 * cells * cells * (-(cells * cells - 1) * x / 3) * math.pi
    assert float(grad) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_sincg_gradcheck_across_an_integer():
    for start in (0.999999, 1.0, 1.00001, 0.9973):
        h = torch.tensor([start], dtype=F64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x: sincg(x, 7), (h,), eps=1e-7, atol=1e-6)


def test_round_lattice_factor_is_finite_with_zero_slope_on_a_node():
    hkl = torch.tensor([[2.0, -1.0, 0.0]], dtype=F64, requires_grad=True)
    value = round_lattice_factor(hkl, (5, 5, 5), 1.0)
    (grad,) = torch.autograd.grad(value.sum(), hkl)
    assert float(value.detach()) == pytest.approx(125 * 0.723601254558268)
    assert torch.all(grad == 0)


def test_round_lattice_factor_series_joins_the_exact_formula():
    hkl = torch.tensor([[0.0, 0.0, d] for d in (0.0063, 0.0064, 0.03)], dtype=F64,
                       requires_grad=True)
    x = math.pi * 5 * hkl[:, 2].detach()
    exact = 3 * (torch.sin(x) - x * torch.cos(x)) / x**3 * 125 * 0.723601254558268
    torch.testing.assert_close(round_lattice_factor(hkl, (5, 5, 5), 1.0), exact, rtol=1e-12,
                               atol=0)
    assert torch.autograd.gradcheck(lambda t: round_lattice_factor(t, (5, 5, 5), 1.0), (hkl,))


def _atan2_polarization(incident, diffracted, polar, kahn):
    """The reference program's formula, written out with atan2 (not differentiable at 0)."""
    c = float(incident @ diffracted)
    b_axis = torch.linalg.cross(polar, incident)
    b_axis = b_axis / b_axis.norm()
    e_axis = torch.linalg.cross(incident, b_axis)
    psi = -math.atan2(float(diffracted @ b_axis), float(diffracted @ e_axis))
    return 0.5 * (1 + c * c - kahn * math.cos(2 * psi) * (1 - c * c))


@pytest.mark.parametrize("kahn", [0.0, 0.5, 1.0, -1.0])
def test_polarization_matches_the_atan2_form(kahn):
    incident = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    polar = torch.tensor([0.0, 0.0, 1.0], dtype=F64)
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        d = torch.randn(3, generator=generator, dtype=F64)
        d = d / d.norm()
        ours = polarization_factor(incident, d, polar, torch.tensor(kahn, dtype=F64))
        assert float(ours) == pytest.approx(_atan2_polarization(incident, d, polar, kahn),
                                            abs=1e-14)


def test_polarization_gradient_is_finite_at_the_direct_beam():
    incident = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    polar = torch.tensor([0.0, 0.0, 1.0], dtype=F64)
    diffracted = incident.clone().requires_grad_(True)
    kahn = torch.tensor(0.7, dtype=F64, requires_grad=True)
    value = polarization_factor(incident, diffracted, polar, kahn)
    grads = torch.autograd.grad(value, (diffracted, kahn))
    assert float(value.detach()) == pytest.approx(1.0)
    assert all(bool(torch.isfinite(g).all()) for g in grads)
