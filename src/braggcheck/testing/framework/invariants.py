"""The checks of a target's output that need no finite differences: finite, repeatable,
periodic in every parameter with a ``period``, linear in every parameter marked ``linear``."""

from __future__ import annotations

import math

import torch

from braggcheck.testing.framework.case import TargetCase, weights_for
from braggcheck.testing.framework.check_support import image_close, loss_and_grads, unusable
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.target import Target, applicable, linear
from braggcheck.testing.framework.tolerances import EPS, LINEAR_ULPS, PERIOD_RTOL


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
    output and its gradients alone."""
    angle = getattr(case, "angle", None)
    if angle is None:
        return CheckResult(check, False, f"target {target.name} has no periodic parameter",
                           inconclusive=True)
    config = case.config
    turned = target.value(config, angle) + target.parameters[angle].period * case.turns
    names = tuple(dict.fromkeys((*case.names, angle)))
    weights = weights_for(target, case)
    image, _, grad = loss_and_grads(target, config, names, weights)
    if (unfit := unusable(target, check, image, config)) is not None:
        return unfit
    image2, _, grad2 = loss_and_grads(target, config, names, weights, {angle: turned})
    same_image, image_error = image_close(image, image2, PERIOD_RTOL)
    rows = [Row(f"image, {angle} {case.turns:+d} turn(s)", image_error, 0.0, PERIOD_RTOL,
                "ok" if same_image else "FAIL")]
    # Per parameter, the gradient the projection would have if every weighted pixel moved by
    # the image maximum per scaled unit: rounding errors scale with this envelope, not with
    # the projected value (a pixel at a zero of the lattice factor has no relative precision).
    envelope = float(image.abs().max()) * float(weights.abs().sum())
    for i, name in enumerate(names):
        floor = envelope / target.parameters[name].scale
        error = abs(float(grad[i] - grad2[i]))
        tolerance = PERIOD_RTOL * (abs(float(grad[i])) + floor)
        status = "ok" if abs(float(grad[i])) > 1e2 * PERIOD_RTOL * floor else "below noise"
        rows.append(Row(f"d/d {name}", float(grad2[i]), float(grad[i]), tolerance,
                        status if error <= tolerance else "FAIL"))
    if not any(r.status == "ok" for r in rows[1:]) and all(r.status != "FAIL" for r in rows):
        return CheckResult(check, False, "every gradient is below rounding "
                           "noise for this projection", rows, inconclusive=True)
    passed = all(r.status != "FAIL" for r in rows)
    return CheckResult(check, passed,
                       "" if passed else f"whole turns of {angle} change the result", rows,
                       [f"{check}: {angle}"])


def check_linearity(target: Target, case: TargetCase, check: str = "linearity") -> CheckResult:
    """For every parameter p marked ``linear``: output(k p) = k output(p) to rounding, and
    d(w.output)/dp = (w.output) / p."""
    names = linear(target)
    if not names:
        return CheckResult(check, False, f"target {target.name} has no linear parameter",
                           inconclusive=True)
    config, k = case.config, case.factor
    weights = weights_for(target, case)
    rows: list[Row] = []
    failed = []
    for name in names:
        value = target.value(config, name)
        image, total, grad = loss_and_grads(target, config, (name,), weights)
        if (unfit := unusable(target, check, image, config)) is not None:
            return unfit
        with torch.no_grad():
            scaled = target.render(config, {name: torch.tensor(k * value,
                                                               dtype=torch.float64)})
        excess = (scaled - k * image).abs() - LINEAR_ULPS * EPS * (k * image).abs()
        straight = bool((excess <= 0).all())
        expected = float(total) / value
        row = Row(f"d(w.image)/d {name}", float(grad[0]), expected, 1e-12 * abs(expected))
        # A dark projection (one unlit pixel) has expected == 0: then the gradient must be 0.
        row.status = "ok" if row.error <= row.tolerance else "FAIL"
        worst = float(((scaled - k * image).abs() / (k * image).abs().clamp_min(1e-300)).max())
        rows += [row, Row(f"max |image(k {name})/k - image({name})| (k={k:.3g})", worst, 0.0,
                          LINEAR_ULPS * EPS, "ok" if straight else "FAIL")]
        if not straight or row.status != "ok":
            failed.append(name)
    passed = not failed
    return CheckResult(check, passed, "" if passed else
                       f"image is not linear in {', '.join(failed)}", rows,
                       [f"{check}: k {'>' if k > 1 else '<='} 1"])
