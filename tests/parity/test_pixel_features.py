"""Tier 1 for the per-pixel features: -water, -curved_det, -oversample_thick/_polar/_omega and
the -printout trace, against the reference C program's output (``pixel_*.bin``, made with the
command lines in ``tests/data/golden/PROVENANCE.md``).

Tolerance: max |difference| <= 1e-5 x image maximum (issue #16); measured ~3e-8 to 5e-8, the
rounding of the reference's float32 file.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np
import pytest
import torch

from braggcheck import simulate
from braggcheck.cli.main import main
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.output_files import read_float_image
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import fused_path
from braggcheck.sim.state import build_state

from ..conftest import GOLDEN

CASES = json.loads((GOLDEN / "pixel_features.json").read_text())
TRACES = json.loads((GOLDEN / "pixel_traces.json").read_text())
MAX_RELATIVE_ERROR = 1e-5
MEASURED_RELATIVE_ERROR = 1e-7  # float32 rounding of the reference file


def _reference(name: str, shape: tuple[int, int]) -> np.ndarray:
    return read_float_image(GOLDEN / f"pixel_{name}.bin", *shape)


@pytest.mark.parametrize("name", list(CASES))
def test_api_matches_the_reference(name):
    config = parse_nanobragg_args(CASES[name]["args"]).config
    image = simulate(config, dtype=torch.float64).numpy()
    reference = _reference(name, image.shape)
    assert reference.max() > 10 * np.median(reference), "reference must hold Bragg spots"
    error = np.abs(image - reference).max() / reference.max()
    assert error <= MAX_RELATIVE_ERROR
    assert error <= MEASURED_RELATIVE_ERROR, f"regressed from ~4e-8 to {error:.2e}"


def test_the_cases_differ_from_the_plain_image():
    """Each feature changes the image well beyond the tolerance (else the case tests nothing)."""
    for name, case in CASES.items():
        args = case["args"]
        plain = args
        for flag in ("-curved_det", "-oversample_thick", "-oversample_polar",
                     "-oversample_omega"):
            plain = plain.replace(f" {flag}", "")
        words = plain.split()
        if "-water" in words:
            at = words.index("-water")
            del words[at:at + 2]
        reference = _reference(name, (64, 64))
        without = simulate(parse_nanobragg_args(words).config).numpy()
        assert np.abs(without - reference).max() > 1e-3 * reference.max(), name


@pytest.mark.parametrize("name", ["water", "oversample_polar"])
def test_cli_writes_the_reference_file(name, tmp_path):
    out = tmp_path / "out.bin"
    assert main(["simulate", *CASES[name]["args"].split(), "-floatfile", str(out)]) == 0
    written = read_float_image(out, 64, 64)
    reference = _reference(name, (64, 64))
    assert np.abs(written - reference).max() <= 1e-6 * reference.max()


@pytest.mark.parametrize("name", list(TRACES))
def test_printout_matches_the_reference_trace(name, tmp_path, capsys):
    args = TRACES[name]["args"].split()
    assert main(["simulate", *args, "-floatfile", str(tmp_path / "out.bin")]) == 0
    printed = capsys.readouterr().out
    assert printed == (GOLDEN / f"pixel_{name}.txt").read_text()


def test_features_fall_back_to_the_plain_path_and_water_alone_keeps_the_fused_one():
    """Which kernel runs: the curved detector and the per-subpixel factors need every sample's
    term (plain autograd); the water background alone adds one number per pixel to the fused
    kernels' sum."""
    expected = {"water": True, "curved_det": False, "oversample_thick": False,
                "oversample_polar": False, "oversample_omega": False}
    for name, fused in expected.items():
        config = parse_nanobragg_args(CASES[name]["args"]).config
        scene = build_scene(config, build_state(config, None, torch.float64,
                                                torch.device("cpu")))
        assert fused_path(scene) is fused, name


def test_oversample_thick_on_a_thin_detector_is_a_black_image_as_in_the_reference():
    """exp(0) - exp(0) = 0 multiplies every sample (docs/geometry.md)."""
    config = parse_nanobragg_args(CASES["oversample_polar"]["args"] + " -oversample_thick").config
    assert float(simulate(config).abs().max()) == 0.0


@pytest.mark.reference
def test_the_reference_program_itself_agrees_on_a_fresh_feature_image():
    """With $NANOBRAGG_REFERENCE: a case not in the golden set, rendered by both now."""
    args = ("-cell 90 90 90 90 90 90 -default_F 100 -lambda 1 -distance 90 -detpixels 48 -N 6 "
            "-misset 3 4 5 -water 0.03 -curved_det -oversample_polar -oversample_omega "
            "-polar 0.7 -oversample 2 -Xbeam 2 -Ybeam 2.5")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([os.environ["NANOBRAGG_REFERENCE"], *args.split(), "-floatfile",
                        "out.bin", "-nopgm", "-nonoise", "-noprogress"], cwd=folder,
                       check=True, capture_output=True)
        reference = read_float_image(os.path.join(folder, "out.bin"), 48, 48)
    image = simulate(parse_nanobragg_args(args).config).numpy()
    assert np.abs(image - reference).max() <= MAX_RELATIVE_ERROR * reference.max()
