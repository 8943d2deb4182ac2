"""Structure-factor amplitudes F(h, k, l): the dense grid, its nearest-reflection lookup and the
reference program's tricubic interpolation, all differentiable in the grid's values.

The refinable ``structure_factors`` parameter is one amplitude per reflection of the hkl table,
in the table's order (:meth:`braggcheck.sim.hkl.HKLTable.reflection_indices`); grid points the
table does not list keep the ``default_F`` fill of load time, and indices outside the grid get
``default_F``: both constants.

Interpolation (``-interpolate``) follows nanoBragg: a 4 x 4 x 4 Lagrange (not spline) stencil
on the grid points floor(h) - 1 .. floor(h) + 2 of each axis, used where every index lies in
[min + 2, max - 2] of the table; elsewhere the nearest reflection (docs/geometry.md gives the
rule and why it differs from the reference's thread-dependent switch-off). F is then
continuous in h with a kink at integers, so dF/dh enters the gradient of cell, orientation,
wavelength and detector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch

from braggcheck.sim.hkl import HKLTable
from braggcheck.sim.physics import nearest_integer
from braggcheck.sim.registry import VECTOR_PARAMETERS
from braggcheck.util.errors import ConfigError

STRUCTURE_FACTORS = "structure_factors"
"""The registry name of the per-reflection amplitude vector."""

INTERPOLATION_MARGIN = 2
"""A stencil is used only for indices at least this far inside the table's min..max, the
reference program's range test (stricter than the stencil itself needs, by one at the top)."""


def check_structure_factors(value: object, table: HKLTable | None) -> torch.Tensor:
    """``value`` as a 1-D tensor of one finite amplitude per reflection, or a ConfigError."""
    if table is None:
        raise ConfigError(f"params[{STRUCTURE_FACTORS!r}]: the configuration has no hkl table; "
                          "valid: only with an hkl table (-hkl)")
    count = table.reflection_indices().shape[0]
    if not isinstance(value, torch.Tensor) or value.shape != (count,):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ConfigError(f"params[{STRUCTURE_FACTORS!r}]: expected a tensor of shape "
                          f"({count},), one amplitude per reflection of the hkl table, got "
                          f"{shape}")
    VECTOR_PARAMETERS[STRUCTURE_FACTORS].validate(value)
    return value


def structure_factor_values(params: Mapping[str, object] | None, table: HKLTable | None
                            ) -> torch.Tensor | None:
    """The checked ``structure_factors`` override of ``params``, or None without one."""
    if not params or STRUCTURE_FACTORS not in params:
        return None
    return check_structure_factors(params[STRUCTURE_FACTORS], table)


def amplitude_grid(table: HKLTable, values: torch.Tensor | None, dtype: torch.dtype,
                   device: torch.device) -> torch.Tensor:
    """The dense (H, K, L) grid of ``table``, with ``values`` (R,) at its reflections when given
    (differentiably: the gradient of the grid flows back to them)."""
    grid = torch.as_tensor(table.amplitudes, dtype=dtype, device=device)
    if values is None:
        return grid
    index = torch.as_tensor(table.reflection_indices(), device=device)
    _, k_size, l_size = table.shape
    flat = (index[:, 0] * k_size + index[:, 1]) * l_size + index[:, 2]
    scattered = grid.reshape(-1).index_put((flat,), values.to(device=device, dtype=dtype))
    return scattered.view(grid.shape)


def lagrange_weights(t: torch.Tensor) -> torch.Tensor:
    """(..., 4) cubic Lagrange weights of the nodes -1, 0, 1, 2 at ``t`` (...,)."""
    a, b, c, d = t + 1, t, t - 1, t - 2
    return torch.stack((-(b * c * d) / 6, a * c * d / 2, -(a * b * d) / 2, a * b * c / 6),
                       dim=-1)


_STENCIL = torch.arange(-1, 3)


@dataclass(frozen=True)
class AmplitudeLookup:
    """F of Miller indices (3, ...) (float64) from a dense grid; callable as F^2, which is what
    :data:`braggcheck.sim.fused_lattice.SquaredAmplitudes` asks for."""

    grid: torch.Tensor  # (H, K, L), the sample dtype; may carry a graph
    origin: tuple[int, int, int]
    default_F: float
    interpolate: bool = False

    def using(self, grid: torch.Tensor) -> AmplitudeLookup:
        """The same lookup on another tensor of the grid (an autograd node's own input)."""
        return replace(self, grid=grid)

    def _origin(self, hkl: torch.Tensor) -> torch.Tensor:
        shape = (3,) + (1,) * (hkl.dim() - 1)
        return torch.tensor(self.origin, device=hkl.device).view(shape)

    def _size(self, hkl: torch.Tensor) -> torch.Tensor:
        shape = (3,) + (1,) * (hkl.dim() - 1)
        return torch.tensor(self.grid.shape, device=hkl.device).view(shape)

    def _flat(self, index: torch.Tensor) -> torch.Tensor:
        _, k_size, l_size = self.grid.shape
        return (index[0] * k_size + index[1]) * l_size + index[2]

    def nearest_index(self, hkl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat grid index of the nearest reflection (0 outside) and whether it is inside."""
        index = nearest_integer(hkl.detach()).long() - self._origin(hkl)
        inside = ((index >= 0) & (index < self._size(hkl))).all(0)
        return self._flat(torch.where(inside, index, 0)), inside

    def nearest(self, hkl: torch.Tensor) -> torch.Tensor:
        """F at the nearest reflection, ``default_F`` outside the grid (piecewise constant in
        h, so no gradient in h; differentiable in the grid)."""
        flat, inside = self.nearest_index(hkl)
        values = self.grid.reshape(-1)[flat]
        return torch.where(inside, values, torch.full_like(values, self.default_F))

    def amplitudes(self, hkl: torch.Tensor) -> torch.Tensor:
        if not self.interpolate:
            return self.nearest(hkl)
        return self.interpolated(hkl)

    def interpolated(self, hkl: torch.Tensor) -> torch.Tensor:
        """The tricubic value where the stencil is inside the table's range, else nearest."""
        size = self._size(hkl)
        relative = hkl - self._origin(hkl).to(hkl.dtype)  # grid coordinates, float64
        usable = ((relative >= INTERPOLATION_MARGIN)
                  & (relative <= (size - 1 - INTERPOLATION_MARGIN).to(hkl.dtype))).all(0)
        # Samples outside get a harmless in-range point, so no NaN or index error reaches
        # the (masked-out) branch or its gradient.
        safe = torch.where(usable, relative, torch.full_like(relative, INTERPOLATION_MARGIN))
        low = torch.floor(safe.detach())
        weights = lagrange_weights(safe - low).to(self.grid.dtype)  # (3, ..., 4)
        base = low.long()[..., None] + _STENCIL.to(hkl.device)  # (3, ..., 4)
        h, k, l = base[0], base[1], base[2]  # (..., 4) each
        _, k_size, l_size = self.grid.shape
        flat = ((h[..., :, None, None] * k_size + k[..., None, :, None]) * l_size
                + l[..., None, None, :])  # (..., 4, 4, 4)
        stencil = self.grid.reshape(-1)[flat]
        along_l = (stencil * weights[2][..., None, None, :]).sum(-1)
        along_k = (along_l * weights[1][..., None, :]).sum(-1)
        value = (along_k * weights[0]).sum(-1)
        return torch.where(usable, value, self.nearest(hkl))

    def __call__(self, hkl: torch.Tensor) -> torch.Tensor:
        values = self.amplitudes(hkl)
        return values * values
