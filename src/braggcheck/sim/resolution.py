"""The resolution cut-off (nanoBragg's ``-dmin``): samples beyond it are skipped.

The reference program skips each (subpixel, sensor layer, source) sample whose scattering
vector is longer than 1 / dmin (its test: ``dmin > 0.5 / stol``), before the phi and mosaic
loops: the sample then adds nothing for any orientation. The cut is a step, so it has no
gradient; it is applied as a 0/1 weight on each sample's F^2, computed from the Miller indices
through the cell's (rotation-invariant) metric: |S|^2 = h^T G^-1 h with G = A A^T.

Solid angle and capture fraction are still taken at the pixel's first subpixel, but the
polarization factor at the first sample that survives the cut (the reference computes it
there, on first use), with that sample's source direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.rotations import unit

Weights = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ResolutionCut:
    metric_inverse: torch.Tensor
    """(3, 3) inverse metric of the real basis (m^-2), a constant (no graph)."""
    limit_m: float
    """dmin in metres."""


def resolution_cut(dmin_A: float, real: torch.Tensor) -> ResolutionCut | None:
    """The cut for real basis rows ``real`` (m), or None without one (dmin <= 0)."""
    if not dmin_A > 0:
        return None
    basis = real.detach()
    return ResolutionCut(torch.linalg.inv(basis @ basis.T), dmin_A * ANGSTROM)


def kept_samples(cut: ResolutionCut, hkl: torch.Tensor) -> torch.Tensor:
    """1 where a sample of Miller indices (3, ...) is within the cut, else 0."""
    flat = hkl.detach().reshape(3, -1).to(cut.metric_inverse.dtype)
    squared = (flat * (cut.metric_inverse @ flat)).sum(0)
    return (squared * (cut.limit_m * cut.limit_m) <= 1).reshape(hkl.shape[1:])


def with_cut(amplitudes: Weights | None, cut: ResolutionCut | None) -> Weights | None:
    """Per-sample weights: F^2 (or 1 when every F is default_F) times the cut's 0/1."""
    if cut is None:
        return amplitudes

    def weights(hkl: torch.Tensor) -> torch.Tensor:
        kept = kept_samples(cut, hkl).to(hkl.dtype)
        return kept if amplitudes is None else amplitudes(hkl) * kept

    return weights


def within_cut(cut: ResolutionCut, direction: torch.Tensor, incident: torch.Tensor,
               wavelength: torch.Tensor) -> torch.Tensor:
    """(M, S): whether the sample of diffracted unit ``direction`` (3, M) and source s
    (``incident`` (S, 3), ``wavelength`` (S,)) is within the cut: |S| dmin <= 1, the
    reference's ``dmin > 0.5 / stol`` skip turned around (a sample with stol = 0 is kept)."""
    scattering = (direction.T[:, None, :] - incident[None]) / wavelength[None, :, None]
    squared = (scattering * scattering).sum(-1).detach()
    return squared * (cut.limit_m * cut.limit_m) <= 1


def polarization_samples(cut: ResolutionCut, positions: torch.Tensor, incident: torch.Tensor,
                         wavelength: torch.Tensor, per_pixel: int
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(incident (n, 3), diffracted (3, n), any (n,)) of each pixel's first sample within the
    cut, in the reference's order (layer, slow subpixel, fast subpixel outer; source inner);
    the first subpixel and source where none is. ``any`` says whether a sample is within the
    cut at all: where none is, the reference never sets the pixel's polarization and solid
    angle, so the whole pixel, water background included, is 0.

    ``positions`` (3, n * per_pixel): subpixel positions, pixel-major.
    """
    direction = positions / positions.norm(dim=0, keepdim=True)
    kept = within_cut(cut, direction, incident, wavelength).reshape(
        -1, per_pixel * len(wavelength))
    inside = kept.any(1)
    first = torch.where(inside, kept.to(torch.int8).argmax(1), 0)
    subpixel = first // len(wavelength) + torch.arange(kept.shape[0], device=kept.device) \
        * per_pixel
    return incident[first % len(wavelength)], direction[:, subpixel], inside


def polarization_of(incident: torch.Tensor, diffracted: torch.Tensor, polar: torch.Tensor,
                    kahn: torch.Tensor) -> torch.Tensor:
    """The Kahn factor (n,) for a different incident direction (n, 3) per pixel: the form of
    :func:`braggcheck.sim.physics.polarization_factor`, row by row."""
    b_axis = unit(torch.linalg.cross(polar.expand_as(incident), incident, dim=-1))
    e_axis = torch.linalg.cross(incident, b_axis, dim=-1)
    d = diffracted.T
    cos2theta, e, b = ((axis * d).sum(-1) for axis in (incident, e_axis, b_axis))
    return 0.5 * (1 + cos2theta * cos2theta - kahn * (e * e - b * b))
