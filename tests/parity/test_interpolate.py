"""Tier 1 for ``-interpolate``: tricubic structure-factor interpolation equals the reference
program's images (tests/data/golden/interpolate.json, PROVENANCE.md) to <= 1e-5 of the maximum,
and the interpolated images differ from the nearest-reflection ones (so the comparison can
tell them apart)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from braggcheck import simulate
from braggcheck.cli.main import main
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.output_files import read_float_image

from ..conftest import GOLDEN

CASES = json.loads((GOLDEN / "interpolate.json").read_text())
MAX_RELATIVE_ERROR = 1e-5
MEASURED_RELATIVE_ERROR = 1e-7  # measured 4-5e-8: the float32 rounding of the reference file


def _image(args: str, monkeypatch) -> tuple[np.ndarray, np.ndarray, bool]:
    monkeypatch.chdir(GOLDEN)  # -hkl paths are relative to the golden folder
    config = parse_nanobragg_args(args).config
    return simulate(config, dtype=torch.float64).numpy(), config, config.crystal.interpolate


@pytest.mark.parametrize("name", sorted(CASES))
def test_interpolated_images_match_the_reference(name, monkeypatch):
    image, config, interpolate = _image(CASES[name]["args"], monkeypatch)
    assert interpolate == name.startswith("interp"), "the flag rule decides as the reference"
    det = config.detector
    reference = read_float_image(GOLDEN / f"{name}.bin", det.spixels, det.fpixels)
    assert reference.max() > 10 * np.median(reference), "reference must hold Bragg spots"
    error = np.abs(image - reference).max() / reference.max()
    assert error <= MAX_RELATIVE_ERROR
    assert error <= MEASURED_RELATIVE_ERROR, f"regressed from ~5e-8 to {error:.2e}"


def test_interpolation_changes_the_image_far_beyond_the_tolerance(monkeypatch):
    interpolated, config, _ = _image(CASES["interp_auto_n2"]["args"], monkeypatch)
    nearest = simulate(config.replace(interpolate=False)).numpy()
    reference = read_float_image(GOLDEN / "nointerp_n2.bin", *nearest.shape)
    assert np.abs(nearest - reference).max() <= MAX_RELATIVE_ERROR * reference.max()
    assert np.abs(interpolated - nearest).max() > 1e3 * MAX_RELATIVE_ERROR * nearest.max()


def test_the_cli_writes_the_interpolated_reference_file(tmp_path, monkeypatch):
    name = "interp_forced_triclinic"
    monkeypatch.chdir(GOLDEN)
    out = tmp_path / "out.bin"
    assert main(["simulate", *CASES[name]["args"].split(), "-floatfile", str(out)]) == 0
    reference = read_float_image(GOLDEN / f"{name}.bin", 64, 64)
    written = read_float_image(out, 64, 64)
    assert np.abs(written - reference).max() <= 1e-6 * reference.max()
