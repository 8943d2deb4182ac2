"""The one result-row type of the framework: an analytic quantity against a numerical one.

Every check (properties, Tier-2 cases, replay and the reports) describes what it compared with
:class:`Row`: the two values, what their difference was allowed to be, a status, and for a
finite-difference comparison the step and the rounding-noise floor it was made with.
"""

from __future__ import annotations

from dataclasses import dataclass

NOISE_MARGIN = 1e3
"""A derivative must exceed the finite-difference noise floor by this factor to count."""

STATUSES = ("ok", "FAIL", "unresolved", "below noise", "")
"""``unresolved``: not smooth over the step; ``below noise``: under the rounding noise;
empty: a measurement that is not judged by itself (a Tier-2 derivative, judged by gradcheck)."""


@dataclass
class Row:
    """One compared quantity: analytic vs numerical, the error and what it was allowed."""

    name: str
    analytic: float
    numerical: float
    tolerance: float = 0.0
    status: str = ""
    noise_floor: float = 0.0
    """Rounding noise of ``numerical`` (0 when not a finite difference)."""
    eps: float = 0.0
    """Finite-difference step it was computed with, in scaled units (0: none)."""

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numerical)

    @property
    def relative_error(self) -> float:
        return self.error / max(abs(self.numerical), 1e-300)

    @property
    def above_noise(self) -> bool:
        """The numerical value stands NOISE_MARGIN times above its rounding noise."""
        return abs(self.numerical) > NOISE_MARGIN * self.noise_floor

    def within(self, atol: float, rtol: float) -> bool:
        return self.error <= atol + rtol * abs(self.numerical)
