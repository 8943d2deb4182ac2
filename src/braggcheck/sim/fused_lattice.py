"""The per-sample lattice math: Miller indices and the squared lattice factor, plain and fused.

For every sample-to-subpixel vector p (direction u = p / |p|) and every row block r (source x
orientation) the intensity is ``sum_r F_r^2 L^2(h_r)`` with ``h_r = P_r u - o_r``: the
Miller-index projection ``P`` (rows a_i / lambda), its offset ``o`` (incident . a_i / lambda)
and, for a parallelepiped, ``L = prod_i U_{N_i-1}(cos pi y_i)``, ``y = h - round(h)``.

:func:`projected_intensity` is the plain formula (autograd through it, any lattice shape).
:func:`intensity_and_derivative` evaluates ``F^2 L^2`` and ``D = d(F^2 L^2)/dh`` in one pass,
sharing the cosine, the sine and the Chebyshev recurrence, in place on a reused
:class:`Workspace`; :mod:`braggcheck.sim.fused_pixels` builds the gradient of the image on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from braggcheck.sim.amplitudes import AmplitudeLookup
from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS, square_lattice_factor

SquaredAmplitudes = AmplitudeLookup
"""Miller indices (3, R, M), float64 -> F^2 (R, M) when called (nearest reflection or
interpolated); its grid may carry a graph (the ``structure_factors`` parameter)."""
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


def miller_indices(direction: torch.Tensor, projection: torch.Tensor, offset: torch.Tensor,
                   out: torch.Tensor | None = None) -> torch.Tensor:
    """``h = P u - o`` for unit directions ``u`` (3, M): (3, R, M), axis-major so that h, k and
    l of every row block are each contiguous; written into ``out`` (3R, M) when given."""
    hkl = torch.addmm(-offset, projection, direction, out=out)
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
    """``sum_r F_r^2 L^2(h_r)`` per subpixel (M,), by plain autograd ops: the image without a
    gradient or with other lattice shapes, the reference for :func:`intensity_and_derivative`,
    and the second-derivative path of :mod:`braggcheck.sim.fused_pixels`."""
    direction, _ = unit_directions(position)
    hkl = miller_indices(direction, projection, offset)
    squared = setup.lattice(reduced_indices(hkl, setup.sample_dtype).permute(1, 2, 0))
    if setup.squared_amplitudes is not None:
        # (the lookup detaches h itself unless it interpolates: then dF/dh counts)
        squared = squared * setup.squared_amplitudes(hkl).to(setup.sample_dtype)
    return squared[0] if squared.shape[0] == 1 else squared.sum(0)  # (no copy for one block)


class Workspace:
    """Buffers reused from chunk to chunk within one pass.

    Chunk-sized tensors allocated fresh and freed on every chunk cost page faults each time
    (glibc hands the freed top of the heap back to the OS between chunks; an out-of-place
    multiply into new memory measured 3x the same multiply in place), so the hot per-chunk
    tensors of the fused passes come from here.
    """

    def __init__(self, device: torch.device) -> None:
        self._device = device
        self._buffers: dict[str, torch.Tensor] = {}

    def take(self, name: str, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """A contiguous, uninitialised tensor of ``shape``: the same memory on every call."""
        count = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.numel() < count or buffer.dtype != dtype:
            buffer = torch.empty(count, dtype=dtype, device=self._device)
            self._buffers[name] = buffer
        return buffer[:count].view(shape)


def _squared_and_slope(y: torch.Tensor, cells: int, axis: int, work: Workspace
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """``U_{N-1}(cos pi y)^2`` and its derivative in y, in buffers of ``work`` (those of
    ``axis`` stay valid until the same axis is computed again).

    The recurrence is the signed one of :func:`braggcheck.sim.physics._chebyshev_u` (only the
    square counts), differentiated in c and carried as W = lambda V' with lambda = -2 pi (so
    that d(V^2)/dy = 2 V V'(c) dc/dy = -2 pi sin(pi y) V V' = sin(pi y) V W costs no extra pass):
    V_{k+1} = V_{k-1} + 2s c V_k gives W_{k+1} = W_{k-1} + 2s lambda V_k + 2s c W_k.
    All steps are in place on a few rotating buffers.
    """
    def take(name: str) -> torch.Tensor:
        return work.take(name, *y.shape, dtype=y.dtype)

    square, slope = take(f"square{axis}"), take(f"slope{axis}")
    if cells == 1:
        return square.fill_(1), slope.zero_()
    scale = -2 * math.pi
    sine = torch.mul(y, math.pi, out=take("sine"))
    c = torch.cos(sine, out=take("cosine"))
    sine.sin_()
    previous, current = torch.mul(c, 2, out=take("v_a")), None
    d_previous: torch.Tensor | float = 2 * scale
    if cells == 2:
        current, d_current = previous, take("w_b").fill_(2 * scale)
    else:
        # V_1 = 2c, W_1 = 2 lambda; V_2 = 1 - 4c^2, W_2 = -8 lambda c.
        current = torch.addcmul(c.new_ones(()), c, c, value=-4, out=take("v_b"))
        d_current = torch.mul(c, -8 * scale, out=take("w_b"))
        for k in range(2, cells - 1):
            sign = 2 * (-1 if k % 2 else 1)
            if isinstance(d_previous, float):  # W_{k-1} is the constant 2 lambda
                d_next = torch.mul(current, sign * scale, out=take("w_a")).add_(d_previous)
            else:
                d_next = d_previous.add_(current, alpha=sign * scale)
            d_next.addcmul_(c, d_current, value=sign)
            previous.addcmul_(c, current, value=sign)  # V_{k+1}, into V_{k-1}'s buffer
            previous, current = current, previous
            d_previous, d_current = d_current, d_next
    torch.mul(current, d_current, out=slope).mul_(sine)
    return torch.mul(current, current, out=square), slope


def intensity_and_derivative(hkl: torch.Tensor, setup: LatticeSetup,
                             derivative: torch.Tensor, work: Workspace,
                             amplitude_slope: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_r F_r^2 L^2(h_r)`` (M,) of Miller indices (3, R, M), writing
    ``d(F^2 L^2)/dh`` into ``derivative`` (3, R, M), sample dtype, and, when given,
    ``d(F^2 L^2)/dF = 2 F L^2`` into ``amplitude_slope`` (R, M); needs :func:`fused_applies`,
    the parallelepiped lattice (``setup.squared_lattice`` None) and no interpolation (F
    constant in h). Temporaries live in ``work``; the returned tensor is one of them (valid
    until the next call)."""
    dtype = setup.sample_dtype
    rounded = torch.round(hkl, out=work.take("rounded", *hkl.shape))
    reduced = torch.sub(hkl, rounded, out=rounded)
    if dtype != reduced.dtype:
        reduced = work.take("reduced", *hkl.shape, dtype=dtype).copy_(reduced)
    (qa, qb, qc), slopes = zip(*(_squared_and_slope(axis, n, i, work) for i, (axis, n)
                                 in enumerate(zip(reduced, setup.cells, strict=True))),
                               strict=True)
    pair = torch.mul(qb, qc, out=work.take("pair", *qa.shape, dtype=dtype))
    # d(L^2)/dh_a = (V_a^2)' V_b^2 V_c^2, and so on
    torch.mul(pair, slopes[0], out=derivative[0])
    value = pair.mul_(qa)
    torch.mul(qa, qc, out=derivative[1]).mul_(slopes[1])
    torch.mul(qa, qb, out=derivative[2]).mul_(slopes[2])
    if setup.squared_amplitudes is not None:
        lookup = setup.squared_amplitudes
        amplitudes = lookup.amplitudes(hkl).to(dtype)
        weights = amplitudes * amplitudes
        if amplitude_slope is not None:
            torch.mul(value, amplitudes, out=amplitude_slope).mul_(2)
        value.mul_(weights)
        derivative.mul_(weights)
    return value[0] if value.shape[0] == 1 else value.sum(0)
