"""The checks of a target's output that need no finite differences: finite, repeatable,
periodic in every parameter with a ``period``, linear in every parameter marked ``linear``."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from braggcheck.testing.framework.case import TargetCase, weights_for
from braggcheck.testing.framework.check_support import loss_and_grads, unusable
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.target import Target, applicable, linear, steppable
from braggcheck.testing.framework.tolerances import (
    EPS,
    GAP_OFFSETS,
    LINEAR_GRADIENT_RTOL,
    LINEAR_MARGIN,
    LINEAR_ULPS,
    PERIOD_RTOL,
    STEP,
)
from braggcheck.testing.framework.verdict import (
    declared_noise,
    declared_precision,
    gap_row,
    image_gap,
    inflation,
    offsets_steppable,
    settle,
)


def check_finite(target: Target, case: TargetCase, check: str = "finite") -> CheckResult:
    """No NaN or Inf in the output or its gradient with respect to every parameter the output
    depends on."""
    config = case.config
    names = applicable(target, config)
    image, total, grad = loss_and_grads(target, config, names, weights_for(target, case))
    if (unfit := unusable(target, check, image, config)) is not None:
        return unfit
    bad = [n for i, n in enumerate(names) if not math.isfinite(float(grad[i]))]
    finite_image = bool(torch.isfinite(image).all()) and math.isfinite(float(total))
    rows = [Row(f"d/d {n}", float(grad[i]), float("nan"), 0.0,
                "FAIL" if n in bad else "ok") for i, n in enumerate(names)]
    passed = finite_image and not bad
    message = "" if passed else ("image not finite" if not finite_image else
                                 f"non-finite gradient for {', '.join(bad)}")
    return CheckResult(check, passed, message, rows)


def check_repeatable(target: Target, case: TargetCase, check: str = "repeatable"
                     ) -> CheckResult:
    """The same configuration gives bit-identical outputs and gradients."""
    config = case.config
    weights = weights_for(target, case)
    first = loss_and_grads(target, config, case.names, weights)
    if (unfit := unusable(target, check, first[0], config)) is not None:
        return unfit
    second = loss_and_grads(target, config, case.names, weights)
    if not bool(torch.isfinite(first[2]).all()):
        return CheckResult(check, False, "non-finite gradient (NaN or Inf): "
                           f"{first[2].tolist()}")
    same_image = torch.equal(first[0], second[0])
    same_grad = torch.equal(first[2], second[2])
    rows = [Row("image bits differ", float(not same_image), 0.0, 0.0,
                "ok" if same_image else "FAIL"),
            Row("gradient bits differ", float(not same_grad), 0.0, 0.0,
                "ok" if same_grad else "FAIL")]
    passed = same_image and same_grad
    return CheckResult(check, passed, "" if passed else "repeat runs differ", rows)


def check_periodicity(target: Target, case: TargetCase, check: str = "periodicity"
                      ) -> CheckResult:
    """Adding whole periods (the spec ``period``) to the case's periodic parameter leaves the
    output and its gradients alone (to their measured rounding, :mod:`verdict`)."""
    angle = getattr(case, "angle", None)
    if angle is None:
        return CheckResult(check, False, f"target {target.name} has no periodic parameter",
                           inconclusive=True)
    config = case.config
    start = target.value(config, angle)
    spec = target.parameters[angle]
    shift = spec.period * case.turns
    names = tuple(dict.fromkeys((*case.names, angle)))
    weights = weights_for(target, case)
    image, _, grad = loss_and_grads(target, config, names, weights)
    if (unfit := unusable(target, check, image, config)) is not None:
        return unfit
    image2, _, grad2 = loss_and_grads(target, config, names, weights, {angle: start + shift})
    declared = declared_precision(target)
    step = STEP * spec.scale
    room = offsets_steppable(lambda reach: steppable(target, config, angle, reach), STEP)
    measured: list[tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, ...]]] = []

    def samples() -> list:
        """(image, gradient) pairs at angle + k step and at that plus whole periods."""
        if not measured:
            for k in GAP_OFFSETS:
                moved = start + k * step
                a = loss_and_grads(target, config, names, weights, {angle: moved + shift})
                b = loss_and_grads(target, config, names, weights, {angle: moved})
                measured.append(((a[0], b[0]), (a[2], b[2])))
        return measured

    rows = [image_gap(f"image, {angle} {case.turns:+d} turn(s)", image2, image, PERIOD_RTOL,
                      (lambda: [s[0] for s in samples()]) if room else None, declared)]
    # Per parameter, the gradient the projection would have if every weighted pixel moved by
    # the image maximum per scaled unit: rounding errors scale with this envelope, not with
    # the projected value (a pixel at a zero of the lattice factor has no relative precision).
    envelope = float(image.abs().max()) * float(weights.abs().sum())
    for i, name in enumerate(names):
        floor = envelope / target.parameters[name].scale
        reference = float(grad[i])
        base = PERIOD_RTOL * (abs(reference) + floor)
        row = gap_row(f"d/d {name}", (float(grad2[i]), reference),
                      (lambda i=i: [(float(s[1][0][i]), float(s[1][1][i]))
                                    for s in samples()]) if room else None,
                      base, reference, declared_noise(target, abs(reference) + floor))
        if row.status in ("ok", "inconclusive") and not abs(reference) > (
                1e2 * PERIOD_RTOL * floor):
            row.status = "below noise"
        rows.append(row)
    if any(r.status == "FAIL" for r in rows):
        broken = [r.name for r in rows if r.status == "FAIL"]
        return CheckResult(check, False, f"whole turns of {angle} change the result "
                           f"({', '.join(broken)})", rows, [f"{check}: {angle}"])
    if any(r.status == "inconclusive" for r in rows):
        return CheckResult(check, False, inflation(rows), rows, [f"{check}: {angle}"],
                           inconclusive=True)
    if not any(r.status == "ok" for r in rows[1:]):
        return CheckResult(check, False, "every gradient is below rounding "
                           "noise for this projection", rows, inconclusive=True)
    if any("nearby" in r.name for r in rows):
        events = [f"{check}: {angle}", f"{check}: gap above {PERIOD_RTOL:g}, within its "
                  "measured scatter"]
    else:
        events = [f"{check}: {angle}"]
    return CheckResult(check, True, "", rows, events)


def linear_gap(name: str, scaled: torch.Tensor, image: torch.Tensor, k: float,
               nearby: Callable[[], list[tuple[float, torch.Tensor]]] | None,
               declared: float) -> Row:
    """image(k p) vs k image(p), element by element, relative to each element (floored at
    an ulp of the peak): within LINEAR_ULPS ulps at once; past it, within LINEAR_MARGIN x the
    largest rounding of the same relation measured at nearby values p (1 + j STEP), the
    measured part under the ceiling."""
    peak = float((k * image).abs().max())

    def relative(got: torch.Tensor, want: torch.Tensor) -> float:
        return float(((got - want).abs() / want.abs().clamp_min(EPS * peak)).max())

    worst = relative(scaled, k * image)
    quick = settle(name, worst, 0.0, LINEAR_ULPS * EPS + declared, 0.0, 1.0)
    if quick.status == "ok" or not math.isfinite(worst) or nearby is None:
        return quick
    rounding = max(relative(other, factor * image) for factor, other in nearby())
    return settle(f"{name} (vs rounding at nearby values)", worst, 0.0,
                  LINEAR_ULPS * EPS + declared, LINEAR_MARGIN * rounding, 1.0,
                  noise_floor=rounding)


def check_linearity(target: Target, case: TargetCase, check: str = "linearity") -> CheckResult:
    """For every parameter p marked ``linear``: output(k p) = k output(p) to rounding, and
    d(w.output)/dp = (w.output) / p (both to their measured rounding, :mod:`verdict`)."""
    names = linear(target)
    if not names:
        return CheckResult(check, False, f"target {target.name} has no linear parameter",
                           inconclusive=True)
    config, k = case.config, case.factor
    weights = weights_for(target, case)
    declared = declared_precision(target)
    rows: list[Row] = []
    failed = []
    for name in names:
        value = target.value(config, name)
        image, total, grad = loss_and_grads(target, config, (name,), weights)
        if (unfit := unusable(target, check, image, config)) is not None:
            return unfit

        def render(at: float, name: str = name) -> torch.Tensor:
            with torch.no_grad():
                return target.render(config, {name: torch.tensor(at, dtype=torch.float64)})

        relative = abs(value) / target.parameters[name].scale
        room = value != 0 and offsets_steppable(
            lambda reach, name=name, relative=relative: steppable(
                target, config, name, reach * relative), STEP)
        spots = [value * (1 + j * STEP) for j in GAP_OFFSETS]

        def nearby_images(value: float = value, render=render, spots=spots
                          ) -> list[tuple[float, torch.Tensor]]:
            return [(at / value, render(at)) for at in spots]

        def nearby_gradients(name: str = name, spots=spots) -> list[tuple[float, float]]:
            # Every other parameter moves with p (relative steps, inside their valid range):
            # a float32 gradient of an output linear in p does not change with p alone, its
            # rounding does with the others. They are held, not differentiated: the nearby
            # points take the path of p alone, as the case did.
            others = [n for n in applicable(target, config) if n != name and steppable(
                target, config, n, 3 * STEP)]
            pairs = []
            for j, at in zip(GAP_OFFSETS, spots, strict=True):
                moved = {n: target.value(config, n) + j * STEP * target.parameters[n].scale
                         for n in others}
                _, t, g = loss_and_grads(target, config, (name,), weights, {name: at},
                                         held=moved)
                pairs.append((float(g[0]), float(t) / at))
            return pairs

        expected = float(total) / value if value != 0 else 0.0
        # A dark projection (one unlit pixel) has expected == 0: then the gradient must be 0.
        terms = float((weights.abs() * image.abs()).sum()) / abs(value) if value else 0.0
        row = gap_row(f"d(w.image)/d {name}", (float(grad[0]), expected),
                      nearby_gradients if room else None,
                      LINEAR_GRADIENT_RTOL * abs(expected), expected,
                      declared_noise(target, terms))
        straight = linear_gap(f"max |image(k {name})/k - image({name})| (k={k:.3g})",
                              render(k * value), image, k,
                              nearby_images if room else None, declared)
        rows += [row, straight]
        if "FAIL" in (row.status, straight.status):
            failed.append(name)
    if failed:
        return CheckResult(check, False, f"image is not linear in {', '.join(failed)}", rows,
                           [f"{check}: k {'>' if k > 1 else '<='} 1"])
    if any(r.status == "inconclusive" for r in rows):
        return CheckResult(check, False, inflation(rows), rows, inconclusive=True)
    return CheckResult(check, True, "", rows, [f"{check}: k {'>' if k > 1 else '<='} 1"])
