"""Hypothesis strategies for the differential oracle: the whole forward space, small images.

Unlike :mod:`braggcheck.testing.nanobragg.strategies.configs` (built for gradient checks: smooth,
Bragg signal at the
direct beam), these draw every forward feature the reference program shares with braggcheck:
N from 1 to 25 per axis, all four spot shapes with triclinic cells, point pixels, oversample 1-4
or automatic, divergence grids x dispersion x mosaic domains x phi steps together, every
convention (custom vectors too) and both pivots, detector rotations and two-theta, thick
sensors, polarization, -close_distance, -roi, HKL tables, and detectors that see only Bragg
spots away from the direct beam or at high scattering angle. Each example is drawn as a flag
list and parsed (so every configuration is one the flags express exactly), and its cost is
capped (about ``MAX_SAMPLES`` pixel samples) so each C run takes milliseconds.

The documented deliberate deviations (docs/geometry.md) are left out by construction; each has
its reason in ``reference_exclusions.EXCLUDED`` and nowhere else.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

import torch
from hypothesis import strategies as st

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.config import Config
from braggcheck.sim.detector import FRAMES, detector_geometry, effective_pivot
from braggcheck.sim.rotations import rotate_xyz
from braggcheck.sim.sections import CONVENTIONS
from braggcheck.sim.sources import source_count
from braggcheck.sim.state import build_state
from braggcheck.testing.nanobragg.oracle.exclusions import EXCLUDED, excluded_region
from braggcheck.testing.nanobragg.oracle.inputs import input_words
from braggcheck.testing.nanobragg.regions import (
    CLOSE_DISTANCE,
    DETECTOR_ROTATIONS,
    DIRECT_BEAM_OFF,
    DIRECT_BEAM_ON,
    DMIN_NOPOLAR,
    DMIN_SOURCE_FILE,
    DMIN_WITH_WATER,
    HKL_TABLE,
    MISSET,
    ORACLE_HIGH_ANGLE,
    POLAR_K,
    ROI,
    TWO_THETA,
    Region,
    config_regions,
)
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES, angles, cells, spot_fudge
from braggcheck.testing.nanobragg.strategies.pixels import oracle_feature_words
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

__all__ = ["EXCLUDED", "excluded_region", "oracle_configs", "oracle_regions"]

MAX_SAMPLES = 400_000
"""Most pixel samples (pixels x subpixels x sources x domains x phi steps x layers) per
example: the C program then runs in milliseconds and braggcheck in tens of them."""
EDGE = (8, 32)
CELLS_PER_AXIS = (1, 25)
HKL_DIR = Path(tempfile.gettempdir()) / "braggcheck_oracle_hkl"
"""Where drawn structure-factor tables are written (named by their content's hash)."""


def _n(value: float) -> str:
    return repr(float(value))


def write_hkl_table(rows: list[tuple[int, int, int, float]]) -> Path:
    """Write ``h k l F`` rows to a file named by their hash (the same table, the same file)."""
    text = "".join(f"{h} {k} {l} {_n(f)}\n" for h, k, l, f in rows)
    name = hashlib.sha1(text.encode()).hexdigest()[:16]
    HKL_DIR.mkdir(parents=True, exist_ok=True)
    path = HKL_DIR / f"table{name}.hkl"
    if not path.exists():  # atomic, with a unique temporary name: safe under pytest -n
        write_output(path, text.encode())
    return path


@st.composite
def _hkl_rows(draw: st.DrawFn) -> list[tuple[int, int, int, float]]:
    # A reach per axis: tables of unequal extents, so the lookup's strides differ per axis.
    reach = [draw(st.integers(1, 3)) for _ in range(3)]
    indices = st.tuples(*(st.integers(-r, r) for r in reach))
    listed = draw(st.lists(indices, min_size=1, max_size=30, unique=True))
    return [(h, k, l, draw(st.floats(0.0, 1000.0))) for h, k, l in listed]


@st.composite
def _crystal_words(draw: st.DrawFn) -> tuple[list[str], dict]:
    a, b, c, alpha, beta, gamma = draw(cells())
    if draw(st.booleans()):  # a small cell: dense spots on a small detector
        a, b, c = (x * draw(st.floats(0.3, 1.0)) for x in (a, b, c))
    counts = [draw(st.one_of(st.just(5), st.integers(*CELLS_PER_AXIS))) for _ in range(3)]
    shape = draw(st.sampled_from(ALL_SHAPES))
    words = ["-cell", *map(_n, (a, b, c, alpha, beta, gamma)),
             "-Na", str(counts[0]), "-Nb", str(counts[1]), "-Nc", str(counts[2])]
    if shape != "square":
        words.append({"round": "-round_xtal", "gauss": "-gauss_xtal",
                      "tophat": "-tophat_spots"}[shape])
        fudge = spot_fudge(shape, (a, b, c, alpha, beta, gamma), counts)
        if fudge != 1.0:
            words += ["-fudge", _n(fudge)]
    misset = [draw(st.one_of(st.just(0.0), angles(f"misset_rot_{x}"))) for x in "xyz"]
    if any(misset):
        words += ["-misset", *map(_n, misset)]
    if draw(st.integers(0, 3)) == 3:  # shrinks to absent
        rows = draw(_hkl_rows())
        path = write_hkl_table(rows)
        words += ["-hkl", str(path)]
        fill = draw(st.sampled_from([0.0, 10.0]))
        if fill:
            words += ["-default_F", _n(fill)]
        if min(counts) <= 2:
            words.append("-nointerpolate")
    else:
        words += ["-default_F", _n(draw(st.sampled_from([100.0, 1.0, 37.5])))]
    # Orientation sampling: mosaic domains and phi steps.
    domains, phi_steps = 1, 1
    if draw(st.booleans()):
        domains = draw(st.integers(2, 4))
        words += ["-mosaic", _n(draw(st.floats(0.05, 2.0))), "-mosaic_domains", str(domains),
                  "-mosaic_seed", str(draw(st.integers(1, 2**30)))]
    phi_steps = draw(st.sampled_from([1, 1, 2, 3]))
    phi = draw(st.one_of(st.just(0.0), angles("phi_start_deg")))
    if phi_steps > 1:
        if phi == 0.0:  # EXCLUDED["phi start exactly 0 with several phi steps"]
            phi = draw(st.floats(0.5, 90.0))
        step = draw(st.floats(0.01, 2.0))
        words += ["-phisteps", str(phi_steps), "-osc", _n(step * phi_steps),
                  "-phistep", _n(step)]
    if phi:
        words += ["-phi", _n(phi)]
    return words, {"orientations": domains * phi_steps}


@st.composite
def _beam_words(draw: st.DrawFn) -> tuple[list[str], dict]:
    words = []
    wavelength = draw(st.one_of(st.just(1.0), st.floats(0.5, 2.5)))
    if wavelength != 1.0:
        words += ["-lambda", _n(wavelength)]
    if draw(st.booleans()):
        words += ["-fluence", _n(10 ** draw(st.floats(20.0, 26.0)))]
    polar = draw(st.sampled_from(["default", "kahn", "nopolar"]))
    if polar == "kahn":
        words += ["-polar", _n(draw(st.floats(0.0, 1.0)))]
    elif polar == "nopolar":
        words.append("-nopolar")
    sources = 1
    for axis in ("h", "v"):
        steps = draw(st.sampled_from([1, 1, 2, 3]))
        if steps > 1:
            words += [f"-{axis}divrange", _n(draw(st.floats(0.05, 3.0))),
                      f"-{axis}divsteps", str(steps)]
            sources *= steps
    if sources > 1:
        if draw(st.booleans()):
            words.append("-square_div")
    steps = draw(st.sampled_from([1, 1, 2, 3]))
    if steps > 1:
        words += ["-dispersion", _n(draw(st.floats(0.05, 5.0))), "-dispsteps", str(steps)]
        sources *= steps
    return words, {"sources": sources, "lambda": wavelength}


def _custom_vectors(draw: st.DrawFn) -> list[str]:
    """An orthonormal detector frame turned by up to 20 deg about each axis from MOSFLM's,
    with the MOSFLM beam, and a drawn spindle and polarization axis."""

    turn = [math.radians(draw(st.floats(-20.0, 20.0))) for _ in range(3)]
    basis = torch.tensor([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]],
                         dtype=torch.float64)
    f, s, o = rotate_xyz(basis, *(torch.tensor(t, dtype=torch.float64) for t in turn))
    words = []
    for flag, vector in (("-fdet_vector", f), ("-sdet_vector", s), ("-odet_vector", o)):
        words += [flag, *(_n(x) for x in vector.tolist())]
    words += ["-beam_vector", "1.0", "0.0", "0.0"]
    spindle = draw(st.sampled_from([(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.6, 0.8)]))
    words += ["-spindle_axis", *map(_n, spindle), "-polar_vector", "0.0", "0.0", "1.0"]
    return words


@st.composite
def _detector_words(draw: st.DrawFn, lambda_A: float
                    ) -> tuple[list[str], dict]:
    convention = draw(st.sampled_from(CONVENTIONS))
    words = _custom_vectors(draw) if convention == "custom" else (
        [] if convention == "mosflm" else [f"-{convention}"])
    pivot = FRAMES[convention].pivot
    if convention == "custom":
        pivot = draw(st.sampled_from(["beam", "sample"]))
    fpixels, spixels = draw(st.integers(*EDGE)), draw(st.integers(*EDGE))
    pixel = draw(st.one_of(st.just(0.1), st.floats(0.03, 0.3)))
    words += ["-pixel", _n(pixel), "-detpixels_f", str(fpixels), "-detpixels_s", str(spixels)]
    distance = draw(st.one_of(st.just(100.0), st.floats(30.0, 300.0)))
    if draw(st.integers(0, 4)) == 4:
        words += ["-close_distance", _n(distance)]
    else:
        words += ["-distance", _n(distance)]
    size_f, size_s = fpixels * pixel, spixels * pixel
    # Where the direct beam meets the detector plane, in detector edges from the corner: the
    # convention's default centre, on the detector (0.1..0.9), or off it (Bragg spots only).
    where = draw(st.sampled_from(["default", "on", "off"]))
    span = (0.1, 0.9) if where != "off" else (1.2, 4.0)
    frac_f = draw(st.floats(*span)) * draw(st.sampled_from([1, -1] if where == "off" else [1]))
    frac_s = draw(st.floats(0.1, 0.9))
    if where == "default":
        pass
    elif pivot == "beam" and convention != "custom":
        fbeam, sbeam = frac_f * size_f, frac_s * size_s
        if convention in ("mosflm", "denzo"):
            words += ["-Xbeam", _n(sbeam), "-Ybeam", _n(fbeam)]
        else:  # adxv
            words += ["-Xbeam", _n(fbeam), "-Ybeam", _n(size_s - sbeam)]
    elif convention == "custom":
        words += ["-Xbeam", _n(frac_f * size_f), "-Ybeam", _n(frac_s * size_s)]
    else:
        words += ["-ORGX", _n(frac_f * fpixels), "-ORGY", _n(frac_s * spixels)]
    rotated = draw(st.booleans())
    if rotated:
        for axis in "xyz":
            angle = draw(st.one_of(st.just(0.0), st.floats(-15.0, 15.0)))
            if angle:
                words += [f"-detector_rot{axis}", _n(angle)]
    if draw(st.booleans()):
        twotheta = draw(st.one_of(st.floats(-10.0, 10.0), st.floats(20.0, 60.0)))
        words += ["-twotheta", _n(twotheta)]
    if convention == "custom":  # last: -twotheta, -distance, -Xbeam imply pivots too
        words += ["-pivot", pivot]
    oversample = draw(st.sampled_from([None, 1, 2, 3, 4]))
    if oversample is not None:
        words += ["-oversample", str(oversample)]
    if draw(st.integers(0, 3)) == 3:  # shrinks to absent
        words.append("-point_pixel")
    if draw(st.integers(0, 3)) == 3:  # shrinks to absent
        f0, f1 = sorted(draw(st.integers(0, fpixels - 1)) for _ in range(2))
        s0, s1 = sorted(draw(st.integers(0, spixels - 1)) for _ in range(2))
        words += ["-roi", str(f0), str(f1), str(s0), str(s1)]
    layers = 1
    if draw(st.integers(0, 3)) == 3:  # shrinks to absent
        words += ["-detector_thick", _n(draw(st.floats(5.0, 500.0)))]
        absorb = draw(st.sampled_from(["default", "length"]))
        if absorb == "length":
            words += ["-detector_abs", _n(draw(st.floats(5.0, 1000.0)))]
        layers = draw(st.sampled_from([None, 1, 2, 3]))
        if layers is not None:
            words += ["-detector_thicksteps", str(layers)]
        layers = layers or 2
    return words, {"pixels": fpixels * spixels, "layers": layers, "lambda": lambda_A}


def _cost(config: Config, extra: dict) -> int:
    return (config.detector.fpixels * config.detector.spixels * config.oversample ** 2
            * extra["sources"] * extra["orientations"] * extra["layers"])


@st.composite
def oracle_configs(draw: st.DrawFn) -> Config:
    """A configuration anywhere in the forward space both programs share (see the module)."""

    crystal, c_extra = draw(_crystal_words())
    beam, b_extra = draw(_beam_words())
    detector, d_extra = draw(_detector_words(b_extra["lambda"]))
    words = crystal + beam + detector
    words += draw(oracle_feature_words("-detector_thick" in detector,  # pixel_strategies
                                       "-point_pixel" in detector))
    try:
        config = from_nanobragg_args(words)
    except ConfigError:
        # The automatic oversample can exceed its cap at short distances with big crystals,
        # and a rotated detector can face away: both are rare; draw another.
        from hypothesis import reject

        reject()
    extra = {**c_extra, **b_extra, **d_extra}
    if excluded_region(config) == "phi start exactly 0 with several phi steps":
        words += ["-phi", _n(float(config.crystal.phi_start_deg) + 0.25)]  # a later step
        config = from_nanobragg_args(words)
    if excluded_region(config) == "round spot sampled exactly at its lattice point":
        det = config.detector
        shift = det.pixel_mm / config.oversample / 3  # a third of a subpixel, on both axes
        if det.convention in ("xds", "dials"):
            words += ["-ORGX", _n(det.close_f_mm / det.pixel_mm + 0.5 + shift / det.pixel_mm),
                      "-ORGY", _n(det.close_s_mm / det.pixel_mm + 0.5 + shift / det.pixel_mm)]
        else:
            words += _moved_centre(det, shift)
            if det.convention == "custom":  # -Xbeam implies the BEAM pivot: restore it
                words += ["-pivot", str(det.pivot)]
        config = from_nanobragg_args(words)
    words = draw(input_words(words, config))  # -mat, -sourcefile, -img, -mask, -dmin
    try:
        config = from_nanobragg_args(words)
    except ConfigError:
        from hypothesis import reject

        reject()
    extra["sources"] = source_count(config.beam)
    if config.detector.oversample is None and config.oversample > 4:
        words += ["-oversample", "4"]  # the automatic choice, capped for speed
        config = from_nanobragg_args(words)
    while _cost(config, extra) > MAX_SAMPLES and config.oversample > 1:
        words += ["-oversample", str(config.oversample - 1)]
        config = from_nanobragg_args(words)
    if _cost(config, extra) > MAX_SAMPLES:
        from hypothesis import reject

        reject()
    return config


def oracle_regions(config: Config) -> list[Region]:
    """The regions of the forward space ``config`` is in (one of
    :data:`~braggcheck.testing.nanobragg.oracle.coverage.ORACLE_REGIONS` each)."""

    crystal, beam, det = config.crystal, config.beam, config.detector
    found = config_regions(config)
    found += [region for region, present in (
        (MISSET, any(float(getattr(crystal, f"misset_rot_{x}")) for x in "xyz")),
        (HKL_TABLE, crystal.hkl is not None),
        (POLAR_K, not beam.nopolar and float(beam.polarization) != 0),
        (ROI, det.roi is not None),
        (CLOSE_DISTANCE, det.close_distance_mm is not None),
        (DETECTOR_ROTATIONS, any(float(getattr(det, f"detector_rot{x}_deg")) for x in "xyz")),
        (TWO_THETA, float(det.twotheta_deg) != 0),
    ) if present]
    if det.dmin_A > 0:  # what a pixel the cut empties still holds depends on these
        found += [region for region, present in (
            (DMIN_WITH_WATER, float(crystal.water_size_um) > 0), (DMIN_NOPOLAR, beam.nopolar),
            (DMIN_SOURCE_FILE, beam.sources is not None)) if present]
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    with torch.no_grad():
        g = detector_geometry(det, state, beam.beam_vector, beam.polar_vector)
        facing = float((g.beam * g.odet).sum())
        hit = g.beam * (float(g.close) / facing) - g.pix0 if facing else None
        on = hit is not None and (0 <= float((hit * g.fdet).sum()) / g.pixel < det.fpixels
                                  and 0 <= float((hit * g.sdet).sum()) / g.pixel < det.spixels)
        found.append(DIRECT_BEAM_ON if on else DIRECT_BEAM_OFF)
        half_f, half_s = det.fpixels * g.pixel / 2, det.spixels * g.pixel / 2
        centre = g.pix0 + g.fdet * half_f + g.sdet * half_s
        cosine = float((centre * g.beam).sum() / torch.linalg.norm(centre))
        if math.degrees(math.acos(max(-1.0, min(1.0, cosine)))) >= 20.0:
            found.append(ORACLE_HIGH_ANGLE)
    return found


def _moved_centre(det: object, shift: float) -> list[str]:
    """Beam-centre flags that move the direct beam by ``shift`` mm along both detector axes."""
    f, s = float(det.beam_center_f_mm), float(det.beam_center_s_mm)  # type: ignore[attr-defined]
    if det.convention in ("mosflm", "denzo"):  # type: ignore[attr-defined]
        shift_mm = det.pixel_mm / 2 if det.convention == "mosflm" else 0.0  # type: ignore[attr-defined]
        return ["-Xbeam", _n(s - shift_mm + shift), "-Ybeam", _n(f - shift_mm + shift)]
    if det.convention == "adxv":  # type: ignore[attr-defined]
        size_s = det.spixels * det.pixel_mm  # type: ignore[attr-defined]
        return ["-Xbeam", _n(f + shift), "-Ybeam", _n(size_s - s - shift)]
    return ["-Xbeam", _n(f + shift), "-Ybeam", _n(s + shift)]  # custom: close = beam


def _sample_pivot(det: object) -> bool:
    return effective_pivot(det) == "sample"  # type: ignore[arg-type]
