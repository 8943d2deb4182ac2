"""The target protocol: what the property framework needs to know about a simulator.

A *target* is any differentiable renderer of a configuration into an image-like tensor. The
framework's checks (gradient vs differences, forward vs reverse, Taylor, finite, repeatable,
periodicity, linearity), the Tier-2 table, stored examples and replay use a target only through
this protocol, so braggcheck's own nanoBragg simulator (``braggcheck.testing.nanobragg.target``)
is one target among others (``examples/toy_target.py``, docs/targets.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from hypothesis import strategies as st

from braggcheck.util.errors import ConfigError


def always(config: Any) -> bool:
    """The default ``needs``: the output depends on the parameter in every configuration."""
    return True


@dataclass(frozen=True)
class ParameterSpec:
    """One refinable parameter of a target, its ranges and its capabilities as data."""

    name: str
    units: str
    baseline: float
    valid_range: tuple[float | None, float | None]
    """Hard limits (open unless ``closed``); a finite-difference step must stay inside."""
    typical_range: tuple[float, float]
    """Where strategies draw values; they shrink toward ``baseline``."""
    scale: float
    """Typical magnitude: finite-difference steps are relative to it."""
    period: float | None = None
    """Adding whole periods leaves the output unchanged (checked by the periodicity check)."""
    linear: bool = False
    """The output is proportional to this parameter (checked by the linearity check)."""
    second_derivative: bool = False
    """The Tier-2 table also checks its second derivative (gradgradcheck)."""
    closed: tuple[bool, bool] = (False, False)
    """Whether the low and high limits of ``valid_range`` are themselves valid."""
    needs: Callable[[Any], bool] = always
    """Whether the output of a configuration depends on this parameter at all (elsewhere its
    derivative is identically zero and the checks do not ask for it)."""

    def __post_init__(self) -> None:
        low, high = self.valid_range
        lo, hi = self.typical_range
        if not self.scale > 0 or lo > hi or (low is not None and lo < low) or (
                high is not None and hi > high):
            raise ConfigError(f"parameter spec {self.name}: need scale > 0 and typical range "
                              f"{self.typical_range} inside the valid range {self.valid_range}")

    def inside(self, value: float) -> bool:
        """``value`` lies in the valid range."""
        low, high = self.valid_range
        above = low is None or value > low or (self.closed[0] and value == low)
        below = high is None or value < high or (self.closed[1] and value == high)
        return above and below


@runtime_checkable
class Target(Protocol):
    """A differentiable simulator the framework can test (see docs/targets.md)."""

    name: str
    """Short name, stored in failure files."""
    parameters: Mapping[str, ParameterSpec]

    def configs(self) -> st.SearchStrategy[Any]:
        """Valid configurations (shrinking toward a simple one)."""
        ...

    def render(self, config: Any, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The float64 output of ``config`` with parameters overridden by name by tensors; the
        output must keep the graph of every tensor in ``params``."""
        ...

    def value(self, config: Any, name: str) -> float:
        """The value parameter ``name`` has in ``config``."""
        ...

    def shape(self, config: Any) -> tuple[int, ...]:
        """The output's shape, without rendering it."""
        ...

    def accepts(self, config: Any, name: str, value: float) -> bool:
        """Whether ``config`` with ``name`` set to ``value`` is valid (joint constraints beyond
        the spec's valid range, e.g. three cell angles that must admit a cell)."""
        ...

    def missing_signal(self, config: Any, image: torch.Tensor) -> str | None:
        """The non-vacuity test: why ``image`` holds no signal worth checking, None if it does."""
        ...

    def config_to_json(self, config: Any) -> Any:
        """A JSON-ready form of ``config`` (the round trip must be exact)."""
        ...

    def config_from_json(self, data: Any, base_dir: Path | None = None) -> Any:
        """The configuration back from :meth:`config_to_json` (``base_dir``: relative files)."""
        ...


def applicable(target: Target, config: Any) -> tuple[str, ...]:
    """The target's parameters the output of ``config`` depends on (their ``needs`` hold)."""
    return tuple(name for name, spec in target.parameters.items() if spec.needs(config))


def periodic(target: Target) -> tuple[str, ...]:
    return tuple(name for name, spec in target.parameters.items() if spec.period is not None)


def linear(target: Target) -> tuple[str, ...]:
    return tuple(name for name, spec in target.parameters.items() if spec.linear)


def steppable(target: Target, config: Any, name: str, reach: float) -> bool:
    """Whether ``name`` can move by +-``reach`` (scaled units) and stay valid."""
    spec = target.parameters[name]
    value = target.value(config, name)
    return all(spec.inside(moved) and target.accepts(config, name, moved)
               for moved in (value - reach * spec.scale, value + reach * spec.scale))
