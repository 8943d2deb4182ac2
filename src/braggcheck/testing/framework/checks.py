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

import math
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
from braggcheck.testing.framework.target import Target, applicable, steppable
from braggcheck.testing.framework.tolerances import (
    AD_FLOOR,
    AD_RTOL,
    EPS,
    GAP_OFFSETS,
    MAX_ENVELOPE,
    STEP,
    TAYLOR_MAX_STEP,
    TAYLOR_MIN_RATE,
    TAYLOR_NOISE_MARGIN,
    TAYLOR_RETRIES,
)
from braggcheck.testing.framework.verdict import (
    declared_noise,
    derivative_row,
    gap_row,
    inflation,
    loss_noise,
    nearby_step,
    output_noise,
    output_precision,
    retried_row,
)

__all__ = ["check_forward_reverse", "check_gradient", "check_taylor", "derivative_row",
           "retried_row"]


def case_probe(target: Target, case: TargetCase, names: tuple[str, ...]) -> Probe:
    return Probe(case.config, names, weights=weights_for(target, case), target=target)


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
    precision = output_precision(target, probe.baseline_image())
    magnitude = probe.magnitude()
    noise = loss_noise(along, centre, STEP, precision, magnitude)
    rows = [derivative_row(name, float(grad[i]), along[i].extrapolated, along[i].spread,
                           noise, eps=STEP) for i, name in enumerate(names)]
    rows.append(derivative_row("(drawn direction)", float(grad @ direction),
                               along[-1].extrapolated, along[-1].spread, noise, eps=STEP))
    directions = [unit_vector(x, i) for i in range(len(names))] + [direction]
    stepped = [(n,) for n in names] + [names]
    # Retry what failed or was inflated by noise; when nothing is resolved at all, also what
    # noise hid (a noisy target resolves its derivatives only at larger steps).
    retry = {"FAIL", "inconclusive"}
    if not any(r.status in ("ok", "FAIL") for r in rows):
        retry |= {"below noise", "unresolved"}
    for i, row in enumerate(rows):
        if row.status in retry:
            rows[i] = retried_row(row, loss, x, directions[i], centre, lambda reach, i=i: all(
                steppable(target, case.config, n, reach) for n in stepped[i]),
                precision, magnitude)
            if rows[i] is not row:
                events.append(f"{check}: {row.status} at step {STEP:g}, passed when retried "
                              "at a larger step")
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
    if not (math.isfinite(forward) and math.isfinite(reverse)):
        row = Row("(drawn direction)", reverse, forward, 0.0, "FAIL")
        return CheckResult(check, False, f"non-finite derivative (NaN or Inf): "
                           f"reverse {reverse}, forward {forward}", [row],
                           [f"{check}: non-finite"])
    # A derivative that is zero by symmetry comes out as rounding noise of the terms that
    # cancel (order eps x |L| per scaled unit), in either mode: an absolute floor for that.
    floor = AD_FLOOR * EPS * envelope * float(direction.abs().sum())
    base = AD_RTOL * magnitude * envelope + floor
    declared = declared_noise(target, magnitude * envelope)
    # The nearby points move every parameter the output depends on, not only the drawn ones:
    # rounding that does not change along the drawn direction (a float32 sum over an output
    # linear in the parameter) changes along the others, and the gap of a wrong derivative
    # stays what it is. The others are held at moved values, never differentiated: a target
    # may take another path when more inputs carry a derivative, and a gap found on the case's
    # path must be re-measured on it (differentiating them once hid a wrong derivative there).
    spacing = nearby_step(lambda reach: all(steppable(target, case.config, n, reach)
                                            for n in case.names))
    room = spacing is not None
    reach = max(abs(k) for k in GAP_OFFSETS) * STEP
    others = tuple(n for n in applicable(target, case.config)
                   if n not in case.names and steppable(target, case.config, n, reach))

    def pair_at(k: int) -> tuple[float, float]:
        step = k * spacing
        held = probe.holding({n: target.value(case.config, n) + step * target.parameters[n].scale
                              for n in others})
        at = x + step
        leaf = at.clone().requires_grad_(True)
        grad = gradient_of(held.loss(leaf), leaf)
        return forward_mode_derivative(held, direction, at), float(grad @ direction)

    def nearby() -> list[tuple[float, float]]:
        return [pair_at(k) for k in GAP_OFFSETS]

    row = gap_row("(drawn direction)", (forward, reverse), nearby if room else None, base,
                  magnitude, declared, eps=STEP)
    # The table reads analytic = reverse mode, numerical = forward mode.
    row.analytic, row.numerical = row.numerical, row.analytic
    if row.status == "FAIL" and not (math.isfinite(row.analytic)
                                     and math.isfinite(row.numerical)):
        return CheckResult(check, False, "non-finite derivative (NaN or Inf) at a nearby "
                           "point", [row], [f"{check}: non-finite"])
    if row.status == "inconclusive":
        return CheckResult(check, False, inflation([row]), [row], inconclusive=True)
    ok = row.status == "ok"
    if ok and max(abs(forward), abs(reverse)) < 10 * floor:
        return CheckResult(check, False, "derivative is zero (rounding noise "
                           "only)", [row], inconclusive=True)
    events = [f"{check}: {row.status}"]
    if ok and "nearby" in row.name:
        events.append(f"{check}: gap above {AD_RTOL:g}, within its measured scatter")
    return CheckResult(check, ok, "forward mode (numerical column) vs reverse mode "
                       "(analytic column)" if ok else "forward and reverse mode differ "
                       "beyond their measured rounding", [row], events)


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
    if not names:
        return CheckResult(check, False, "no parameter can be stepped", inconclusive=True)
    direction = scaled_direction(tuple(full[n] for n in names), len(names))
    reach = taylor_reach(target, case.config, names, direction)
    if reach == 0:
        return CheckResult(check, False, "no parameter can be stepped", inconclusive=True)
    probe = case_probe(target, case, names)
    if (unfit := unusable(target, check, probe.baseline_image(), case.config)) is not None:
        return unfit
    # Where second- and third-order terms cancel near the first step, the remainder dips and
    # a right gradient shows odd rates. Smaller steps make the h^2 term dominate for a right
    # gradient and the first-order error dominate even more for a wrong one, so a failing run
    # is retried at steps 8 and 64 times smaller (while the remainders stay above rounding).
    # The rounding of L: an ulp of its terms (larger for dim pixels), the declared precision,
    # or what the fourth difference of L along the direction measures (a noisy target).
    x = probe.point()
    measured = central_differences(no_grad_value(probe.loss), x, direction,
                                   min(STEP, reach / 4))
    rounding = max(16 * EPS * probe.magnitude() * probe.envelope(),
                   output_noise(target, probe.baseline_image(), probe.magnitude()),
                   3 * measured.fourth / math.sqrt(70))
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
    # A zero slope is judged like any other: where L does not move either, the remainders sit
    # at rounding (inconclusive); where it moves, they fall at rate 1 (a detached parameter)
    # or 2 (a true stationary point).
    if min(result.remainders) <= floor:
        return CheckResult(check, False, "Taylor remainders at rounding noise"
                           + (" (no slope)" if result.slope == 0 else ""), rows,
                           inconclusive=True)
    failure = taylor_failure(result)
    if failure is not None:
        # Where L itself does not move beyond its rounding over the smallest step, every
        # remainder is h |grad.d| (rate 1) whatever the gradient: the steps are below the
        # output's resolution (float32 internals), not evidence of a wrong gradient.
        with torch.no_grad():
            moved = abs(float(probe.loss(x + result.steps[-1] * direction) - probe.loss(x)))
        if moved <= floor:
            return CheckResult(check, False, f"the loss moves by {moved:.1e} over the smallest "
                               f"Taylor step, within its rounding ({floor:.1e}): below the "
                               "output's resolution", rows, inconclusive=True)
    if failure is not None and any(rate < 0 for rate in result.rates):
        # A remainder that grows as the step falls is no Taylor behaviour of a smooth loss,
        # right gradient (rate 2) or wrong (rate 1): it is rounding the floor did not see.
        return CheckResult(check, False, "Taylor remainders grow as the step falls (a "
                           "negative rate): rounding noise, not a gradient", rows,
                           inconclusive=True)
    return CheckResult(check, failure is None, failure or "", rows,
                       [f"{check}: {'ok' if failure is None else 'FAIL'}"])
