"""What checks return: the one result-row type, and a check's verdict made of rows.

Every check (properties, Tier-2 cases, replay and the reports) describes what it compared with
:class:`Row`: an analytic quantity against a numerical one, what their difference was allowed
to be, a status, and for a finite-difference comparison the step and the rounding-noise floor
it was made with. A property check returns a :class:`CheckResult` holding its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from braggcheck.testing.framework.tolerances import NOISE_MARGIN

STATUSES = ("ok", "FAIL", "inconclusive", "unresolved", "below noise", "")
"""``inconclusive``: agreed only at a tolerance the measured noise inflated past the ceiling
(:mod:`braggcheck.testing.framework.verdict`), never a pass; ``unresolved``: not smooth over
the step; ``below noise``: under the rounding noise; empty: a measurement that is not judged
by itself (a Tier-2 derivative, judged by gradcheck)."""


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


def relative_cell(error: float, reference: float, spec: str = ".3g") -> str:
    """``error / |reference|`` formatted for a table, or "-" where the reference is 0 and only
    the absolute error (printed next to it) means anything: never 1e+287."""
    if reference == 0:
        return "-"
    return format(error / abs(reference), spec)


def relative_text(row: Row) -> str:
    """The row's relative error for a table (see :func:`relative_cell`)."""
    return relative_cell(row.error, row.numerical)


@dataclass
class CheckResult:
    check: str
    passed: bool
    message: str = ""
    rows: list[Row] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    inconclusive: bool = False
    worst: float = 0.0
    """Largest relative error among resolved rows (for ``hypothesis.target``)."""
    not_applicable: str | None = None
    """Why the target cannot run this check (a capability it lacks): neither a pass nor a
    failure."""

    @property
    def failed(self) -> bool:
        """A real failure: not passed, not inconclusive, not NOT APPLICABLE."""
        return not (self.passed or self.inconclusive or self.not_applicable)

    def table(self) -> str:
        if not self.rows:
            return ""
        lines = [f"  {'quantity':<22} {'analytic':>23} {'numerical':>23} {'abs error':>10} "
                 f"{'rel error':>10} {'allowed':>10}  status"]
        for r in self.rows:
            lines.append(f"  {r.name:<22} {r.analytic:>23.16g} {r.numerical:>23.16g} "
                         f"{r.error:>10.3g} {relative_text(r):>10} {r.tolerance:>10.3g}  "
                         f"{r.status}")
        return "\n".join(lines)

    def report(self) -> str:
        head = f"{self.check}: {'PASS' if self.passed else 'FAIL'}"
        if self.inconclusive:
            head = f"{self.check}: INCONCLUSIVE"
        if self.not_applicable:
            return f"{self.check}: NOT APPLICABLE - {self.not_applicable}"
        parts = [head + (f" - {self.message}" if self.message else "")]
        table = self.table()
        if table:
            parts.append(table)
        return "\n".join(parts)
