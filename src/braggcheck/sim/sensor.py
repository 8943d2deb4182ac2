"""Detector thickness: parallax (depth layers) and the absorbed fraction (brief 7.2, 7.5).

The reference program samples the sensor at depths ``t * step`` (t = 0 .. layers-1) along the
detector normal. Every layer adds its own diffraction to the pixel sum (layers are *not*
counted in the normalising step count), and the pixel is multiplied once by the capture fraction
of the **last** layer, evaluated at that layer's first subpixel:
``exp(-t step mu / rho) - exp(-(t+1) step mu / rho)`` with ``rho = d . n`` (the obliquity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from braggcheck.sim.sections import DetectorConfig

MICRON = 1e-6


@dataclass(frozen=True)
class Sensor:
    """Resolved sensor sampling: layer count, depth step (m) and attenuation coefficient (1/m)."""

    layers: int
    step: float
    mu: float


def sensor_model(det: DetectorConfig) -> Sensor | None:
    """The reference program's thickness rules; None for a thin detector (capture fraction 1).

    Thickness T alone gives 2 layers T/2 apart; T with n layers gives max(n, 2) layers
    T/(n-1) apart. Without an attenuation length mu = 1/T; an infinite one means mu = 0.
    """
    thickness = det.sensor_thickness_um * MICRON
    if thickness <= 0:
        return None
    if det.sensor_layers is None:
        layers, step = 2, thickness / 2
    else:
        layers = max(det.sensor_layers, 2)
        step = thickness / (layers - 1)
    attenuation = det.sensor_attenuation_um
    if attenuation is None:
        mu = 1.0 / thickness
    elif attenuation == math.inf:
        mu = 0.0
    else:
        mu = 1.0 / (attenuation * MICRON)
    return Sensor(layers=layers, step=step, mu=mu)


def layered(f_pos: torch.Tensor, s_pos: torch.Tensor, sensor: Sensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P, U) in-plane subpixel offsets -> (P, L*U) offsets and depths, layer outer."""
    depths = torch.arange(sensor.layers, dtype=f_pos.dtype, device=f_pos.device) * sensor.step
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
