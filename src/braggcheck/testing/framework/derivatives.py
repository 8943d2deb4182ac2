"""Gradient-checking machinery shared by the Tier-2 suite, the property suite and ``replay``.

Every function here takes a :class:`~braggcheck.testing.framework.probe.Probe` (any target's output
as a
scalar function of its scaled parameters) and compares its reverse-mode gradient with the
finite-difference engine (:mod:`braggcheck.testing.framework.differences`), with forward mode, with
``torch.autograd.gradcheck`` / ``gradgradcheck`` or with the Taylor test.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.autograd.forward_ad as fw

from braggcheck.testing.framework.check_support import gradient_of
from braggcheck.testing.framework.differences import Differences, coordinate_differences
from braggcheck.testing.framework.probe import Probe
from braggcheck.testing.framework.results import Row
from braggcheck.testing.framework.tolerances import STEP, TAYLOR_CURVATURE_SHARE, TAYLOR_MIN_RATE


def has_bragg_signal(image: torch.Tensor, contrast: float = 10.0) -> bool:
    """True when the image holds spots: finite, positive, and peaks well above the median."""
    image = image.detach()
    if not bool(torch.isfinite(image).all()) or float(image.max()) <= 0:
        return False
    return float(image.max()) > contrast * float(image.median().clamp_min(0))


def compare_derivatives(
    probe: Probe, x: torch.Tensor | None = None, eps: float = STEP
) -> list[Row]:
    """Reverse-mode gradient against central differences D(eps) (what gradcheck compares),
    one parameter at a time; ``noise_floor`` is the ulp floor of D(eps)."""
    x = probe.point() if x is None else x.detach().clone()
    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    grad = gradient_of(value, leaf)  # a lost graph is a zero (wrong) derivative, not a crash
    # Rounding in L(x +- eps) is about machine epsilon times the sum of the magnitudes of its
    # terms, sum |w| I / norm (1 at the probe's point), not times |L|: the signed weights
    # cancel, so |L| can be far smaller than the error of its sum.
    magnitude = max(abs(float(value.detach())), probe.magnitude(x))
    floor = torch.finfo(torch.float64).eps * max(magnitude, 1e-300) / eps
    differences = coordinate_differences(no_grad_value(probe.loss), x, eps,
                                         centre=float(value.detach()))
    return [Row(name, float(grad[i]), differences[i].single, noise_floor=floor, eps=eps)
            for i, name in enumerate(probe.names)]


def no_grad_value(loss: Callable[[torch.Tensor], torch.Tensor]
                  ) -> Callable[[torch.Tensor], float]:
    """``loss`` as a float-valued function evaluated without autograd (for differences)."""

    def value(at: torch.Tensor) -> float:
        with torch.no_grad():
            return float(loss(at))

    return value


def first_derivative_errors(probe: Probe, eps: float = STEP,
                            x: torch.Tensor | None = None) -> list[Differences]:
    """Per parameter, how well central differences of the probe's loss resolve dL/dx_i."""
    x = probe.point() if x is None else x.detach().clone()
    floor = torch.finfo(torch.float64).eps * probe.magnitude(x)
    return coordinate_differences(no_grad_value(probe.loss), x, eps, floor)


def second_derivative_errors(probe: Probe, eps: float = STEP,
                             x: torch.Tensor | None = None) -> list[Differences]:
    """Per parameter, how well differences of the gradient resolve d/dx_i (sum of dL/dx):
    what gradgradcheck with grad_outputs 1 compares with double backward."""
    x = probe.point() if x is None else x.detach().clone()

    def gradient(at: torch.Tensor) -> float:
        leaf = at.clone().requires_grad_(True)
        grad = gradient_of(probe.loss(leaf), leaf)
        return float(grad.sum())

    # One gradient is rounded at about an ulp of its size (at least of the order-1 loss).
    floor = torch.finfo(torch.float64).eps * max(abs(gradient(x)), 1.0)
    return coordinate_differences(gradient, x, eps, floor)


def run_gradcheck(
    probe: Probe,
    x: torch.Tensor | None = None,
    *,
    eps: float = STEP,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
) -> bool:
    """``torch.autograd.gradcheck`` of the probe's loss (float64, raises on mismatch)."""
    x = (probe.point() if x is None else x.detach().clone()).requires_grad_(True)
    return torch.autograd.gradcheck(
        probe.loss, (x,), eps=eps, atol=atol, rtol=rtol, check_forward_ad=check_forward_ad,
        check_backward_ad=check_backward_ad, check_undefined_grad=check_backward_ad,
    )


def run_gradgradcheck(probe: Probe, x: torch.Tensor | None = None, *,
                      eps: float = STEP, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """``torch.autograd.gradgradcheck`` with grad_outputs 1: it compares the double-backward
    d/dx (dL/dx) with differences of dL/dx, the quantity :func:`second_derivative_errors`
    measures (random grad_outputs would scale it by an unknown factor)."""
    x = (probe.point() if x is None else x.detach().clone()).requires_grad_(True)
    ones = torch.ones((), dtype=x.dtype)
    return torch.autograd.gradgradcheck(probe.loss, (x,), (ones,), eps=eps, atol=atol,
                                        rtol=rtol)


def forward_reverse_gap(probe: Probe, direction: torch.Tensor,
                        x: torch.Tensor | None = None) -> tuple[float, float]:
    """(jvp, grad . direction): forward-mode and reverse-mode directional derivatives."""
    x = probe.point() if x is None else x.detach().clone()
    _, tangent = torch.func.jvp(probe.loss, (x,), (direction,))
    leaf = x.clone().requires_grad_(True)
    grad = gradient_of(probe.loss(leaf), leaf)
    return float(tangent), float((grad * direction).sum())


def taylor_remainders(
    loss: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    direction: torch.Tensor,
    gradient: torch.Tensor,
    steps: Sequence[float],
) -> list[float]:
    """|L(x + h d) - L(x) - h grad.d| for each h (pyadjoint's Taylor test)."""
    with torch.no_grad():
        base = loss(x)
        slope = (gradient * direction).sum()
        return [float(torch.abs(loss(x + h * direction) - base - h * slope)) for h in steps]


def convergence_rates(remainders: Sequence[float]) -> list[float]:
    """log2 of successive remainder ratios; 2 for a right gradient, 1 for a wrong one."""
    return [math.log2(a / b) if a > 0 and b > 0 else float("nan")
            for a, b in itertools.pairwise(remainders)]




def taylor_first_step(
    loss: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    direction: torch.Tensor,
    gradient: torch.Tensor,
    *,
    share: float = TAYLOR_CURVATURE_SHARE,
    start: float = 1e-2,
    rounds: int = 3,
) -> float:
    """A first step h0 where the remainder is ``share`` times the first-order term h |grad.d|.

    A fixed step fails the self-test: where the loss is strongly curved, the second-order term
    already dominates a 1% gradient error and a wrong gradient still shows rate 2. At h0 a 1%
    error is ten times the second-order term (and more at every smaller step), so a wrong
    gradient gives rate ~1, while a right one keeps a remainder far above rounding. The
    remainder grows as h^2 and the first-order term as h, so their ratio is linear in h and a
    few rescalings find h0; the gradient used is the one under test, as it would be in use.
    """
    with torch.no_grad():
        base = loss(x)
        slope = float((gradient * direction).sum())
        step = start
        for _ in range(rounds if slope != 0 else 0):  # no first-order term: nothing to scale
            remainder = abs(float(loss(x + step * direction) - base - step * slope))
            ratio = remainder / abs(step * slope)
            if not math.isfinite(ratio) or ratio == 0:
                break
            step *= min(share / ratio, 1e3)
    return step


@dataclass(frozen=True)
class TaylorResult:
    """Steps, remainders and convergence rates of one Taylor test."""

    steps: list[float]
    remainders: list[float]
    rates: list[float]
    slope: float
    """grad . direction with the gradient under test."""


def taylor_run(
    probe: Probe,
    direction: torch.Tensor,
    x: torch.Tensor | None = None,
    *,
    first_step: float | None = None,
    halvings: int = 4,
    gradient_scale: float | torch.Tensor = 1.0,
    max_step: float = math.inf,
) -> TaylorResult:
    """The Taylor test with its steps and remainders; ``first_step=None`` picks it (see
    :func:`taylor_first_step`), at most ``max_step`` (where the parameters stay valid).
    ``gradient_scale`` (a number, or one per entry) plants a wrong gradient for self-tests."""
    x = probe.point() if x is None else x.detach().clone()
    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    # A loss the graph does not reach (a detached parameter) has the gradient zero: it must
    # show as a wrong gradient (rate 1), not as an autograd error.
    gradient = (torch.autograd.grad(value, leaf, allow_unused=True)[0]
                if value.requires_grad else None)
    gradient = (torch.zeros_like(x) if gradient is None else gradient) * gradient_scale
    if first_step is None:
        first_step = min(taylor_first_step(probe.loss, x, direction, gradient), max_step)
    steps = [first_step / 2**i for i in range(halvings + 1)]
    remainders = taylor_remainders(probe.loss, x, direction, gradient, steps)
    return TaylorResult(steps=steps, remainders=remainders,
                        rates=convergence_rates(remainders),
                        slope=float((gradient * direction).sum()))




def taylor_failure(result: TaylorResult) -> str | None:
    """Why a Taylor test shows a wrong gradient (None when every rate is >= 1.9)."""
    low = [rate for rate in result.rates if not rate >= TAYLOR_MIN_RATE]
    if low:
        rates = ", ".join(f"{rate:.3f}" for rate in result.rates)
        return f"Taylor remainder rates [{rates}] fall below {TAYLOR_MIN_RATE}: wrong gradient"
    return None


def forward_mode_derivative(probe: Probe, direction: torch.Tensor,
                            x: torch.Tensor | None = None) -> float:
    """Directional derivative of the probe's loss by forward-mode AD (dual numbers).

    Cheaper than ``torch.func.jvp`` per call; the property suite compares it with reverse mode.
    """
    x = probe.point() if x is None else x.detach().clone()
    with fw.dual_level():
        value = probe.loss(fw.make_dual(x, direction.to(x.dtype)))
        tangent = fw.unpack_dual(value).tangent
    return 0.0 if tangent is None else float(tangent)
