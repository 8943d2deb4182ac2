"""Helpers every check shares, for any target: unusable outputs, gradients of a projection,
image comparison and the verdict over a table of rows."""

from __future__ import annotations

import math
from typing import Any

import torch

from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.target import Target
from braggcheck.testing.framework.verdict import inflation


def unusable(target: Target, check: str, image: torch.Tensor, config: Any
             ) -> CheckResult | None:
    """Why ``image`` cannot be checked, or None when it can.

    A NaN or Inf element is a failure (it must never pass as "no signal" and be rejected); an
    output without signal (the target's non-vacuity test) is inconclusive.
    """
    bad = int((~torch.isfinite(image.detach())).sum())
    if bad:
        return CheckResult(check, False, f"image not finite: {bad} NaN/Inf pixel(s) of "
                           f"{image.numel()}", [Row("non-finite pixels", float(bad), 0.0, 0.0,
                                                     "FAIL")], [f"{check}: non-finite image"])
    missing = target.missing_signal(config, image)
    if missing is not None:
        return CheckResult(check, passed=False, inconclusive=True, message=missing)
    return None


def gradient_of(value: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d value / d leaf; zeros when the graph does not reach ``leaf`` (a detached parameter
    must show up as a wrong derivative, not as an autograd error)."""
    if not value.requires_grad:
        return torch.zeros_like(leaf)
    (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad


def loss_and_grads(target: Target, config: Any, names: tuple[str, ...], weights: torch.Tensor,
                   overrides: dict[str, float] | None = None,
                   held: dict[str, float] | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, weighted sum, gradient of the weighted sum wrt ``names``); ``held`` sets other
    parameters as plain tensors, not differentiated (the path of ``names`` alone)."""
    overrides = overrides or {}
    values = [overrides.get(n, target.value(config, n)) for n in names]
    leaves = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    params = {n: torch.tensor(v, dtype=torch.float64) for n, v in (held or {}).items()}
    params.update({n: leaves[i] for i, n in enumerate(names)})
    image = target.render(config, params)
    total = (weights * image).sum()
    grad = gradient_of(total, leaves)
    return image.detach(), total.detach(), grad


def image_close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> tuple[bool, float]:
    scale = float(torch.maximum(a.abs().max(), b.abs().max()))
    diff = float((a - b).abs().max())
    return diff <= rtol * scale, diff / max(scale, 1e-300)


def tolerance_row(name: str, error: float, tolerance: float) -> Row:
    return Row(name, error, 0.0, tolerance, "ok" if error <= tolerance else "FAIL")


def derivative_verdict(check: str, rows: list[Row], events: list[str]) -> CheckResult:
    """Pass when every resolved derivative agrees; fail on a mismatch or a NaN/Inf;
    inconclusive when nothing was resolved above the finite-difference noise, or when a row
    agreed only at a tolerance the noise inflated past the ceiling (listed by name: a row the
    check could not hold to the ceiling is never part of a pass)."""
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
    if any(r.status == "inconclusive" for r in rows):
        return CheckResult(check, False, inflation(rows), rows, events, inconclusive=True,
                           worst=worst)
    if not resolved:
        return CheckResult(check, False, "no derivative resolved above the finite-difference "
                           "noise", rows, events, inconclusive=True)
    return CheckResult(check, True, f"{len(resolved)} resolved derivative(s) agree", rows,
                       events, worst=worst)
