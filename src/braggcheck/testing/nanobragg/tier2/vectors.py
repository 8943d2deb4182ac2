"""Tier-2 rows of the vector parameters: deterministic float64 checks along fixed directions.

A vector parameter has too many entries for torch's gradcheck (two images per entry), so its
row checks directional derivatives (:mod:`braggcheck.testing.nanobragg.vector_gradients`): a fixed
random direction and one-hot directions on the brightest reflections of the window, each
against central differences with the measured error bound, forward mode against reverse
mode, and double backward against the exact second difference (the image is quadratic in F).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.sim.amplitudes import STRUCTURE_FACTORS
from braggcheck.sim.config import Config
from braggcheck.testing.nanobragg.strategies.hkl_tables import random_table
from braggcheck.testing.nanobragg.vector_gradients import (
    DirectionalResult,
    VectorProbe,
    check_structure_factors,
    reflections_on_detector,
)

WINDOW_FLAGS = ("-cell 100 100 100 90 90 90 -N 5 -lambda 1 -distance 100 -pixel 0.1 "
                "-detpixels 24 -default_F 10 -mosflm -misset 10 20 30")
"""The spec baseline on a 24x24 detector with a generic misset; the table is set separately."""
ONE_HOT = 2
"""One-hot directions on this many reflections on the detector (the brightest first)."""


@dataclass(frozen=True)
class VectorCase:
    """One Tier-2 row of a vector parameter: the window, its table and the direction seed."""

    parameter: str
    setup: str
    summary: str
    interpolate: bool = False
    density: float = 0.6
    fill: float = 30.0
    seed: int = 0

    @property
    def id(self) -> str:
        return f"{self.parameter}@{self.setup}"

    def config(self) -> Config:
        return _config(self.interpolate, self.density, self.fill)

    def run(self) -> list[DirectionalResult]:
        probe = VectorProbe(self.config(), weight_seed=self.seed)
        image = probe.baseline_image()
        brightest = sorted(reflections_on_detector(probe.config, image))[:ONE_HOT]
        return check_structure_factors(probe, self.seed, brightest, second=True)


@cache
def _config(interpolate: bool, density: float, fill: float) -> Config:
    base = parse_nanobragg_args(WINDOW_FLAGS).config.replace(
        beam_center_f_mm=-4.0, beam_center_s_mm=-4.0)
    # The window's Miller indices lie in (-6..-3, -5..-2, 3..6) for this misset
    # (hkl_strategies.reached_indices); the table spans them with a margin of 4, beyond the
    # interpolation stencil's reach.
    table = random_table((-10, -9, -1), (1, 2, 10), seed=11, density=density, fill=fill)
    return base.replace(hkl=table, default_F=0.0, interpolate=interpolate)


VECTOR_CASES: tuple[VectorCase, ...] = (
    VectorCase(STRUCTURE_FACTORS, "table", "a 60 %-dense table with a fill of 30 over a "
               "misset window 4-6.4 mm off the beam; nearest-reflection F"),
    VectorCase(STRUCTURE_FACTORS, "interpolated", "the same window and table with tricubic "
               "interpolation: each sample's F mixes 64 reflections", interpolate=True),
)
