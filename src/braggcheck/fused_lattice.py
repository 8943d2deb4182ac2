"""Miller indices, squared lattice factor and its gradient, per subpixel, in one pass.

The per-sample part of the image is, for every sample-to-subpixel vector p (its direction
u = p / |p|) and every row block r (source x orientation), ``I(p) = sum_r F_r^2 L^2(h_r)`` with
``h_r = P_r u - o_r``: the Miller-index projection ``P`` (rows a_i / lambda), its offset ``o``
(incident . a_i / lambda) and the parallelepiped lattice factor
``L = prod_i U_{N_i-1}(cos pi y_i)``, ``y = h - round(h)``.

Plain autograd through that stores about ten intermediates per sample and replays each op
backwards. Here the forward evaluates ``F^2 L^2`` and ``D = d(F^2 L^2)/dh`` together, sharing
the cosine, the sine and the Chebyshev recurrence, and stores only ``D`` (three values per
sample) and the directions; the backward is one multiplication by the incoming gradient, two
small matrix products (``dI/dP = D u^T``, ``dI/du = P^T D``, ``dI/do = -sum D``) and the
projection of ``dI/du`` onto the plane normal to u (``dI/dp = (dI/du - u (u . dI/du)) / |p|``).

Second derivatives (``create_graph=True``, e.g. gradgradcheck) are not hand-written: the
backward then differentiates :func:`projected_intensity` (the plain formula) on the saved
inputs, which is exact. Forward mode (``torch.func.jvp``, forward AD) contracts the same ``D``
with the tangent of h.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .physics import CHEBYSHEV_MAX_CELLS, square_lattice_factor

SquaredAmplitudes = Callable[[torch.Tensor], torch.Tensor]
"""Miller indices (3, R, M), float64 -> F^2 at their nearest reflections (R, M)."""
SquaredLattice = Callable[[torch.Tensor], torch.Tensor]
"""Reduced Miller indices (R, M, 3) -> squared lattice factor (R, M)."""


@dataclass(frozen=True)
class LatticeSetup:
    """What the per-sample lattice math needs besides the tensors it differentiates."""

    cells: tuple[int, int, int]
    sample_dtype: torch.dtype  # the lattice math's dtype; the indices are computed in float64
    squared_amplitudes: SquaredAmplitudes | None  # None: one F for all, applied by the caller
    squared_lattice: SquaredLattice | None = None  # None: the parallelepiped, sincg^2

    def lattice(self, reduced: torch.Tensor) -> torch.Tensor:
        if self.squared_lattice is not None:
            return self.squared_lattice(reduced)
        factor = square_lattice_factor(reduced, self.cells, reduced=True)
        return factor * factor


def fused_applies(cells: tuple[int, int, int]) -> bool:
    """The fused form covers the Chebyshev range of ``sincg`` (every axis N <= 16)."""
    return all(1 <= n <= CHEBYSHEV_MAX_CELLS for n in cells)


def unit_directions(position: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit vectors and inverse lengths of the columns of ``position`` (3, M)."""
    # (vector_norm over dim 0 is ~50x slower on CPU.) > 0: no pixel holds the sample.
    inverse = (position * position).sum(0).rsqrt()
    return position * inverse, inverse


def miller_indices(direction: torch.Tensor, projection: torch.Tensor,
                   offset: torch.Tensor) -> torch.Tensor:
    """``h = P u - o`` for unit directions ``u`` (3, M): (3, R, M), axis-major so that h, k and
    l of every row block are each contiguous."""
    hkl = torch.addmm(-offset, projection, direction)
    return hkl.view(3, -1, direction.shape[1])


def reduced_indices(hkl: torch.Tensor, sample_dtype: torch.dtype) -> torch.Tensor:
    """``h - round(h)`` (exact in floating point) in the sample dtype; every lattice factor
    depends on h only through it (up to the sign of sincg, which is squared).

    float32 images: h ~ 50 carries an absolute error of its float32 ulp (4e-6), which the
    steep spot profile turns into ~5e-5 relative intensity error; reducing in float64 first
    keeps float32 samples accurate to float32 rounding.
    """
    return (hkl - torch.round(hkl)).to(sample_dtype)


def projected_intensity(position: torch.Tensor, projection: torch.Tensor,
                        offset: torch.Tensor, setup: LatticeSetup) -> torch.Tensor:
    """``sum_r F_r^2 L^2(h_r)`` per subpixel (M,), by plain autograd ops: every lattice shape
    without a gradient wanted, the reference for :func:`fused_projected_intensity`, and its
    second-derivative path."""
    direction, _ = unit_directions(position)
    hkl = miller_indices(direction, projection, offset)
    squared = setup.lattice(reduced_indices(hkl, setup.sample_dtype).permute(1, 2, 0))
    if setup.squared_amplitudes is not None:
        squared = squared * setup.squared_amplitudes(hkl.detach()).to(setup.sample_dtype)
    return squared[0] if squared.shape[0] == 1 else squared.sum(0)  # (no copy for one block)


def _squared_and_slope(y: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``U_{N-1}(cos pi y)^2`` and its derivative in y.

    The recurrence is the signed one of :func:`braggcheck.physics._chebyshev_u` (only the
    square counts), differentiated in c and carried as W = lambda V' with lambda = -2 pi (so
    that d(V^2)/dy = 2 V V'(c) dc/dy = -2 pi sin(pi y) V V' = sin(pi y) V W costs no extra pass):
    V_{k+1} = V_{k-1} + 2s c V_k gives W_{k+1} = W_{k-1} + 2s lambda V_k + 2s c W_k.
    """
    if cells == 1:
        return torch.ones_like(y), torch.zeros_like(y)
    scale = -2 * math.pi
    x = math.pi * y
    c = torch.cos(x)
    if cells == 2:
        current, d_current = 2 * c, torch.full_like(c, 2 * scale)
    else:
        # V_1 = 2c, W_1 = 2 lambda; V_2 = 1 - 4c^2, W_2 = -8 lambda c.
        d_previous: torch.Tensor | float = 2 * scale
        previous, current = 2 * c, torch.addcmul(c.new_ones(()), c, c, value=-4)
        d_current = c * (-8 * scale)
        for k in range(2, cells - 1):
            sign = -1 if k % 2 else 1
            if isinstance(d_previous, float):
                base = current.mul(2 * sign * scale).add_(d_previous)
            else:
                base = torch.add(d_previous, current, alpha=2 * sign * scale)
            d_next = torch.addcmul(base, c, d_current, value=2 * sign)
            previous, current = current, torch.addcmul(previous, c, current, value=2 * sign)
            d_previous, d_current = d_current, d_next
    slope = (current * d_current).mul_(torch.sin(x))
    return current * current, slope


def intensity_and_derivative(hkl: torch.Tensor, setup: LatticeSetup,
                             derivative: torch.Tensor) -> torch.Tensor:
    """``sum_r F_r^2 L^2(h_r)`` (M,) of Miller indices (3, R, M), writing
    ``d(F^2 L^2)/dh`` into ``derivative`` (3, R, M), sample dtype; needs :func:`fused_applies`
    and the parallelepiped lattice (``setup.squared_lattice`` None)."""
    reduced = reduced_indices(hkl, setup.sample_dtype)
    (qa, qb, qc), slopes = zip(*(_squared_and_slope(axis, n)
                                 for axis, n in zip(reduced, setup.cells, strict=True)),
                               strict=True)
    qab = qa * qb
    value = qab * qc
    # d(L^2)/dh_a = (V_a^2)' V_b^2 V_c^2, and so on
    torch.mul(qb * qc, slopes[0], out=derivative[0])
    torch.mul(qa * qc, slopes[1], out=derivative[1])
    torch.mul(qab, slopes[2], out=derivative[2])
    if setup.squared_amplitudes is not None:
        weights = setup.squared_amplitudes(hkl).to(setup.sample_dtype)
        value = value * weights
        derivative.mul_(weights)
    return value[0] if value.shape[0] == 1 else value.sum(0)
