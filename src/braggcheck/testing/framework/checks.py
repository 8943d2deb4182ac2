"""The derivative checks for any target: gradient vs finite differences, forward vs reverse
mode, and the Taylor test.

Each takes a :class:`~braggcheck.testing.framework.target.Target` and a case (a
:class:`~braggcheck.testing.framework.case.TargetCase`, or nanoBragg's ``Case``) and returns a
:class:`~braggcheck.testing.framework.results.CheckResult`. None passes vacuously: the output must
hold
signal (the target's non-vacuity test) and a derivative counts only when it stands well above
the measured finite-difference noise; otherwise the result is inconclusive.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import torch

from braggcheck.testing.framework.case import TargetCase, scaled_direction, weights_for
from braggcheck.testing.framework.check_support import derivative_verdict, gradient_of, unusable
from braggcheck.testing.framework.derivatives import (
    forward_mode_derivative,
    no_grad_value,
    taylor_failure,
    taylor_run,
)
from braggcheck.testing.framework.differences import (
    central_differences,
    coordinate_differences,
    unit_vector,
)
from braggcheck.testing.framework.probe import Probe
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.target import Target, steppable
from braggcheck.testing.framework.tolerances import (
    AD_FLOOR,
    AD_RTOL,
    EPS,
    MAX_ENVELOPE,
    NOISE_MARGIN,
    RESOLVED,
    RETRY_FACTORS,
    RTOL,
    STEP,
    TAYLOR_MAX_STEP,
    TAYLOR_MIN_RATE,
    TAYLOR_NOISE_MARGIN,
    TAYLOR_RETRIES,
)


def case_probe(target: Target, case: TargetCase, names: tuple[str, ...]) -> Probe:
    return Probe(case.config, names, weights=weights_for(target, case), target=target)


def derivative_row(name: str, analytic: float, numerical: float, spread: float,
                   noise: float) -> Row:
    """One analytic derivative against a Richardson-extrapolated one with its error bounds."""
    if not (math.isfinite(analytic) and math.isfinite(numerical)):
        return Row(name, analytic, numerical, 0.0, "FAIL")
    if abs(numerical) <= NOISE_MARGIN * noise:
        tolerance = 10 * noise + 3 * spread
        return Row(name, analytic, numerical, tolerance,
                   "below noise" if abs(analytic - numerical) <= tolerance else "FAIL")
    if spread > RESOLVED * abs(numerical):
        # Not smooth over the step (a sharp spot edge): still bounded, but not counted.
        tolerance = 3 * spread + 10 * noise + RTOL * abs(numerical)
        return Row(name, analytic, numerical, tolerance,
                   "unresolved" if abs(analytic - numerical) <= tolerance else "FAIL")
    tolerance = RTOL * abs(numerical) + spread + 10 * noise
    return Row(name, analytic, numerical, tolerance,
               "ok" if abs(analytic - numerical) <= tolerance else "FAIL")


def retried_row(row: Row, loss: Callable[[torch.Tensor], float], x: torch.Tensor,
                direction: torch.Tensor, centre: float,
                can_step: Callable[[float], bool]) -> Row:
    """``row`` (a failed comparison along ``direction``) remade at the steps of
    :data:`RETRY_FACTORS` x STEP that ``can_step`` allows: the first that passes at a tolerance
    no larger than ``row``'s replaces it; otherwise ``row`` stands."""
    for factor in RETRY_FACTORS:
        step = STEP * factor
        if not can_step(2 * step):
            break
        differences = central_differences(loss, x, direction, step, centre=centre)
        measured = 3 * differences.fourth / math.sqrt(70)
        noise = max(16 * EPS * max(1.0, abs(centre)), measured) / step
        again = derivative_row(row.name, row.analytic, differences.extrapolated,
                               differences.spread, noise)
        if again.status == "ok" and again.tolerance <= row.tolerance:
            return dataclasses.replace(again, eps=step)
    return row


def check_gradient(target: Target, case: TargetCase, check: str = "gradient") -> CheckResult:
    """Reverse-mode gradient of a projection of the output vs central differences.

    Each drawn parameter is compared on its own, then the drawn direction (all at once). The
    numerical derivative is Richardson-extrapolated from steps h and 2h; their disagreement
    bounds its truncation error and decides whether the comparison counts.
    """
    names = tuple(n for n in case.names if steppable(target, case.config, n, 2 * STEP))
    events = [f"{check}: {n} at its valid bound, not stepped"
              for n in case.names if n not in names]
    if not names:
        return CheckResult(check, False, "no parameter can be stepped", events=events,
                           inconclusive=True)
    probe = case_probe(target, case, names)
    if (unfit := unusable(target, check, probe.baseline_image(), case.config)) is not None:
        return unfit
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    grad = gradient_of(value, leaf)
    centre = float(value.detach())
    loss = no_grad_value(probe.loss)
    along = coordinate_differences(loss, x, STEP, centre=centre)
    full = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    # Rescaled to a largest entry of 1 again: the dropped names may have held the largest.
    direction = scaled_direction(tuple(full[n] for n in names), len(names))
    along.append(central_differences(loss, x, direction, STEP, centre=centre))
    # Rounding noise of one loss evaluation: the larger of a few ulps of |L| and the measured
    # scatter (3 x the largest fourth difference / sqrt(70); dim pixels can be much noisier
    # than their value suggests). Noise in a central difference is then about noise / h.
    measured = 3 * max(d.fourth for d in along) / math.sqrt(70)
    noise = max(16 * EPS * max(1.0, abs(centre)), measured) / STEP
    rows = [derivative_row(name, float(grad[i]), along[i].extrapolated, along[i].spread,
                           noise) for i, name in enumerate(names)]
    rows.append(derivative_row("(drawn direction)", float(grad @ direction),
                               along[-1].extrapolated, along[-1].spread, noise))
    directions = [unit_vector(x, i) for i in range(len(names))] + [direction]
    stepped = [(n,) for n in names] + [names]
    for i, row in enumerate(rows):
        if row.status == "FAIL":
            rows[i] = retried_row(row, loss, x, directions[i], centre, lambda reach, i=i: all(
                steppable(target, case.config, n, reach) for n in stepped[i]))
            if rows[i] is not row:
                events.append(f"{check}: passed when retried at a larger step")
    return derivative_verdict(check, rows, events)


def check_forward_reverse(target: Target, case: TargetCase, check: str = "forward_reverse"
                          ) -> CheckResult:
    """Forward-mode (dual numbers) vs reverse-mode directional derivative, same direction."""
    probe = case_probe(target, case, case.names)
    if (unfit := unusable(target, check, probe.baseline_image(), case.config)) is not None:
        return unfit
    envelope = probe.envelope()
    if envelope > MAX_ENVELOPE:
        return CheckResult(check, False, f"the projection sees only pixels "
                           f"{envelope:.1e} times dimmer than the peak", inconclusive=True)
    direction = case.direction_tensor()
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    grad = gradient_of(probe.loss(leaf), leaf)
    reverse = float(grad @ direction)
    forward = forward_mode_derivative(probe, direction, x)
    magnitude = float((grad * direction).abs().sum())
    # A derivative that is zero by symmetry comes out as rounding noise of the terms that
    # cancel (order eps x |L| per scaled unit), in either mode: an absolute floor for that.
    floor = AD_FLOOR * EPS * envelope * float(direction.abs().sum())
    tolerance = AD_RTOL * magnitude * envelope + floor
    ok = math.isfinite(forward) and abs(forward - reverse) <= tolerance
    row = Row("(drawn direction)", reverse, forward, tolerance, "ok" if ok else "FAIL")
    if not (math.isfinite(forward) and math.isfinite(reverse)):
        return CheckResult(check, False, f"non-finite derivative (NaN or Inf): "
                           f"reverse {reverse}, forward {forward}", [row],
                           [f"{check}: non-finite"])
    if ok and max(abs(forward), abs(reverse)) < 10 * floor:
        return CheckResult(check, False, "derivative is zero (rounding noise "
                           "only)", [row], inconclusive=True)
    return CheckResult(check, ok, "forward mode (numerical column) vs reverse mode "
                       "(analytic column)", [row], [f"{check}: {row.status}"])






def taylor_reach(target: Target, config: Any, names: tuple[str, ...],
                 direction: torch.Tensor) -> float:
    """The largest first step (TAYLOR_MAX_STEP halved as needed) keeping every parameter of
    x + h d valid, or 0 when none is found above 1e-8."""
    step = TAYLOR_MAX_STEP
    while step > 1e-8:
        if all(steppable(target, config, n, step * abs(float(d)))
               for n, d in zip(names, direction, strict=True)):
            return step
        step /= 2
    return 0.0


def check_taylor(target: Target, case: TargetCase, check: str = "taylor") -> CheckResult:
    """Taylor test along the drawn direction: |L(x + h d) - L(x) - h grad.d| falls as h^2 for
    a right gradient and as h for a wrong one (the first step is chosen so a 1 % error shows,
    :func:`braggcheck.testing.framework.derivatives.taylor_first_step`, within the valid range)."""
    full = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    names = tuple(n for n in case.names if steppable(target, case.config, n, STEP))
    direction = scaled_direction(tuple(full[n] for n in names), len(names))
    reach = taylor_reach(target, case.config, names, direction) if names else 0.0
    if reach == 0:
        return CheckResult(check, False, "no parameter can be stepped", inconclusive=True)
    probe = case_probe(target, case, names)
    if (unfit := unusable(target, check, probe.baseline_image(), case.config)) is not None:
        return unfit
    # Where second- and third-order terms cancel near the first step, the remainder dips and
    # a right gradient shows odd rates. Smaller steps make the h^2 term dominate for a right
    # gradient and the first-order error dominate even more for a wrong one, so a failing run
    # is retried at steps 8 and 64 times smaller (while the remainders stay above rounding).
    rounding = 16 * EPS * probe.magnitude() * probe.envelope()
    result = taylor_run(probe, direction, max_step=reach)
    floor = TAYLOR_NOISE_MARGIN * rounding
    for _ in range(TAYLOR_RETRIES):
        if taylor_failure(result) is None or min(result.remainders) <= floor:
            break
        result = taylor_run(probe, direction, first_step=result.steps[0] / 8)
    rows = [Row(f"rate {i + 1} (h = {result.steps[i + 1]:.2e})", rate, 2.0,
                2.0 - TAYLOR_MIN_RATE, "ok" if rate >= TAYLOR_MIN_RATE else "FAIL")
            for i, rate in enumerate(result.rates)]
    if not (math.isfinite(result.slope) and all(map(math.isfinite, result.remainders))):
        return CheckResult(check, False, f"non-finite derivative or loss (NaN or Inf): slope "
                           f"{result.slope}", rows, [f"{check}: non-finite"])
    # The smallest remainder must stand TAYLOR_NOISE_MARGIN above the rounding of L (an ulp of
    # its terms, larger for dim pixels): else the rates measure noise, not the gradient.
    if result.slope == 0 or min(result.remainders) <= floor:
        return CheckResult(check, False, "Taylor remainders at rounding noise (or no slope)",
                           rows, inconclusive=True)
    failure = taylor_failure(result)
    return CheckResult(check, failure is None, failure or "", rows,
                       [f"{check}: {'ok' if failure is None else 'FAIL'}"])
