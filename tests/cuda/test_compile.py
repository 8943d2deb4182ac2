"""torch.compile is on by default on CUDA (braggcheck.sim.compilation): what a CUDA user gets
without asking must equal the eager reference path, image and gradients."""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.compilation import DISABLE_VARIABLES, ENABLE_VARIABLE, compile_wanted
from braggcheck.sim.state import build_state

from .conftest import DEVICE

pytestmark = pytest.mark.cuda

ARGS = ("-cell 70 80 90 80 95 100 -misset 10 20 30 -default_F 100 -N 4 -lambda 1.2 "
        "-distance 80 -pixel 0.2 -detpixels 64 -oversample 2 -mosaic 1 -mosaic_domains 2")
NAMES = ("cell_a", "misset_rot_x", "distance_mm", "lambda_A", "detector_rotx_deg")


def _image_and_gradients() -> tuple[torch.Tensor, list[torch.Tensor]]:
    config = from_nanobragg_args(ARGS)
    state = build_state(config, None, torch.float64, DEVICE)
    params = {name: state[name].detach().clone().requires_grad_(True) for name in NAMES}
    image = simulate(config, params, device=DEVICE)
    grads = torch.autograd.grad(image.sum(), list(params.values()))
    return image.detach(), list(grads)


def test_compiled_by_default_on_cuda_equals_eager(monkeypatch):
    assert not compile_wanted(DEVICE)  # the eager reference (conftest turns compile off)
    eager_image, eager_grads = _image_and_gradients()
    for name in (*DISABLE_VARIABLES, ENABLE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    assert compile_wanted(DEVICE), "compile is the CUDA default"
    image, grads = _image_and_gradients()
    # Compiled kernels fuse and reorder float64 operations: rounding-level differences only.
    torch.testing.assert_close(image, eager_image, rtol=1e-10,
                               atol=1e-10 * float(eager_image.max()))
    for name, got, want in zip(NAMES, grads, eager_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=0.0, msg=name)
