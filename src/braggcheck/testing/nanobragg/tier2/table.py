"""The Tier-2 gradient table: deterministic float64 gradchecks for every registry parameter.

Like PyTorch's OpInfo database, one declarative table drives the tests (``tests/gradcheck``),
the report (``braggcheck report``) and the coverage audit; the machinery is the target-generic
:mod:`braggcheck.testing.framework.table`, run on the nanoBragg target. A :class:`GradcheckCase`
names a
registry parameter, the small :class:`Setup` it runs on (a 24x24-pixel window of the spec
baseline placed over Bragg spots) and the relative finite-difference step (torch's eps 1e-6,
relative through the registry scale, unless a case says why not). Tolerances are not chosen:
each comparison's is measured (:func:`measured_tolerances`) from the finite-difference error
estimate, the spread between steps h and 2h plus 10x the measured rounding noise, so a gradient
off by far less than torch's rtol of 1e-3 fails. Adding a registry parameter without a row here
makes the coverage test fail and name it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from types import MappingProxyType
from typing import Any

import torch

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.sim.amplitudes import STRUCTURE_FACTORS
from braggcheck.sim.config import Config
from braggcheck.sim.parameter import Parameter
from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS
from braggcheck.testing.framework import table
from braggcheck.testing.framework.table import (
    TableCase,
)
from braggcheck.testing.framework.target import Target
from braggcheck.testing.nanobragg.strategies.hkl import reached_indices
from braggcheck.testing.nanobragg.strategies.hkl_tables import random_table
from braggcheck.testing.nanobragg.target import NANOBRAGG, GradientProbe
from braggcheck.testing.nanobragg.tier2.vectors import VECTOR_CASES, VectorCase

DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-3
"""torch.autograd.gradcheck's defaults. They are no longer used: with rtol 1e-3 a gradient
6e-4 off passes where the right one agrees with the differences to 1e-9. They stay in the
report as the point of comparison."""

SPEC_FLAGS = ("-cell 100 100 100 90 90 90 -N 5 -lambda 1 -distance 100 -pixel 0.1 "
              "-detpixels 24 -default_F 100 -mosflm")
"""The spec baseline on a 24x24 detector; ``-default_F 100`` so the image is not blank."""


@dataclass(frozen=True)
class Setup:
    """A small configuration: nanoBragg flags plus registry values set exactly (by name)."""

    name: str
    summary: str
    flags: str = SPEC_FLAGS
    values: tuple[tuple[str, Any], ...] = ()

    def config(self) -> Config:
        return _config(self.flags, self.values)


@cache
def _config(flags: str, values: tuple[tuple[str, Any], ...]) -> Config:
    return parse_nanobragg_args(flags).config.replace(**dict(values))


DIRECT_BEAM_MM = 1.225
"""Beam centre at the centre of subpixel (0, 0) of pixel (12, 12) (0.1 mm pixels, oversample
2: centres at 0.025 + 0.05 k mm), so one sample sits on the direct beam at h = k = l = 0."""

SETUPS: dict[str, Setup] = {s.name: s for s in (
    Setup("direct", "spec baseline (90 deg angles, zero misset); the window is centred on the "
          "direct beam, which hits a subpixel centre: a sample at exact integer h",
          SPEC_FLAGS + " -oversample 2",
          (("beam_center_f_mm", DIRECT_BEAM_MM), ("beam_center_s_mm", DIRECT_BEAM_MM))),
    Setup("spots", "spec baseline; the window sits 4-6.4 mm off the beam over the (0 k l) "
          "spots with k, l = 4..6", values=(("beam_center_f_mm", -4.0),
                                            ("beam_center_s_mm", -4.0))),
    Setup("misset89", "spec baseline with misset (89, 0, 0), the 89-degree pin; window "
          "4-6.4 mm off the beam", SPEC_FLAGS + " -misset 89 0 0",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("triclinic", "triclinic cell 70 80 90 75 85 95 with misset (10, 20, 30); window on "
          "the direct beam", SPEC_FLAGS.replace("100 100 100 90 90 90", "70 80 90 75 85 95")
          + " -misset 10 20 30",
          (("beam_center_f_mm", DIRECT_BEAM_MM), ("beam_center_s_mm", DIRECT_BEAM_MM))),
    Setup("mosaic", "spec baseline with mosaic spread 0.5 deg over 10 domains; window 10 mm "
          "off the beam, where a domain tilt moves spots by a pixel",
          SPEC_FLAGS + " -mosaic 0.5 -mosaic_dom 10",
          (("beam_center_f_mm", -10.0), ("beam_center_s_mm", -10.0))),
    Setup("tilted", "detector rotated (5, 4, 3) deg and swung 10 deg in two-theta; window "
          "20 mm off the beam", SPEC_FLAGS + " -detector_rotx 5 -detector_roty 4 "
          "-detector_rotz 3 -twotheta 10",
          (("beam_center_f_mm", -20.0), ("beam_center_s_mm", -20.0))),
    Setup("wide", "Kahn factor 0.9; window 30 mm off the beam (2theta ~ 17 deg), where "
          "polarization matters", SPEC_FLAGS + " -polar 0.9",
          (("beam_center_f_mm", -30.0), ("beam_center_s_mm", -1.0))),
    Setup("divergent", "spec baseline with misset (10, 20, 30) and a 2 mrad divergence grid "
          "of 3 x 3 steps (5 sources kept); window on the direct beam",
          SPEC_FLAGS + " -misset 10 20 30 -divergence 2 -divsteps 3"),
    Setup("dispersive", "spec baseline with misset (10, 20, 30) and a 2 % wavelength spread "
          "in 3 steps; window on the direct beam",
          SPEC_FLAGS + " -misset 10 20 30 -dispersion 2 -dispsteps 3"),
    Setup("water", "spec baseline with 0.02 um of water (a background ~7 % of the spot "
          "peaks); window 4-6.4 mm off the beam over spots", SPEC_FLAGS + " -water 0.02",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("curved", "curved detector (-curved_det) with 0.02 um of water; window 4-6.4 mm off "
          "the beam over spots", SPEC_FLAGS + " -curved_det -water 0.02",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("per_subpixel", "per-subpixel capture fraction and polarization "
          "(-oversample_thick/_polar, 100 um sensor, Kahn 0.9, oversample 2) with 0.02 um of "
          "water; window 30 mm off the beam",
          SPEC_FLAGS + " -oversample 2 -oversample_thick -oversample_polar -detector_thick 100 "
          "-polar 0.9 -water 0.02",
          (("beam_center_f_mm", -30.0), ("beam_center_s_mm", -1.0))),
    Setup("omega", "per-subpixel solid angle (-oversample_omega, oversample 2): each sample "
          "multiplies the running sum by ~1e-6, so the last subpixel dominates; window 4-6.4 mm "
          "off the beam over spots", SPEC_FLAGS + " -oversample 2 -oversample_omega",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("round", "round crystal (-round_xtal) over the (0 k l) spots of the spec baseline, "
          "window 4-6.4 mm off the beam: N enters through the spot width and the volume",
          SPEC_FLAGS + " -round_xtal",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("thick", "a 200 um sensor with a 300 um attenuation length in 3 layers; window 20 mm "
          "off the beam, where the parallax and the obliquity of the capture matter",
          SPEC_FLAGS + " -detector_thick 200 -detector_abs 300 -detector_thicksteps 3",
          (("beam_center_f_mm", -20.0), ("beam_center_s_mm", -20.0))),
    Setup("joint", "everything active at once for the Taylor test: triclinic cell, misset, "
          "mosaic, phi, tilted detector, polarization, divergence, dispersion, N 5 x 4 x 6, "
          "thick sensor, water",
          SPEC_FLAGS.replace("100 100 100 90 90 90", "70 80 90 75 85 95")
          + " -misset 10 20 30 -mosaic 0.5 -mosaic_dom 4 -phi 3 -detector_rotx 2 "
          "-detector_roty 3 -detector_rotz 4 -twotheta 5 -polar 0.9 -divergence 1 "
          "-divsteps 2 -dispersion 1 -dispsteps 2 -Na 5 -Nb 4 -Nc 6 -detector_thick 100 "
          "-detector_abs 150 -water 0.05",
          (("beam_center_f_mm", -8.0), ("beam_center_s_mm", -6.0))),
)}

def setup_config(name: str) -> Config:
    """The configuration of setup ``name`` (made once)."""
    return SETUPS[name].config()


SETUP_CONFIGS: Mapping[str, Callable[[], Config]] = MappingProxyType(
    {name: partial(setup_config, name) for name in SETUPS})


@dataclass(frozen=True)
class GradcheckCase(TableCase):
    """One deterministic gradcheck of the nanoBragg target on one of :data:`SETUPS`."""

    target: Target = field(default=NANOBRAGG, kw_only=True)
    setups: Mapping[str, Callable[[], Any]] = field(
        default_factory=lambda: SETUP_CONFIGS, kw_only=True, compare=False, repr=False)


@cache
def _probe(setup: str, parameters: tuple[str, ...], seed: int) -> GradientProbe:
    return GradientProbe(SETUPS[setup].config(), parameters, weight_seed=seed)


def case(parameter: str, setup: str, **kw: Any) -> GradcheckCase:
    return GradcheckCase((parameter,), setup, **kw)


CASES: tuple[GradcheckCase, ...] = (
    # Canonical pins (spec): the 89-degree misset, wavelength, fluence, cell, detector, mosaic.
    case("misset_rot_x", "misset89"),
    case("lambda_A", "direct"),
    case("fluence", "direct"),
    case("cell_a", "spots"),  # a* lies along the beam: on the direct window dL/da is tiny
    case("cell_gamma", "direct"),  # exact 90 degrees
    case("distance_mm", "direct"),
    case("beam_center_f_mm", "direct"),
    case("mosaic_spread_deg", "mosaic"),
    # Exact 90-degree angles and zero misset, with a sample on the direct beam (h = 0).
    case("cell_b", "direct"),
    case("cell_c", "direct"),
    case("cell_alpha", "direct"),
    case("cell_beta", "direct"),
    case("misset_rot_x", "direct"),  # zero misset, a symmetric point: d2L/dx2 is only ~5e-4
    case("beam_center_s_mm", "direct"),
    case("misset_rot_y", "spots"),
    case("misset_rot_z", "spots"),
    case("phi_start_deg", "spots"),
    case("detector_rotx_deg", "spots"),
    # Generic points: triclinic cell with misset, tilted detector, high angle.
    *(case(f"cell_{n}", "triclinic") for n in ("a", "b", "c", "alpha", "beta", "gamma")),
    case("misset_rot_y", "misset89"),
    case("misset_rot_z", "misset89"),
    case("distance_mm", "tilted"),
    case("beam_center_f_mm", "tilted"),
    case("beam_center_s_mm", "tilted"),
    *(case(f"detector_rot{a}_deg", "tilted") for a in "xyz"),
    case("twotheta_deg", "tilted"),
    case("lambda_A", "wide"),
    case("polarization", "wide"),
    # Source grid: the grid shape is fixed, its extent is the parameter.
    case("divergence_mrad", "divergent"),
    case("dispersion", "dispersive"),  # dL/d(dispersion) is only ~4e-5 here
    # Per-pixel features (braggcheck.sim.pixel_features): the water background (cubic in its
    # thickness, quadratic in fluence), the curved detector's dependence on distance and beam
    # centre, and the running-sum factors of -oversample_thick/_polar/_omega.
    case("water_size_um", "water"),
    case("fluence", "water"),
    case("water_size_um", "curved"),
    case("distance_mm", "curved"),
    case("beam_center_f_mm", "curved"),
    case("beam_center_s_mm", "curved"),
    case("water_size_um", "per_subpixel"),
    case("polarization", "per_subpixel"),
    case("distance_mm", "per_subpixel"),
    case("beam_center_f_mm", "per_subpixel"),
    case("lambda_A", "per_subpixel"),
    case("distance_mm", "omega"),
    case("beam_center_s_mm", "omega"),
    # Crystal size: at the removable singularity (a sample at integer h), over spots, at a
    # generic triclinic point and for the round crystal (N in the width and the volume).
    case("n_a", "direct"),
    case("n_b", "spots"),
    case("n_c", "triclinic"),
    case("n_a", "round"),
    # Sensor: thickness (parallax and capture depth) and attenuation length (capture).
    case("sensor_thickness_um", "thick"),
    case("sensor_attenuation_um", "thick"),
)


CANONICAL_PINS: dict[str, str] = {
    "misset_rot_x": "misset89", "lambda_A": "direct", "fluence": "direct", "cell_a": "spots",
    "cell_gamma": "direct", "distance_mm": "direct", "beam_center_f_mm": "direct",
    "mosaic_spread_deg": "mosaic",
}
"""The spec's pins: parameter -> setup of its case (the 89-degree misset among them)."""


def missing_parameters(cases: tuple[GradcheckCase, ...] = CASES,
                       registry: Mapping[str, Parameter] | None = None,
                       vector_cases: tuple[VectorCase, ...] = VECTOR_CASES) -> list[str]:
    """Registry parameters, scalar and vector, that no case checks (the coverage test demands
    none); the vector parameters' rows live in :mod:`braggcheck.testing.nanobragg.tier2.vectors`."""
    registry = {**PARAMETERS, **VECTOR_PARAMETERS} if registry is None else registry
    missing = table.missing_parameters(cases, registry)
    covered = {c.parameter for c in vector_cases}
    return [name for name in missing if name not in covered]


# ---- checks shared by the tests and the report ----

@dataclass(frozen=True)
class JointProbe(GradientProbe):
    """The Taylor test's probe: every scalar registry parameter plus every entry of the
    vector parameter ``structure_factors`` (scaled by its registry scale), in one vector x:
    the scalars first, the table's amplitudes after them, in the table's order."""

    def _vector_scale(self) -> float:
        return VECTOR_PARAMETERS[STRUCTURE_FACTORS].scale

    def vector_size(self) -> int:
        return len(self.config.crystal.hkl.reflection_amplitudes())

    def point(self) -> torch.Tensor:
        amplitudes = torch.tensor(self.config.crystal.hkl.reflection_amplitudes(),
                                  dtype=torch.float64)
        return torch.cat([super().point(), amplitudes / self._vector_scale()])

    def params(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        count = len(self.names)
        params = super().params(x[:count])
        params[STRUCTURE_FACTORS] = x[count:] * self._vector_scale()
        return params


BALANCE_STEP = 1e-4
"""Central-difference step (scaled units) that measures each block's slope for the balance."""


def _block_slope(probe: JointProbe, block: torch.Tensor) -> float:
    """Central difference of the loss along ``block``: a slope measured without the gradient
    under test (for the amplitudes it is exact: the image is quadratic in F)."""
    x = probe.point()
    with torch.no_grad():
        plus = probe.loss(x + BALANCE_STEP * block)
        minus = probe.loss(x - BALANCE_STEP * block)
    return float(plus - minus) / (2 * BALANCE_STEP)


def joint_direction(probe: JointProbe, seed: int = 0) -> torch.Tensor:
    """A fixed random direction in the scaled space of ``probe``: a unit vector over the
    scalars plus an amplitude block balanced against it. The amplitudes' gradient is ~300x
    smaller than the geometry's, so a plain random direction would leave F 1e-5 of the slope
    and a wrong F gradient unseen. The amplitude
    block (random over every reflection) is rescaled, by finite differences, so that it adds
    as much slope as the scalar block, with the same sign (no cancellation)."""
    generator = torch.Generator().manual_seed(seed)
    scalars = torch.randn(len(probe.names), generator=generator, dtype=torch.float64)
    scalars = scalars / torch.linalg.norm(scalars)
    amplitudes = torch.randn(probe.vector_size(), generator=generator, dtype=torch.float64)
    scalar_block = torch.cat([scalars, torch.zeros_like(amplitudes)])
    amplitude_block = torch.cat([torch.zeros_like(scalars), amplitudes])
    scalar_slope = _block_slope(probe, scalar_block)
    amplitude_slope = _block_slope(probe, amplitude_block)
    if amplitude_slope == 0:
        raise ValueError("the loss does not depend on the structure factors: no spot of a "
                         "table reflection on the joint window")
    return scalar_block + (scalar_slope / amplitude_slope) * amplitude_block


def joint_parameters() -> tuple[str, ...]:
    """Every scalar registry parameter: the Taylor test moves them all at once (and every
    structure factor, :class:`JointProbe`)."""
    return tuple(PARAMETERS)


@cache
def joint_config() -> Config:
    """The ``joint`` setup with a 60 %-dense table over every Miller index its window reaches
    (fill 30) and tricubic interpolation: interpolated F is continuous in h, so moving the cell,
    orientation and wavelength keeps the loss smooth enough for rate 2 (nearest-reflection F
    jumps where a sample crosses h = n + 1/2, and the remainder would fall at rate 1)."""
    config = SETUPS["joint"].config()
    low, high = reached_indices(config)
    table = random_table(low, high, seed=13, density=0.6, fill=30.0)
    return config.replace(hkl=table, default_F=0.0, interpolate=True)


@cache
def joint_probe() -> JointProbe:
    return JointProbe(joint_config(), joint_parameters(), weight_seed=0)


TAYLOR_SEED = 0
