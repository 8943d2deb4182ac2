"""Putting a Bragg reflection on a small detector, for the property-test strategies.

The strategies' default geometry holds the direct beam (the 000 reflection). This module finds a
*non-zero* reflection in exact diffraction condition near a wanted scattering direction, and
places the detector so that the reflection lands where wanted on it, far from the beam. It
uses the simulator's own crystal orientation and detector placement, so the spot is where the
simulator puts it (whatever the convention, pivot and rotations).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch

from braggcheck.sim.config import Config
from braggcheck.sim.constants import MM
from braggcheck.sim.detector import FRAMES, detector_geometry, effective_pivot
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.scene import build_scene
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.sim.state import build_state
from braggcheck.util.errors import ConfigError

R = TypeVar("R")

ANGSTROM_M = 1e-10
MIN_OBLIQUITY = 0.5
"""The diffracted ray must meet the detector plane at most 60 degrees from its normal."""


def memoized(function: Callable[..., R]) -> Callable[..., R]:
    """``function`` with its latest results kept, for pure functions of configuration sections.

    Hypothesis redraws the same sections many times (mutations of earlier examples, shrinking,
    stored examples replayed by every property) and each placement builds torch state. The
    results are shared: callers only read them. The key holds the arguments' repr too, so that
    -0.0 and 0.0 (equal, and hashed alike) are told apart; unhashable arguments are computed
    anew. Only for code no test monkeypatches (the planted-bug tests patch scene functions: a
    result kept from under a patch would outlive it)."""

    @functools.lru_cache(maxsize=512)
    def cached(args: tuple, text: str) -> R:
        return function(*args)

    @functools.wraps(function)
    def call(*args):
        try:
            hash(args)
        except TypeError:
            return function(*args)
        return cached(args, repr(args))

    return call


@dataclass(frozen=True)
class Reflection:
    hkl: tuple[int, int, int]
    lambda_A: float
    """The wavelength that puts ``hkl`` exactly on the Ewald sphere."""
    direction: tuple[float, float, float]
    """Unit diffracted-ray direction."""
    two_theta_deg: float


def _orientation_A(crystal: CrystalConfig, beam: BeamConfig) -> torch.Tensor:
    """Real basis vectors (rows a, b, c, in A) of the first orientation the simulator uses
    (phi step 0, mosaic domain 0)."""
    config = Config(crystal=crystal, beam=beam,
                    detector=DetectorConfig(fpixels=1, spixels=1, oversample=1))
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state, torch.float64)
    return scene.orientations[0] / ANGSTROM_M


def beam_direction(convention: str, beam: BeamConfig) -> torch.Tensor:
    vector = beam.beam_vector or FRAMES[convention].beam
    b = torch.tensor([float(x) for x in vector], dtype=torch.float64)
    return b / torch.linalg.norm(b)


def reflection_near(crystal: CrystalConfig, beam: BeamConfig, convention: str,
                    two_theta_deg: float, azimuth_deg: float) -> Reflection | None:
    """The reflection nearest to the ray at ``two_theta_deg`` / ``azimuth_deg`` from the beam,
    with the wavelength (near ``beam.lambda_A``) that puts it exactly in diffraction condition;
    None when there is none in the registry's wavelength range."""
    real = _orientation_A(crystal, beam)
    b = beam_direction(convention, beam)
    helper = torch.tensor([0.0, 1.0, 0.0] if abs(float(b[1])) < 0.9 else [1.0, 0.0, 0.0],
                          dtype=torch.float64)
    e1 = torch.linalg.cross(b, helper)
    e1 = e1 / torch.linalg.norm(e1)
    e2 = torch.linalg.cross(b, e1)
    tt, az = math.radians(two_theta_deg), math.radians(azimuth_deg)
    wanted = math.cos(tt) * b + math.sin(tt) * (math.cos(az) * e1 + math.sin(az) * e2)
    q_wanted = (wanted - b) / float(beam.lambda_A)  # scattering vector, 1/A
    hkl = torch.round(real @ q_wanted)
    if not bool(hkl.abs().sum() > 0):
        return None
    q = torch.linalg.solve(real, hkl)
    along = float(b @ q)
    if along >= 0:
        return None
    wavelength = -2 * along / float(q @ q)
    low, high = PARAMETERS["lambda_A"].typical_range
    if not low <= wavelength <= high:
        return None
    direction = b + wavelength * q
    direction = direction / torch.linalg.norm(direction)
    two_theta = math.degrees(math.acos(max(-1.0, min(1.0, float(direction @ b)))))
    return Reflection(tuple(int(x) for x in hkl.tolist()), wavelength,
                      tuple(direction.tolist()), two_theta)


@memoized  # detector placement only: no test monkeypatches it (scene functions they do patch)
def _geometry(config: Config):
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        return detector_geometry(config.detector, state, config.beam.beam_vector,
                                 config.beam.polar_vector)


def ray_hit(config: Config, direction: tuple[float, float, float] | torch.Tensor
            ) -> tuple[float, float, float] | None:
    """(fast mm, slow mm from pixel (0, 0)'s corner, sample-to-plane length mm) where the ray
    from the sample along ``direction`` meets the detector; None when it meets the plane more
    than 60 degrees from its normal (or not at all)."""
    geometry = _geometry(config)
    d = torch.as_tensor(direction, dtype=torch.float64)
    d = d / torch.linalg.norm(d)
    cosine = float(d @ geometry.odet)
    if cosine < MIN_OBLIQUITY:
        return None
    length = float(geometry.pix0 @ geometry.odet) / cosine
    hit = d * length - geometry.pix0
    return (float(hit @ geometry.fdet) / MM, float(hit @ geometry.sdet) / MM, length / MM)


def ray_distance_mm(config: Config, direction: tuple[float, float, float]) -> float | None:
    """Sample-to-plane length along ``direction`` (None: too oblique, see :func:`ray_hit`)."""
    hit = ray_hit(config, direction)
    return None if hit is None else hit[2]


def place_on_ray(config: Config, direction: tuple[float, float, float], fast_mm: float,
                 slow_mm: float) -> Config | None:
    """``config`` with its detector shifted in its own plane (beam centre for the BEAM pivot,
    ORGX/ORGY for the SAMPLE pivot) so that ``direction`` meets it at (fast_mm, slow_mm) from
    pixel (0, 0)'s corner; None when the ray meets the plane too obliquely."""
    sample = effective_pivot(config.detector) == "sample"
    names = ("close_f_mm", "close_s_mm") if sample else ("beam_center_f_mm", "beam_center_s_mm")
    try:
        zeroed = config.replace(**{n: 0.0 for n in names})
        hit = ray_hit(zeroed, direction)
        if hit is None:
            return None
        # Both offsets enter pix0 linearly (-offset x the rotated axis), so they shift the
        # ray's position on the detector by exactly their value.
        return config.replace(**{names[0]: fast_mm - hit[0], names[1]: slow_mm - hit[1]})
    except ConfigError:
        return None


def scattering_angle_deg(config: Config) -> float:
    """Angle between the beam and the ray to the detector's centre, in degrees."""
    geometry = _geometry(config)
    det = config.detector
    centre = (geometry.pix0 + geometry.fdet * (det.fpixels * geometry.pixel / 2)
              + geometry.sdet * (det.spixels * geometry.pixel / 2))
    cosine = float(centre @ geometry.beam / torch.linalg.norm(centre))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def direct_beam_on_detector(config: Config) -> bool:
    """Whether the undeviated beam meets the detector inside its area."""
    det = config.detector
    hit = ray_hit(config, beam_direction(det.convention, config.beam))
    if hit is None:
        return False
    return (0 <= hit[0] <= det.fpixels * det.pixel_mm
            and 0 <= hit[1] <= det.spixels * det.pixel_mm)
