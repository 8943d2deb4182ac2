"""One refinable parameter as data: :class:`Parameter` (name, units, baseline, ranges,
scale, where it enters the configuration, what it needs); the table is
:mod:`braggcheck.sim.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import check_number


@dataclass(frozen=True)
class Parameter:
    """One refinable parameter and how it enters the configuration."""

    name: str
    units: str
    baseline: float
    """The spec baseline (100 A cubic cell, N=5, 1 A, 100 mm, 0.1 mm pixels, MOSFLM)."""
    valid_range: tuple[float | None, float | None]
    """Hard limits; values outside are rejected with a ConfigError. Open unless ``*_inclusive``."""
    typical_range: tuple[float, float]
    """Where strategies draw values (inside ``valid_range``); they shrink toward ``baseline``."""
    scale: float
    """Typical magnitude, so finite-difference steps can be relative to it."""
    section: str
    """Which part of the configuration holds it: ``crystal``, ``beam`` or ``detector``."""
    field: str
    """The field of that section (a tensor passed in ``params`` replaces its value)."""
    description: str
    low_inclusive: bool = False
    high_inclusive: bool = False
    period: float | None = None
    """Angles that enter only through rotations are periodic (360 degrees)."""
    needs: str = ""
    """What the configuration needs for the image to depend on this parameter at all."""
    integer_in_config: bool = False
    """The configuration field holds an integer (flags, export and discrete choices follow it);
    real values reach the image only through ``simulate(params=...)``."""
    undefined: str = ""
    """Where the image's derivative in this parameter does not exist (docs/errors.md); elsewhere
    in the valid range, edges included, value and gradient are finite."""
    vector: str = ""
    """Empty for a scalar. For a vector parameter, what one entry belongs to (e.g. "reflection
    of the hkl table"): its length comes from the configuration, and ``baseline``, the ranges
    and ``scale`` apply to every entry."""

    @property
    def is_vector(self) -> bool:
        return bool(self.vector)

    def validate(self, value: Any) -> None:
        """Raise ConfigError unless ``value`` (every entry, for a vector) lies in the valid
        range."""
        if self.is_vector:
            self._validate_entries(value)
            return
        low, high = self.valid_range
        label = self.name if self.name == self.field else f"{self.name} ({self.field})"
        check_number(
            label,
            value,
            low,
            high,
            low_inclusive=self.low_inclusive,
            high_inclusive=self.high_inclusive,
        )


    def _validate_entries(self, value: Any) -> None:
        if not (isinstance(value, torch.Tensor) and value.dim() == 1
                and value.is_floating_point()):
            shown = (f"shape {tuple(value.shape)}, dtype {value.dtype}"
                     if isinstance(value, torch.Tensor) else type(value).__name__)
            raise ConfigError(f"{self.name}: expected a 1-D real tensor (one entry per "
                              f"{self.vector}), got {shown}")
        entries = value.detach()
        low, high = self.valid_range
        bad = ~torch.isfinite(entries)
        if low is not None:
            bad |= entries < low if self.low_inclusive else entries <= low
        if high is not None:
            bad |= entries > high if self.high_inclusive else entries >= high
        if bool(bad.any()):
            index = int(bad.nonzero()[0, 0])
            shown_range = f"[{low}, {high}]" if low is not None or high is not None else "finite"
            raise ConfigError(f"{self.name}[{index}] = {float(entries[index])!r} is out of "
                              f"range; valid: {shown_range}")
