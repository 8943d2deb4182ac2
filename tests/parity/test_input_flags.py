"""Tier 1 for the file-input and cut-off flags: -mat, -sourcefile, -mask, -img, -dmin.

Reference images made by the C program (tests/data/golden/PROVENANCE.md, "Input files");
tolerance 1e-5 x image maximum, as for every golden image (what is reached: ~4e-8, the
rounding of the reference's float32 file).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from braggcheck import simulate
from braggcheck.cli.main import main
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.input_files import read_smv
from braggcheck.nanobragg.output_files import read_float_image

from ..conftest import GOLDEN

CASES = json.loads((GOLDEN / "inputs.json").read_text())
MAX_RELATIVE_ERROR = 1e-5
MEASURED_RELATIVE_ERROR = 1e-7


def _reference(name: str, config) -> np.ndarray:
    det = config.detector
    return read_float_image(GOLDEN / f"inputs_{name}.bin", det.spixels, det.fpixels)


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_flags_match_reference(name, monkeypatch):
    monkeypatch.chdir(GOLDEN)  # file paths in inputs.json are relative to the golden folder
    config = parse_nanobragg_args(CASES[name]["args"]).config
    image = simulate(config, dtype=torch.float64).numpy()
    reference = _reference(name, config)
    error = np.abs(image - reference).max() / reference.max()
    assert reference.max() > 10 * np.median(reference), "reference must hold Bragg spots"
    assert error <= MAX_RELATIVE_ERROR
    assert error <= MEASURED_RELATIVE_ERROR, f"regressed from ~4e-8 to {error:.2e}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_matches_reference_too(name, monkeypatch):
    monkeypatch.chdir(GOLDEN)
    config = parse_nanobragg_args(CASES[name]["args"]).config
    image = simulate(config, dtype=torch.float32)
    assert image.dtype == torch.float32
    reference = _reference(name, config)
    assert np.abs(image.numpy() - reference).max() <= MAX_RELATIVE_ERROR * reference.max()


def test_masked_pixels_are_exactly_zero_where_the_reference_skips_them(monkeypatch):
    monkeypatch.chdir(GOLDEN)
    config = parse_nanobragg_args(CASES["mask_header"]["args"]).config
    _, pixels = read_smv("-mask", "inputs_mask.img")
    image = simulate(config).numpy()
    reference = _reference("mask_header", config)
    assert (pixels == 0).any() and (pixels != 0).any()
    assert (image[pixels == 0] == 0).all() and (reference[pixels == 0] == 0).all()
    assert (image[pixels != 0] > 0).all()


def test_dmin_cuts_what_the_reference_cuts(monkeypatch):
    monkeypatch.chdir(GOLDEN)
    config = parse_nanobragg_args(CASES["dmin_sources"]["args"]).config
    image = simulate(config).numpy()
    reference = _reference("dmin_sources", config)
    blank = reference == 0
    assert 0.05 < blank.mean() < 0.95, "the case must cut part of the detector"
    assert ((image == 0) == blank).all()


def test_pixels_the_cut_empties_keep_their_water_under_nopolar(monkeypatch):
    """Where no sample is within -dmin the reference never sets the polarization: its initial
    0 blanks the pixel, but under -nopolar it starts at 1 and the water background stays."""
    monkeypatch.chdir(GOLDEN)
    config = parse_nanobragg_args(CASES["dmin_nopolar_water"]["args"]).config
    reference = _reference("dmin_nopolar_water", config)
    polarized = simulate(config.replace(nopolar=False)).numpy()
    emptied = polarized == 0  # the same cut with the polarization on: those pixels are 0
    assert 0.05 < emptied.mean() < 0.95, "the case must cut part of the detector"
    assert (reference[emptied] > 0).all()
    image = simulate(config, dtype=torch.float64).numpy()
    assert np.abs(image - reference)[emptied].max() <= 1e-6 * reference[emptied].max()


def test_cli_reads_the_input_files(tmp_path, monkeypatch):
    monkeypatch.chdir(GOLDEN)
    out = tmp_path / "out.bin"
    for name in ("mat_only", "mask_header"):
        assert main(["simulate", *CASES[name]["args"].split(), "-floatfile", str(out)]) == 0
        config = parse_nanobragg_args(CASES[name]["args"]).config
        written = read_float_image(out, config.detector.spixels, config.detector.fpixels)
        reference = _reference(name, config)
        assert np.abs(written - reference).max() <= 1e-6 * reference.max()


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(CASES))
def test_exported_flags_reproduce_the_reference(name, monkeypatch):
    """to_nanobragg_args writes the matrix, sources and mask to files the program reads."""
    import os

    from braggcheck.nanobragg.export import to_nanobragg_args
    from braggcheck.nanobragg.reference import run_reference

    monkeypatch.chdir(GOLDEN)
    config = parse_nanobragg_args(CASES[name]["args"]).config
    flags = to_nanobragg_args(config)  # files in the default input folder (no '-' in it)
    det = config.detector
    reference = run_reference(os.environ["NANOBRAGG_REFERENCE"], flags, det.fpixels,
                              det.spixels)
    assert np.abs(reference - _reference(name, config)).max() <= 1e-6 * reference.max()
