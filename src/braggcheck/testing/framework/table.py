"""The Tier-2 table machinery for any target: deterministic float64 gradchecks, one row per
(parameters, configuration), with tolerances measured from the finite differences.

A :class:`TableCase` names parameters of a target, the named configuration (``setup``) it runs
on and the relative finite-difference step. :func:`run_case` runs every Tier-2 check of a case:
reverse mode against the finite-difference engine, ``gradcheck`` with forward mode, jvp against
vjp, and for parameters whose spec has ``second_derivative`` the double backward against
differences of gradients (``gradgradcheck``). :func:`missing_parameters` names the target's
parameters no case checks (a coverage test demands none). nanoBragg's table is
:mod:`braggcheck.testing.nanobragg.tier2.table`; ``examples/toy_target.py`` builds one in a few
lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.gradcheck import GradcheckError

from braggcheck.testing.framework.check_support import gradient_of
from braggcheck.testing.framework.derivatives import (
    compare_derivatives,
    forward_reverse_gap,
    run_gradcheck,
    run_gradgradcheck,
)
from braggcheck.testing.framework.differences import central_differences
from braggcheck.testing.framework.measured_tolerance import (
    measured_tolerance,
    measured_tolerances,
    unresolved,
)
from braggcheck.testing.framework.probe import Probe
from braggcheck.testing.framework.results import Row, relative_cell
from braggcheck.testing.framework.target import (
    Target,
    applicable,
    capabilities,
    defaults,
    steppable,
)
from braggcheck.testing.framework.tolerances import AD_RTOL, GAP_OFFSETS, NOISE_MARGIN, STEP
from braggcheck.testing.framework.verdict import (
    INFLATED,
    declared_precision,
    gap_row,
    offsets_steppable,
)


@dataclass(frozen=True)
class TableCase:
    """One deterministic gradcheck: parameter(s), named configuration, step, pixel weights."""

    parameters: tuple[str, ...]
    setup: str
    eps: float = STEP
    why: str = ""
    """Required whenever eps differs from the default."""
    weight_seed: int = 0
    gradgrad: bool = field(init=False)
    """Whether the second derivative is checked too (a parameter's spec asks for it)."""
    target: Target = field(kw_only=True)
    setups: Mapping[str, Callable[[], Any]] = field(kw_only=True, compare=False, repr=False)
    """Configuration name -> a function making it (called once per probe)."""
    _probes: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        unknown = [p for p in self.parameters if p not in self.target.parameters]
        if unknown or self.setup not in self.setups:
            raise ValueError(f"case {self.id}: unknown parameter(s) {unknown} or setup")
        if self.eps != STEP and not self.why:
            raise ValueError(f"case {self.id}: a non-default eps needs a reason (why=)")
        object.__setattr__(self, "gradgrad", any(
            self.target.parameters[p].second_derivative for p in self.parameters))

    @property
    def id(self) -> str:
        return f"{'+'.join(self.parameters)}@{self.setup}"

    def config(self) -> Any:
        return self.setups[self.setup]()

    def probe(self) -> Probe:
        if "probe" not in self._probes:
            self._probes["probe"] = Probe(self.config(), self.parameters,
                                          weight_seed=self.weight_seed, target=self.target)
        return self._probes["probe"]


def default_table(target: Target, parameters: Iterable[str] | None = None
                  ) -> tuple[TableCase, ...]:
    """Tier-2 rows on the target's declared defaults (``target.defaults()``): one per default
    configuration and parameter its output depends on (of ``parameters``, default all), setup
    named ``default:<name>``. A target's own default path is checked, not only drawn points."""
    named = defaults(target)
    setups = {f"default:{name}": (lambda config=config: config) for name, config in named.items()}
    chosen = list(target.parameters) if parameters is None else list(parameters)
    return tuple(TableCase((p,), f"default:{name}", target=target, setups=setups)
                 for name, config in named.items()
                 for p in chosen if p in applicable(target, config))


def missing_parameters(cases: Iterable[TableCase], names: Iterable[str]) -> list[str]:
    """Of ``names`` (a target's parameters), those no case checks."""
    covered = {p for c in cases for p in c.parameters}
    return [name for name in names if name not in covered]


def second_derivative(probe: Probe, eps: float = STEP) -> Row:
    """d2L/dx2 of a one-parameter probe: double backward against differences of gradients
    (D(eps) of the finite-difference engine along all parameters at once)."""
    x = probe.point()

    def gradient(at: torch.Tensor) -> float:
        leaf = at.clone().requires_grad_(True)
        grad = gradient_of(probe.loss(leaf), leaf)
        return float(grad.sum())

    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    grad = (torch.autograd.grad(value, leaf, create_graph=True, allow_unused=True)[0]
            if value.requires_grad else None)
    grad = torch.zeros_like(leaf) if grad is None else grad
    hessian = gradient_of(grad.sum(), leaf)
    centre = float(grad.detach().sum())
    numerical = central_differences(gradient, x, torch.ones_like(x), eps, centre=centre).single
    # Each gradient is rounded at about machine epsilon times its size (and at least the loss's
    # term magnitude, 1 at the probe's point).
    floor = torch.finfo(torch.float64).eps * max(abs(centre), 1.0) / eps
    return Row("d2L/dx2", float(hessian.sum()), numerical, noise_floor=floor, eps=eps)


def forward_reverse_row(case_: TableCase) -> Row:
    """jvp against vjp along all the case's parameters at once, by the verdict engine: within
    AD_RTOL at once, past it within the gap's measured scatter at nearby points."""
    probe = case_.probe()
    x = probe.point()
    direction = torch.ones_like(x)

    def pair(at: torch.Tensor) -> tuple[float, float]:
        return forward_reverse_gap(probe, direction, at)

    jvp, vjp = pair(x)
    room = offsets_steppable(lambda reach: all(
        steppable(case_.target, probe.config, n, reach) for n in case_.parameters), STEP)

    def nearby() -> list[tuple[float, float]]:
        return [pair(x + k * STEP * direction) for k in GAP_OFFSETS]

    return gap_row("jvp vs vjp", (jvp, vjp), nearby if room else None, AD_RTOL * abs(vjp),
                   vjp, declared_precision(case_.target) * abs(vjp))


def first_order_vacuity(case_: TableCase, image: torch.Tensor, result: Row) -> str | None:
    """Why a first-derivative check of ``case_`` could not fail (None when it can)."""
    missing = case_.target.missing_signal(case_.probe().config, image)
    if missing is not None:
        return f"{case_.id}: {missing} (a check of 0 against 0)"
    if not result.above_noise:
        return (f"{case_.id}: dL/dx = {result.numerical:.3e} is within {NOISE_MARGIN:g}x the "
                f"finite-difference noise floor {result.noise_floor:.1e}")
    return unresolved(case_, "dL/dx", measured_tolerance(case_).first)


def second_order_vacuity(case_: TableCase, second: Row) -> str | None:
    """Why a second-derivative check of ``case_`` could not fail (None when it can)."""
    if not second.above_noise:
        return (f"{case_.id}: d2L/dx2 = {second.numerical:.3e} is within {NOISE_MARGIN:g}x "
                f"the noise floor {second.noise_floor:.1e}")
    return unresolved(case_, "d2L/dx2", measured_tolerance(case_).second or ())


@dataclass
class CaseOutcome:
    """What running one case found (a row of the report)."""

    case: TableCase
    derivative: Row
    vacuity: str | None
    gradcheck_error: str | None
    """None when gradcheck (reverse and forward mode against differences) passed."""
    jvp: float
    vjp: float
    second: Row | None
    second_vacuity: str | None
    gradgradcheck_error: str | None
    seconds: float
    atol: float = 0.0
    """The measured tolerance gradcheck used (rtol 0)."""
    second_atol: float | None = None
    forward_reverse: Row | None = None
    """jvp vs vjp as the verdict engine judged it (:func:`forward_reverse_row`); None: judged
    here against AD_RTOL alone (an outcome made by hand)."""
    eps: float = 0.0
    """The step gradcheck ran at (the case's, or a retry's; 0: the case's)."""
    noise: float = 0.0
    """The measured rounding noise of the finite difference (part of ``atol``)."""
    not_applicable: list[str] = field(default_factory=list)
    """Checks the target cannot run (a capability it lacks), each with its reason."""

    @property
    def forward_reverse_rel_gap(self) -> float:
        return abs(self.jvp - self.vjp) / max(abs(self.vjp), 1e-300)

    @property
    def forward_reverse_problem(self) -> str | None:
        row = self.forward_reverse
        if row is None:
            if self.forward_reverse_rel_gap > AD_RTOL:
                return f"jvp {self.jvp:.6e} differs from the reverse-mode {self.vjp:.6e}"
            return None
        if row.status == "FAIL":
            return (f"jvp {self.jvp:.6e} differs from the reverse-mode {self.vjp:.6e} by "
                    f"{row.error:.1e}, beyond its measured rounding (allowed "
                    f"{row.tolerance:.1e})")
        if row.status == "inconclusive":
            return (f"{getattr(self.case, 'id', '?')}: {INFLATED}: jvp vs vjp allowed "
                    f"{row.tolerance:.1e} "
                    f"(scatter {row.noise_floor:.1e} at nearby points)")
        return None

    @property
    def problems(self) -> list[str]:
        found = [self.vacuity, self.gradcheck_error, self.second_vacuity,
                 self.gradgradcheck_error, self.forward_reverse_problem]
        return [p for p in found if p]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def failed(self) -> bool:
        """A comparison failed (not only a vacuity or an inflated tolerance)."""
        return bool(self.gradcheck_error or self.gradgradcheck_error or (
            self.forward_reverse is not None and self.forward_reverse.status == "FAIL") or (
            self.forward_reverse is None and self.forward_reverse_problem))

    @property
    def status(self) -> str:
        """``pass``, ``FAIL`` (a comparison failed) or ``INCONCLUSIVE`` (nothing failed, but
        the case could not fail either: vacuous, or a tolerance inflated by noise)."""
        if self.passed:
            return "pass"
        return "FAIL" if self.failed else "INCONCLUSIVE"

    def report(self) -> str:
        """What a scientist needs to act on this row: parameter, analytic, numerical, error,
        tolerance, measured noise and step, forward vs reverse, the second derivative, every
        problem and every check that did not apply."""
        d = self.derivative
        lines = [f"{self.case.id}: {self.status.upper()} ({self.seconds:.2f} s)",
                 f"  parameter       {', '.join(self.case.parameters)} (setup "
                 f"{self.case.setup!r})",
                 f"  analytic        {d.analytic:.12e}  (reverse mode, dL/dx)",
                 f"  numerical       {d.numerical:.12e}  (central difference)",
                 f"  error           {d.error:.3e}  (relative "
                 f"{relative_cell(d.error, d.numerical, '.3e')})",
                 f"  tolerance       {self.atol:.3e}  (measured from the differences; rtol 0)",
                 f"  measured noise  {self.noise:.3e}  (rounding of the difference; ulp floor "
                 f"{d.noise_floor:.3e})",
                 f"  step            {self.eps or self.case.eps:g} (scaled units)"]
        if "forward mode" not in " ".join(self.not_applicable):
            lines.append(f"  forward/reverse jvp {self.jvp:.12e}, vjp {self.vjp:.12e} "
                         f"(relative gap {relative_cell(abs(self.jvp - self.vjp), self.vjp)})")
        if self.second is not None:
            s = self.second
            lines.append(f"  d2L/dx2         analytic {s.analytic:.6e}, numerical "
                         f"{s.numerical:.6e}, error {s.error:.3e}, tolerance "
                         f"{self.second_atol or 0.0:.3e}")
        else:
            lines.append("  d2L/dx2         not checked (no parameter of the row declares "
                         "second_derivative)")
        lines += [f"  NOT APPLICABLE: {reason}" for reason in self.not_applicable]
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)


def gradcheck_error(check: Callable[[], bool]) -> str | None:
    """The first line of a GradcheckError raised by ``check``, None when it passes."""
    try:
        check()
    except GradcheckError as error:
        return str(error).strip().splitlines()[0]
    return None


def run_case(case_: TableCase) -> CaseOutcome:
    """Every Tier-2 check of one case, timed (the report runs this over the table)."""
    start = time.perf_counter()
    probe = case_.probe()
    (result,) = compare_derivatives(probe, eps=case_.eps)
    tolerances = measured_tolerances(case_)
    declared = capabilities(case_.target)
    forward = declared.forward_mode
    error = gradcheck_error(lambda: run_gradcheck(probe, check_forward_ad=forward, **tolerances))
    skipped = [] if forward else [
        f"forward mode (gradcheck's forward AD, jvp vs vjp): target {case_.target.name} "
        f"declares forward_mode = False" + (f" ({declared.why})" if declared.why else "")]
    forward_reverse = forward_reverse_row(case_) if forward else None
    jvp = vjp = result.analytic  # forward mode not applicable: no gap to judge
    if forward:
        jvp, vjp = forward_reverse_gap(probe, torch.ones(1, dtype=torch.float64))
    second = second_vacuity = gg_error = None
    if case_.gradgrad:
        second = second_derivative(probe, case_.eps)
        second_vacuity = second_order_vacuity(case_, second)
        gg_error = gradcheck_error(lambda: run_gradgradcheck(
            probe, **measured_tolerances(case_, order=2)))
    measured = measured_tolerance(case_)
    return CaseOutcome(case_, result, first_order_vacuity(case_, probe.baseline_image(), result),
                       error, jvp, vjp, second, second_vacuity, gg_error,
                       time.perf_counter() - start, measured.atol,
                       measured.second_atol if case_.gradgrad else None, forward_reverse,
                       measured.eps, max(e.rounding for e in measured.first), skipped)
