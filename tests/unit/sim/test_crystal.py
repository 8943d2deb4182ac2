"""Cell construction follows the reference program (brief 2.1), including its c*_z formula."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import Config
from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.crystal import cell_basis, cell_volume, orientations, reciprocal_volume_check
from braggcheck.sim.state import build_state


def _basis(**cell):
    config = Config().replace(**cell)
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    return cell_basis(state)


def _angle(u, v):
    return math.degrees(math.acos(float((u @ v) / (u.norm() * v.norm()))))


def test_cubic_cell_is_axis_aligned_with_a_along_the_beam():
    basis = _basis()
    expected = torch.eye(3, dtype=torch.float64) * 100 * ANGSTROM
    torch.testing.assert_close(basis.real, expected, atol=1e-22, rtol=0)
    torch.testing.assert_close(basis.reciprocal, torch.eye(3, dtype=torch.float64) / 100)


def test_triclinic_cell_comes_back_with_the_reference_drift():
    basis = _basis(cell_a=70.0, cell_b=80.0, cell_c=90.0,
                   cell_alpha=75.0, cell_beta=85.0, cell_gamma=95.0)
    a, b, c = (basis.real / ANGSTROM).unbind(0)
    assert [float(v.norm()) for v in (a, b, c)] == pytest.approx([70, 80, 90], rel=1e-12)
    # The reference program prints "Unit Cell: 70 80 90 75.0391 85.0136 95.0081".
    assert _angle(b, c) == pytest.approx(75.0391, abs=1e-4)
    assert _angle(c, a) == pytest.approx(85.0136, abs=1e-4)
    assert _angle(a, b) == pytest.approx(95.0081, abs=1e-4)


@pytest.mark.parametrize("cell", [
    {}, {"cell_a": 70.0, "cell_b": 80.0, "cell_c": 90.0,
         "cell_alpha": 75.0, "cell_beta": 85.0, "cell_gamma": 95.0},
    {"misset_rot_x": 10.0, "misset_rot_y": 20.0, "misset_rot_z": 30.0},
])
def test_real_and_reciprocal_bases_are_dual(cell):
    basis = _basis(**cell)
    product = (basis.real / ANGSTROM) @ basis.reciprocal.T
    # The regenerated reciprocal basis divides by the formula volume, not the triple product,
    # so a.a* = V_triple / V_formula; the two agree to the reference's drift (~1e-4).
    ratio = float(reciprocal_volume_check(basis) / basis.volume_A3)
    torch.testing.assert_close(product, torch.eye(3, dtype=torch.float64) * ratio,
                               atol=1e-12, rtol=1e-12)
    assert ratio == pytest.approx(1.0, abs=1e-3)


def test_volume_formula_matches_textbook_expression():
    a, b, c = (torch.tensor(x, dtype=torch.float64) for x in (70.0, 80.0, 90.0))
    angles = [math.radians(x) for x in (75.0, 85.0, 95.0)]
    al, be, ga = (torch.tensor(x, dtype=torch.float64) for x in angles)
    textbook = a * b * c * torch.sqrt(1 - torch.cos(al) ** 2 - torch.cos(be) ** 2
                                      - torch.cos(ga) ** 2
                                      + 2 * torch.cos(al) * torch.cos(be) * torch.cos(ga))
    torch.testing.assert_close(cell_volume(a, b, c, al, be, ga), textbook)


def test_orientations_apply_phi_then_mosaic():
    real = torch.eye(3, dtype=torch.float64)
    spindle = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    phis = torch.tensor([0.0, math.pi / 2], dtype=torch.float64)
    mosaic = torch.eye(3, dtype=torch.float64)[None]
    result = orientations(real, spindle, phis, mosaic)
    assert result.shape == (2, 3, 3)
    torch.testing.assert_close(result[0], real)
    # A right-handed quarter turn about z takes x to y.
    torch.testing.assert_close(result[1][0], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
