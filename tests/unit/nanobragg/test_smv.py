"""SMV output (-intfile, -noisefile) and PGM previews: header keys and values of brief 8/10.1/10.3,
scaling and rounding, ROI handling, the Poisson stream, and a round trip through fabio."""

from __future__ import annotations

import os
import re
import subprocess

import fabio
import numpy as np
import pytest
import torch

from braggcheck import simulate
from braggcheck.cli.main import main
from braggcheck.nanobragg.args import Outputs, parse_nanobragg_args
from braggcheck.nanobragg.reference import run_reference
from braggcheck.nanobragg.smv import (
    PoissonDeviates,
    header_fields,
    int_image,
    noise_image,
    resolved_scale,
    roi_mask,
    write_requested_smv,
)

from ...conftest import GOLDEN

REFERENCE_INTFILE_ARGS = ("-cell 70 80 90 90 90 90 -default_F 100 -N 5 -distance 80 -detpixels 64 "
                          "-pixel 0.3 -Xbeam 8 -Ybeam 11 -lambda 1.1 -twotheta 5 -phi 3 -osc 0.5")
"""The command line of the reference's own -intfile inputs_header.img (golden PROVENANCE.md):
no -adc, so its pixels carry the default offset."""
COMMON = ("-cell 100 100 100 90 90 90 -default_F 100 -lambda 1 -distance 100 -detpixels 64 "
          "-N 5")
KEYS = ["HEADER_BYTES", "DIM", "BYTE_ORDER", "TYPE", "SIZE1", "SIZE2", "PIXEL_SIZE", "DISTANCE",
        "WAVELENGTH", "BEAM_CENTER_X", "BEAM_CENTER_Y", "ADXV_CENTER_X", "ADXV_CENTER_Y",
        "MOSFLM_CENTER_X", "MOSFLM_CENTER_Y", "DENZO_X_BEAM", "DENZO_Y_BEAM", "DIALS_ORIGIN",
        "XDS_ORGX", "XDS_ORGY", "CLOSE_DISTANCE", "PHI", "OSC_START", "OSC_RANGE", "TWOTHETA",
        "DETECTOR_SN", "BEAMLINE"]


def header_of(args: str) -> dict[str, str]:
    parsed = parse_nanobragg_args(f"{COMMON} {args}")
    fields = header_fields(parsed.config, parsed.header)
    assert [key for key, _ in fields] == KEYS
    return dict(fields)


def test_mosflm_header_matches_the_reference():
    header = header_of("")
    expected = {"BEAM_CENTER_X": "3.25", "BEAM_CENTER_Y": "3.25", "ADXV_CENTER_X": "3.3",
                "ADXV_CENTER_Y": "3.1", "MOSFLM_CENTER_X": "3.25", "MOSFLM_CENTER_Y": "3.25",
                "DENZO_X_BEAM": "3.3", "DENZO_Y_BEAM": "3.3", "XDS_ORGX": "33.5",
                "XDS_ORGY": "33.5", "CLOSE_DISTANCE": "100", "DISTANCE": "100",
                "DIALS_ORIGIN": "-3.3,3.3,-100", "SIZE1": "64", "SIZE2": "64",
                "PIXEL_SIZE": "0.1", "WAVELENGTH": "1", "BYTE_ORDER": "little_endian"}
    assert {key: header[key] for key in expected} == expected


def test_xds_twotheta_header_matches_the_reference():
    header = header_of("-xds -ORGX 20 -ORGY 40 -twotheta 10")
    assert header["XDS_ORGX"] == "20" and header["XDS_ORGY"] == "40"
    assert header["CLOSE_DISTANCE"] == "100" and header["TWOTHETA"] == "10"
    assert header["DIALS_ORIGIN"] == "97.7949,-21.2548,1.95"


@pytest.mark.parametrize(("args", "osc"), [("", "0"), ("-osc 3", "3"), ("-phistep 0.5", "0.5"),
                                           ("-phisteps 4", "1"), ("-phi 5 -osc 2 -phisteps 4",
                                                                  "2")])
def test_phi_header(args, osc):
    header = header_of(args)
    assert header["OSC_RANGE"] == osc
    assert header["PHI"] == header["OSC_START"]


def test_automatic_scale_of_the_worked_example():
    parsed = parse_nanobragg_args(COMMON)
    image = simulate(parsed.config).numpy().astype(np.float32)
    scale = resolved_scale(image, None)
    assert scale == pytest.approx(565.375, rel=1e-6)  # brief 10.1: intfile_scale = 565.375
    counts = int_image(image, scale, 40.0, roi_mask(parsed.config))
    assert counts.max() == 55040 and counts[33, 33] == 55040


def test_scaling_rounding_and_clipping():
    image = np.array([[0.0, 1.2, 1.26], [-5.0, 1000.0, 0.5]], dtype=np.float32)
    inside = np.ones(image.shape, dtype=bool)
    counts = int_image(image, 10.0, 40.0, inside)
    assert counts.tolist() == [[40, 52, 53], [0, 10040, 45]]
    assert int_image(image, 100.0, 0.0, inside)[1, 1] == 65535
    assert resolved_scale(image, 2.5) == 2.5
    assert resolved_scale(image, 0.0) == 55.0  # <= 0 means automatic, 55000 / max
    assert resolved_scale(np.zeros((2, 2), np.float32), None) == 1.0


def test_poisson_stream_from_the_ran1_check_values():
    # ran1 from seed -12345678 starts 0.765989, 0.023454, 0.589727, 0.535102 (brief 2.6).
    # Mean 1: exp(-1) = 0.3679; 0.766 > it (one event), 0.766 * 0.0235 < it: 1 count; the next
    # pixel likewise (0.590, then 0.590 * 0.535 = 0.316): 1 count.
    image = np.ones((1, 2), dtype=np.float32)
    counts, overloads = noise_image(image, 12345678, 40.0, np.ones((1, 2), dtype=bool))
    assert counts.tolist() == [[41, 41]] and overloads == 0


def test_pixels_outside_the_roi_take_no_draw_and_stay_zero():
    image = np.ones((1, 3), dtype=np.float32)
    inside = np.array([[False, True, True]])
    counts, _ = noise_image(image, 12345678, 40.0, inside)
    assert counts.tolist() == [[0, 41, 41]]


def test_zero_mean_gives_the_adc_offset():
    counts, _ = noise_image(np.zeros((4, 4), np.float32), 7, 10.0, np.ones((4, 4), bool))
    assert (counts == 10).all()


@pytest.mark.parametrize(("mean", "samples"), [(3.0, 3000), (50.0, 3000), (2.0e6, 1000)])
def test_poisson_moments_in_each_branch(mean, samples):
    # below 12: product of uniforms; 12..1e6: rejection; above 1e6: Gaussian approximation
    draw = PoissonDeviates(-1234)
    values = np.array([draw(mean) for _ in range(samples)])
    assert (values == np.floor(values)).all() or mean > 1e6
    assert abs(values.mean() - mean) < 5 * np.sqrt(mean / samples)
    assert values.var() == pytest.approx(mean, rel=0.15)


def test_noise_is_deterministic_for_a_seed():
    image = np.full((8, 8), 20.0, dtype=np.float32)
    inside = np.ones(image.shape, dtype=bool)
    first, _ = noise_image(image, 99, 40.0, inside)
    again, _ = noise_image(image, 99, 40.0, inside)
    other, _ = noise_image(image, 100, 40.0, inside)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_overloads_are_clipped_and_counted():
    counts, overloads = noise_image(np.full((1, 2), 1e5, np.float32), 3, 40.0,
                                    np.ones((1, 2), bool))
    assert counts.tolist() == [[65535, 65535]] and overloads == 2


def test_smv_files_read_back_with_fabio(tmp_path):
    intfile, noisefile = tmp_path / "int.img", tmp_path / "noise.img"
    parsed = parse_nanobragg_args(f"{COMMON} -roi 5 40 10 50 -adc 10 -intfile {intfile} "
                                  f"-noisefile {noisefile} -seed 42")
    image = simulate(parsed.config, dtype=torch.float64)
    write_requested_smv(parsed, image)
    floats = image.numpy().astype(np.float32)
    inside = roi_mask(parsed.config)
    for path in (intfile, noisefile):
        assert path.stat().st_size == 512 + 2 * 64 * 64
        frame = fabio.open(str(path))
        assert frame.data.shape == (64, 64) and frame.data.dtype == np.uint16
        assert frame.header["XDS_ORGX"] == "33.5" and frame.header["DISTANCE"] == "100"
        assert frame.header["BEAM_CENTER_X"] == "3.25"
        assert (frame.data[~inside] == 0).all()
    expected = int_image(floats, resolved_scale(floats, None), 10.0, inside)
    assert np.array_equal(fabio.open(str(intfile)).data, expected)
    noise = fabio.open(str(noisefile)).data.astype(np.int64)
    assert np.array_equal(noise, noise_image(floats, 42, 10.0, inside)[0])
    assert noise[inside].min() >= 10


def test_cli_writes_requested_files_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = main(["simulate", *COMMON.split(), "-detpixels", "16", "-intfile", "a.img",
                   "-noisefile", "n.img", "-nonoise", "-pgmfile", "p.pgm", "-seed", "1"])
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.img", "p.pgm"]
    pgm = (tmp_path / "p.pgm").read_bytes()
    assert pgm.startswith(b"P5\n16 16\n# pixels scaled by ")
    assert len(pgm.split(b"\n255\n", 1)[1]) == 16 * 16


def test_the_intfile_is_byte_for_byte_the_reference_s_own(tmp_path):
    """Header and counts of the reference's -intfile, default -adc included (its background
    pixels are 40: the float image there is ~1e-3 photons). The float images agree to ~4e-8 x
    max, 0.002 counts at the 55000 top: only a pixel within that of a half count could round
    the other way, and none of the 4096 does."""
    out = tmp_path / "int.img"
    assert main(["simulate", *REFERENCE_INTFILE_ARGS.split(), "-intfile", str(out),
                 "-nonoise", "-nopgm"]) == 0
    written, reference = out.read_bytes(), (GOLDEN / "inputs_header.img").read_bytes()
    assert written[:512] == reference[:512]
    counts = np.frombuffer(written, "<u2", offset=512)
    expected = np.frombuffer(reference, "<u2", offset=512)
    assert expected.min() == 40, "the reference's background carries the default offset"
    assert np.array_equal(counts, expected)


def test_the_adc_offset_defaults_to_the_documented_40():
    """docs/geometry.md and the reference's usage text: -adc defaults to 40."""
    assert parse_nanobragg_args(COMMON).outputs.adc == Outputs().adc == 40.0
    assert parse_nanobragg_args(f"{COMMON} -adc 0").outputs.adc == 0.0


@pytest.mark.reference
@pytest.mark.parametrize("adc", ["", "-adc 7"], ids=["default", "adc7"])
def test_the_intfile_matches_the_reference_program(adc, tmp_path, monkeypatch):
    """The program's own -intfile, with and without -adc, byte for byte (as above)."""
    program = os.environ["NANOBRAGG_REFERENCE"]
    args = f"{COMMON} -misset 10 20 30 -roi 5 40 10 50 {adc}".split()
    reference = tmp_path / "reference.img"
    run_reference(program, [*args, "-intfile", str(reference)], 64, 64)
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", *args, "-intfile", "ours.img", "-nonoise", "-nopgm"]) == 0
    written, expected = (tmp_path / "ours.img").read_bytes(), reference.read_bytes()
    assert written[:512] == expected[:512]
    assert np.array_equal(np.frombuffer(written, "<u2", offset=512),
                          np.frombuffer(expected, "<u2", offset=512))


@pytest.mark.reference
def test_the_adc_default_is_the_one_the_reference_documents():
    usage = subprocess.run([os.environ["NANOBRAGG_REFERENCE"], "-h"], capture_output=True,
                           text=True, check=False, stdin=subprocess.DEVNULL).stdout
    documented = re.search(r"-adc\s.*\(default: ([0-9.]+)\)", usage)
    assert documented, "the reference's usage text no longer names the -adc default"
    assert parse_nanobragg_args(COMMON).outputs.adc == float(documented.group(1))
