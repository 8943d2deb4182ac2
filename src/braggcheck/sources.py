"""The beam's source grid: divergence (horizontal x vertical) and dispersion (wavelengths).

Same grid, trimming and order as the reference program (physics brief section 5.3): the
horizontal loop is outermost, dispersion innermost. Source weights are not used; the image is
normalised by the number of sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import BeamConfig
from .constants import ANGSTROM
from .rotations import rotate_axis, unit


@dataclass(frozen=True)
class Sources:
    incident: torch.Tensor
    """Unit propagation directions (S, 3), source towards sample."""
    wavelength: torch.Tensor
    """Wavelengths (S,) in metres."""


def axis_grid(range_: float, steps: int, step: float | None) -> list[float]:
    """Offsets ``step * i - range / 2``; a zero range or step collapses to the single value 0."""
    if step is None:
        step = range_ / (steps - 1) if steps > 1 else 0.0
    if range_ <= 0 or step <= 0 or steps <= 0:
        return [0.0]
    return [step * i - range_ / 2 for i in range(steps)]


def _kept(h: float, v: float, beam: BeamConfig, hstep: float, vstep: float,
          hsteps: int, vsteps: int) -> bool:
    """The reference program's elliptical trimming; a zero range means no trimming at all."""
    hrange, vrange = beam.hdiv_range_mrad * 1e-3, beam.vdiv_range_mrad * 1e-3
    if not beam.round_div or hrange * hrange <= 0 or vrange * vrange <= 0:
        return True  # (a range so small that its square underflows to 0 counts as none)
    test = (h * h - hstep * hstep / 4 * (1 - hsteps % 2)) / hrange**2
    test += (v * v - vstep * vstep / 4 * (1 - vsteps % 2)) / vrange**2
    return not test * 4 > 1.1


def _step(range_: float, steps: int, step: float | None) -> float:
    if step is not None:
        return step
    return range_ / (steps - 1) if steps > 1 else 0.0


def source_grid(
    beam: BeamConfig, beam_direction: torch.Tensor, polar: torch.Tensor,
    lambda_A: torch.Tensor,
) -> Sources:
    """Directions and wavelengths of every source; ``lambda_A`` may carry a graph."""
    hvals = [x * 1e-3 for x in axis_grid(beam.hdiv_range_mrad, beam.hdiv_steps,
                                         beam.hdiv_step_mrad)]
    vvals = [x * 1e-3 for x in axis_grid(beam.vdiv_range_mrad, beam.vdiv_steps,
                                         beam.vdiv_step_mrad)]
    dvals = [x * 1e-2 for x in axis_grid(beam.dispersion_pct, beam.dispersion_steps,
                                         beam.dispersion_step_pct)]
    hstep = _step(beam.hdiv_range_mrad, beam.hdiv_steps, beam.hdiv_step_mrad) * 1e-3
    vstep = _step(beam.vdiv_range_mrad, beam.vdiv_steps, beam.vdiv_step_mrad) * 1e-3
    pairs = [(h, v) for h in hvals for v in vvals
             if _kept(h, v, beam, hstep, vstep, len(hvals), len(vvals))]
    like = beam_direction
    angles = torch.tensor(pairs, dtype=like.dtype, device=like.device)
    vertical = unit(torch.linalg.cross(beam_direction, polar))
    position = -10.0 * beam_direction.expand(len(pairs), 3)
    position = rotate_axis(position, polar, angles[:, 1])
    position = rotate_axis(position, vertical, angles[:, 0])
    incident = -unit(position)
    factors = 1 + torch.tensor(dvals, dtype=like.dtype, device=like.device)
    wavelength = lambda_A * ANGSTROM * factors
    n_disp = len(dvals)
    return Sources(
        incident=incident.repeat_interleave(n_disp, dim=0),
        wavelength=wavelength.repeat(len(pairs)),
    )
