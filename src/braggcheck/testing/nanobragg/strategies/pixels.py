"""Hypothesis draws of the per-pixel features (:mod:`braggcheck.sim.pixel_features`): the water
background, the curved detector and the per-subpixel factors, and their coverage regions.

Each draw shrinks to the feature being off. The features are drawn as one choice among
"none" (most often, so the fused kernels keep most examples), one feature, or all of them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS
from braggcheck.testing.framework import strategy_cache as cst

CURVED_CONVENTIONS = ("mosflm", "denzo", "custom")
"""Conventions whose beam runs along lab x (the drawn custom detectors included): the curved
detector rotates by the lab y/z of each pixel, so only there does the spot stay in place."""
FEATURE_CHOICES = ("none", "none", "none", "curved", "thick", "polar", "omega", "all")
"""Shrinks to "none"; "none" thrice so that most examples keep the fused kernels."""


def water_sizes() -> st.SearchStrategy[float]:
    """No water (the baseline) or a thickness over the registry's typical range."""
    low, high = PARAMETERS["water_size_um"].typical_range
    return cst.one_of(cst.just(0.0), cst.just(0.0), cst.floats(low, high))


@st.composite
def pixel_feature_fields(draw: st.DrawFn, convention: str, thick_sensor: bool,
                         point_pixel: bool) -> dict:
    """DetectorConfig fields of the curved detector and the per-subpixel factors.

    -oversample_thick only with a thick sensor (on a thin one the reference's image is 0);
    -oversample_omega not with point pixels (1/r^2 ~ 100 per sample overflows to inf)."""
    choice = draw(cst.sampled_from(FEATURE_CHOICES))
    every = choice == "all"
    return {
        "curved_detector": (every or choice == "curved") and convention in CURVED_CONVENTIONS,
        "oversample_thick": (every or choice == "thick") and thick_sensor,
        "oversample_polar": every or choice == "polar",
        "oversample_omega": (every or choice == "omega") and not point_pixel,
    }


@st.composite
def oracle_feature_words(draw: st.DrawFn, thick_sensor: bool, point_pixel: bool
                         ) -> list[str]:
    """Flags of the per-pixel features for the differential oracle, each present in about a
    quarter of the examples (shrinking to absent), any convention; -oversample_thick mostly
    with a thick sensor (on a thin one both programs give a black image). No
    -oversample_omega with point pixels: 1/r^2 (~100 per metre^-2) multiplies the running sum
    once per sample, and the reference's float32 file overflows to inf."""
    words: list[str] = []
    if draw(cst.integers(0, 3)) == 3:
        words += ["-water", repr(draw(cst.floats(0.001, 0.05)))]
    switches = ("-curved_det", "-oversample_polar") if point_pixel else (
        "-curved_det", "-oversample_polar", "-oversample_omega")
    for flag in switches:
        if draw(cst.integers(0, 3)) == 3:
            words.append(flag)
    if draw(cst.integers(0, 3 if thick_sensor else 15)) == 3:
        words.append("-oversample_thick")
    return words


BAD_FLAG_VALUES: dict[str, list[str]] = {
    "-water": ["-1", "-0.001"],
    "-printout_pixel": ["8 0", "0 8", "3 -1"],
    "-stol": ["/nonexistent/file.stol", "."],
    "-4stol": ["/nonexistent/file.stol"],
}
"""Bad values of the per-pixel and no-op flags, for the invalid-input properties (the 8x8
detector of ``invalid_strategies.VALID_ARGS``)."""


def without_pixel_features(config: Config) -> Config:
    """``config`` without water, curved detector and per-subpixel factors: what the exact
    forward relations (superposition of steps, independent solid angle and polarization,
    closed-form spot values) are checked on. The features break those relations by design
    (the running sum of -oversample_*, the background divided by the step count, the curved
    positions), as the reference does; their own physics is checked against the reference
    images and in tests/unit/test_pixel_features.py."""
    det = config.detector
    if not (float(config.crystal.water_size_um) or det.curved_detector or det.oversample_thick
            or det.oversample_polar or det.oversample_omega):
        return config
    return config.replace(water_size_um=0.0, curved_detector=False, oversample_thick=False,
                          oversample_polar=False, oversample_omega=False)
