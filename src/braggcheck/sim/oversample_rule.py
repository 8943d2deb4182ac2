"""The reference program's automatic oversample, computed the way it computes it.

The rule is ``ceil(3 * crystal size / reciprocal pixel size)``, with the crystal size
``N * |a|`` along its longest axis and the reciprocal pixel size ``lambda * distance / pixel``.
Its value lands exactly on an integer for round inputs (cell 100 A, N 10, 1 A, 100 mm, 0.1 mm
gives 3), and then the last bit decides between 3 and 4 subpixels. So the lengths, units and the
order of operations here follow the reference's own: angles divided by its RTD, the reciprocal
cell built from the angles, rotated by the misset, the real cell regenerated from cross
products and the volume, metres by scaling each component, and the final quotient in its order.
Plain Python floats (IEEE double, no fused multiply-add), as the C program computes; this is
bookkeeping for a discrete choice, outside the differentiable path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Vector = tuple[float, float, float]

M_1_PI = 0.31830988618379067154
"""1/pi as the C library spells it (math.h's M_1_PI); degrees are divided by 180 * this."""
RTD = 180.0 * M_1_PI


def _cross(x: Vector, y: Vector) -> Vector:
    return (x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0])


def _dot(x: Vector, y: Vector) -> float:
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]


def _norm(x: Vector) -> float:
    return math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])


def _scale(x: Vector, factor: float) -> Vector:
    return (factor * x[0], factor * x[1], factor * x[2])


def _rotate_xyz(v: Vector, rx: float, ry: float, rz: float) -> Vector:
    """Rotate about x, then y, then z (radians); a zero angle is skipped, not applied."""
    x, y, z = v
    if rx != 0:
        c, s = math.cos(rx), math.sin(rx)
        x, y, z = x, y * c + z * -s, y * s + z * c
    if ry != 0:
        c, s = math.cos(ry), math.sin(ry)
        x, y, z = x * c + y * 0.0 + z * s, y, x * -s + y * 0.0 + z * c
    if rz != 0:
        c, s = math.cos(rz), math.sin(rz)
        x, y, z = x * c + y * -s, x * s + y * c, z
    return x, y, z


def _clamped(value: float, low: float = -1.0) -> float:
    return min(max(value, low), 1.0)


def real_cell_lengths_m(cell: Sequence[float], misset_deg: Sequence[float]) -> Vector:
    """|a|, |b|, |c| in metres as the reference program holds them when it picks the oversample
    (``cell`` is a, b, c in Angstrom and alpha, beta, gamma in degrees)."""
    a, b, c = (float(x) for x in cell[:3])
    alpha, beta, gamma = (float(x) / RTD for x in cell[3:])
    half = (alpha + beta + gamma) / 2
    skew = abs(math.sin(half) * math.sin(half - alpha) * math.sin(half - beta)
               * math.sin(half - gamma))
    volume = 2.0 * a * b * c * math.sqrt(skew)
    v_star = 1.0 / volume
    a_star = b * c * math.sin(alpha) * v_star
    b_star = c * a * math.sin(beta) * v_star
    c_star = a * b * math.sin(gamma) * v_star
    sin_gamma_star = _clamped(c * v_star / a_star / b_star)
    cos_alpha_star = (math.cos(beta) * math.cos(gamma) - math.cos(alpha)) / (
        math.sin(beta) * math.sin(gamma))
    cos_beta_star = (math.cos(gamma) * math.cos(alpha) - math.cos(beta)) / (
        math.sin(gamma) * math.sin(alpha))
    cos_gamma_star = (math.cos(alpha) * math.cos(beta) - math.cos(gamma)) / (
        math.sin(alpha) * math.sin(beta))
    cos_alpha_star, cos_beta_star, cos_gamma_star = (
        1.0 if x * x > 1.0 else x for x in (cos_alpha_star, cos_beta_star, cos_gamma_star))
    reciprocal = [
        (a_star, 0.0, 0.0),
        (b_star * cos_gamma_star, b_star * sin_gamma_star, 0.0),
        (c_star * cos_beta_star,
         c_star * (cos_alpha_star - cos_beta_star * cos_gamma_star) / sin_gamma_star,
         c_star * volume / (a * b * c * sin_gamma_star)),
    ]
    angles = [float(x) / RTD for x in misset_deg]
    if any(angles):
        reciprocal = [_rotate_xyz(v, *angles) for v in reciprocal]
    ra, rb, rc = reciprocal
    # Cross products forced to the user's lengths / V, then the volume's round trip 1/(1/V).
    crosses = [(_cross(rb, rc), a), (_cross(rc, ra), b), (_cross(ra, rb), c)]
    real_volume = 1.0 / (1.0 / volume)
    lengths = []
    for cross, length in crosses:
        old = _norm(cross)
        old = old if old > 0.0 else 1.0
        rescaled = _scale(cross, length / volume / old)
        lengths.append(_norm(_scale(_scale(rescaled, real_volume), 1e-10)))
    return lengths[0], lengths[1], lengths[2]


def recommended_oversample(cell: Sequence[float], misset_deg: Sequence[float],
                           cells: Sequence[int], lambda_A: float, distance_m: float,
                           pixel_mm: float) -> float:
    """``3 * crystal size / reciprocal pixel size`` before rounding up (may be inf or nan for
    extreme geometry; the caller decides). ``distance_m`` is the distance along the beam after
    the detector is placed, as the reference recomputes it."""
    lengths = real_cell_lengths_m(cell, misset_deg)
    sizes = [length * count for length, count in zip(lengths, cells, strict=True)]
    largest = sizes[0]
    for size in sizes[1:]:
        largest = size if largest < size else largest
    reciprocal_pixel = (float(lambda_A) / 1e10) * distance_m / (float(pixel_mm) / 1000.0)
    return 3.0 * largest / reciprocal_pixel
