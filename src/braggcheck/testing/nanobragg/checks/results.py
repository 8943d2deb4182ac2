"""What a check returns, and the small helpers every nanoBragg check shares (the target-generic
ones of :mod:`braggcheck.testing.framework.check_support`, bound to the nanoBragg target)."""

from __future__ import annotations

import torch

from braggcheck.sim.config import Config
from braggcheck.testing.framework import check_support
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.nanobragg.target import NANOBRAGG


def unusable(check: str, image: torch.Tensor, config: Config) -> CheckResult | None:
    """Why ``image`` cannot be checked, or None when it can.

    A NaN or Inf pixel is a failure (it must never pass as "no signal" and be rejected); an
    image without Bragg spots is inconclusive.
    """
    return check_support.unusable(NANOBRAGG, check, image, config)


def no_signal(check: str, config: Config) -> CheckResult:
    return CheckResult(check, passed=False, inconclusive=True,
                       message=f"no Bragg signal on the {config.detector.spixels}x"
                               f"{config.detector.fpixels} image")


def loss_and_grads(config: Config, names: tuple[str, ...], weights: torch.Tensor,
                   overrides: dict[str, float] | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, weighted sum, gradient of the weighted sum wrt ``names``)."""
    return check_support.loss_and_grads(NANOBRAGG, config, names, weights, overrides)
