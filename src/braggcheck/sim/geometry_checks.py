"""Checks that need the placed detector, and the automatic oversample (run by Config)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from braggcheck.sim.detector import DetectorGeometry, detector_geometry
from braggcheck.sim.limits import MAX_OVERSAMPLE
from braggcheck.sim.oversample_rule import recommended_oversample
from braggcheck.sim.state import build_state
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import as_float

if TYPE_CHECKING:  # annotations only: the Config module imports this one
    from braggcheck.sim.config import Config

MIN_CLOSE_FRACTION = 1e-6
"""The detector plane must stay this fraction of the given distance away from the sample."""


def auto_oversample(config: Config, geometry: DetectorGeometry) -> int:
    """The reference program's choice: enough subpixels to resolve the crystal's spot size,
    computed with its own operations (:mod:`braggcheck.sim.oversample_rule`), so a value landing
    exactly on an integer rounds as there."""
    crystal = config.crystal
    cell = [as_float(getattr(crystal, f"cell_{x}"))
            for x in ("a", "b", "c", "alpha", "beta", "gamma")]
    misset = [as_float(getattr(crystal, f"misset_rot_{x}")) for x in "xyz"]
    distance = float(geometry.distance.detach())  # negative facing away: then 1 subpixel
    wanted = recommended_oversample(cell, misset, (crystal.n_a, crystal.n_b, crystal.n_c),
                                    as_float(config.beam.lambda_A), distance,
                                    config.detector.pixel_mm)
    if not (wanted <= MAX_OVERSAMPLE and math.isfinite(wanted)):  # inf, nan: extreme geometry
        xtal_max = max(as_float(getattr(crystal, f"cell_{x}")) * getattr(crystal, f"n_{x}")
                       for x in "abc")
        raise ConfigError(
            f"oversample: the automatic choice would be {wanted:.3g} subpixels per pixel edge "
            f"(crystal {xtal_max:g} A, lambda {as_float(config.beam.lambda_A):g} A, "
            f"distance {distance * 1e3:g} mm); valid: <= {MAX_OVERSAMPLE}; give oversample "
            "explicitly"
        )
    return max(1, math.ceil(wanted))


def check_geometry(config: Config, geometry: DetectorGeometry,
                    state: dict[str, torch.Tensor]) -> None:
    """Refuse a detector plane through the sample."""
    det = config.detector
    given = det.close_distance_mm if det.close_distance_mm is not None else state["distance_mm"]
    given_mm = abs(as_float(given))
    close_mm = float(geometry.close.detach()) * 1e3
    if not abs(close_mm) >= MIN_CLOSE_FRACTION * given_mm:
        raise ConfigError(
            f"detector placement: the detector plane passes through the sample (perpendicular "
            f"distance {close_mm:.3g} mm for distance {given_mm:g} mm, rotations x/y/z "
            f"{_deg(state['detector_rotx_deg'])}/{_deg(state['detector_roty_deg'])}/"
            f"{_deg(state['detector_rotz_deg'])} deg, two-theta {_deg(state['twotheta_deg'])} "
            "deg); "
            f"valid: a perpendicular distance >= {MIN_CLOSE_FRACTION:g} x the distance"
        )


def _deg(value: float | torch.Tensor) -> str:
    return f"{as_float(value):g}"


def check_placement(config: Config) -> int:
    """Validate what needs the placed detector and return the oversample to use (Config
    construction runs this, in float64)."""
    with torch.no_grad():  # a check only: build no graph through the config's tensors
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        geometry = detector_geometry(config.detector, state, config.beam.beam_vector,
                                     config.beam.polar_vector)
        check_geometry(config, geometry, state)
        return config.detector.oversample or auto_oversample(config, geometry)
