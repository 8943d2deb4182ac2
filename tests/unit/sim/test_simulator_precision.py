"""A float32 image is right to float32 rounding, not to the ulp of h (~5e-5 before the fix)."""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args

# h reaches ~25 at the corners: a float32 h would carry ~2e-6 absolute error there.
ARGS = "-cell 100 100 100 90 90 90 -default_F 100 -N 5 -detpixels 256 -pixel 0.1"


@pytest.mark.parametrize("extra", ["", "-mosaic 1 -mosaic_domains 2 -misset 10 20 30",
                                   "-gauss_xtal -misset 5 -3 7"])
def test_float32_image_matches_float64(extra):
    config = from_nanobragg_args(f"{ARGS} {extra}")
    with torch.no_grad():
        single = simulate(config, dtype=torch.float32)
        double = simulate(config, dtype=torch.float64)
    assert single.dtype == torch.float32
    bright = double > 1e-3 * double.max()
    relative = ((single.double() - double).abs() / double)[bright]
    assert double.max() > 3 * double.median(), "the case must hold spots, not a flat image"
    assert relative.median() < 2e-6
    assert (single.double() - double).abs().max() < 5e-6 * double.max()


def test_float32_gradient_matches_float64():
    config = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100 -N 5 "
                                        "-detpixels 64")
    grads = []
    for dtype in (torch.float32, torch.float64):
        cell_a = torch.tensor(100.0, dtype=dtype, requires_grad=True)
        image = simulate(config, {"cell_a": cell_a}, dtype=dtype)
        (grad,) = torch.autograd.grad((image * image).sum(), cell_a)
        assert grad.dtype == dtype
        grads.append(float(grad))
    assert grads[1] != 0
    assert grads[0] == pytest.approx(grads[1], rel=1e-5)
