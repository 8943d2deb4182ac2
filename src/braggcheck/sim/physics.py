"""Per-sample physics: lattice (shape) factors and the polarization factor.

Each function is written so that its value *and* gradient are finite and right at its removable
singularities (integer h for sincg, a Bragg node for the round crystal, the direct beam for
polarization), not only near them.
"""

from __future__ import annotations

import math

import torch

from braggcheck.sim.rotations import unit

ROUND_XTAL_SCALE = 0.723601254558268
"""The reference program's normalisation of the spherical transform for a round crystal."""


def nearest_integer(x: torch.Tensor) -> torch.Tensor:
    """``ceil(x - 0.5)``: ties round down (0.5 -> 0, -0.5 -> -1), as in the reference program."""
    return torch.ceil(x - 0.5)


CHEBYSHEV_MAX_CELLS = 16
"""Up to this many cells ``sincg`` is a Chebyshev polynomial (cheaper than two sines)."""


def sincg(h: torch.Tensor, cells: int, reduced: bool = False) -> torch.Tensor:
    """``sin(N pi h) / sin(pi h)`` for integer ``N = cells``, up to a sign (only its square counts).

    The argument is reduced to ``y = h - round(h)`` in [-0.5, 0.5] (exact in floating point).
    For ``N <= CHEBYSHEV_MAX_CELLS`` the ratio is evaluated as the Chebyshev polynomial of the
    second kind ``U_{N-1}(cos pi y)``, which equals it identically and has no singularity: at
    y = 0 it gives N and slope 0 with no special case, and one cosine replaces two sines.
    Larger N would need a long recurrence, so there the ratio is used, with a Taylor series
    near its removable singularity y = 0 (``N |pi y| < 0.01``; truncation error there below
    1e-14 relative, the ratio's own rounding error in the gradient below 1e-11 just outside).
    ``reduced=True`` says ``h`` is already ``h - round(h)`` and skips that step.
    """
    if cells == 1:
        return torch.ones_like(h)
    y = h if reduced else h - torch.round(h)  # an integer shift only flips the ratio's sign
    if cells <= CHEBYSHEV_MAX_CELLS:
        return _chebyshev_u(torch.cos(math.pi * y), cells - 1)
    x = math.pi * y
    small = cells * torch.abs(x) < 0.01
    x_safe = torch.where(small, torch.ones_like(x), x)
    ratio = torch.sin(cells * x_safe) / torch.sin(x_safe)
    n2 = cells * cells
    x2 = x * x
    series = cells * (1 - (n2 - 1) * x2 / 6 + (n2 - 1) * (3 * n2 - 7) * x2 * x2 / 360)
    return torch.where(small, series, ratio)


def _chebyshev_u(c: torch.Tensor, degree: int) -> torch.Tensor:
    """``+-U_degree(c)`` by the three-term recurrence ``U_{k+1} = 2c U_k - U_{k-1}``.

    Signs are dropped so each step is one fused ``addcmul``: V_k = s_k U_k with the sign
    pattern s = +, +, -, -, +, +, ... turns the recurrence into ``V_{k+1} = V_{k-1} +- 2c V_k``
    (the factor 2 rides on addcmul's scalar, so 2c is never formed).
    """
    if degree == 1:
        return 2 * c
    # V_1 = U_1 = 2c and V_2 = -U_2 = 1 - 4c^2 (one fused op instead of filling V_0 = 1).
    previous, current = 2 * c, torch.addcmul(c.new_ones(()), c, c, value=-4)
    for k in range(2, degree):
        # s_{k+1} s_k is -1 when k is odd, +1 when k is even.
        previous, current = current, torch.addcmul(previous, c, current,
                                                   value=-2 if k % 2 else 2)
    return current


def square_lattice_factor(hkl: torch.Tensor, cells: tuple[int, int, int],
                          reduced: bool = False) -> torch.Tensor:
    """Parallelepiped crystal: product of sincg over the three axes (last dim of ``hkl``);
    ``reduced`` as for :func:`sincg`."""
    h, k, l = hkl.unbind(-1)
    return (sincg(h, cells[0], reduced) * sincg(k, cells[1], reduced)
            * sincg(l, cells[2], reduced))


def round_lattice_factor(
    hkl: torch.Tensor, cells: tuple[int, int, int], fudge: float
) -> torch.Tensor:
    """Spherical crystal: ``N^3 * 0.7236 * j(pi sqrt(q fudge))``, written in q to stay smooth.

    ``j(x) = 3 (sin x - x cos x) / x^3``. With ``x^2 = pi^2 q fudge`` the sqrt has an infinite
    slope at q = 0 (a Bragg node); below x^2 = 1e-2 the even series in x^2 is used instead.
    """
    offset = hkl - nearest_integer(hkl)
    n = torch.tensor(cells, dtype=hkl.dtype, device=hkl.device)
    q = ((offset * n) ** 2).sum(-1)
    x2 = math.pi**2 * q * fudge
    small = x2 < 1e-2
    x = torch.sqrt(torch.where(small, torch.ones_like(x2), x2))
    exact = 3 * (torch.sin(x) - x * torch.cos(x)) / x**3
    series = 1 - x2 / 10 + x2 * x2 / 280 - x2 * x2 * x2 / 15120
    volume = cells[0] * cells[1] * cells[2]
    return volume * ROUND_XTAL_SCALE * torch.where(small, series, exact)


def _reciprocal_offset_sq(hkl: torch.Tensor, reciprocal: torch.Tensor,
                          cells: tuple[int, int, int]) -> torch.Tensor:
    offset = hkl - nearest_integer(hkl)
    delta = offset @ reciprocal  # rows of reciprocal are a*, b*, c* in 1/A
    volume = cells[0] * cells[1] * cells[2]
    return (delta * delta).sum(-1) * volume**2


def gauss_lattice_factor(hkl: torch.Tensor, reciprocal: torch.Tensor,
                         cells: tuple[int, int, int], fudge: float) -> torch.Tensor:
    """Gaussian spots: ``N^3 exp(-rho fudge / 0.63)``, rho from the unrotated reciprocal basis."""
    rho = _reciprocal_offset_sq(hkl, reciprocal, cells)
    return cells[0] * cells[1] * cells[2] * torch.exp(-rho * fudge / 0.63)


def tophat_lattice_factor(hkl: torch.Tensor, reciprocal: torch.Tensor,
                          cells: tuple[int, int, int], fudge: float) -> torch.Tensor:
    """Flat-topped spots: ``N^3`` inside ``rho fudge < 0.3969``, 0 outside (zero gradient)."""
    rho = _reciprocal_offset_sq(hkl, reciprocal, cells)
    inside = rho * fudge < 0.3969
    volume = float(cells[0] * cells[1] * cells[2])
    return torch.where(inside, volume, 0.0) + 0 * rho


def polarization_factor(
    incident: torch.Tensor, diffracted: torch.Tensor, polar: torch.Tensor,
    kahn: torch.Tensor,
) -> torch.Tensor:
    """Kahn polarization factor for the unit vector ``incident`` (3,) and unit diffracted
    directions as columns ``diffracted`` (3, ...): shape (...).

    The reference program's ``cos(2 psi) sin^2(2 theta)`` equals ``e^2 - b^2``, with e and b the
    components of the diffracted direction along the E and B axes; that form is smooth at the
    direct beam, where the atan2 of the original has no derivative. One 3x3 matrix product
    gives cos(2 theta), e and b for every direction.
    """
    b_axis = unit(torch.linalg.cross(polar, incident, dim=-1))
    e_axis = torch.linalg.cross(incident, b_axis, dim=-1)
    axes = torch.stack((incident, e_axis, b_axis))
    cos2theta, e, b = (axes @ diffracted.reshape(3, -1)).view(3, *diffracted.shape[1:])
    return 0.5 * (1 + cos2theta * cos2theta - kahn * (e * e - b * b))
