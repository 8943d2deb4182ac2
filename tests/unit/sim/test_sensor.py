"""Detector thickness (brief 7.2, 7.5): the flag rules, and pixel values against an independent
per-pixel model written from the brief (layers summed, not counted in steps; omega and P from
the first subpixel of layer 0; the capture fraction of the last layer only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from braggcheck import Config, ConfigError, simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.constants import DEFAULT_FLUENCE, R_E_SQUARED_M2
from braggcheck.sim.detector import detector_geometry
from braggcheck.sim.sensor import sensor_model
from braggcheck.sim.state import build_state

BASE = ("-cell 100 100 100 90 90 90 -default_F 100 -N 5 -lambda 1 -distance 100 "
        "-detpixels 16 -oversample 1 -detector_roty 25")


def config_of(extra: str) -> Config:
    return from_nanobragg_args(f"{BASE} {extra}")


@pytest.mark.parametrize(("extra", "layers", "step_um", "mu_per_m"), [
    ("-detector_thick 300", 2, 150.0, 1 / 300e-6),  # T alone: 2 layers T/2 apart, mu = 1/T
    ("-detector_thick 300 -detector_thicksteps 4", 4, 100.0, 1 / 300e-6),  # T/(n-1)
    ("-detector_thick 300 -thicksteps 1", 2, 300.0, 1 / 300e-6),  # n raised to 2
    ("-detector_thick 300 -detector_abs 50", 2, 150.0, 1 / 50e-6),
    ("-detector_abs inf -detector_thick 300", 2, 150.0, 0.0),  # no absorption: nothing caught
])
def test_layer_rules(extra, layers, step_um, mu_per_m):
    sensor = sensor_model(config_of(extra).detector)
    assert sensor.layers == layers
    assert sensor.step == pytest.approx(step_um * 1e-6, rel=1e-15)
    assert sensor.mu == pytest.approx(mu_per_m, rel=1e-15)


@pytest.mark.parametrize("extra", [
    "-detector_thicksteps 5",  # a count alone leaves the thickness at 0 (off)
    "-detector_thick 300 -detector_abs inf",  # inf (or 0) switches the thickness off
    "-detector_thick 300 -detector_abs 0",
    "-detector_thick 0",
])
def test_thin_detector(extra):
    assert sensor_model(config_of(extra).detector) is None


def test_bad_values_are_one_line_errors():
    with pytest.raises(ConfigError, match="-detector_thick"):
        config_of("-detector_thick -5")
    with pytest.raises(ConfigError, match="-detector_abs"):
        config_of("-detector_abs thick")


def model_pixel(config: Config, slow: int, fast: int) -> float:
    """One pixel of a thick MOSFLM detector from the brief's formulas (cubic cell, K = 0)."""
    det = config.detector
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    g = detector_geometry(det, state)
    pix0, fdet, sdet, odet = (v.numpy() for v in (g.pix0, g.fdet, g.sdet, g.odet))
    sensor = sensor_model(det)
    incident = np.array([1.0, 0.0, 0.0])
    cell = np.eye(3) * 100e-10
    wavelength = 1e-10
    pixel = det.pixel_mm * 1e-3
    total = 0.0
    directions = []
    for layer in range(sensor.layers):
        r = (pix0 + (fast + 0.5) * pixel * fdet + (slow + 0.5) * pixel * sdet
             + layer * sensor.step * odet)
        d = r / np.linalg.norm(r)
        directions.append((np.linalg.norm(r), d))
        hkl = cell @ ((d - incident) / wavelength)
        lattice = np.prod([math.sin(5 * math.pi * x) / math.sin(math.pi * x) for x in hkl])
        total += 100.0**2 * lattice**2
    distance0, d0 = directions[0]
    omega = pixel**2 * float(g.close) / distance0**3
    polar = 0.5 * (1 + (incident @ d0) ** 2)
    rho = directions[-1][1] @ odet
    last = sensor.layers - 1
    capture = (math.exp(-last * sensor.step * sensor.mu / rho)
               - math.exp(-(last + 1) * sensor.step * sensor.mu / rho))
    return R_E_SQUARED_M2 * DEFAULT_FLUENCE * total * polar * omega * capture


@pytest.mark.parametrize("extra", ["-detector_thick 300 -detector_thicksteps 3",
                                   "-detector_thick 450 -detector_abs 120"])
def test_pixels_match_the_layer_model(extra):
    config = config_of(extra)
    image = simulate(config)
    for slow, fast in ((0, 0), (3, 11), (8, 8), (15, 2), (12, 14)):
        assert float(image[slow, fast]) == pytest.approx(model_pixel(config, slow, fast),
                                                         rel=1e-11)


def test_absorption_off_after_thickness_gives_the_thin_image():
    thin = simulate(config_of(""))
    assert torch.equal(simulate(config_of("-detector_thick 300 -detector_abs inf")), thin)
    assert float(simulate(config_of("-detector_abs inf -detector_thick 300")).abs().max()) == 0


def test_thickness_keeps_geometry_gradients():
    config = config_of("-detector_thick 300")
    distance = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
    image = simulate(config, {"distance_mm": distance})
    (grad,) = torch.autograd.grad(image.sum(), distance)
    assert torch.isfinite(grad) and float(grad) != 0.0
