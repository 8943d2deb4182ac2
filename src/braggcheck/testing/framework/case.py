"""A property-test case for any target: a configuration plus what the checks draw around it.

The fields beyond the configuration are the parts Hypothesis draws for the checks: which
parameters are differentiated, how the output is projected to a scalar, the direction in
parameter space, a factor (linearity), and whole turns of a periodic parameter. This is the one
case type: a target that needs more per case declares a subclass as ``target.case_type``
(nanoBragg's :class:`~braggcheck.testing.nanobragg.case.Case` adds pixel chunking and the
misset/phi shift), and the one JSON codec below stores its extra fields too:
``{"config": target.config_to_json(config), "names": [...], ..., <extras>}``.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from braggcheck.testing.framework.projection import Projection
from braggcheck.testing.framework.target import Target
from braggcheck.util.errors import ConfigError


def scaled_direction(direction: tuple[float, ...], count: int) -> torch.Tensor:
    """The direction (all ones when empty) scaled to a largest entry of 1: a tiny drawn
    direction (Hypothesis likes 1e-300) would make every finite-difference step round to
    nothing."""
    vector = torch.tensor(direction or (1.0,) * count, dtype=torch.float64)
    largest = float(vector.abs().max())
    return torch.ones_like(vector) if largest == 0 else vector / largest


@dataclass(frozen=True)
class TargetCase:
    """One example for the property suite of any target."""

    config: Any
    names: tuple[str, ...]
    """Parameters differentiated by the gradient checks."""
    projection: Projection = field(default_factory=Projection)
    direction: tuple[float, ...] = ()
    """A direction in scaled parameter space, one entry per name; empty means all ones."""
    factor: float = 2.0
    """A positive factor: the multiplier of the linearity check."""
    turns: int = 1
    """Whole periods added to ``angle`` by the periodicity check."""
    angle: str | None = None
    """A periodic parameter of the target (None: the target has none)."""

    def __post_init__(self) -> None:
        if not self.names:
            raise ConfigError("case names: need at least one parameter")
        if self.direction and len(self.direction) != len(self.names):
            raise ConfigError("case direction: one entry per name")
        if not self.factor > 0:
            raise ConfigError(f"case factor = {self.factor}: must be > 0")

    def direction_tensor(self) -> torch.Tensor:
        return scaled_direction(self.direction, len(self.names))


def weights_for(target: Target, case: TargetCase) -> torch.Tensor:
    """The case's projection weights for its output (a 'rank' projection renders it)."""
    image = None
    if case.projection.kind == "rank":
        with torch.no_grad():
            image = target.render(case.config, {})
        return case.projection.weights(tuple(image.shape), image)
    return case.projection.weights(target.shape(case.config))


def validate_case(target: Target, case: TargetCase) -> TargetCase:
    """``case``, after checking its names and angle against the target (ConfigError else)."""
    unknown = [n for n in case.names if n not in target.parameters]
    if unknown:
        raise ConfigError(f"case names {unknown}: not parameters of target {target.name}; "
                          f"valid: {', '.join(target.parameters)}")
    if case.angle is not None and (case.angle not in target.parameters
                                   or target.parameters[case.angle].period is None):
        raise ConfigError(f"case angle {case.angle!r} is not a periodic parameter of target "
                          f"{target.name}")
    return case


BASE_FIELDS = ("config", "names", "projection", "direction", "factor", "turns", "angle")
"""The fields every case has; a target's own case type (``target.case_type``, a subclass of
:class:`TargetCase`) adds fields of plain JSON values (numbers, strings, None) after them."""


def case_type(target: Target) -> type[TargetCase]:
    """The target's case type: ``target.case_type`` if it declares one, else TargetCase."""
    chosen = getattr(target, "case_type", TargetCase)
    if not (isinstance(chosen, type) and issubclass(chosen, TargetCase)):
        raise ConfigError(f"target {target.name}: case_type must be a subclass of TargetCase")
    return chosen


def case_to_json(target: Target, case: TargetCase) -> dict[str, Any]:
    """The one JSON form of a case of any target (extras of its case type included; an extra
    that is None is left out, so it reads back as its default)."""
    projection = case.projection
    data: dict[str, Any] = {
        "config": target.config_to_json(case.config),
        "names": list(case.names),
        "projection": {"kind": projection.kind, "seed": projection.seed,
                       "pixel": list(projection.pixel), "rank": projection.rank},
        "direction": list(case.direction),
        "factor": case.factor,
        "turns": case.turns,
        "angle": case.angle,
    }
    for extra in fields(case):
        value = getattr(case, extra.name)
        if extra.name not in BASE_FIELDS and value is not None:
            data[extra.name] = value
    return data


def case_from_json(target: Target, data: dict[str, Any], base_dir: Path | None = None
                   ) -> TargetCase:
    """The case back from :func:`case_to_json`, as the target's case type; a field the data
    leaves out takes its default (ConfigError naming a bad or missing field)."""
    kind = case_type(target)
    known = {f.name: f for f in fields(kind)}
    required = [n for n in ("config", "names") if n not in data
                and known[n].default is MISSING and known[n].default_factory is MISSING]
    if not isinstance(data, dict) or required:
        raise ConfigError("case: need an object with 'config' and 'names'")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"case: unknown field(s) {unknown}; valid: {', '.join(known)}")
    projection = dict(data.get("projection", {}))
    if "pixel" in projection:
        projection["pixel"] = tuple(projection["pixel"])
    values: dict[str, Any] = {}
    try:
        if "config" in data:
            values["config"] = target.config_from_json(data["config"], base_dir)
        if "names" in data:
            values["names"] = tuple(str(n) for n in data["names"])
        values["projection"] = Projection(**projection)
        values["direction"] = tuple(float(v) for v in data.get("direction", ()))
        for name, cast in (("factor", float), ("turns", int)):
            if name in data:
                values[name] = cast(data[name])
        for name in set(data) - {*BASE_FIELDS}:
            values[name] = data[name]
        if "angle" in data:
            values["angle"] = data["angle"]
        case = kind(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"case: malformed field ({exc})") from None
    return validate_case(target, case)
