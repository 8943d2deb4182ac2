"""braggcheck's nanoBragg simulator as a target of the property framework.

It uses exactly the public protocol of :mod:`braggcheck.testing.framework.target`: parameter specs
derived
from the registry (``sim/registry.py``), the configuration strategy of
:mod:`braggcheck.testing.nanobragg.strategies.configs`, ``simulate`` in float64 as the renderer,
and the JSON form
of :mod:`braggcheck.nanobragg.serialization` for stored examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
from hypothesis import strategies as st

from braggcheck.nanobragg.serialization import config_from_dict, config_to_dict
from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.config import Config
from braggcheck.sim.parameter import Parameter
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import baseline_value
from braggcheck.testing.framework.derivatives import has_bragg_signal
from braggcheck.testing.framework.probe import Probe
from braggcheck.testing.framework.target import ParameterSpec, Target
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.strategies.cases import configs
from braggcheck.util.errors import ConfigError

GRADGRAD_PREFIXES = ("cell_", "misset_", "lambda_", "n_")
"""Parameters whose second derivatives the Tier-2 table also checks (gradgradcheck)."""
LINEAR_PARAMETERS = ("fluence",)
"""The image is proportional to these (photons per pixel scale with the fluence)."""
CELL_ANGLES = ("cell_alpha", "cell_beta", "cell_gamma")


def bragg_signal(image: torch.Tensor, shape: str) -> bool:
    """Spots on the image: peaks well above the median; TOPHAT spots also have dark gaps."""
    if has_bragg_signal(image):
        return True
    return shape == "tophat" and float(image.max()) > 0 and float(image.min()) == 0


@dataclass(frozen=True)
class _Needs:
    """The registry's ``needs`` as a predicate: the image of a configuration depends on the
    parameter (one source of truth: :func:`braggcheck.sim.applicability.applicable_parameters`)."""

    name: str

    def __call__(self, config: Config) -> bool:
        return self.name in applicable_parameters(config)


def registry_spec(parameter: Parameter) -> ParameterSpec:
    """The target protocol's view of one registry parameter."""
    return ParameterSpec(
        name=parameter.name, units=parameter.units, baseline=parameter.baseline,
        valid_range=parameter.valid_range, typical_range=parameter.typical_range,
        scale=parameter.scale, period=parameter.period,
        linear=parameter.name in LINEAR_PARAMETERS,
        second_derivative=parameter.name.startswith(GRADGRAD_PREFIXES),
        closed=(parameter.low_inclusive, parameter.high_inclusive),
        needs=_Needs(parameter.name))


class NanoBraggTarget:
    """nanoBragg (``braggcheck.simulate``) under the target protocol."""

    name = "nanobragg"
    case_type = Case
    """Cases carry pixel chunking and the misset/phi shift (the framework's codec stores them)."""

    def __init__(self) -> None:
        self.parameters = MappingProxyType({n: registry_spec(p)
                                            for n, p in PARAMETERS.items()})

    def configs(self) -> st.SearchStrategy[Config]:
        return configs()

    def render(self, config: Config, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return simulate(config, params, dtype=torch.float64)

    def value(self, config: Config, name: str) -> float:
        return baseline_value(config, name)

    def shape(self, config: Config) -> tuple[int, ...]:
        return (config.detector.spixels, config.detector.fpixels)

    def accepts(self, config: Config, name: str, value: float) -> bool:
        try:
            PARAMETERS[name].validate(value)
            if name in CELL_ANGLES:  # the three angles must still admit a real cell
                config.replace(**{name: value})
        except ConfigError:
            return False
        return True

    def missing_signal(self, config: Config, image: torch.Tensor) -> str | None:
        if bragg_signal(image, config.crystal.shape):
            return None
        return (f"no Bragg signal on the {config.detector.spixels}x"
                f"{config.detector.fpixels} image")

    def config_to_json(self, config: Config) -> dict[str, Any]:
        return config_to_dict(config)

    def config_from_json(self, data: Any, base_dir: Path | None = None) -> Config:
        return config_from_dict(data, base_dir)


NANOBRAGG: Target = NanoBraggTarget()
"""The nanoBragg target (one instance: probes and Tier-2 cases compare it by identity)."""


@dataclass(frozen=True)
class GradientProbe(Probe):
    """A :class:`~braggcheck.testing.framework.probe.Probe` of the nanoBragg target."""

    target: Target = field(default=NANOBRAGG, kw_only=True)
