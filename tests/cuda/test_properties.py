"""A short property run on CUDA: the framework's gradient and forward-vs-reverse checks
(braggcheck.testing.framework.harness.property_tests) on configurations Hypothesis draws, with
the nanoBragg target rendering on CUDA. A failure is written (for ``braggcheck replay`` on
CPU) under $OUT, or the temporary folder, in braggcheck_cuda_failures/."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

from braggcheck import Config, simulate
from braggcheck.testing.framework.harness import property_tests
from braggcheck.testing.nanobragg.target import NanoBraggTarget

from .conftest import DEVICE

pytestmark = pytest.mark.cuda

EXAMPLES = 6
"""A few drawn cases per check: a smoke run of the property suite on the device (the
CPU suite draws the many), within the 5-minute budget of run_cuda_checks.sh."""


class CudaNanoBraggTarget(NanoBraggTarget):
    """braggcheck.simulate on CUDA, its image handed back on CPU (where the checks compute)."""

    name = "nanobragg_cuda"

    def render(self, config: Config, params: dict[str, torch.Tensor]) -> torch.Tensor:
        on_device = {name: value.to(DEVICE) for name, value in params.items()}
        return simulate(config, on_device, dtype=torch.float64, device=DEVICE).cpu()


FAILURES = Path(os.environ.get("OUT") or tempfile.gettempdir()) / "braggcheck_cuda_failures"
_TESTS = property_tests(CudaNanoBraggTarget(), checks=["gradient", "forward_reverse"],
                        failures_dir=FAILURES)
_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])

test_nanobragg_cuda_gradient = _SETTINGS(_TESTS["test_nanobragg_cuda_gradient"])
test_nanobragg_cuda_forward_reverse = _SETTINGS(_TESTS["test_nanobragg_cuda_forward_reverse"])
