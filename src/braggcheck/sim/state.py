"""The registry parameters of one evaluation, as scalar tensors (the differentiable inputs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch

from braggcheck.sim.detector import resolved_beam_center_mm
from braggcheck.sim.registry import PARAMETERS, REFINABLE
from braggcheck.sim.sections import check_cell_angles
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import as_float

if TYPE_CHECKING:  # annotations only: the Config module imports this one
    from braggcheck.sim.config import Config


def resolved_default(config: Config, name: str) -> float:
    """The value a registry parameter whose field is None stands for (it depends on others)."""
    if name == "divergence_mrad":
        return config.beam.nominal_divergence_mrad
    if name == "sensor_attenuation_um":  # unset: the thickness (unused, valid when thin)
        return as_float(config.detector.sensor_thickness_um) or PARAMETERS[name].baseline
    if name.startswith("beam_center"):
        return resolved_beam_center_mm(config.detector)[0 if name.endswith("f_mm") else 1]
    raise ConfigError(f"{name}: no default for an unset value")


def baseline_value(config: Config, name: str) -> float:
    """The float value of registry parameter ``name`` in ``config`` (defaults resolved)."""
    parameter = PARAMETERS[name]
    value = getattr(getattr(config, parameter.section), parameter.field)
    if value is None:
        value = resolved_default(config, name)
    return as_float(value)


def build_state(
    config: Config,
    params: Mapping[str, torch.Tensor] | None,
    dtype: torch.dtype,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """Every registry parameter as a scalar tensor: from ``params`` if given, else the config.

    Tensors keep their graph (``.to`` is differentiable); plain numbers become constants.
    """
    if params is not None and not isinstance(params, Mapping):
        raise ConfigError(f"params: expected a dict of parameter name -> tensor, "
                          f"got {type(params).__name__}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(REFINABLE))
    if unknown:
        raise ConfigError(
            f"params: unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(REFINABLE)}"
        )
    state = {}
    for name, parameter in PARAMETERS.items():
        if name in params:
            value = params[name]
            parameter.validate(value)
        else:
            value = getattr(getattr(config, parameter.section), parameter.field)
            if value is None:  # a default that depends on other fields (beam centre, divergence)
                value = resolved_default(config, name)
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ConfigError(f"params[{name!r}]: expected a scalar tensor, got shape "
                                  f"{tuple(value.shape)}")
            state[name] = value.to(dtype=dtype, device=device).reshape(())
        else:
            state[name] = torch.tensor(float(value), dtype=dtype, device=device)
    check_cell_angles(state["cell_alpha"], state["cell_beta"], state["cell_gamma"])
    return state
