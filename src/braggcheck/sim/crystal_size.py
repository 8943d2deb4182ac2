"""Continuous crystal size: lattice factors for real cell counts N (registry n_a, n_b, n_c).

The configuration's counts are integers, and every discrete choice follows them: the flags
(``-Na``), the automatic oversample, the Chebyshev degree of ``sincg`` and whether the fused
gradient kernel applies. A tensor passed as ``params["n_a"]`` (etc.) changes the value of N in
the lattice factor only, so the image is a smooth function of it.

Square crystal: ``sin(N pi y) / sin(pi y)`` of the reduced index ``y = h - round(h)`` (the
lattice factor stays periodic in h; the reference program's unreduced ratio is periodic only
for integer N, docs/geometry.md). It is evaluated as ``V(n) + s (g(N) - g(n))``: ``V(n)`` is
today's integer factor for the configured n (:func:`braggcheck.sim.physics.sincg`, which drops
the sign s of the Chebyshev polynomial), and ``g`` the ratio with its Taylor series at y = 0.
The bracket is exactly 0 at N = n (both terms are the same operations on the same numbers), so
at the configured integer the image is bit-for-bit today's, and its N-slope is g's, finite at
the removable singularity (dg/dN = 1 at y = 0).

Round, Gaussian and tophat spots use N only through products and ``N^3``-like volumes, which
are smooth in N already; they are written here again with N a tensor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.autograd.forward_ad as forward_ad

from braggcheck.sim.physics import (
    CHEBYSHEV_MAX_CELLS,
    ROUND_XTAL_SCALE,
    nearest_integer,
    sincg,
)

AXES = ("n_a", "n_b", "n_c")
SERIES_LIMIT = 0.01
"""Below ``N |pi y|`` this the ratio is replaced by its Taylor series (as in ``sincg``)."""


def continuous_sizes(nominal: tuple[int, int, int], state: Mapping[str, torch.Tensor]
                     ) -> torch.Tensor | None:
    """The (3,) cell counts of ``state`` when they can matter beyond the configured integers:
    a value off ``nominal`` or one carrying a derivative (reverse or forward mode); None when
    the integer path is the same function (no derivative wanted, same values).

    Comparing values is a discrete choice outside the differentiable path, and at equal values
    both paths give the same image, so the choice adds no jump.
    """
    counts = [state[name] for name in AXES]
    sizes = torch.stack(counts)
    if any(c.requires_grad or forward_ad.unpack_dual(c).tangent is not None for c in counts):
        return sizes
    if torch.equal(sizes, torch.tensor(nominal, dtype=sizes.dtype, device=sizes.device)):
        return None
    return sizes


STORED_VALUES_PER_SAMPLE = 72
"""What plain autograd keeps per sample on the continuous square path with every parameter
wanted (the ratio and its series, twice per axis, on top of the plain path's 12): measured
54 to 66 values (tests/unit/test_simulator_chunking.py holds the estimate to 1x-1.5x)."""


def continuous_stored_values(shape: str, sizes: torch.Tensor | None) -> int | None:
    """Stored values per sample for ``simulator.stored_bytes`` on the continuous square path;
    None elsewhere (the round, Gaussian and tophat forms store what their integer forms do)."""
    return STORED_VALUES_PER_SAMPLE if sizes is not None and shape == "square" else None


def grating_ratio(y: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """``sin(N pi y) / sin(pi y)`` for real N (0-d tensor) and y in [-1/2, 1/2], with the
    Taylor series ``N (1 - (N^2-1) x^2 / 6 + (N^2-1)(3N^2-7) x^4 / 360)`` where
    ``N |x| < SERIES_LIMIT`` (x = pi y), so that value and gradients are finite at y = 0."""
    x = math.pi * y
    small = torch.abs(cells * x) < SERIES_LIMIT
    x_safe = torch.where(small, torch.ones_like(x), x)
    ratio = torch.sin(cells * x_safe) / torch.sin(x_safe)
    n2 = cells * cells
    x2 = x * x
    series = cells * (1 - (n2 - 1) * x2 / 6 + (n2 - 1) * (3 * n2 - 7) * x2 * x2 / 360)
    return torch.where(small, series, ratio)


def chebyshev_sign(cells: int) -> int:
    """The sign that :func:`braggcheck.sim.physics.sincg` drops: its Chebyshev recurrence
    returns ``s U_{N-1}`` with s = +, +, -, -, ... for degree 0, 1, 2, 3, ... (the ratio form,
    above ``CHEBYSHEV_MAX_CELLS``, keeps the sign)."""
    if cells > CHEBYSHEV_MAX_CELLS:
        return 1
    return 1 if (cells - 1) % 4 in (0, 1) else -1


def continuous_sincg(y: torch.Tensor, nominal: int, cells: torch.Tensor) -> torch.Tensor:
    """The grating factor of reduced indices ``y`` for real ``cells``, up to the sign of
    ``sincg(y, nominal)``, which it equals bit for bit at ``cells == nominal``."""
    integer = sincg(y, nominal, reduced=True)
    fixed = torch.full_like(cells, float(nominal))
    change = grating_ratio(y, cells) - grating_ratio(y, fixed)
    return integer + chebyshev_sign(nominal) * change


def continuous_lattice_factor(hkl: torch.Tensor, shape: str, nominal: tuple[int, int, int],
                              sizes: torch.Tensor, reciprocal: torch.Tensor,
                              fudge: float) -> torch.Tensor:
    """The lattice factor of reduced Miller indices ``hkl`` (..., 3) for real cell counts
    ``sizes`` (3,); ``nominal`` are the configuration's integers (square shape only)."""
    n = sizes.to(hkl.dtype)
    if shape == "square":
        h, k, l = hkl.unbind(-1)
        return (continuous_sincg(h, nominal[0], n[0]) * continuous_sincg(k, nominal[1], n[1])
                * continuous_sincg(l, nominal[2], n[2]))
    volume = n[0] * n[1] * n[2]
    offset = hkl - nearest_integer(hkl)
    if shape == "round":
        return volume * ROUND_XTAL_SCALE * _sphere_transform(((offset * n) ** 2).sum(-1), fudge)
    delta = offset @ reciprocal.to(hkl.dtype)
    rho = (delta * delta).sum(-1) * volume**2
    if shape == "gauss":
        return volume * torch.exp(-rho * fudge / 0.63)
    inside = rho * fudge < 0.3969  # tophat: flat top, zero slope in h; volume's slope in N
    return torch.where(inside, volume, torch.zeros_like(volume)) + 0 * rho


def _sphere_transform(q: torch.Tensor, fudge: float) -> torch.Tensor:
    """``3 (sin x - x cos x) / x^3`` at ``x^2 = pi^2 q fudge``, as
    :func:`braggcheck.sim.physics.round_lattice_factor` evaluates it (series below 1e-2)."""
    x2 = math.pi**2 * q * fudge
    small = x2 < 1e-2
    x = torch.sqrt(torch.where(small, torch.ones_like(x2), x2))
    exact = 3 * (torch.sin(x) - x * torch.cos(x)) / x**3
    series = 1 - x2 / 10 + x2 * x2 / 280 - x2 * x2 * x2 / 15120
    return torch.where(small, series, exact)
