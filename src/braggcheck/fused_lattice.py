"""The squared parallelepiped lattice factor with its gradient computed in the same pass.

Plain autograd through ``sincg`` stores about ten intermediates per sample and replays each op
backwards; here the forward evaluates ``L^2 = (sincg_a sincg_b sincg_c)^2`` and dL^2/dhkl
together (sharing the cosine, the sine and the Chebyshev recurrence) and stores only that
derivative and the Miller indices (for second derivatives), so the backward is one
multiplication. The values are those of
:func:`braggcheck.physics.square_lattice_factor` squared, to rounding.

Second derivatives (``create_graph=True``, e.g. gradgradcheck) are not hand-written: the
backward then re-runs the plain autograd formula on the saved Miller indices, which is exact.
"""

from __future__ import annotations

import math

import torch

from .physics import CHEBYSHEV_MAX_CELLS, square_lattice_factor


def fused_applies(cells: tuple[int, int, int]) -> bool:
    """The fused form covers the Chebyshev range of ``sincg`` (every axis, N >= 2)."""
    return all(2 <= n <= CHEBYSHEV_MAX_CELLS for n in cells)


def _sincg_and_slope(h: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``+-U_{N-1}(cos pi y)`` and its derivative in h, y = h - round(h) (signs consistent).

    Same signed recurrence as :func:`braggcheck.physics._chebyshev_u`, differentiated in c:
    V_{k+1} = V_{k-1} + a t V_k with t = 2c gives V'_{k+1} = V'_{k-1} + 2a (V_k + c V'_k).
    """
    x = math.pi * (h - torch.round(h))
    c = torch.cos(x)
    two_c = 2 * c
    if cells == 2:
        current, d_current = two_c, torch.full_like(c, 2.0)
    else:
        # V_1 = 2c, V_1' = 2; V_2 = 1 - 4c^2, V_2' = -8c.
        d_previous: torch.Tensor | float = 2.0
        previous, current = two_c, torch.addcmul(c.new_ones(()), two_c, two_c, value=-1)
        d_current = -4 * two_c
        for k in range(2, cells - 1):
            sign = -1 if k % 2 else 1
            if isinstance(d_previous, float):
                base = current.mul(2 * sign).add_(d_previous)
            else:
                base = torch.add(d_previous, current, alpha=2 * sign)
            d_next = torch.addcmul(base, c, d_current, value=2 * sign)
            previous, current = current, torch.addcmul(previous, two_c, current, value=sign)
            d_previous, d_current = d_current, d_next
    # dV/dh = V'(c) dc/dh = -pi sin(x) V'(c)
    slope = torch.sin(x).mul_(-math.pi).mul_(d_current)
    return current, slope


class _SquareLatticeIntensity(torch.autograd.Function):
    @staticmethod
    def forward(hkl: torch.Tensor, cells: tuple[int, int, int]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        factors, slopes = zip(*(_sincg_and_slope(axis, n)
                                for axis, n in zip(hkl.unbind(-1), cells, strict=True)),
                              strict=True)
        fa, fb, fc = factors
        ab = fa * fb
        lattice = ab * fc
        two_lattice = 2 * lattice
        derivative = torch.empty((3, *lattice.shape), dtype=hkl.dtype, device=hkl.device)
        # d(L^2)/dh_a = 2 L (V_b V_c) V_a'
        torch.mul(fb * fc, slopes[0], out=derivative[0])
        torch.mul(fa * fc, slopes[1], out=derivative[1])
        torch.mul(ab, slopes[2], out=derivative[2])
        derivative.mul_(two_lattice)
        return lattice * lattice, derivative

    @staticmethod
    def setup_context(ctx, inputs: tuple, output: tuple) -> None:
        # (setup_context rather than ctx in forward: torch.func.jvp and forward AD need it)
        hkl, cells = inputs
        _, derivative = output
        ctx.cells = cells
        ctx.mark_non_differentiable(derivative)
        ctx.save_for_backward(hkl, derivative)
        ctx.save_for_forward(derivative)

    @staticmethod
    def jvp(ctx, hkl_tangent: torch.Tensor, _cells: None) -> tuple[torch.Tensor, None]:
        """Forward mode: the same saved derivative, contracted with the tangent."""
        (derivative,) = ctx.saved_tensors
        return (derivative * hkl_tangent.movedim(-1, 0)).sum(0), None

    @staticmethod
    def backward(ctx, grad: torch.Tensor, _derivative_grad: torch.Tensor | None
                 ) -> tuple[torch.Tensor, None]:
        hkl, derivative = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: differentiate the plain formula instead
            value = square_lattice_factor(hkl, ctx.cells) ** 2
            (grad_hkl,) = torch.autograd.grad(value, hkl, grad, create_graph=True)
            return grad_hkl, None
        return (grad * derivative).permute(*range(1, derivative.dim()), 0), None


def square_lattice_intensity(hkl: torch.Tensor, cells: tuple[int, int, int]) -> torch.Tensor:
    """``square_lattice_factor(hkl, cells) ** 2``; needs :func:`fused_applies`."""
    return _SquareLatticeIntensity.apply(hkl, cells)[0]
