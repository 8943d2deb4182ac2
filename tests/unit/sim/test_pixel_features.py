"""The per-pixel features' physics (braggcheck.sim.pixel_features): water background, curved
detector, the running sum of -oversample_thick/_polar/_omega, and their gradients."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.sim.constants import DEFAULT_FLUENCE, R_E_SQUARED_M2
from braggcheck.sim.pixel_features import (
    AVOGADRO,
    PixelFeatures,
    SubpixelFactors,
    curved_positions,
    running_sum,
    water_background,
)
from braggcheck.sim.scene import build_scene
from braggcheck.sim.state import build_state

BASE = ("-cell 100 100 100 90 90 90 -default_F 100 -N 5 -lambda 1 -distance 100 "
        "-detpixels 12 -oversample 2 -misset 10 20 30")


def _config(extra: str = ""):
    return parse_nanobragg_args(f"{BASE} {extra}").config


def test_water_background_is_the_references_formula():
    w = torch.tensor(0.05, dtype=torch.float64)
    fluence = torch.tensor(DEFAULT_FLUENCE, dtype=torch.float64)
    expected = 2.57**2 * R_E_SQUARED_M2 * DEFAULT_FLUENCE * (0.05e-6) ** 3 * 1e6 * AVOGADRO / 18
    assert float(water_background(w, fluence)) == pytest.approx(expected, rel=1e-14)


def test_water_enters_before_the_fluence_and_step_scaling():
    """A uniform background of I_bg r_e^2 fluence / steps x (P omega): quadratic in fluence."""
    dry, wet = simulate(_config()), simulate(_config("-water 0.03"))
    state = build_state(_config("-water 0.03"), None, torch.float64, torch.device("cpu"))
    scene = build_scene(_config("-water 0.03"), state)
    background = wet - dry
    steps = 4  # 2 x 2 subpixels, one source, one orientation
    per_pixel = float(scene.features.water) * R_E_SQUARED_M2 * DEFAULT_FLUENCE / steps
    # omega x polarization at the first subpixel: between 0.9 and 1.0 of pixel^2/distance^2
    ratio = background / (per_pixel * (1e-4 / 0.1) ** 2)
    assert float(ratio.max()) <= 1.0 + 1e-12 and float(ratio.min()) > 0.9
    doubled = simulate(_config(f"-water 0.03 -fluence {2 * DEFAULT_FLUENCE!r}"))
    dry_doubled = simulate(_config(f"-fluence {2 * DEFAULT_FLUENCE!r}"))
    assert torch.allclose(doubled - dry_doubled, 4 * background, rtol=1e-12, atol=0)


def test_water_gradient_is_finite_and_zero_at_zero_thickness():
    config = _config()
    water = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    image = simulate(config, {"water_size_um": water})
    image.sum().backward()
    assert water.grad is not None and float(water.grad) == 0.0
    # and 3 w^2 shape away from 0
    w = torch.tensor(0.02, dtype=torch.float64, requires_grad=True)
    total = (simulate(config, {"water_size_um": w}) - simulate(config)).sum()
    (grad,) = torch.autograd.grad(total, w)
    assert float(grad) == pytest.approx(3 * float(total.detach()) / 0.02, rel=1e-10)


def test_curved_positions_lie_at_the_distance_and_keep_the_beam_spot():
    config = _config("-curved_det")
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    det = build_scene(config, state).detector
    flat = torch.tensor([[0.1, 0.1, 0.1], [0.0, 0.003, -0.01], [0.0, 0.002, 0.02]],
                        dtype=torch.float64)
    curved = curved_positions(flat, det)
    assert torch.allclose(torch.linalg.norm(curved, dim=0), det.distance.expand(3),
                          rtol=1e-14, atol=0)
    assert torch.allclose(curved[:, 0], det.distance * det.beam, rtol=0, atol=1e-18)
    # turned by y / distance about the slow axis, then z / distance about the fast one: the
    # angle to the beam is acos(cos(y/d) cos(z/d)) for MOSFLM's orthogonal frame
    angle = math.acos(float(curved[:, 1] @ det.beam) / float(det.distance))
    expected = math.acos(math.cos(0.003 / 0.1) * math.cos(0.002 / 0.1))  # column 1: y, z
    assert angle == pytest.approx(expected, rel=1e-12)


def _sequential(terms, factors, skipped, water):
    """The reference's loop: I = I_bg; for each sample: I += t; I *= f (unless skipped)."""
    out = []
    for p in range(terms.shape[0]):
        total = water
        for t, f, s in zip(terms[p].reshape(-1).tolist(), factors[p].reshape(-1).tolist(),
                           skipped[p].reshape(-1).tolist(), strict=True):
            if s:
                continue
            total = (total + t) * f
        out.append(total)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("water_on", [True, False])
def testrunning_sum_equals_the_sequential_loop(water_on):
    generator = torch.Generator().manual_seed(3)
    pixels, subpixels, sources, orientations = 3, 4, 2, 3
    terms = torch.rand(pixels, subpixels, sources, orientations, generator=generator,
                       dtype=torch.float64)
    lattice = torch.rand(sources, orientations, pixels, subpixels, generator=generator,
                         dtype=torch.float64)
    lattice[lattice < 0.3] = 0.0  # skipped samples (tophat outside its spots)
    terms = terms * (lattice.permute(2, 3, 0, 1) != 0)
    polar = 0.5 + torch.rand(pixels, subpixels, sources, generator=generator,
                             dtype=torch.float64)
    omega = 0.5 + torch.rand(pixels, subpixels, generator=generator, dtype=torch.float64)
    capture = 0.5 + torch.rand(pixels, subpixels, generator=generator, dtype=torch.float64)
    water = torch.tensor(0.7 if water_on else 0.0, dtype=torch.float64)
    features = PixelFeatures(water=water, water_on=water_on, thick=True, polar=True,
                             omega=True)
    got = running_sum(terms, SubpixelFactors(omega, capture, polar), features, lattice)
    factor = (capture[..., None] * polar * omega[..., None])[..., None].expand_as(terms)
    skipped = (lattice.permute(2, 3, 0, 1) == 0) & (not water_on)
    expected = _sequential(terms, factor, skipped, float(water))
    assert torch.allclose(got, expected, rtol=1e-13, atol=0)


def test_oversample_polar_overrides_nopolar():
    with_polar = simulate(_config("-polar 0.8 -nopolar -oversample_polar -Xbeam -30"))
    nopolar = simulate(_config("-polar 0.8 -nopolar -Xbeam -30"))  # 2theta ~ 17 deg
    assert float((with_polar - nopolar).abs().max()) > 1e-3 * float(nopolar.max())


@pytest.mark.parametrize("extra", ["-curved_det", "-oversample_polar -polar 0.9",
                                   "-oversample_omega", "-oversample_thick -detector_thick 80",
                                   "-water 0.02 -curved_det -oversample_polar"])
def test_gradcheck_of_distance_and_beam_centre_with_the_features(extra):
    config = parse_nanobragg_args(BASE.replace("-detpixels 12", "-detpixels 4") + " -Xbeam 0.3"
                                  f" -Ybeam 0.2 {extra}").config
    names = ("distance_mm", "beam_center_f_mm", "beam_center_s_mm", "lambda_A")
    start = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
             for v in (100.0, 0.35, 0.3, 1.0)]
    scale = simulate(config).abs().max()

    def image(*values):
        return simulate(config, dict(zip(names, values, strict=True))) / scale

    assert torch.autograd.gradcheck(image, start, eps=1e-6, atol=1e-7, rtol=1e-5)
