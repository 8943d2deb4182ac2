"""What a check returns, and the small helpers every check shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from braggcheck.sim.config import Config, baseline_value
from braggcheck.sim.simulator import simulate
from braggcheck.testing.gradients import has_bragg_signal
from braggcheck.testing.rows import Row

EPS = torch.finfo(torch.float64).eps


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

    def table(self) -> str:
        if not self.rows:
            return ""
        lines = [f"  {'quantity':<22} {'analytic':>23} {'numerical':>23} {'abs error':>10} "
                 f"{'rel error':>10} {'allowed':>10}  status"]
        for r in self.rows:
            lines.append(f"  {r.name:<22} {r.analytic:>23.16g} {r.numerical:>23.16g} "
                         f"{r.error:>10.3g} {r.relative_error:>10.3g} {r.tolerance:>10.3g}  "
                         f"{r.status}")
        return "\n".join(lines)

    def report(self) -> str:
        head = f"{self.check}: {'PASS' if self.passed else 'FAIL'}"
        if self.inconclusive:
            head = f"{self.check}: INCONCLUSIVE"
        parts = [head + (f" - {self.message}" if self.message else "")]
        table = self.table()
        if table:
            parts.append(table)
        return "\n".join(parts)


def bragg_signal(image: torch.Tensor, shape: str) -> bool:
    """Spots on the image: peaks well above the median; TOPHAT spots also have dark gaps."""
    if has_bragg_signal(image):
        return True
    return shape == "tophat" and float(image.max()) > 0 and float(image.min()) == 0


def unusable(check: str, image: torch.Tensor, config: Config) -> CheckResult | None:
    """Why ``image`` cannot be checked, or None when it can.

    A NaN or Inf pixel is a failure (it must never pass as "no signal" and be rejected); an
    image without Bragg spots is inconclusive.
    """
    bad = int((~torch.isfinite(image.detach())).sum())
    if bad:
        return CheckResult(check, False, f"image not finite: {bad} NaN/Inf pixel(s) of "
                           f"{image.numel()}", [Row("non-finite pixels", float(bad), 0.0, 0.0,
                                                     "FAIL")], [f"{check}: non-finite image"])
    if not bragg_signal(image, config.crystal.shape):
        return no_signal(check, config)
    return None


def no_signal(check: str, config: Config) -> CheckResult:
    return CheckResult(check, passed=False, inconclusive=True,
                       message=f"no Bragg signal on the {config.detector.spixels}x"
                               f"{config.detector.fpixels} image")


def gradient_of(value: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d value / d leaf; zeros when the graph does not reach ``leaf`` (a detached parameter
    must show up as a wrong derivative, not as an autograd error)."""
    if not value.requires_grad:
        return torch.zeros_like(leaf)
    (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad


def loss_and_grads(config: Config, names: tuple[str, ...], weights: torch.Tensor,
                    overrides: dict[str, float] | None = None,
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, weighted sum, gradient of the weighted sum wrt ``names``)."""
    overrides = overrides or {}
    values = [overrides.get(n, baseline_value(config, n)) for n in names]
    leaves = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    params = {n: leaves[i] for i, n in enumerate(names)}
    image = simulate(config, params)
    total = (weights * image).sum()
    grad = gradient_of(total, leaves)
    return image.detach(), total.detach(), grad


def image_close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> tuple[bool, float]:
    scale = float(torch.maximum(a.abs().max(), b.abs().max()))
    diff = float((a - b).abs().max())
    return diff <= rtol * scale, diff / max(scale, 1e-300)


def tolerance_row(name: str, error: float, tolerance: float) -> Row:
    return Row(name, error, 0.0, tolerance, "ok" if error <= tolerance else "FAIL")
