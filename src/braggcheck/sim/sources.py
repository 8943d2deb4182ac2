"""The beam's source grid: divergence (horizontal x vertical) and dispersion (wavelengths).

Same grid, trimming and order as the reference program (physics brief section 5.3): the
horizontal loop is outermost, dispersion innermost. Source weights are not used; the image is
normalised by the number of sources.

The grid's *shape* (counts, which points survive the elliptical trimming) comes from the
configuration's plain numbers. Its *size* comes from registry tensors: the divergence angles are
the configured ones times ``divergence / nominal`` and the wavelength offsets are built from the
dispersion tensor, so both stay differentiable (no ``linspace`` with tensor ends).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.rotations import rotate_axis, unit
from braggcheck.sim.sections import BeamConfig
from braggcheck.sim.source_list import explicit_sources


@dataclass(frozen=True)
class Sources:
    incident: torch.Tensor
    """Unit propagation directions (S, 3), source towards sample."""
    wavelength: torch.Tensor
    """Wavelengths (S,) in metres."""


def resolved_step(range_: float, steps: int, step: float | None) -> float:
    """A configured step, or range / (steps - 1) when it is None (0 for a single step)."""
    if step is not None:
        return step
    return range_ / (steps - 1) if steps > 1 else 0.0


def axis_grid(range_: float, steps: int, step: float | None) -> list[float]:
    """Offsets ``step * i - range / 2``; a zero range or step collapses to the single value 0."""
    step = resolved_step(range_, steps, step)
    if range_ <= 0 or step <= 0 or steps <= 0:
        return [0.0]
    return [step * i - range_ / 2 for i in range(steps)]


def trimmed(h: float, v: float, hstep: float, vstep: float, hrange: float, vrange: float,
            hsteps: int, vsteps: int) -> bool:
    """The reference program's elliptical cut: True when grid point (h, v) is dropped.

    Its test divides by the ranges; a zero range gives NaN there, and NaN never compares
    greater, so a zero range (on either axis) means no trimming at all.
    """
    if hrange <= 0 or vrange <= 0:
        return False
    test = (h * h - hstep * hstep / 4 * (1 - hsteps % 2)) / hrange / hrange
    test += (v * v - vstep * vstep / 4 * (1 - vsteps % 2)) / vrange / vrange
    return test * 4 > 1.1


def divergence_pairs(beam: BeamConfig) -> list[tuple[float, float]]:
    """Kept (horizontal, vertical) angles in mrad, horizontal outer, as configured."""
    hvals = axis_grid(beam.hdiv_range_mrad, beam.hdiv_steps, beam.hdiv_step_mrad)
    vvals = axis_grid(beam.vdiv_range_mrad, beam.vdiv_steps, beam.vdiv_step_mrad)
    hstep = resolved_step(beam.hdiv_range_mrad, beam.hdiv_steps, beam.hdiv_step_mrad)
    vstep = resolved_step(beam.vdiv_range_mrad, beam.vdiv_steps, beam.vdiv_step_mrad)
    return [
        (h, v) for h in hvals for v in vvals
        if not (beam.round_div and trimmed(h, v, hstep, vstep, float(beam.hdiv_range_mrad),
                                           float(beam.vdiv_range_mrad), len(hvals), len(vvals)))
    ]


def source_count(beam: BeamConfig) -> int:
    """How many sources the grid holds (divergence points kept x wavelengths)."""
    if beam.sources is not None:
        return len(beam.sources.positions)
    return len(divergence_pairs(beam)) * len(
        axis_grid(float(beam.dispersion_pct), beam.dispersion_steps, beam.dispersion_step_pct))


def wavelength_factors(beam: BeamConfig, dispersion_pct: torch.Tensor) -> torch.Tensor:
    """``1 + step * m - range / 2`` (fractions), with the range taken from ``dispersion_pct``."""
    steps = len(axis_grid(float(beam.dispersion_pct), beam.dispersion_steps,
                          beam.dispersion_step_pct))
    like = dispersion_pct
    if steps == 1:
        return torch.ones(1, dtype=like.dtype, device=like.device)
    width = dispersion_pct / 100.0
    if beam.dispersion_step_pct is None:
        step = width / (steps - 1)
    else:
        step = torch.as_tensor(beam.dispersion_step_pct / 100.0, dtype=like.dtype,
                               device=like.device)
    index = torch.arange(steps, dtype=like.dtype, device=like.device)
    return 1.0 + step * index - width / 2.0


def source_grid(
    beam: BeamConfig, beam_direction: torch.Tensor, polar: torch.Tensor,
    lambda_A: torch.Tensor, divergence_mrad: torch.Tensor | None = None,
    dispersion_pct: torch.Tensor | None = None,
) -> Sources:
    """Directions and wavelengths of every source; the tensors may carry a graph."""
    if beam.sources is not None:  # -sourcefile replaces the whole grid
        return Sources(*explicit_sources(beam.sources, lambda_A))
    like = beam_direction
    pairs = divergence_pairs(beam)
    angles = torch.tensor(pairs, dtype=like.dtype, device=like.device) / 1000.0  # radians
    nominal = beam.nominal_divergence_mrad
    if divergence_mrad is not None and nominal > 0:
        angles = angles * (divergence_mrad / nominal)
    vertical = unit(torch.linalg.cross(beam_direction, polar))
    position = -10.0 * beam_direction.expand(len(pairs), 3)
    position = rotate_axis(position, polar, angles[:, 1])
    position = rotate_axis(position, vertical, angles[:, 0])
    incident = -unit(position)
    if dispersion_pct is None:
        dispersion_pct = torch.as_tensor(float(beam.dispersion_pct), dtype=like.dtype,
                                         device=like.device)
    wavelength = lambda_A * ANGSTROM * wavelength_factors(beam, dispersion_pct)
    n_disp = wavelength.shape[0]
    return Sources(
        incident=incident.repeat_interleave(n_disp, dim=0),
        wavelength=wavelength.repeat(len(pairs)),
    )
