"""Cases held on one side of a discrete branch of the fused gradient path, so the derivative
checks reach it in every example rather than by a joint chance.

:func:`braggcheck.testing.nanobragg.strategies.cases.cases` reaches each branch on its own,
but a gradient check needs several conditions at once (a square crystal with every N <= 16,
no cell count differentiated, no per-subpixel feature, and the branch itself). In a ``ci`` run
of the property suite none of the fused node's 667 evaluations covered more than one chunk, and no
finite-difference gradient check drew a square crystal with N = 2 on an axis, so a wrong stored
derivative there passed (the mutants ``bwd-chunk-slice`` and ``lattice-two-cell-slope``).

The ``dmin_cut`` branch (plain path: a cut is never fused) holds a ``-dmin`` cut across the
detector, placed where no finite-difference step moves a sample across it
(:mod:`braggcheck.testing.nanobragg.strategies.resolution_cut`), with a detector geometry
parameter differentiated: before it, the cut was drawn only for the checks that do not
differentiate, and a wrong polarization derivative under it passed (``dmin-polarization-detached``).
``round_node`` puts a ROUND sample inside the lattice factor's series arm with a cell count
differentiated (:mod:`braggcheck.testing.nanobragg.strategies.round_node`); ``plane_tangent``
gives the fused node's forward mode a tangent on the detector plane and none on pix0.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume
from hypothesis import strategies as st

from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.config import Config
from braggcheck.sim.crystal_size import AXES as CELL_COUNTS
from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS
from braggcheck.sim.sections import CrystalConfig
from braggcheck.testing.framework import strategy_cache as cst
from braggcheck.testing.framework.target import steppable
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.strategies.cases import cases
from braggcheck.testing.nanobragg.strategies.configs import (
    BASELINE_CELLS,
    GRADIENT_SHAPES,
    crystal_configs,
)
from braggcheck.testing.nanobragg.strategies.detector import configs
from braggcheck.testing.nanobragg.strategies.pixels import CURVED_CONVENTIONS
from braggcheck.testing.nanobragg.strategies.resolution_cut import (
    GEOMETRY,
    REACH,
    dmin_for,
    safe_gaps,
    sample_resolutions,
)
from braggcheck.testing.nanobragg.strategies.round_node import ONE_SOURCE, near_node
from braggcheck.testing.nanobragg.target import NANOBRAGG

FUSED_BRANCHES: dict[str, str] = {
    "stored_chunks": "one fused node over several stored chunks (then, with stored_chunks 2, "
                     "recomputed ones)",
    "two_cells": "N = 2 on one axis of the fused lattice (its own first Chebyshev step)",
}
"""Branch id -> what every case of :func:`fused_branch_cases` reaches."""
BRANCHES: dict[str, str] = {
    **FUSED_BRANCHES,
    "dmin_cut": "a -dmin cut with pixels on both sides, no sample within reach of a "
                "finite-difference step, and a detector geometry parameter differentiated",
    "round_node": "a ROUND crystal, a cell count differentiated (the continuous path) and a "
                  "sample inside the lattice factor's series arm near the direct-beam node",
    "plane_tangent": "the fused path with a thick sensor and only sensor_thickness_um "
                     "differentiated: a forward-mode tangent on the detector plane, none on "
                     "pix0",
}
"""Branch id -> what every case of :func:`branch_cases` reaches."""
DMIN_KEPT_SHARE = (0.3, 0.97)
"""The share of samples the dmin_cut branch's cut keeps is drawn near a value in this range."""
STORED_CHUNK_COUNTS = (2, 4)
"""Chunks per detector in the stored-chunks branch: at least two inside the fused node."""
PLAIN_ONLY_FEATURES = ("curved_detector", "oversample_thick", "oversample_polar",
                       "oversample_omega")
"""Detector flags that send the image down the plain path (pixel_features.plain_only)."""


def without_plain_only_features(config: Config) -> Config:
    """``config`` with none of :data:`PLAIN_ONLY_FEATURES`: no per-subpixel feature, no curved
    detector (the fused path, and the per-pixel factors of sim/simulator.py:pixel_factors)."""
    return config.replace(**dict.fromkeys(PLAIN_ONLY_FEATURES, False))
CUT_PATHS: dict[str, str] = {
    "pixel_factors": "no per-subpixel feature: the polarization per pixel at its first kept "
                     "sample, with the solid angle (sim/simulator.py:pixel_factors)",
    "pixel_polarization": "per-subpixel features (curved, thick or omega) but the polarization "
                          "per pixel: taken at its first kept sample "
                          "(sim/pixel_features.py:first_kept_polarization)",
}
"""Path of the dmin_cut branch's image -> what its cases hold. The branch draws one; a general
draw meets per-subpixel features without -oversample_polar in about one case of 16. Each path
by construction: with the detector's features as drawn, the pixel_factors path lost its draws
to the other and a detached polarization there (mutant dmin-polarization-detached) passed."""


@st.composite
def fused_crystals(draw: st.DrawFn, two_cells: bool) -> CrystalConfig:
    """A square crystal with every N <= 16 (the fused lattice); with ``two_cells``, N = 2 on
    one drawn axis and N >= 3 on the others (two axes with N <= 2 leave too little signal:
    :func:`braggcheck.testing.nanobragg.strategies.configs.cell_counts`)."""
    crystal = draw(crystal_configs(("square",)))
    counts = [n if n <= CHEBYSHEV_MAX_CELLS else BASELINE_CELLS
              for n in (crystal.n_a, crystal.n_b, crystal.n_c)]
    if two_cells:
        axis = draw(cst.integers(0, 2))
        counts = [2 if i == axis else max(n, 3) for i, n in enumerate(counts)]
    return replace(crystal, n_a=counts[0], n_b=counts[1], n_c=counts[2])


def fused_configs(two_cells: bool) -> st.SearchStrategy[Config]:
    """Configurations with Bragg signal whose recorded gradient takes the fused path."""
    return configs(("square",), crystal=fused_crystals(two_cells)).map(
        without_plain_only_features)


def evaluated_pixels(config: Config) -> int:
    """Pixels the simulator evaluates: the ROI's, less the masked ones."""
    det = config.detector
    fmin, fmax, smin, smax = det.roi_bounds
    if det.mask is None:
        return (fmax - fmin + 1) * (smax - smin + 1)
    return int(det.mask.kept[smin:smax + 1, fmin:fmax + 1].sum())


def fused_branch_cases(branch: str, max_names: int = 4) -> st.SearchStrategy[Case]:
    """:func:`~braggcheck.testing.nanobragg.strategies.cases.cases` cases on ``branch`` (a key of
    :data:`FUSED_BRANCHES`), with no cell count differentiated (a real-valued N takes the
    plain path) nor any other name that does not reach the image (:func:`unreaching_names`)."""
    if branch not in FUSED_BRANCHES:
        raise ValueError(f"branch {branch!r}: valid: {', '.join(FUSED_BRANCHES)}")
    return _on_branch(branch, max_names)


def branch_cases(branch: str, max_names: int = 4) -> st.SearchStrategy[Case]:
    """Cases on ``branch`` (a key of :data:`BRANCHES`)."""
    if branch == "dmin_cut":
        return resolution_cut_cases(max_names)
    if branch == "round_node":
        return round_node_cases(max_names)
    if branch == "plane_tangent":
        return cases(max_names=1, config=fused_configs(False).filter(
            lambda config: config.detector.sensor_thickness_um > 0)).map(
            lambda case: replace(case, names=("sensor_thickness_um",), direction=(1.0,)))
    if branch not in BRANCHES:
        raise ValueError(f"branch {branch!r}: valid: {', '.join(BRANCHES)}")
    return fused_branch_cases(branch, max_names)


def with_pixel_polarization(config: Config) -> Config | None:
    """``config`` on the :data:`CUT_PATHS` ``pixel_polarization`` path: -oversample_polar off
    and, unless one is on, the first per-subpixel feature its detector allows (the rules of
    :func:`~braggcheck.testing.nanobragg.strategies.pixels.pixel_feature_fields`); None where
    it allows none."""
    det = config.detector
    if det.curved_detector or det.oversample_thick or det.oversample_omega:
        return config.replace(oversample_polar=False)
    allowed = {"oversample_omega": not det.point_pixel,
               "oversample_thick": det.sensor_thickness_um > 0,
               "curved_detector": det.convention in CURVED_CONVENTIONS}
    feature = next((name for name, ok in allowed.items() if ok), None)
    return None if feature is None else config.replace(oversample_polar=False,
                                                       **{feature: True})


def wholly_cut_from(config: Config) -> float:
    """The q above which a cut leaves at least one evaluated pixel without a kept sample: the
    largest over pixels of the smallest q of a pixel's samples (every placement, source)."""
    placements = 2 if config.detector.curved_detector else 1
    q = sample_resolutions(config).reshape(placements, evaluated_pixels(config), -1)
    return float(q.amin((0, 2)).max())


@st.composite
def resolution_cut_cases(draw: st.DrawFn, max_names: int = 4, path: str | None = None) -> Case:
    """:func:`~braggcheck.testing.nanobragg.strategies.cases.cases` cases of the gradient
    shapes with polarization on, a detector geometry parameter differentiated first, and a
    ``-dmin`` cut between the samples' resolutions that keeps every sample
    :data:`~braggcheck.testing.nanobragg.strategies.resolution_cut.MARGIN` times its largest
    move under the check's steps away (:func:`resolution_cut.safe_gaps`): it cuts part of the
    detector, and no point the checks evaluate moves a sample across it. At least one pixel
    keeps a sample and one keeps none (the two arms of the pixel's first kept polarization).

    ``path``: a key of :data:`CUT_PATHS` (default: drawn, shrinking to ``pixel_factors``)."""
    if path is None:
        path = draw(cst.sampled_from(tuple(CUT_PATHS)))
    elif path not in CUT_PATHS:
        raise ValueError(f"path {path!r}: valid: {', '.join(CUT_PATHS)}")
    on_path = configs(GRADIENT_SHAPES).map(lambda config: config.replace(nopolar=False))
    if path == "pixel_polarization":
        on_path = on_path.map(with_pixel_polarization).filter(lambda config: config is not None)
    else:
        on_path = on_path.map(without_plain_only_features)
    case = draw(cases(max_names=max_names, config=on_path))
    config = case.config
    geometry = [n for n in GEOMETRY if n in applicable_parameters(config)
                and steppable(NANOBRAGG, config, n, REACH)]
    assume(geometry)  # every drawn detector has one (distance or a rotation): never rejected
    first = draw(cst.sampled_from(tuple(geometry)))
    drawn = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    kept = [(first, drawn.get(first, 1.0)),
            *((n, d) for n, d in drawn.items()
              if n != first and steppable(NANOBRAGG, config, n, REACH))][:max_names]
    gaps = safe_gaps(config, [n for n, _ in kept])
    if not gaps:  # the other names move the samples too far for a gap: the geometry one alone
        kept = kept[:1]
        gaps = safe_gaps(config, [first])
    # Below the cut, kept; a gap from which one pixel has no sample left keeps one wholly cut
    # (every gap keeps a sample: it has samples below it).
    highest = wholly_cut_from(config)
    gaps = [gap for gap in gaps if gap[1] <= highest]
    assume(gaps)
    # The gap nearest a drawn share of kept samples (the sparse ends of the q range hold
    # most gaps; a cut near the beam would leave too little signal to differentiate).
    share = draw(cst.floats(*DMIN_KEPT_SHARE))
    low, high, _ = min(gaps, key=lambda gap: abs(gap[2] - share))
    config = config.replace(dmin_A=dmin_for(0.5 * (low + high)))
    return replace(case, config=config, names=tuple(n for n, _ in kept),
                   direction=tuple(d for _, d in kept))


@st.composite
def round_node_cases(draw: st.DrawFn, max_names: int = 4) -> Case:
    """:func:`~braggcheck.testing.nanobragg.strategies.cases.cases` cases of a ROUND crystal
    with one source on a flat detector, a drawn cell count differentiated first, and the
    direct beam placed near one sample point of the ROI's middle pixel
    (:func:`braggcheck.testing.nanobragg.strategies.round_node.near_node`)."""
    case = draw(cases(max_names=max_names, config=configs(("round",)).map(
        lambda config: config.replace(**ONE_SOURCE))))
    config = case.config
    first = draw(cst.sampled_from(CELL_COUNTS))
    drawn = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    kept = [(first, drawn.get(first, 1.0)), *((n, d) for n, d in drawn.items() if n != first)]
    kept = kept[:max_names]
    fmin, fmax, smin, smax = config.detector.roi_bounds
    step = config.detector.pixel_mm / config.oversample
    sub_f, sub_s = draw(cst.integers(0, config.oversample - 1)), draw(
        cst.integers(0, config.oversample - 1))
    placed = near_node(config.replace(mask=None),
                       (fmin + fmax) // 2 * config.detector.pixel_mm + (sub_f + 0.5) * step,
                       (smin + smax) // 2 * config.detector.pixel_mm + (sub_s + 0.5) * step)
    assume(placed is not None)
    return replace(case, config=placed, names=tuple(n for n, _ in kept),
                   direction=tuple(d for _, d in kept))


CELL_ANGLES = ("cell_alpha", "cell_beta", "cell_gamma")


def unreaching_names(config: Config) -> set[str]:
    """Names a fused branch case does not differentiate: the cell counts (a real-valued N
    takes the plain path) and, under -mat, the cell angles: the matrix sets the cell's
    directions and they only its volume, which a square crystal's lattice factor never reads
    (sim/crystal.py:cell_basis), so no gradient would reach the fused node."""
    if config.crystal.reciprocal_matrix is None:
        return set(CELL_COUNTS)
    return {*CELL_COUNTS, *CELL_ANGLES}


@st.composite
def _on_branch(draw: st.DrawFn, branch: str, max_names: int) -> Case:
    case = draw(cases(max_names=max_names, config=fused_configs(branch == "two_cells")))
    unreached = unreaching_names(case.config)
    kept = [(n, d) for n, d in zip(case.names, case.direction_tensor().tolist(), strict=True)
            if n not in unreached]
    if not kept:
        kept = [(next(n for n in applicable_parameters(case.config) if n not in unreached),
                 1.0)]
    case = replace(case, names=tuple(n for n, _ in kept), direction=tuple(d for _, d in kept))
    if branch == "stored_chunks":
        pixels = evaluated_pixels(case.config)
        per_chunk = max(1, -(-pixels // draw(cst.integers(*STORED_CHUNK_COUNTS))))
        # None: the default limit stores every chunk; 2: two stored, the rest recomputed.
        case = replace(case, pixels_per_chunk=per_chunk,
                       stored_chunks=draw(cst.sampled_from((None, 2))))
    return case
