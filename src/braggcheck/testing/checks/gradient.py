"""Gradient checks: analytic vs numerical derivatives, forward vs reverse mode, finiteness and
bit-identical repeats."""

from __future__ import annotations

import math

import torch

from braggcheck.sim.config import Config, _check_cell_angles, baseline_value
from braggcheck.sim.registry import PARAMETERS
from braggcheck.testing.cases import Case, applicable_parameters
from braggcheck.testing.checks.results import (
    EPS,
    CheckResult,
    Row,
    gradient_of,
    loss_and_grads,
    unusable,
)
from braggcheck.testing.differences import central_differences, coordinate_differences
from braggcheck.testing.gradients import (
    NOISE_MARGIN,
    GradientProbe,
    forward_mode_derivative,
    no_grad_value,
)
from braggcheck.util.errors import ConfigError

STEP = 1e-6
"""Central-difference step in scaled units (value / registry scale): relative steps."""
RESOLVED = 1e-4
"""A derivative counts as resolved only if it exceeds the rounding noise by NOISE_MARGIN (the
Tier-2 suite's margin) and the two step sizes agree to this fraction (the function is smooth
over the step)."""
RTOL = 1e-6
"""Analytic vs Richardson-extrapolated difference, on top of the estimated truncation error."""
AD_RTOL = 1e-9
"""Forward vs reverse mode: the same chain rule in another order, so only rounding differs."""
AD_FLOOR = 1e3
"""Absolute floor for a derivative that is zero: this many ulps of the (order 1) loss."""


def steppable(config: Config, name: str, reach: float) -> bool:
    """Whether ``name`` can move by +-``reach`` (scaled units) and stay valid."""
    parameter = PARAMETERS[name]
    value = baseline_value(config, name)
    for sign in (-1.0, 1.0):
        moved = value + sign * reach * parameter.scale
        try:
            parameter.validate(moved)
            if name.startswith("cell_") and name[5:] in ("alpha", "beta", "gamma"):
                angles = {n: float(getattr(config.crystal, f"cell_{n}"))
                          for n in ("alpha", "beta", "gamma")}
                angles[name[5:]] = moved
                _check_cell_angles(angles["alpha"], angles["beta"], angles["gamma"])
        except ConfigError:
            return False
    return True


def _compare(name: str, analytic: float, numerical: float, spread: float,
             noise: float) -> Row:
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


def _envelope(probe: GradientProbe) -> float:
    """How much larger rounding errors can be than the loss itself: sum |w| max(I) / sum |w| I.

    A pixel's rounding error scales with the image's peak, not with its own value (a pixel in
    the far tail of a spot, 1e-30 of the peak, has no relative precision left), so a loss made
    of dim pixels is noisier, relative to itself, than its value suggests.
    """
    weights, _ = probe._normaliser()
    image = probe.baseline_image()
    seen = float((weights.abs() * image).sum())
    return float(weights.abs().sum() * image.max()) / max(seen, 1e-300)


MAX_ENVELOPE = 1e8
"""Beyond this the projection sees only pixels with no usable precision: inconclusive."""


def _probe(case: Case, names: tuple[str, ...]) -> GradientProbe:
    return GradientProbe(case.config, names, weights=case.weights())


def check_gradient(case: Case) -> CheckResult:
    """Reverse-mode gradient of a projection of the image vs central differences.

    Each drawn parameter is compared on its own, then the drawn direction (all at once). The
    numerical derivative is Richardson-extrapolated from steps h and 2h; their disagreement
    bounds its truncation error and decides whether the comparison counts.
    """
    names = tuple(n for n in case.names if steppable(case.config, n, 2 * STEP))
    events = [f"gradient: {n} at its valid bound, not stepped"
              for n in case.names if n not in names]
    if not names:
        return CheckResult("gradient", False, "no parameter can be stepped", events=events,
                           inconclusive=True)
    probe = _probe(case, names)
    if (unfit := unusable("gradient", probe.baseline_image(), case.config)) is not None:
        return unfit
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    grad = gradient_of(value, leaf)
    centre = float(value.detach())
    loss = no_grad_value(probe.loss)
    along = coordinate_differences(loss, x, STEP, centre=centre)
    full = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    direction = torch.tensor([full[n] for n in names], dtype=torch.float64)
    largest = float(direction.abs().max())
    # Rescaled to a largest entry of 1 again: the dropped names may have held the largest.
    direction = torch.ones_like(direction) if largest == 0 else direction / largest
    along.append(central_differences(loss, x, direction, STEP, centre=centre))
    # Rounding noise of one loss evaluation: the larger of a few ulps of |L| and the measured
    # scatter (3 x the largest fourth difference / sqrt(70); dim pixels can be much noisier
    # than their value suggests). Noise in a central difference is then about noise / h.
    measured = 3 * max(d.fourth for d in along) / math.sqrt(70)
    noise = max(16 * EPS * max(1.0, abs(centre)), measured) / STEP
    rows = [_compare(name, float(grad[i]), along[i].extrapolated, along[i].spread, noise)
            for i, name in enumerate(names)]
    rows.append(_compare("(drawn direction)", float(grad @ direction), along[-1].extrapolated,
                         along[-1].spread, noise))
    return _verdict("gradient", rows, events)


def _verdict(check: str, rows: list[Row], events: list[str]) -> CheckResult:
    failed = [r.name for r in rows if r.status == "FAIL"]
    resolved = [r for r in rows if r.status in ("ok", "FAIL")]
    events = events + [f"{check}: {r.status}" for r in rows]
    worst = max((r.relative_error for r in resolved if math.isfinite(r.relative_error)),
                default=0.0)
    broken = [r.name for r in rows
              if not (math.isfinite(r.analytic) and math.isfinite(r.numerical))]
    if broken:
        return CheckResult(check, False, f"non-finite derivative (NaN or Inf) for "
                           f"{', '.join(broken)}", rows, [*events, f"{check}: non-finite"],
                           worst=worst)
    if failed:
        return CheckResult(check, False, f"derivative mismatch for {', '.join(failed)}", rows,
                           events, worst=worst)
    if not resolved:
        return CheckResult(check, False, "no derivative resolved above the finite-difference "
                           "noise", rows, events, inconclusive=True)
    return CheckResult(check, True, f"{len(resolved)} resolved derivative(s) agree", rows,
                       events, worst=worst)


def check_forward_reverse(case: Case) -> CheckResult:
    """Forward-mode (dual numbers) vs reverse-mode directional derivative, same direction."""
    names = case.names
    probe = _probe(case, names)
    if (unfit := unusable("forward_reverse", probe.baseline_image(), case.config)) is not None:
        return unfit
    envelope = _envelope(probe)
    if envelope > MAX_ENVELOPE:
        return CheckResult("forward_reverse", False, f"the projection sees only pixels "
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
        return CheckResult("forward_reverse", False, f"non-finite derivative (NaN or Inf): "
                           f"reverse {reverse}, forward {forward}", [row],
                           ["forward_reverse: non-finite"])
    if ok and max(abs(forward), abs(reverse)) < 10 * floor:
        return CheckResult("forward_reverse", False, "derivative is zero (rounding noise "
                           "only)", [row], inconclusive=True)
    return CheckResult("forward_reverse", ok, "forward mode (numerical column) vs reverse mode "
                       "(analytic column)", [row], [f"forward_reverse: {row.status}"])


def check_finite(case: Case) -> CheckResult:
    """No NaN or Inf in the image or its gradient with respect to every applicable parameter."""
    config = case.config
    names = applicable_parameters(config)
    weights = case.weights()
    image, total, grad = loss_and_grads(config, names, weights)
    if (unfit := unusable("finite", image, config)) is not None:
        return unfit
    bad = [n for i, n in enumerate(names) if not math.isfinite(float(grad[i]))]
    finite_image = bool(torch.isfinite(image).all()) and math.isfinite(float(total))
    rows = [Row(f"d/d {n}", float(grad[i]), float("nan"), 0.0,
                "FAIL" if n in bad else "ok") for i, n in enumerate(names)]
    passed = finite_image and not bad
    message = "" if passed else ("image not finite" if not finite_image else
                                 f"non-finite gradient for {', '.join(bad)}")
    return CheckResult("finite", passed, message, rows, [f"finite: shape {config.crystal.shape}"])


def check_repeatable(case: Case) -> CheckResult:
    """The same configuration and seed give bit-identical images and gradients."""
    config = case.config
    weights = case.weights()
    first = loss_and_grads(config, case.names, weights)
    if (unfit := unusable("repeatable", first[0], config)) is not None:
        return unfit
    second = loss_and_grads(config, case.names, weights)
    if not bool(torch.isfinite(first[2]).all()):
        return CheckResult("repeatable", False, "non-finite gradient (NaN or Inf): "
                           f"{first[2].tolist()}")
    same_image = torch.equal(first[0], second[0])
    same_grad = torch.equal(first[2], second[2])
    rows = [Row("image bits differ", float(not same_image), 0.0, 0.0,
                "ok" if same_image else "FAIL"),
            Row("gradient bits differ", float(not same_grad), 0.0, 0.0,
                "ok" if same_grad else "FAIL")]
    passed = same_image and same_grad
    return CheckResult("repeatable", passed, "" if passed else "repeat runs differ", rows)
