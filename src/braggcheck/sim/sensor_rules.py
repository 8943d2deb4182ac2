"""Configuration-side rules of the sensor parameters (kept apart from the physics in
:mod:`braggcheck.sim.sensor`, which imports the configuration)."""

from __future__ import annotations

import math
from typing import Any


def unset_attenuation(field: str, value: Any) -> bool:
    """Whether ``value`` of ``field`` is the attenuation length's unset (None: the thickness)
    or infinite (no absorption, a plain float) setting, which the registry's finite range does
    not cover."""
    if field != "sensor_attenuation_um":
        return False
    return value is None or (isinstance(value, float) and value == math.inf)


def unused_sensor_parameters(det: Any) -> set[str]:
    """Sensor registry parameters the image of a configuration with detector ``det`` does not
    depend on: both for a thin detector (thin or thick is the configuration's choice), the
    attenuation length when it is infinite (mu = 0 whatever the value)."""
    if det.sensor_thickness_um <= 0:
        return {"sensor_thickness_um", "sensor_attenuation_um"}
    if det.sensor_attenuation_um == math.inf:
        return {"sensor_attenuation_um"}
    return set()
