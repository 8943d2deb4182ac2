"""Explicit sources (nanoBragg's ``-sourcefile``): directions and wavelengths, no grid.

They replace the divergence/dispersion grid entirely, as in the reference program; the image
is normalised by their number. A source without its own wavelength uses the run's ``lambda_A``
(a registry tensor, so it stays differentiable); a source with one does not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.rotations import unit
from braggcheck.util.errors import ConfigError

MAX_SOURCES = 100000
Vector = tuple[float, float, float]


@dataclass(frozen=True)
class SourceList:
    positions: tuple[Vector, ...]
    """Source positions seen from the sample (any length unit; only directions matter)."""
    wavelengths_A: tuple[float | None, ...]
    """Per source, in Angstrom; None means the run's ``lambda_A``."""

    def __post_init__(self) -> None:
        count = len(self.positions) if isinstance(self.positions, tuple) else -1
        if not 1 <= count <= MAX_SOURCES:
            raise ConfigError(f"sources: {count} positions; valid: a tuple of 1 to "
                              f"{MAX_SOURCES} (x, y, z) positions")
        if not isinstance(self.wavelengths_A, tuple) or len(self.wavelengths_A) != count:
            raise ConfigError(f"sources: {count} positions but wavelengths_A = "
                              f"{self.wavelengths_A!r}; valid: one wavelength (or None) each")
        for index, (position, wavelength) in enumerate(
                zip(self.positions, self.wavelengths_A, strict=True)):
            if not (isinstance(position, tuple) and len(position) == 3 and all(
                    isinstance(x, int | float) and math.isfinite(x) for x in position)):
                raise ConfigError(f"sources position {index} = {position!r}; valid: three "
                                  "finite numbers")
            if not any(position):
                raise ConfigError(f"sources position {index} = (0, 0, 0); valid: a nonzero "
                                  "direction")
            if wavelength is not None and not (isinstance(wavelength, int | float)
                                               and math.isfinite(wavelength) and wavelength > 0):
                raise ConfigError(f"sources wavelength {index} = {wavelength!r} A; valid: > 0 "
                                  "or None (the run's lambda_A)")


def explicit_sources(sources: SourceList, lambda_A: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(unit incident directions (S, 3), wavelengths (S,) in metres) of ``sources``."""
    like = lambda_A
    position = torch.tensor(sources.positions, dtype=like.dtype, device=like.device)
    incident = -unit(position)
    given = torch.tensor([w if w is not None else 0.0 for w in sources.wavelengths_A],
                         dtype=like.dtype, device=like.device)
    own = torch.tensor([w is not None for w in sources.wavelengths_A], device=like.device)
    wavelength = torch.where(own, given, lambda_A) * ANGSTROM
    return incident, wavelength


def single_sources(sources: SourceList) -> list[SourceList]:
    """Each listed source on its own (the image of all is the mean of theirs, unpolarized)."""
    return [SourceList((p,), (w,)) for p, w in zip(sources.positions, sources.wavelengths_A,
                                                    strict=True)]
