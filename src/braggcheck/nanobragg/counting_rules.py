"""The reference program's counting rules: how many steps of what size a range gives
(divergence, dispersion, phi), the oscillation range it reports, and its random misset.
"""

from __future__ import annotations

import math

import numpy as np

from braggcheck.sim.rng import Ran1
from braggcheck.util.errors import ConfigError


def random_misset_angles(seed: int) -> tuple[float, float, float]:
    """``-misset random``: the reference program's draw from ``-misset_seed seed`` (degrees)."""
    rng = Ran1(-abs(seed))
    r1, r2, r3 = (2.0 * rng() - 1.0 for _ in range(3))
    radial = math.sqrt(1.0 - r2 * r2)
    axis = np.array((radial * math.sin(math.pi * r1), radial * math.cos(math.pi * r1), r2))
    factor = np.float32(np.float32(1.0 - r3 * r3) ** np.float32(1.0 / 3.0))
    tau = float(np.float32(np.float32(90.0) * factor))
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    u = math.cos(tau) * np.eye(3) + (1 - math.cos(tau)) * np.outer(axis, axis)
    u += math.sin(tau) * cross
    rx = math.atan2(u[2, 1], u[2, 2])
    ry = math.atan2(-u[2, 0], math.hypot(u[2, 1], u[2, 2]))
    rz = math.atan2(u[1, 0], u[0, 0])
    return tuple(math.degrees(x) for x in (rx, ry, rz))  # type: ignore[return-value]


def step_rule(count: int | None, range_: float | None, step: float | None,
               count_only_range: float, per_unit: float) -> tuple[int, float, float | None]:
    """The reference program's (count, range, step) completion for divergence/dispersion.

    Unset values are negative, as in the reference, and a step <= 0 counts as unset. Returns
    (count, range, step); the step is None where it equals range / (count - 1), so a later
    change of the range (e.g. through the registry) moves the whole grid consistently.
    ``per_unit`` converts to the reference's internal unit (rad, fraction) for the one rule
    that rounds, ``ceil(range / step)``, so float ties round as they do there.
    """
    n = -1 if count is None else count
    r = -1.0 if range_ is None else range_
    d = -1.0 if step is None else step
    explicit = False
    if n <= 0:
        if r < 0:
            n, r, d = (1, 0.0, 0.0) if d <= 0 else (2, d, d)
        elif d <= 0:
            n, d = 2, r
        else:
            n = math.ceil((r / per_unit) / (d / per_unit))
            explicit = True
    elif r < 0:
        if d <= 0:
            r = count_only_range
            d = r / n
            explicit = True
        else:
            n, r = 2, d
    elif d <= 0:
        n = max(n, 2)
        d = r / (n - 1)
    else:
        explicit = True
    if r <= 0 or d <= 0 or n <= 0:
        return 1, 0.0, None
    return n, r, d if explicit else None


def phi_rule(count: int | None, osc: float | None, step: float | None) -> tuple[int, float]:
    """(steps, step in degrees) from any partial -phisteps/-osc/-phistep input (brief 2.5)."""
    if count == 0:
        count = 1
    if count is None and osc is None and step is None:
        return 1, 0.0
    if osc is None and count is None:
        return 2, step  # type: ignore[return-value]
    if step is None and count is None:
        return 2, osc / 2  # type: ignore[operator]
    if count is None:
        if step <= 0:  # type: ignore[operator]
            raise ConfigError(f"-phistep = {step:g} with -osc: valid: > 0")
        return max(1, math.ceil(osc / step)), step  # type: ignore[operator,return-value]
    if osc is None and step is None:
        return count, 1.0 / count
    if osc is None:
        return 2, step  # type: ignore[return-value]
    if step is None:
        return count, osc / count
    return count, step


def phi_range(count: int | None, osc: float | None, step: float | None) -> float:
    """The oscillation range (deg) the SMV header reports, after the phi rules of brief 2.5."""
    if osc is not None and osc >= 0:
        return osc
    if step is not None and step > 0:
        return step
    return 1.0 if count is not None and count >= 0 else 0.0
