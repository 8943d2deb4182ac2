"""A toy target: a textured powder ring of Gaussian profile on a square detector.

Not braggcheck's simulator: an independent differentiable model (Bragg's law, a flat detector
and a ring texture) declared to the property framework in the few lines docs/targets.md walks
through. ``tests/examples/test_toy_target.py`` runs its property suite and its Tier-2 table, and
plants a bug in it that the suite finds, shrinks, stores and replays.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hypothesis import strategies as st

from braggcheck.testing import (
    Capabilities,
    ParameterSpec,
    TableCase,
    default_table,
    parameter_values,
)

EDGE = 0.6
"""The ring is drawn at this share of the detector's half width."""


@dataclass(frozen=True)
class ToyConfig:
    wavelength_A: float = 1.0
    d_spacing_A: float = 3.0
    distance_mm: float = 100.0
    width_px: float = 1.5
    amplitude: float = 1000.0
    azimuth_deg: float = 0.0
    texture: float = 0.0
    """Strength of the cos(2 (phi - azimuth)) texture, 0 to 1 (0: a uniform ring)."""
    pixels: int = 24
    pixel_mm: float | None = None
    """None: the pixel size that puts the ring at EDGE of the half width."""

    def pixel_size(self) -> float:
        if self.pixel_mm is not None:
            return self.pixel_mm
        two_theta = 2 * math.asin(self.wavelength_A / (2 * self.d_spacing_A))
        return self.distance_mm * math.tan(two_theta) / (EDGE * self.pixels / 2)


def _spec(name: str, baseline: float, typical: tuple[float, float], scale: float,
          **capabilities: Any) -> ParameterSpec:
    return ParameterSpec(name, "", baseline, (0.0, None), typical, scale, **capabilities)


PARAMETERS = {s.name: s for s in (
    _spec("wavelength_A", 1.0, (0.5, 2.0), 1.0, second_derivative=True),
    _spec("d_spacing_A", 3.0, (2.0, 10.0), 3.0, second_derivative=True),
    _spec("distance_mm", 100.0, (50.0, 300.0), 100.0),
    _spec("width_px", 1.5, (0.7, 3.0), 1.0),
    _spec("amplitude", 1000.0, (1.0, 1e6), 1000.0, linear=True),
    ParameterSpec("azimuth_deg", "deg", 0.0, (None, None), (-180.0, 180.0), 90.0,
                  period=180.0, needs=lambda config: config.texture > 0),
)}


class ToyTarget:
    name = "toy"
    parameters = PARAMETERS
    capabilities = Capabilities(forward_mode=True)
    """Optional (all supported when absent): what the derivatives of render support."""

    def defaults(self) -> dict[str, ToyConfig]:
        """Optional: the configurations users run most, checked first by every property."""
        return {"uniform": ToyConfig(), "textured": ToyConfig(texture=0.5, azimuth_deg=20.0)}

    def with_value(self, config: ToyConfig, name: str, value: float) -> ToyConfig:
        """Optional: ``config`` with one parameter set (strategies move drawn configurations
        to exact baselines and special values with it)."""
        return dataclasses.replace(config, **{name: value})

    def configs(self) -> st.SearchStrategy[ToyConfig]:
        # Each parameter: its baseline, an exact special value (0, whole turns) or random.
        values = {n: parameter_values(s) for n, s in PARAMETERS.items()}
        return st.builds(ToyConfig, **values, texture=st.sampled_from((0.0, 0.5, 1.0)),
                         pixels=st.integers(16, 32))

    def render(self, config: ToyConfig, params: dict[str, torch.Tensor]) -> torch.Tensor:
        p = {n: params.get(n, torch.tensor(getattr(config, n), dtype=torch.float64))
             for n in PARAMETERS}
        centres = (torch.arange(config.pixels, dtype=torch.float64) - (config.pixels - 1) / 2)
        y, x = torch.meshgrid(centres * config.pixel_size(), centres * config.pixel_size(),
                              indexing="ij")
        two_theta = 2 * torch.asin(p["wavelength_A"] / (2 * p["d_spacing_A"]))
        radius = p["distance_mm"] * torch.tan(two_theta)
        width = p["width_px"] * config.pixel_size()
        texture = 1 + config.texture * torch.cos(2 * (torch.atan2(y, x)
                                                      - torch.deg2rad(p["azimuth_deg"])))
        ring = torch.exp(-((torch.sqrt(x**2 + y**2) - radius) / width) ** 2 / 2)
        return p["amplitude"] * texture * ring

    def value(self, config: ToyConfig, name: str) -> float:
        return float(getattr(config, name))

    def shape(self, config: ToyConfig) -> tuple[int, ...]:
        return (config.pixels, config.pixels)

    def accepts(self, config: ToyConfig, name: str, value: float) -> bool:
        changed = dataclasses.replace(config, **{name: value})
        return changed.wavelength_A < 2 * changed.d_spacing_A  # Bragg: sin(theta) < 1

    def missing_signal(self, config: ToyConfig, image: torch.Tensor) -> str | None:
        peak, least = float(image.max()), float(image.min())
        return None if peak > 10 * max(least, 0.0) else "no ring contrast on the detector"

    def config_to_json(self, config: ToyConfig) -> dict[str, Any]:
        return dataclasses.asdict(config)

    def config_from_json(self, data: Any, base_dir: Path | None = None) -> ToyConfig:
        return ToyConfig(**data)


TOY = ToyTarget()
SETUPS = {name: (lambda config=config: config) for name, config in TOY.defaults().items()}
TABLE = tuple(TableCase((name,), "textured", target=TOY, setups=SETUPS) for name in PARAMETERS)
"""The toy's Tier-2 table: every parameter on the textured ring."""
DEFAULT_TABLE = default_table(TOY)
"""Tier-2 rows on each of the toy's defaults, every parameter its output depends on."""
