"""The one finite-difference engine: central differences with Richardson extrapolation and
their measured error, used by the Tier-2 table, the property checks and replay alike.

Along a direction ``d`` from ``x`` it evaluates ``f`` at ``x + k h d`` for k = -2..2 and
returns D(h), D(2h), their Richardson extrapolation and the error estimate. D(h) - D(2h) =
-3 c h^2 + noise, so their ``spread`` is three times D(h)'s truncation error (plus noise): a
bound with margin. The rounding noise is measured, not assumed: the fourth difference of the
five values is h^4 f''''(x) (negligible at small h) plus sqrt(70) times the rounding noise of
one value of ``f`` (a dim pixel in a spot's tail can be a million times noisier than a few
ulps of its value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from braggcheck.testing.framework.tolerances import ROUNDING_MARGIN


@dataclass(frozen=True)
class Differences:
    """Central differences of a scalar function along one direction, and their error.

    ``single`` is D(h), what gradcheck computes with eps = h; ``double`` is D(2h).
    ``fourth`` is the raw fourth difference |f(2) - 4 f(1) + 6 f(0) - 4 f(-1) + f(-2)|;
    ``rounding`` is D(h)'s rounding noise from it (floored at the caller's ulp floor).
    ``tolerance`` = spread + 10 x rounding: what D(h) may differ from the true derivative.
    """

    single: float
    double: float
    rounding: float
    fourth: float = 0.0
    h: float = 0.0

    @property
    def spread(self) -> float:
        return abs(self.single - self.double)

    @property
    def extrapolated(self) -> float:
        """Richardson: (4 D(h) - D(2h)) / 3, truncation error O(h^4)."""
        return (4 * self.single - self.double) / 3

    @property
    def tolerance(self) -> float:
        return self.spread + ROUNDING_MARGIN * self.rounding


def central_differences(function: Callable[[torch.Tensor], float], x: torch.Tensor,
                        direction: torch.Tensor, h: float, floor: float = 0.0,
                        centre: float | None = None) -> Differences:
    """D(h), D(2h) and the measured rounding noise of ``function`` along ``direction``.

    ``floor`` is the rounding noise of one value of ``function`` at the least (an ulp of its
    terms); ``centre`` is f(x) when the caller already has it (saves one evaluation).
    """
    values = {k: function(x + k * h * direction) for k in (-2, -1, 1, 2)}
    values[0] = function(x) if centre is None else centre
    fourth = values[2] - 4 * values[1] + 6 * values[0] - 4 * values[-1] + values[-2]
    sigma = max(abs(fourth) / math.sqrt(70), floor)
    return Differences(single=(values[1] - values[-1]) / (2 * h),
                       double=(values[2] - values[-2]) / (4 * h),
                       rounding=sigma / (math.sqrt(2) * h), fourth=abs(fourth), h=h)


def unit_vector(x: torch.Tensor, index: int) -> torch.Tensor:
    """The coordinate direction ``index`` in the space of ``x``."""
    direction = torch.zeros_like(x)
    direction[index] = 1.0
    return direction


def coordinate_differences(function: Callable[[torch.Tensor], float], x: torch.Tensor,
                           h: float, floor: float = 0.0, centre: float | None = None
                           ) -> list[Differences]:
    """:func:`central_differences` along every coordinate of ``x``."""
    return [central_differences(function, x, unit_vector(x, i), h, floor, centre)
            for i in range(x.numel())]
