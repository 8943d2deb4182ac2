"""Detector thickness: parallax (depth layers) and the absorbed fraction (brief 7.2, 7.5).

The reference program samples the sensor at depths ``t * step`` (t = 0 .. layers-1) along the
detector normal. Every layer adds its own diffraction to the pixel sum (layers are *not*
counted in the normalising step count), and the pixel is multiplied once by the capture fraction
of the **last** layer, evaluated at that layer's first subpixel:
``exp(-t step mu / rho) - exp(-(t+1) step mu / rho)`` with ``rho = d . n`` (the obliquity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from braggcheck.sim.sections import DetectorConfig

MICRON = 1e-6


@dataclass(frozen=True)
class Sensor:
    """Resolved sensor sampling: layer count, depth step (m) and attenuation coefficient (1/m).

    ``step`` and ``mu`` are tensors when built from the simulator's state (registry parameters
    ``sensor_thickness_um`` and ``sensor_attenuation_um``, which keep their graph), floats
    otherwise."""

    layers: int
    step: float | torch.Tensor
    mu: float | torch.Tensor


def sensor_model(det: DetectorConfig, state: Mapping[str, torch.Tensor] | None = None
                 ) -> Sensor | None:
    """The reference program's thickness rules; None for a thin detector (capture fraction 1).

    Thickness T alone gives 2 layers T/2 apart; T with n layers gives max(n, 2) layers
    T/(n-1) apart. Without an attenuation length mu = 1/T; an infinite one means mu = 0.
    Thin or thick and the layer count come from ``det`` (discrete choices of the configuration);
    with ``state`` the thickness and attenuation length are its tensors (the unset attenuation
    length resolves to the configured thickness, :func:`braggcheck.sim.config.resolved_default`).
    """
    if det.sensor_thickness_um <= 0:
        return None
    if state is None:
        thickness = det.sensor_thickness_um * MICRON
        attenuation = det.sensor_attenuation_um
        length = det.sensor_thickness_um if attenuation is None else attenuation
    else:
        thickness = state["sensor_thickness_um"] * MICRON
        length = state["sensor_attenuation_um"]
    if det.sensor_layers is None:
        layers, step = 2, thickness / 2
    else:
        layers = max(det.sensor_layers, 2)
        step = thickness / (layers - 1)
    if det.sensor_attenuation_um == math.inf:
        mu: float | torch.Tensor = 0.0
    else:
        mu = 1.0 / (length * MICRON)
    return Sensor(layers=layers, step=step, mu=mu)


def layered(f_pos: torch.Tensor, s_pos: torch.Tensor, sensor: Sensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P, U) in-plane subpixel offsets -> (P, L*U) offsets and layer indices, layer outer.

    The depth is ``index * sensor.step``: the step rides on the detector plane's odet column
    (``simulator.detector_plane``), so that the offsets stay constants and a thickness tensor
    gets its gradient through the plane also on the fused path, which treats offsets as such.
    """
    depths = torch.arange(sensor.layers, dtype=f_pos.dtype, device=f_pos.device)
    count, per_layer = f_pos.shape
    depth = depths[None, :, None].expand(count, sensor.layers, per_layer).reshape(count, -1)
    return f_pos.repeat(1, sensor.layers), s_pos.repeat(1, sensor.layers), depth


def capture_fraction(direction: torch.Tensor, normal: torch.Tensor,
                     sensor: Sensor) -> torch.Tensor:
    """Absorbed fraction of the last layer; ``direction`` (3, P) holds the unit vectors to that
    layer's first subpixels as columns."""
    last = sensor.layers - 1
    rho = normal @ direction
    front = last * sensor.step * sensor.mu
    back = (last + 1) * sensor.step * sensor.mu
    return torch.exp(-front / rho) - torch.exp(-back / rho)
