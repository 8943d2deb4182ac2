"""Hypothesis strategies for valid braggcheck configurations and property-test cases.

Every value is drawn inside the registry's ``typical_range`` (never a constant scattered in a
test) and every draw is ``one_of(just(baseline), ...)`` (or a ``sampled_from`` whose first entry
is the baseline), so a failing example shrinks toward the spec baseline: a 100 A cubic cell,
N = 5, 1 A, 100 mm, 0.1 mm pixels, MOSFLM, a thin detector, the direct beam on a 16x16 detector.
Detectors are small (8 to 24 pixels a side) so an example costs milliseconds, and the geometry
is built so that Bragg signal is always on them
(:mod:`braggcheck.testing.nanobragg.strategies.detector`: the
direct beam, or a non-zero reflection far from it). The code-path regions reached are named in
:data:`braggcheck.testing.nanobragg.coverage.REGIONS`. No filtering beyond non-degenerate cells.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import BeamConfig, CrystalConfig
from braggcheck.testing.framework import strategy_cache as cst
from braggcheck.testing.nanobragg.coverage import SPECIAL_ANGLES
from braggcheck.testing.nanobragg.strategies.inputs import matrix_orientations, with_matrix
from braggcheck.testing.nanobragg.strategies.pixels import water_sizes

T = TypeVar("T")

BASELINE_PIXELS = 16
DETECTOR_PIXELS = (8, 24)
"""Detector edge in pixels: small, so each example is cheap, yet it holds the 000 spot."""
BASELINE_CELLS = int(PARAMETERS["n_a"].baseline)
CELLS = tuple(int(n) for n in PARAMETERS["n_a"].typical_range)
"""Unit cells per axis, the common draws (integers: the configuration's counts; real values
reach the image through ``params``, as the gradient checks pass them)."""
FEW_CELLS = (1, 2)
"""N = 1 (no lattice factor along that axis: sincg is 1) and N = 2 (sincg's and the fused
lattice's own special cases): drawn on one axis at a time, see :func:`cell_counts`."""
MANY_CELLS = (17, 25)
"""N above ``physics.CHEBYSHEV_MAX_CELLS`` = 16: sincg's ratio with its Taylor branch, and the
plain (not fused) gradient path."""
PHI_STEPS = (2, 3)
MAX_MOSAIC_DOMAINS = 4
BEAM_CONVENTIONS = ("mosflm", "denzo", "adxv")
SAMPLE_CONVENTIONS = ("xds", "dials")
CELL_SYSTEMS = ("baseline", "cubic", "orthorhombic", "monoclinic", "triclinic", "triclinic")
"""Triclinic twice: with each shape it is a code-path region of its own (coverage test)."""
MIN_CELL_SHAPE = 0.3
"""Cells with V / abc below this are left out as near-degenerate (V = 0 is a flat cell)."""
SPOT_FRACTION = 0.25
"""The direct-beam spot's half width is kept below this fraction of the detector edge."""
BEAM_POSITION = (0.15, 0.85)
"""Where the direct beam meets the detector, as a fraction of its edge."""
SPOT_SPACING_FRACTION = 0.3
"""GAUSS/TOPHAT spots reach at most this fraction of the closest spot spacing."""
RANKED_PIXELS = 32
"""One-pixel projections pick among this many brightest pixels (shrinking to the brightest)."""
GRADIENT_SHAPES = ("square", "round", "gauss")
"""TOPHAT is a step function (zero gradient almost everywhere), so gradient checks skip it."""
ALL_SHAPES = (*GRADIENT_SHAPES, "tophat")
GRID_STEPS = (2, 3)
"""Steps per axis of a drawn source grid (divergence h and v, dispersion): few, so cheap."""
CHUNKS = (2, 6)
"""Drawn pixel chunks per detector (each chunk costs a kernel call, and with a gradient a
recomputation: many tiny chunks would make an example slow without reaching more code)."""
MAX_STORED_CHUNKS = 2
"""Chunks that keep their autograd state (0: every chunk is recomputed in the backward)."""
MIN_SHIFT_DEG = 1e-3
DIVERGENCE_ASPECT = (0.25, 1.0)
"""Vertical over horizontal divergence range of a drawn grid."""


@functools.cache  # strategies are immutable; building one anew costs
def parameter_values(name: str, low: float | None = None,
                     high: float | None = None) -> st.SearchStrategy[float]:
    """Values of registry parameter ``name`` over its typical range, shrinking to its baseline.

    ``low``/``high`` narrow the range further (geometry limits). Ranges spanning more than three
    decades (fluence) are drawn log-uniformly, or nearly every draw would be of the top decade.
    """
    parameter = PARAMETERS[name]
    lo, hi = parameter.typical_range
    lo = lo if low is None else max(lo, low)
    hi = hi if high is None else min(hi, high)
    if lo > 0 and hi / lo > 1e3:
        drawn = cst.floats(math.log10(lo), math.log10(hi)).map(lambda e: float(10.0**e))
    else:
        drawn = cst.floats(lo, hi, allow_nan=False, allow_infinity=False)
    options = [cst.just(float(parameter.baseline))] if lo <= parameter.baseline <= hi else []
    if parameter.period is not None:
        options.append(cst.sampled_from(tuple(a for a in SPECIAL_ANGLES if lo <= a <= hi)))
    return cst.one_of(*options, drawn)


def angles(name: str) -> st.SearchStrategy[float]:
    """A rotation angle over the registry's range (the full circle for misset and phi)."""
    return parameter_values(name)


def cell_shape_factor(alpha: float, beta: float, gamma: float) -> float:
    """V / (abc): 1 for orthogonal axes, 0 for a flat (degenerate) cell."""
    ca, cb, cg = (math.cos(math.radians(x)) for x in (alpha, beta, gamma))
    squared = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
    return math.sqrt(max(squared, 0.0))


def reciprocal_lengths(cell: Sequence[float]) -> tuple[float, float, float]:
    """|a*|, |b*|, |c*| in 1/A for a cell (a, b, c, alpha, beta, gamma)."""
    a, b, c, alpha, beta, gamma = cell
    volume = a * b * c * cell_shape_factor(alpha, beta, gamma)
    sines = [math.sin(math.radians(x)) for x in (alpha, beta, gamma)]
    return b * c * sines[0] / volume, c * a * sines[1] / volume, a * b * sines[2] / volume


def _admissible(cell: tuple[float, ...]) -> bool:
    _, _, _, alpha, beta, gamma = cell
    angles_ok = alpha + beta + gamma < 360 and all(
        x < y + z for x, y, z in ((alpha, beta, gamma), (beta, alpha, gamma),
                                  (gamma, alpha, beta)))
    return angles_ok and cell_shape_factor(alpha, beta, gamma) >= MIN_CELL_SHAPE


@st.composite
def cells(draw: st.DrawFn, system: str | None = None
          ) -> tuple[float, float, float, float, float, float]:
    """(a, b, c, alpha, beta, gamma): cubic baseline, cubic, orthorhombic, monoclinic, triclinic.

    Triclinic cells are valid (angles admit a real cell) and not degenerate (V/abc >= 0.3).
    """
    if system is None:
        system = draw(cst.sampled_from(CELL_SYSTEMS))
    length = {axis: parameter_values(f"cell_{axis}") for axis in "abc"}
    angle = {name: parameter_values(f"cell_{name}") for name in ("alpha", "beta", "gamma")}
    a, b, c = 100.0, 100.0, 100.0
    alpha = beta = gamma = 90.0
    if system != "baseline":
        a = draw(length["a"])
        b, c = (a, a) if system == "cubic" else (draw(length["b"]), draw(length["c"]))
    if system == "monoclinic":
        beta = draw(angle["beta"])
    elif system == "triclinic":
        # Over the range itself, without the baseline 90 or the special angles: a triclinic
        # draw has three general angles (each of them shrinks on its own).
        alpha, beta, gamma = (draw(cst.floats(*PARAMETERS[f"cell_{n}"].typical_range))
                              for n in ("alpha", "beta", "gamma"))
    cell = (a, b, c, alpha, beta, gamma)
    if not _admissible(cell):
        # A rare corner of the typical range; fall back to the same lengths, right angles.
        cell = (a, b, c, 90.0, 90.0, 90.0)
    return cell


@st.composite
def cell_counts(draw: st.DrawFn) -> tuple[int, int, int]:
    """N per axis: 3 to 10 (shrinking to 5), and on at most one axis, in half the examples, an
    unusual N: 1 or 2 (``FEW_CELLS``) or 17 to 25 (``MANY_CELLS``).

    One unusual axis reaches every N-dependent code path (sincg and the fused lattice branch
    per axis; one axis above 16 sends the whole gradient down the plain path). Two axes with
    N <= 2 are not drawn: the lattice factor then varies along one axis only (stripes, or
    nothing near the direct beam when that axis is along the beam), and a square N = 2 x 2
    pattern (cos^2 x cos^2) has a peak-to-median ratio below the 10 that counts as Bragg signal
    on most patches centred on a spot (1.9, 3.3, 8.0 and 7.6 for patches 0.6, 0.8, 1 and 2
    spacings wide; about 18 only near 1.5), so most such examples would be rejected.
    """
    common = cst.one_of(cst.just(BASELINE_CELLS), cst.integers(*CELLS))
    counts = [draw(common), draw(common), draw(common)]
    unusual = draw(cst.sampled_from(("none", "few", "many", "none")))
    if unusual != "none":
        axis = draw(cst.integers(0, 2))
        counts[axis] = draw(cst.sampled_from(FEW_CELLS) if unusual == "few"
                            else cst.integers(*MANY_CELLS))
    return counts[0], counts[1], counts[2]


@st.composite
def crystal_configs(draw: st.DrawFn, shapes: Sequence[str] = GRADIENT_SHAPES) -> CrystalConfig:
    """Cell, N per axis, misset and phi over the full circle, mosaic spread and domains, shape."""
    # Shape and cell system in one draw over the pairs: separate draws come out correlated in
    # Hypothesis's generation (a whole derandomized sample without a triclinic TOPHAT cell).
    # Shrinks to the first shape with the baseline cell.
    shape, system = draw(cst.sampled_from(tuple(itertools.product(shapes, CELL_SYSTEMS))))
    a, b, c, alpha, beta, gamma = draw(cells(system))
    n_a, n_b, n_c = draw(cell_counts())
    fudge = spot_fudge(shape, (a, b, c, alpha, beta, gamma), (n_a, n_b, n_c))
    misset = [draw(angles(f"misset_rot_{axis}")) for axis in "xyz"]
    phi = draw(angles("phi_start_deg"))
    phi_steps, phi_step = draw(cst.one_of(cst.just((1, 0.0)),
                                         cst.tuples(cst.integers(*PHI_STEPS),
                                                   cst.floats(0.05, 1.0))))
    # Independent draws (not a tuple inside one_of) so that each shrinks on its own.
    domains = draw(cst.integers(1, MAX_MOSAIC_DOMAINS))
    spread = draw(parameter_values("mosaic_spread_deg"))
    spread = spread if domains > 1 else 0.0
    crystal = CrystalConfig(
        cell_a=a, cell_b=b, cell_c=c, cell_alpha=alpha, cell_beta=beta, cell_gamma=gamma,
        misset_rot_x=misset[0], misset_rot_y=misset[1], misset_rot_z=misset[2],
        n_a=n_a, n_b=n_b, n_c=n_c, default_F=100.0, shape=shape, fudge=fudge,
        mosaic_spread_deg=spread, mosaic_domains=domains, phi_start_deg=phi,
        phi_steps=phi_steps, phi_step_deg=phi_step,
        water_size_um=draw(water_sizes()),  # braggcheck.testing.nanobragg.strategies.pixels
    )
    return with_matrix(crystal, draw(matrix_orientations(crystal)))  # -mat


@st.composite
def beam_configs(draw: st.DrawFn) -> BeamConfig:
    """Wavelength, fluence (log-uniform), polarization (or none) and, in some examples, a small
    source grid: a divergence grid of 2 or 3 steps per axis and/or 2 or 3 wavelengths.

    The grid shrinks away (one step per axis: a single source, the baseline). Its size comes
    from the registry's ``divergence_mrad`` and ``dispersion`` typical ranges; at most
    ``GRID_STEPS[1]`` steps per axis keep an example within a few dozen sources.
    """
    steps = cst.one_of(cst.just(1), cst.integers(*GRID_STEPS))
    # Independent draws, each shrinking to one step on its own.
    hsteps, vsteps, dsteps = draw(steps), draw(steps), draw(steps)
    divergence = draw(parameter_values("divergence_mrad"))
    aspect = draw(cst.one_of(cst.just(1.0), cst.floats(*DIVERGENCE_ASPECT)))
    dispersion = draw(parameter_values("dispersion"))
    return BeamConfig(
        lambda_A=draw(parameter_values("lambda_A")),
        fluence=draw(parameter_values("fluence")),
        polarization=draw(parameter_values("polarization")),
        nopolar=draw(cst.booleans()),
        hdiv_range_mrad=divergence if hsteps > 1 else 0.0,
        hdiv_steps=hsteps,
        vdiv_range_mrad=divergence * aspect if vsteps > 1 else 0.0,
        vdiv_steps=vsteps,
        round_div=draw(cst.sampled_from((True, False))),
        dispersion_pct=dispersion if dsteps > 1 else 0.0,
        dispersion_steps=dsteps,
    )


def spot_half_width_mm(crystal: CrystalConfig, lambda_A: float, distance_mm: float) -> float:
    """Half width of the direct-beam spot on a detector at ``distance_mm`` (small angles).

    In reciprocal space (1/A): SQUARE reaches its first zero at |a*|/N, ROUND at 1.43 |a*|/N
    (the first zero of its spherical transform), GAUSS falls to 1% at 1.7 / (Na Nb Nc) and
    TOPHAT ends at 0.63 / (Na Nb Nc) (physics brief section 3).
    """
    cell = [float(getattr(crystal, f"cell_{x}")) for x in
            ("a", "b", "c", "alpha", "beta", "gamma")]
    widest = max(reciprocal_lengths(cell))
    n_min = min(crystal.n_a, crystal.n_b, crystal.n_c)
    volume = crystal.n_a * crystal.n_b * crystal.n_c
    reach = {"square": widest / n_min, "round": 1.43 * widest / n_min,
             "gauss": 1.7 / volume, "tophat": 0.63 / volume}[crystal.shape]
    if crystal.shape in ("gauss", "tophat"):
        reach /= math.sqrt(crystal.fudge)
    return distance_mm * lambda_A * reach


def spot_fudge(shape: str, cell: Sequence[float], cells: Sequence[int]) -> float:
    """The ``fudge`` that keeps GAUSS/TOPHAT spots apart (1 for the other shapes).

    Their width in reciprocal space is absolute (1.7 / (Na Nb Nc) per A), so for a small N it
    exceeds the lattice spacing and the image is featureless; fudge narrows them by sqrt(fudge).
    """
    if shape not in ("gauss", "tophat"):
        return 1.0
    reach = (1.7 if shape == "gauss" else 0.63) / (cells[0] * cells[1] * cells[2])
    spacing = min(reciprocal_lengths(cell))
    return max(1.0, (reach / (SPOT_SPACING_FRACTION * spacing)) ** 2)


