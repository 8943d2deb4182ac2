"""Pictures: the maps they draw are the right derivatives, the files are PNGs, and a missing
matplotlib is a one-line error naming the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from braggcheck import ConfigError, simulate
from braggcheck.cli.report import main as report_main
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.plots import (
    case_figure,
    directional_maps,
    fd_error_curve,
    image_derivative,
    pyplot,
    save,
)
from braggcheck.testing.nanobragg.target import GradientProbe
from braggcheck.testing.nanobragg.tier2.table import CASES

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
PNG = b"\x89PNG\r\n\x1a\n"
SMALL = from_nanobragg_args(
    "-cell 70 80 90 75 85 95 -misset 10 20 30 -default_F 100 -N 5 -detpixels 12 "
    "-pixel 0.2 -distance 80 -oversample 1")


def test_a_missing_matplotlib_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(ConfigError, match=r"^plots need matplotlib: pip install "
                                          r"'braggcheck\[plots\]'$"):
        pyplot()


def test_the_gradient_map_is_the_per_pixel_derivative():
    """Forward mode against central differences of the image, pixel by pixel."""
    analytic = image_derivative(SMALL, "distance_mm")
    step = 1e-4
    with torch.no_grad():
        plus = simulate(SMALL.replace(distance_mm=80 + step))
        minus = simulate(SMALL.replace(distance_mm=80 - step))
    numerical = (plus - minus) / (2 * step)
    assert float(analytic.abs().max()) > 0
    torch.testing.assert_close(analytic, numerical, rtol=1e-5, atol=1e-8 * float(
        numerical.abs().max()))


def test_directional_maps_agree_and_are_not_blank():
    probe = GradientProbe(SMALL, ("cell_a", "misset_rot_y"))
    image, analytic, numerical = directional_maps(probe, torch.tensor([1.0, -0.5]))
    assert image.shape == analytic.shape == numerical.shape == (12, 12)
    assert float(analytic.abs().max()) > 1e-3 * float(image.max())
    torch.testing.assert_close(analytic, numerical, rtol=1e-6,
                               atol=1e-9 * float(analytic.abs().max()))


def test_the_step_curve_is_a_v():
    """Truncation error at the largest step, rounding at the smallest, far less between."""
    case = next(c for c in CASES if c.id == "cell_a@spots")
    steps, errors = fd_error_curve(case.probe())
    best = min(errors)
    assert steps[0] > steps[-1]
    assert errors[0] > 1e3 * best and errors[-1] > 1e3 * best
    assert errors[0] > errors[len(errors) // 2] < errors[-1]


def test_the_step_curve_leaves_out_steps_past_the_valid_range():
    """A Kahn factor of 0.9 cannot step by 0.1 both ways (the range ends at 1): the curve
    skips that step instead of failing with a ConfigError."""
    case = next(c for c in CASES if c.parameters == ("polarization",))
    probe = case.probe()
    assert probe.config.beam.polarization == pytest.approx(0.9)
    steps, errors = fd_error_curve(probe)
    assert 1e-1 not in steps and max(steps) < 0.05 and len(steps) == len(errors) >= 6


def test_a_case_figure_is_a_png_with_four_panels(tmp_path: Path):
    figure = case_figure(Case(config=SMALL, names=("cell_a", "lambda_A")))
    images = [a for a in figure.axes if a.images]
    assert len(images) == 4
    save(figure, tmp_path / "case.png")
    assert (tmp_path / "case.png").read_bytes().startswith(PNG)


def test_the_report_writes_and_embeds_its_pictures(tmp_path: Path):
    out = tmp_path / "gradients"
    out.mkdir()
    assert report_main(["--out", str(out), "--date", "2026-01-02", "--cases",
                        "fluence@direct"]) == 0
    pictures = sorted(p.name for p in out.glob("*.png"))
    assert pictures == [f"2026-01-02-tier2-{n}.png" for n in
                        ("fd-errors", "gradient-maps", "setups", "taylor")]
    text = (out / "2026-01-02-tier2.md").read_text()
    for name in pictures:
        assert (out / name).read_bytes().startswith(PNG)
        assert f"![{name}]({name})" in text
