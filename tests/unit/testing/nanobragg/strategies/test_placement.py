"""Placing a non-zero Bragg reflection on a small detector (the strategies' ``reflection`` mode):
the spot is where the placement says, for every convention and pivot."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import Config, simulate
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.testing.nanobragg.strategies.placement import (
    direct_beam_on_detector,
    place_on_ray,
    reflection_near,
    scattering_angle_deg,
)

CRYSTAL = CrystalConfig(cell_a=70.0, cell_b=90.0, cell_c=110.0, cell_alpha=80.0,
                        cell_beta=100.0, cell_gamma=95.0, misset_rot_x=20.0,
                        misset_rot_y=-35.0, misset_rot_z=50.0, n_a=8, n_b=8, n_c=8)


@pytest.mark.parametrize(("convention", "pivot"), [
    ("mosflm", None), ("mosflm", "sample"), ("xds", None), ("dials", "beam"), ("adxv", None),
    ("denzo", None), ("custom", None)])
def test_the_reflection_lands_where_placed(convention, pivot):
    beam = BeamConfig(lambda_A=1.0)
    reflection = reflection_near(CRYSTAL, beam, convention, 25.0, 70.0)
    assert reflection is not None and any(reflection.hkl)
    assert abs(reflection.two_theta_deg - 25.0) < 3.0
    assert 0.5 <= reflection.lambda_A <= 2.0
    beam = BeamConfig(lambda_A=reflection.lambda_A)
    pixel, edge = 0.05, 21
    det = DetectorConfig(convention=convention, pivot=pivot, fpixels=edge, spixels=edge,
                         pixel_mm=pixel, oversample=1, detector_rotx_deg=3.0,
                         twotheta_deg=5.0)
    config = place_on_ray(Config(crystal=CRYSTAL, beam=beam, detector=det),
                          reflection.direction, 10.5 * pixel, 10.5 * pixel)
    assert config is not None
    image = simulate(config)
    slow, fast = divmod(int(torch.argmax(image)), edge)
    assert max(abs(slow - 10), abs(fast - 10)) <= 1, (slow, fast)
    assert not direct_beam_on_detector(config)
    assert scattering_angle_deg(config) == pytest.approx(reflection.two_theta_deg, abs=0.5)


def test_the_direct_beam_is_on_the_baseline_detector():
    config = Config(detector=DetectorConfig(fpixels=16, spixels=16))
    assert direct_beam_on_detector(config)
    assert scattering_angle_deg(config) < 1.0
    assert math.isfinite(scattering_angle_deg(config))
