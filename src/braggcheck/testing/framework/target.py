"""The target protocol: what the property framework needs to know about a simulator.

A *target* is any differentiable renderer of a configuration into an image-like tensor. The
framework's checks (gradient vs differences, forward vs reverse, Taylor, finite, repeatable,
periodicity, linearity), the Tier-2 table, stored examples and replay use a target only through
this protocol, so braggcheck's own nanoBragg simulator (``braggcheck.testing.nanobragg.target``)
is one target among others (``examples/toy_target.py``, docs/targets.md).
"""

from __future__ import annotations

import math
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
    special: tuple[float, ...] = ()
    """Exact values where the target may take another branch (a normalisation's singular
    point, a switch): drawn exactly, like the baseline, 0 and whole periods (see
    :func:`special_values`)."""

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


@dataclass(frozen=True)
class Capabilities:
    """What a target's derivatives support, as data (optional member ``capabilities``).

    A check the target cannot run is reported as NOT APPLICABLE with ``why`` (a deselected
    property test named in the pytest summary, a line of the Tier-2 report), never as a pass
    or a failure. Periodic and linear parameters and second derivatives are declared per
    parameter on :class:`ParameterSpec`.
    """

    forward_mode: bool = True
    """``torch.func.jvp`` / forward-mode AD works through ``render`` (every custom
    ``autograd.Function`` has a ``jvp``): the forward-vs-reverse check and gradcheck's forward
    mode need it."""
    why: str = ""
    """Why a capability is missing (printed with NOT APPLICABLE)."""


def capabilities(target: Any) -> Capabilities:
    """The target's declared :class:`Capabilities` (all supported when it declares none)."""
    declared = getattr(target, "capabilities", None)
    if declared is None:
        return Capabilities()
    if not isinstance(declared, Capabilities):
        raise ConfigError(f"target {getattr(target, 'name', target)!r}: capabilities must be "
                          f"a braggcheck.testing.Capabilities, not {type(declared).__name__}")
    return declared


def defaults(target: Any) -> dict[str, Any]:
    """The configurations the target's users run most, by name (optional method
    ``defaults()``; none when the target declares none). Every property test checks them first
    and :func:`braggcheck.testing.framework.table.default_table` turns them into Tier-2 rows:
    a shortcut branch on the default path is invisible to random draws."""
    declared = getattr(target, "defaults", None)
    if declared is None:
        return {}
    named = dict(declared() if callable(declared) else declared)
    for name in named:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"target {getattr(target, 'name', target)!r}: defaults() must "
                              f"map non-empty names to configurations, got key {name!r}")
    return named


def not_applicable(target: Any, check: str) -> str | None:
    """Why ``target`` cannot run the property check ``check`` (None when it can)."""
    specs = target.parameters.values()
    if check == "forward_reverse" and not capabilities(target).forward_mode:
        why = capabilities(target).why
        return (f"target {target.name} declares forward_mode = False"
                + (f" ({why})" if why else ""))
    if check == "periodicity" and all(s.period is None for s in specs):
        return f"target {target.name} declares no periodic parameter (ParameterSpec.period)"
    if check == "linearity" and not any(s.linear for s in specs):
        return f"target {target.name} declares no linear parameter (ParameterSpec.linear)"
    return None


def special_values(spec: ParameterSpec) -> tuple[float, ...]:
    """Exact values a strategy draws besides random ones: the baseline, 0 where valid, whole
    periods of a periodic parameter inside its typical range (and +-1 period), and the spec's
    own ``special`` values, those inside the valid range, without repeats."""
    found = [spec.baseline, 0.0, *spec.special]
    if spec.period is not None:
        lo, hi = spec.typical_range
        first, last = math.ceil(lo / spec.period), math.floor(hi / spec.period)
        found += [k * spec.period for k in range(first, last + 1)][:8]
        found += [spec.period, -spec.period]
    return tuple(dict.fromkeys(float(v) for v in found if spec.inside(v)))


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
