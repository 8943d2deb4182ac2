"""Where braggcheck deliberately differs from the reference program: the oracle leaves it out.

``EXCLUDED`` names each region with its reason (docs/geometry.md and docs/properties.md cite it);
``excluded_region`` says which region a configuration is in. The oracle strategy steps out of
each region by construction, and the reference check calls a stored case inside one
inconclusive. tests/properties/test_reference.py shows, with the C program, that each region
really differs and that its neighbourhood agrees.
"""

from __future__ import annotations

import math

import torch

from braggcheck.sim.config import Config
from braggcheck.sim.detector import detector_geometry
from braggcheck.sim.sensor import sensor_model
from braggcheck.sim.state import build_state

EXCLUDED: dict[str, str] = {
    "phi start exactly 0 with several phi steps":
        "the reference program skips the spindle rotation at a phi step whose angle is exactly "
        "0 and reuses the vectors the previous step rotated (docs/geometry.md, Deliberate "
        "deviations); braggcheck rotates every step, so its image is the correct one. With "
        "several phi steps the drawn start is never 0, nor is any later step's angle.",
    "round spot sampled exactly at its lattice point":
        "the reference's ROUND lattice factor 3 (sin x / x - cos x) / x^2 cancels to 0 (or "
        "noise) for 0 < x < ~3e-5, i.e. at a sample point nanometres from the centre of a "
        "spot; braggcheck's series stays exact. A generic draw never lands there, but the "
        "direct beam (the 000 spot) does when it meets a subpixel centre exactly (the default "
        "beam centre on an odd detector, say). Then the oracle moves the beam centre by a "
        "fraction of a subpixel.",
}
"""Regions of the forward space where braggcheck deliberately differs from the reference
program: the oracle strategy never draws them (the docs cite this table)."""



def excluded_region(config: Config) -> str | None:
    """The ``EXCLUDED`` region ``config`` is in, if any (stored cases may be in one)."""
    crystal = config.crystal
    if crystal.phi_steps > 1:
        # The reference's own arithmetic (radians; RTD = 180 / pi) decides which step is 0.
        rtd = 180.0 / math.pi
        start, step = float(crystal.phi_start_deg) / rtd, crystal.phi_step_deg / rtd
        if any(start + step * tic == 0.0 for tic in range(crystal.phi_steps)):
            return "phi start exactly 0 with several phi steps"
    if crystal.shape == "round" and direct_beam_on_a_sample_point(config):
        return "round spot sampled exactly at its lattice point"
    return None


ON_SAMPLE_POINT_MM = 1e-6
"""How close (mm) the direct beam must come to a subpixel centre to count as on it (the
reference's ROUND factor is wrong within ~1e-8 mm at 100 mm; 1e-6 leaves a margin)."""


def direct_beam_on_a_sample_point(config: Config) -> bool:
    """Whether the nominal direct beam meets a subpixel centre of any sensor layer."""

    det = config.detector
    sensor = sensor_model(det)
    depths = [0.0] if sensor is None else [t * sensor.step for t in range(sensor.layers)]
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        g = detector_geometry(det, state, config.beam.beam_vector, config.beam.polar_vector)
    facing = float((g.beam * g.odet).sum())
    if facing == 0:
        return False
    sub = g.pixel / config.oversample
    for depth in depths:
        origin = g.pix0 + g.odet * depth
        hit = g.beam * (float((origin * g.odet).sum()) / facing) - origin
        for axis in (g.fdet, g.sdet):
            position = float((hit * axis).sum()) / sub - 0.5
            if abs(position - round(position)) * sub * 1e3 > ON_SAMPLE_POINT_MM:
                break
        else:
            return True
    return False
