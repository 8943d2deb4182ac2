"""Configuration-side rules of the sensor parameters (kept apart from the physics in
:mod:`braggcheck.sim.sensor`, which imports the configuration)."""

from __future__ import annotations

import math
from typing import Any


def unset_attenuation(field: str, value: Any) -> bool:
    """Whether ``value`` of ``field`` is the attenuation length's unset (None: the thickness)
    or infinite (no absorption) setting, which the registry's finite range does not cover."""
    return field == "sensor_attenuation_um" and (value is None or value == math.inf)
