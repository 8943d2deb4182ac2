"""The Tier-2 gradient table: deterministic float64 gradchecks for every registry parameter.

Like PyTorch's OpInfo database, one declarative table drives the tests (``tests/gradcheck``),
the report (``braggcheck report``) and the coverage audit. A :class:`GradcheckCase` names a
registry parameter, the small :class:`Setup` it runs on (a 24x24-pixel window of the spec
baseline placed over Bragg spots) and the relative finite-difference step (torch's eps 1e-6,
relative through the registry scale, unless a case says why not). Tolerances are not chosen:
each comparison's is measured (:func:`measured_tolerances`) from the finite-difference error
estimate, the spread between steps h and 2h plus 10x the measured rounding noise, so a gradient
off by far less than torch's rtol of 1e-3 fails. Adding a registry parameter without a row here
makes the coverage test fail and name it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import torch
from torch.autograd.gradcheck import GradcheckError

from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS, Parameter
from braggcheck.testing.gradients import (
    DEFAULT_EPS,
    NOISE_MARGIN,
    GradientProbe,
    ParameterResult,
    TaylorResult,
    compare_derivatives,
    forward_reverse_gap,
    has_bragg_signal,
    run_gradcheck,
    run_gradgradcheck,
)
from braggcheck.testing.tier2_tolerance import MAX_MEASURED_RTOL as MAX_MEASURED_RTOL
from braggcheck.testing.tier2_tolerance import MeasuredTolerance as MeasuredTolerance
from braggcheck.testing.tier2_tolerance import measured_tolerance, measured_tolerances, unresolved
from braggcheck.testing.tier2_vectors import VECTOR_CASES, VectorCase

DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-3
"""torch.autograd.gradcheck's defaults. They are no longer used: with rtol 1e-3 a gradient
6e-4 off passes where the right one agrees with the differences to 1e-9. They stay in the
report as the point of comparison."""

FORWARD_REVERSE_RTOL = 1e-9
"""Forward mode (jvp) and reverse mode are both exact: they may differ only by rounding."""

SPEC_FLAGS = ("-cell 100 100 100 90 90 90 -N 5 -lambda 1 -distance 100 -pixel 0.1 "
              "-detpixels 24 -default_F 100 -mosflm")
"""The spec baseline on a 24x24 detector; ``-default_F 100`` so the image is not blank."""


@dataclass(frozen=True)
class Setup:
    """A small configuration: nanoBragg flags plus registry values set exactly (by name)."""

    name: str
    summary: str
    flags: str = SPEC_FLAGS
    values: tuple[tuple[str, Any], ...] = ()

    def config(self) -> Config:
        return _config(self.flags, self.values)


@cache
def _config(flags: str, values: tuple[tuple[str, Any], ...]) -> Config:
    return Config.from_nanobragg_args(flags).replace(**dict(values))


DIRECT_BEAM_MM = 1.225
"""Beam centre at the centre of subpixel (0, 0) of pixel (12, 12) (0.1 mm pixels, oversample
2: centres at 0.025 + 0.05 k mm), so one sample sits on the direct beam at h = k = l = 0."""

SETUPS: dict[str, Setup] = {s.name: s for s in (
    Setup("direct", "spec baseline (90 deg angles, zero misset); the window is centred on the "
          "direct beam, which hits a subpixel centre: a sample at exact integer h",
          SPEC_FLAGS + " -oversample 2",
          (("beam_center_f_mm", DIRECT_BEAM_MM), ("beam_center_s_mm", DIRECT_BEAM_MM))),
    Setup("spots", "spec baseline; the window sits 4-6.4 mm off the beam over the (0 k l) "
          "spots with k, l = 4..6", values=(("beam_center_f_mm", -4.0),
                                            ("beam_center_s_mm", -4.0))),
    Setup("misset89", "spec baseline with misset (89, 0, 0), the 89-degree pin; window "
          "4-6.4 mm off the beam", SPEC_FLAGS + " -misset 89 0 0",
          (("beam_center_f_mm", -4.0), ("beam_center_s_mm", -4.0))),
    Setup("triclinic", "triclinic cell 70 80 90 75 85 95 with misset (10, 20, 30); window on "
          "the direct beam", SPEC_FLAGS.replace("100 100 100 90 90 90", "70 80 90 75 85 95")
          + " -misset 10 20 30",
          (("beam_center_f_mm", DIRECT_BEAM_MM), ("beam_center_s_mm", DIRECT_BEAM_MM))),
    Setup("mosaic", "spec baseline with mosaic spread 0.5 deg over 10 domains; window 10 mm "
          "off the beam, where a domain tilt moves spots by a pixel",
          SPEC_FLAGS + " -mosaic 0.5 -mosaic_dom 10",
          (("beam_center_f_mm", -10.0), ("beam_center_s_mm", -10.0))),
    Setup("tilted", "detector rotated (5, 4, 3) deg and swung 10 deg in two-theta; window "
          "20 mm off the beam", SPEC_FLAGS + " -detector_rotx 5 -detector_roty 4 "
          "-detector_rotz 3 -twotheta 10",
          (("beam_center_f_mm", -20.0), ("beam_center_s_mm", -20.0))),
    Setup("wide", "Kahn factor 0.9; window 30 mm off the beam (2theta ~ 17 deg), where "
          "polarization matters", SPEC_FLAGS + " -polar 0.9",
          (("beam_center_f_mm", -30.0), ("beam_center_s_mm", -1.0))),
    Setup("divergent", "spec baseline with misset (10, 20, 30) and a 2 mrad divergence grid "
          "of 3 x 3 steps (5 sources kept); window on the direct beam",
          SPEC_FLAGS + " -misset 10 20 30 -divergence 2 -divsteps 3"),
    Setup("dispersive", "spec baseline with misset (10, 20, 30) and a 2 % wavelength spread "
          "in 3 steps; window on the direct beam",
          SPEC_FLAGS + " -misset 10 20 30 -dispersion 2 -dispsteps 3"),
    Setup("joint", "everything active at once for the Taylor test: triclinic cell, misset, "
          "mosaic, phi, tilted detector, polarization, divergence, dispersion",
          SPEC_FLAGS.replace("100 100 100 90 90 90", "70 80 90 75 85 95")
          + " -misset 10 20 30 -mosaic 0.5 -mosaic_dom 4 -phi 3 -detector_rotx 2 "
          "-detector_roty 3 -detector_rotz 4 -twotheta 5 -polar 0.9 -divergence 1 "
          "-divsteps 2 -dispersion 1 -dispsteps 2",
          (("beam_center_f_mm", -8.0), ("beam_center_s_mm", -6.0))),
)}

GRADGRAD_PREFIXES = ("cell_", "misset_", "lambda_")
"""Parameters whose second derivatives are also checked (gradgradcheck)."""


@dataclass(frozen=True)
class GradcheckCase:
    """One deterministic gradcheck: parameter(s), setup, step, tolerances, pixel weights."""

    parameters: tuple[str, ...]
    setup: str
    eps: float = DEFAULT_EPS
    why: str = ""
    """Required whenever eps differs from the default."""
    weight_seed: int = 0
    gradgrad: bool = field(init=False)

    def __post_init__(self) -> None:
        unknown = [p for p in self.parameters if p not in PARAMETERS]
        if unknown or self.setup not in SETUPS:
            raise ValueError(f"case {self.id}: unknown parameter(s) {unknown} or setup")
        if self.eps != DEFAULT_EPS and not self.why:
            raise ValueError(f"case {self.id}: a non-default eps needs a reason (why=)")
        object.__setattr__(self, "gradgrad",
                           any(p.startswith(GRADGRAD_PREFIXES) for p in self.parameters))

    @property
    def id(self) -> str:
        return f"{'+'.join(self.parameters)}@{self.setup}"

    def config(self) -> Config:
        return SETUPS[self.setup].config()

    def probe(self) -> GradientProbe:
        return _probe(self.setup, self.parameters, self.weight_seed)


@cache
def _probe(setup: str, parameters: tuple[str, ...], seed: int) -> GradientProbe:
    return GradientProbe(SETUPS[setup].config(), parameters, weight_seed=seed)


def case(parameter: str, setup: str, **kw: Any) -> GradcheckCase:
    return GradcheckCase((parameter,), setup, **kw)


CASES: tuple[GradcheckCase, ...] = (
    # Canonical pins (spec): the 89-degree misset, wavelength, fluence, cell, detector, mosaic.
    case("misset_rot_x", "misset89"),
    case("lambda_A", "direct"),
    case("fluence", "direct"),
    case("cell_a", "spots"),  # a* lies along the beam: on the direct window dL/da is tiny
    case("cell_gamma", "direct"),  # exact 90 degrees
    case("distance_mm", "direct"),
    case("beam_center_f_mm", "direct"),
    case("mosaic_spread_deg", "mosaic"),
    # Exact 90-degree angles and zero misset, with a sample on the direct beam (h = 0).
    case("cell_b", "direct"),
    case("cell_c", "direct"),
    case("cell_alpha", "direct"),
    case("cell_beta", "direct"),
    case("misset_rot_x", "direct"),  # zero misset, a symmetric point: d2L/dx2 is only ~5e-4
    case("beam_center_s_mm", "direct"),
    case("misset_rot_y", "spots"),
    case("misset_rot_z", "spots"),
    case("phi_start_deg", "spots"),
    case("detector_rotx_deg", "spots"),
    # Generic points: triclinic cell with misset, tilted detector, high angle.
    *(case(f"cell_{n}", "triclinic") for n in ("a", "b", "c", "alpha", "beta", "gamma")),
    case("misset_rot_y", "misset89"),
    case("misset_rot_z", "misset89"),
    case("distance_mm", "tilted"),
    case("beam_center_f_mm", "tilted"),
    case("beam_center_s_mm", "tilted"),
    *(case(f"detector_rot{a}_deg", "tilted") for a in "xyz"),
    case("twotheta_deg", "tilted"),
    case("lambda_A", "wide"),
    case("polarization", "wide"),
    # Source grid: the grid shape is fixed, its extent is the parameter.
    case("divergence_mrad", "divergent"),
    case("dispersion", "dispersive"),  # dL/d(dispersion) is only ~4e-5 here
)


CANONICAL_PINS: dict[str, str] = {
    "misset_rot_x": "misset89", "lambda_A": "direct", "fluence": "direct", "cell_a": "spots",
    "cell_gamma": "direct", "distance_mm": "direct", "beam_center_f_mm": "direct",
    "mosaic_spread_deg": "mosaic",
}
"""The spec's pins: parameter -> setup of its case (the 89-degree misset among them)."""


def missing_parameters(cases: tuple[GradcheckCase, ...] = CASES,
                       registry: dict[str, Parameter] | None = None,
                       vector_cases: tuple[VectorCase, ...] = VECTOR_CASES) -> list[str]:
    """Registry parameters, scalar and vector, that no case checks (the coverage test demands
    none); the vector parameters' rows live in :mod:`braggcheck.testing.tier2_vectors`."""
    registry = {**PARAMETERS, **VECTOR_PARAMETERS} if registry is None else registry
    covered = {p for c in cases for p in c.parameters} | {c.parameter for c in vector_cases}
    return [name for name in registry if name not in covered]


# ---- checks shared by the tests and the report ----

def joint_direction(names: tuple[str, ...], seed: int = 0) -> torch.Tensor:
    """A fixed random unit direction in the scaled parameter space."""
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(len(names), generator=generator, dtype=torch.float64)
    return direction / torch.linalg.norm(direction)


def joint_parameters() -> tuple[str, ...]:
    """Every registry parameter: the Taylor test moves them all at once."""
    return tuple(PARAMETERS)


def joint_probe() -> GradientProbe:
    return _probe("joint", joint_parameters(), 0)


TAYLOR_MIN_RATE = 1.9
TAYLOR_SEED = 0


def taylor_failure(result: TaylorResult) -> str | None:
    """Why a Taylor test shows a wrong gradient (None when every rate is >= 1.9)."""
    low = [rate for rate in result.rates if not rate >= TAYLOR_MIN_RATE]
    if low:
        rates = ", ".join(f"{rate:.3f}" for rate in result.rates)
        return f"Taylor remainder rates [{rates}] fall below {TAYLOR_MIN_RATE}: wrong gradient"
    return None


@dataclass(frozen=True)
class SecondDerivative:
    analytic: float
    numerical: float
    noise_floor: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numerical)

    @property
    def above_noise(self) -> bool:
        return abs(self.numerical) > NOISE_MARGIN * self.noise_floor


def second_derivative(probe: GradientProbe, eps: float = DEFAULT_EPS) -> SecondDerivative:
    """d2L/dx2 of a one-parameter probe: double backward against differences of gradients."""
    x = probe.point()

    def gradient(at: torch.Tensor) -> torch.Tensor:
        leaf = at.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(probe.loss(leaf), leaf)
        return grad

    leaf = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(probe.loss(leaf), leaf, create_graph=True)
    (hessian,) = torch.autograd.grad(grad.sum(), leaf)
    step = torch.full_like(x, eps)
    numerical = (gradient(x + step) - gradient(x - step)) / (2 * eps)
    # Each gradient is rounded at about machine epsilon times its size (and at least the loss's
    # term magnitude, 1 at the probe's point).
    floor = torch.finfo(torch.float64).eps * max(abs(float(grad.detach().sum())), 1.0) / eps
    return SecondDerivative(float(hessian.sum()), float(numerical.sum()), floor)


def first_order_vacuity(case_: GradcheckCase, image: torch.Tensor,
                        result: ParameterResult) -> str | None:
    """Why a first-derivative check of ``case_`` could not fail (None when it can)."""
    if not has_bragg_signal(image):
        return f"{case_.id}: the image has no Bragg signal (a check of 0 against 0)"
    if not result.above_noise:
        return (f"{case_.id}: dL/dx = {result.numerical:.3e} is within {NOISE_MARGIN:g}x the "
                f"finite-difference noise floor {result.noise_floor:.1e}")
    return unresolved(case_, "dL/dx", measured_tolerance(case_).first)


def second_order_vacuity(case_: GradcheckCase, second: SecondDerivative) -> str | None:
    """Why a second-derivative check of ``case_`` could not fail (None when it can)."""
    if not second.above_noise:
        return (f"{case_.id}: d2L/dx2 = {second.numerical:.3e} is within {NOISE_MARGIN:g}x "
                f"the noise floor {second.noise_floor:.1e}")
    return unresolved(case_, "d2L/dx2", measured_tolerance(case_).second or ())


@dataclass
class CaseOutcome:
    """What running one case found (a row of the report)."""

    case: GradcheckCase
    derivative: ParameterResult
    vacuity: str | None
    gradcheck_error: str | None
    """None when gradcheck (reverse and forward mode against differences) passed."""
    jvp: float
    vjp: float
    second: SecondDerivative | None
    second_vacuity: str | None
    gradgradcheck_error: str | None
    seconds: float
    atol: float = 0.0
    """The measured tolerance gradcheck used (rtol 0)."""
    second_atol: float | None = None

    @property
    def forward_reverse_rel_gap(self) -> float:
        return abs(self.jvp - self.vjp) / max(abs(self.vjp), 1e-300)

    @property
    def problems(self) -> list[str]:
        found = [self.vacuity, self.gradcheck_error, self.second_vacuity,
                 self.gradgradcheck_error]
        if self.forward_reverse_rel_gap > FORWARD_REVERSE_RTOL:
            found.append(f"jvp {self.jvp:.6e} differs from the reverse-mode {self.vjp:.6e}")
        return [p for p in found if p]

    @property
    def passed(self) -> bool:
        return not self.problems


def _gradcheck_error(check: Callable[[], bool]) -> str | None:
    try:
        check()
    except GradcheckError as error:
        return str(error).strip().splitlines()[0]
    return None


def run_case(case_: GradcheckCase) -> CaseOutcome:
    """Every Tier-2 check of one case, timed (the report runs this over the table)."""
    start = time.perf_counter()
    probe = case_.probe()
    (result,) = compare_derivatives(probe, eps=case_.eps)
    tolerances = measured_tolerances(case_)
    error = _gradcheck_error(lambda: run_gradcheck(probe, check_forward_ad=True, **tolerances))
    jvp, vjp = forward_reverse_gap(probe, torch.ones(1, dtype=torch.float64))
    second = second_vacuity = gg_error = None
    if case_.gradgrad:
        second = second_derivative(probe, case_.eps)
        second_vacuity = second_order_vacuity(case_, second)
        gg_error = _gradcheck_error(lambda: run_gradgradcheck(
            probe, **measured_tolerances(case_, order=2)))
    measured = measured_tolerance(case_)
    return CaseOutcome(case_, result, first_order_vacuity(case_, probe.baseline_image(), result),
                       error, jvp, vjp, second, second_vacuity, gg_error,
                       time.perf_counter() - start, measured.atol,
                       measured.second_atol if case_.gradgrad else None)
