"""Tier 1: the worked examples of the physics brief (section 10), printed by the reference binary.

Pixel values are given there to 7 significant digits, so they are compared at 1e-6 relative (the
printed rounding is at most 5e-7); sums are printed with a fixed number of decimals and are
compared to half a unit of their last digit. Indices are [slow, fast].
"""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args

COMMON = "-default_F 100 -lambda 1 -distance 100 -detpixels 64 -N 5"
CUBIC = "-cell 100 100 100 90 90 90"
PIXEL_RTOL = 1e-6

# (extra flags, {(slow, fast): value}, (sum, decimals), (maximum, (slow, fast)))
EXAMPLES = {
    "10.1 mosflm": (
        CUBIC,
        {(0, 0): 0.06607336, (0, 63): 1.813820, (63, 0): 1.813820, (10, 20): 0.1853746,
         (20, 40): 0.2056472, (31, 31): 2.531964, (32, 32): 97.28042, (32, 33): 97.28052,
         (33, 33): 97.28061, (34, 34): 2.531979, (40, 10): 0.1931620, (45, 5): 0.1780896,
         (63, 63): 48.48794},
        (25194.0, 1), (97.28061, (33, 33)),
    ),
    "10.2 xds": (
        CUBIC + " -xds",
        {(0, 0): 1.343992, (0, 63): 1.344077, (10, 20): 2.440374, (20, 40): 2.512715,
         (31, 31): 97.28042, (32, 32): 97.28061, (32, 33): 15.69431, (33, 33): 2.531979,
         (40, 10): 2.419311, (45, 5): 0.09499683, (63, 63): 1.344161},
        (25492.5, 1), (97.28061, (32, 32)),
    ),
    "10.3 xds orgxy twotheta": (
        CUBIC + " -xds -ORGX 20 -ORGY 40 -twotheta 10",
        {(0, 0): 0.1143247, (40, 20): 0.1232955, (10, 50): 0.3688846, (20, 40): 0.5233061,
         (63, 63): 0.01514272},
        (4440.15, 2), (129.9658, (12, 19)),
    ),
    "10.4 triclinic misset": (
        "-cell 70 80 90 75 85 95 -misset 10 20 30",
        {(0, 0): 4.542057e-05, (16, 48): 0.03232360},
        (5698.575, 3), (130.2191, (42, 21)),
    ),
    "10.4 mosaic": (
        CUBIC + " -misset 10 20 30 -mosaic 1 -mosaic_dom 5",
        {(0, 0): 0.01638036, (16, 48): 0.002099377},
        (6454.011, 3), (116.0861, (19, 21)),
    ),
    "10.4 polar phi": (
        CUBIC + " -misset 10 20 30 -polar 0.9 -phi 5 -osc 2 -phisteps 4",
        {(0, 0): 0.01942173, (16, 48): 0.001833793},
        (5373.802, 3), (120.0685, (37, 54)),
    ),
}


@pytest.fixture(scope="module", params=list(EXAMPLES))
def example(request):
    extra, pixels, total, peak = EXAMPLES[request.param]
    config = from_nanobragg_args(f"{COMMON} {extra}")
    # The reference stores float32; its sums and maxima are of those stored values.
    image = simulate(config, dtype=torch.float64).to(torch.float32).to(torch.float64)
    return image, pixels, total, peak


def test_pixel_values(example):
    image, pixels, _, _ = example
    for (slow, fast), expected in pixels.items():
        value = float(image[slow, fast])
        assert value == pytest.approx(expected, rel=PIXEL_RTOL), (slow, fast)


def test_image_sum(example):
    image, _, (expected, decimals), _ = example
    assert abs(float(image.sum()) - expected) <= 0.5 * 10.0**-decimals


def test_image_maximum_and_where(example):
    image, _, _, (expected, (slow, fast)) = example
    index = int(torch.argmax(image))
    assert divmod(index, image.shape[1]) == (slow, fast)
    assert float(image.max()) == pytest.approx(expected, rel=PIXEL_RTOL)
