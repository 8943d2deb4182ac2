"""Crystal orientation from a reciprocal-space matrix (nanoBragg's ``-mat``, MOSFLM's A matrix).

The configuration holds the reciprocal vectors a*, b*, c* (rows, 1/Angstrom: the file's
columns divided by the run's wavelength, as the reference program does). As there, only their
*directions* enter the image: the real vectors are a = cell_a * unit(b* x c*) and so on, and the
cell's formula volume rescales the reciprocal ones (physics brief 2.1). So the cell lengths
(and, through the volume, the angles) stay the registry's refinable parameters and the misset
still rotates the matrix. Without ``-cell`` the parser sets the cell from the matrix
(:func:`cell_from_matrix`), which reproduces the reference's matrix-only construction.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from braggcheck.util.errors import ConfigError

Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]
MIN_HANDEDNESS = 1e-9
"""Smallest det / (|a*| |b*| |c*|) accepted: flatter matrices leave no crystal."""


def check_matrix(name: str, value: object) -> None:
    """Three finite 3-vectors spanning a right-handed basis, or a one-line ConfigError."""
    try:
        rows = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected three vectors a*, b*, c* of 3 numbers (1/A), "
                          f"got {value!r}") from None
    if rows.shape != (3, 3) or not np.isfinite(rows).all():
        raise ConfigError(f"{name}: expected three vectors a*, b*, c* of 3 finite numbers "
                          f"(1/A), got {value!r}")
    lengths = np.linalg.norm(rows, axis=1)
    if not (lengths > 0).all():
        raise ConfigError(f"{name}: a reciprocal vector has length 0; valid: three "
                          "non-coplanar vectors")
    handedness = float(np.linalg.det(rows)) / float(np.prod(lengths))
    if not handedness >= MIN_HANDEDNESS:
        raise ConfigError(
            f"{name}: a*.(b* x c*) / (|a*||b*||c*|) = {handedness:.3g}; valid: a right-handed, "
            f"non-coplanar basis (>= {MIN_HANDEDNESS:g}); a left-handed matrix is not a "
            "crystal orientation"
        )


def matrix_tensor(matrix: Matrix, like: torch.Tensor) -> torch.Tensor:
    """The reciprocal vectors as rows of a (3, 3) constant tensor."""
    return torch.tensor(matrix, dtype=like.dtype, device=like.device)


def cell_from_matrix(matrix: Matrix) -> dict[str, float]:
    """Cell lengths (A) and angles (deg) of the real basis dual to ``matrix``.

    The reference program's own steps: V* = a*.(b* x c*), a = (b* x c*) / V*, angles from
    atan2(sin, cos) with sin from the reciprocal lengths.
    """
    a_star, b_star, c_star = (np.array(row, dtype=np.float64) for row in matrix)
    volume_star = float(a_star @ np.cross(b_star, c_star))
    volume = 1.0 / volume_star
    a, b, c = (np.cross(b_star, c_star) * volume, np.cross(c_star, a_star) * volume,
               np.cross(a_star, b_star) * volume)
    la, lb, lc = (float(np.linalg.norm(x)) for x in (a, b, c))
    recip = (np.cross(b, c) * volume_star, np.cross(c, a) * volume_star,
             np.cross(a, b) * volume_star)
    lengths_star = [float(np.linalg.norm(x)) for x in recip]

    def angle(sine: float, cosine: float) -> float:
        sine = min(1.0, max(-1.0, sine))
        cosine = 1.0 if cosine * cosine > 1 else cosine
        return math.degrees(math.atan2(sine, cosine))

    return {
        "cell_a": la, "cell_b": lb, "cell_c": lc,
        "cell_alpha": angle(lengths_star[0] * volume / lb / lc, float(b @ c) / lb / lc),
        "cell_beta": angle(lengths_star[1] * volume / la / lc, float(a @ c) / la / lc),
        "cell_gamma": angle(lengths_star[2] * volume / la / lb, float(a @ b) / la / lb),
    }


def crystal_matrix(crystal: object, like: torch.Tensor) -> torch.Tensor | None:
    """The configured ``reciprocal_matrix`` of a CrystalConfig as a tensor, or None."""
    matrix = getattr(crystal, "reciprocal_matrix", None)
    return None if matrix is None else matrix_tensor(matrix, like)
