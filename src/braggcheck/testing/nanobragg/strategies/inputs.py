"""Hypothesis strategies for the file-input and cut-off features: an orientation matrix
(``-mat``), explicit sources (``-sourcefile``), a pixel mask (``-mask``) and the resolution cut
(``-dmin``). Each draw shrinks to "absent" (the baseline) first.

The matrix is the drawn cell's own reciprocal basis turned by a drawn rotation and scaled by a
drawn factor (only its directions count, so the factor must change nothing: a planted bug that
used the matrix's lengths would show). Sources lie near the convention's beam, with their own
wavelength or the run's. The mask keeps a random subset of pixels (and always the brightest
candidate region stays likely lit: a quarter to nine tenths kept). The cut falls inside the
detector's range of resolutions; being a step, it is drawn only for the checks that do not
differentiate (as TOPHAT is).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from hypothesis import strategies as st

from braggcheck.sim.config import Config
from braggcheck.sim.crystal import cell_basis
from braggcheck.sim.detector import FRAMES, detector_geometry
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.rotations import rotate_xyz
from braggcheck.sim.sections import BeamConfig, CrystalConfig
from braggcheck.sim.source_list import SourceList
from braggcheck.sim.state import build_state
from braggcheck.testing.framework import strategy_cache as cst

MATRIX_SCALE = (0.5, 2.0)
SOURCE_COUNT = (2, 3)
SOURCE_OFFSET_M = 0.01
"""Sources sit up to 1 mrad off the beam (10 m away): spots move by well under their width."""
SOURCE_SPREAD = 0.01
"""Own wavelengths within +-1 % of the run's."""
MASK_KEPT = (0.25, 0.9)
DMIN_QUANTILE = (0.2, 0.8)
"""The cut falls between these quantiles of the detector's pixel resolutions."""


@st.composite
def matrix_orientations(draw: st.DrawFn, crystal: CrystalConfig):
    """None (the baseline), or a reciprocal matrix for ``crystal``'s cell in a drawn
    orientation and scale."""
    if not draw(cst.booleans()):
        return None
    angles = [draw(cst.floats(-180.0, 180.0)) for _ in range(3)]
    scale = draw(cst.floats(*MATRIX_SCALE))
    config = Config(crystal=crystal)
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        for name in ("misset_rot_x", "misset_rot_y", "misset_rot_z"):
            state[name] = torch.zeros((), dtype=torch.float64)
        reciprocal = cell_basis(state).reciprocal
        turned = rotate_xyz(reciprocal, *(torch.tensor(math.radians(a), dtype=torch.float64)
                                          for a in angles))
    return tuple(tuple(float(x) * scale for x in row) for row in turned)


def flag_expressible(crystal: CrystalConfig, lambda_A: float) -> CrystalConfig:
    """``crystal`` with its matrix moved (by an ulp at most) to values ``-mat`` can state:
    the parser divides the file's numbers by the run's wavelength, and x / lambda does not
    reach every double, so the drawn matrix is snapped to (m lambda) / lambda."""
    if crystal.reciprocal_matrix is None:
        return crystal
    wavelength = float(lambda_A)
    snapped = tuple(tuple((float(x) * wavelength) / wavelength for x in row)
                    for row in crystal.reciprocal_matrix)
    return replace(crystal, reciprocal_matrix=snapped)


def with_matrix(crystal: CrystalConfig, matrix) -> CrystalConfig:
    return crystal if matrix is None else replace(crystal, reciprocal_matrix=matrix)


def _file_expressible(wavelength_A: float) -> float:
    """``wavelength_A`` moved (by an ulp at most) to a value a source file can state: the file
    holds metres and the parser multiplies by 1e10, which does not reach every double."""
    return (wavelength_A * 1e-10) * 1e10


@st.composite
def source_lists(draw: st.DrawFn, beam: BeamConfig, convention: str) -> BeamConfig:
    """``beam`` unchanged (the baseline) or with 2-3 explicit sources near its direction,
    each with its own wavelength or the run's."""
    if not draw(cst.booleans()):
        return beam
    direction = np.array(beam.beam_vector or FRAMES[convention].beam, dtype=float)
    direction /= np.linalg.norm(direction)
    helper = np.array((0.0, 1.0, 0.0)) if abs(direction[1]) < 0.9 else np.array((1.0, 0, 0))
    e1 = np.cross(direction, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(direction, e1)
    positions, wavelengths = [], []
    for _ in range(draw(cst.integers(*SOURCE_COUNT))):
        u, v = (draw(cst.floats(-SOURCE_OFFSET_M, SOURCE_OFFSET_M)) for _ in range(2))
        positions.append(tuple(float(x) for x in -10.0 * direction + u * e1 + v * e2))
        own = draw(cst.one_of(cst.just(None), cst.floats(-SOURCE_SPREAD, SOURCE_SPREAD)))
        wavelengths.append(None if own is None
                           else _file_expressible(float(beam.lambda_A) * (1 + own)))
    return replace(beam, sources=SourceList(tuple(positions), tuple(wavelengths)))


@st.composite
def masks(draw: st.DrawFn, config: Config) -> Config:
    """``config`` unchanged (the baseline) or with a seeded random mask."""
    if not draw(cst.booleans()):
        return config
    det = config.detector
    kept_share = draw(cst.floats(*MASK_KEPT))
    seed = draw(cst.integers(0, 2**32 - 1))
    kept = np.random.default_rng(seed).random((det.spixels, det.fpixels)) < kept_share
    kept.flat[(det.spixels // 2) * det.fpixels + det.fpixels // 2] = True  # never all masked
    return config.replace(detector=replace(det, mask=PixelMask(kept=kept)))


@st.composite
def resolution_cuts(draw: st.DrawFn, config: Config) -> Config:
    """``config`` unchanged (the baseline) or with a ``dmin`` that cuts part of its detector."""
    if not draw(cst.booleans()):
        return config
    det, beam = config.detector, config.beam
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        geometry = detector_geometry(det, state, beam.beam_vector, beam.polar_vector)
        slow, fast = torch.meshgrid(torch.arange(det.spixels, dtype=torch.float64) + 0.5,
                                    torch.arange(det.fpixels, dtype=torch.float64) + 0.5,
                                    indexing="ij")
        position = (geometry.pix0[:, None] + geometry.fdet[:, None] * (fast.reshape(-1)
                    * geometry.pixel) + geometry.sdet[:, None] * (slow.reshape(-1)
                    * geometry.pixel))
        direction = position / position.norm(dim=0)
        q = (direction - geometry.beam[:, None]).norm(dim=0) / float(beam.lambda_A)
    q = torch.sort(q[q > 0]).values
    # Halfway between two pixel centres' resolutions that are clearly apart, never on one: a
    # sample on the cut (to rounding) is kept or not by the last bits of its arithmetic.
    gaps = torch.nonzero(q[1:] - q[:-1] > 1e-6 * q[1:])[:, 0]
    if gaps.numel() == 0:
        return config
    quantile = draw(cst.floats(*DMIN_QUANTILE))
    index = int(gaps[min(int(quantile * gaps.numel()), gaps.numel() - 1)])
    dmin = 2.0 / float(q[index] + q[index + 1])
    return config.replace(detector=replace(det, dmin_A=dmin))
