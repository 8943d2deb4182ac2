"""Flags of the per-pixel features and the reference's no-op flags: parsing, validation (one-line
ConfigError naming the flag, CLI exit 2, nothing written), export back to flags."""

from __future__ import annotations

import pytest
import torch

from braggcheck import Config, simulate
from braggcheck.cli.main import main
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.export import to_nanobragg_args
from braggcheck.nanobragg.flags import UNSUPPORTED
from braggcheck.sim.sections import CrystalConfig, DetectorConfig
from braggcheck.util.errors import ConfigError

BASE = ("-cell 100 100 100 90 90 90 -default_F 100 -N 5 -lambda 1 -distance 100 "
        "-detpixels 8 -oversample 1")
FEATURES = ("-curved_det", "-oversample_thick", "-oversample_polar", "-oversample_omega",
            "-water", "-printout", "-printout_pixel", "-stol", "-stolout")


def test_the_flags_are_no_longer_unsupported():
    assert not set(FEATURES) & set(UNSUPPORTED)


def test_flags_set_the_configuration_fields():
    parsed = parse_nanobragg_args(f"{BASE} -water 0.25 -curved_det -oversample_thick "
                                  "-oversample_polar -oversample_omega -detector_thick 50")
    det = parsed.config.detector
    assert parsed.config.crystal.water_size_um == 0.25
    assert (det.curved_detector, det.oversample_thick, det.oversample_polar,
            det.oversample_omega) == (True, True, True, True)
    plain = parse_nanobragg_args(BASE).config
    assert plain.crystal.water_size_um == 0.0 and not plain.detector.curved_detector
    assert not parse_nanobragg_args(BASE).outputs.printout


@pytest.mark.parametrize(("extra", "expected"), [
    ("-printout", (True, None)),
    ("-printout_pixel 3 5", (True, (3, 5))),
    ("-printout_pixel -1 0", (True, None)),  # a negative fast index: every pixel
])
def test_printout_requests(extra, expected):
    outputs = parse_nanobragg_args(f"{BASE} {extra}").outputs
    assert (outputs.printout, outputs.printout_pixel) == expected


@pytest.mark.parametrize("extra", [
    "-water 0.01", "-curved_det", "-oversample_polar -polar 0.5", "-oversample_omega",
    "-oversample_thick -detector_thick 30", "-water 0.02 -curved_det -oversample_polar"])
def test_export_round_trips_and_never_ends_with_curved_det(extra):
    config = parse_nanobragg_args(f"{BASE} {extra}").config
    words = to_nanobragg_args(config)
    assert words[-1] != "-curved_det"
    assert parse_nanobragg_args(words).config.detector == config.detector
    assert parse_nanobragg_args(words).config.crystal == config.crystal


def test_export_writes_a_tensor_water_thickness():
    config = Config(crystal=CrystalConfig(water_size_um=torch.tensor(0.125)),
                    detector=DetectorConfig(fpixels=8, spixels=8, oversample=1))
    assert "-water" in to_nanobragg_args(config)


@pytest.mark.parametrize(("extra", "names"), [
    ("-water -1", "-water"),
    ("-water abc", "-water"),
    ("-water", "-water"),
    ("-printout_pixel 3", "-printout_pixel"),
    ("-printout_pixel 8 0", "-printout_pixel"),
    ("-printout_pixel 0 -2", "-printout_pixel"),
    ("-roi 0 3 0 3 -printout_pixel 5 1", "-printout_pixel"),
    ("-stol /nonexistent/table.stol", "-stol"),
    ("-Q /nonexistent/table.stol", "-Q"),
    ("-density abc", "-density"),
])
def test_bad_values_are_one_line_errors_naming_the_flag(extra, names):
    with pytest.raises(ConfigError) as caught:
        parse_nanobragg_args(f"{BASE} {extra}")
    message = str(caught.value)
    assert names in message and "\n" not in message


def test_an_empty_stol_file_is_refused_like_the_reference(tmp_path):
    empty = tmp_path / "empty.stol"
    empty.write_text("\n  \n")
    with pytest.raises(ConfigError, match=r"-stol .*no data"):
        parse_nanobragg_args(f"{BASE} -stol {empty}")


def test_no_op_flags_leave_the_image_unchanged(tmp_path):
    table = tmp_path / "water.stol"
    table.write_text("0.1 2.5\n0.2 1.0\n")
    plain = simulate(parse_nanobragg_args(BASE).config)
    noisy = simulate(parse_nanobragg_args(
        f"{BASE} -coherent -density 1.5 -sample_den 2 -MW 20 -stolout x.stol "
        f"-stol {table} -4stol {table}").config)
    assert torch.equal(plain, noisy)
    assert not (tmp_path / "x.stol").exists()


@pytest.mark.parametrize("field", ["curved_detector", "oversample_thick", "oversample_polar",
                                   "oversample_omega"])
def test_detector_switches_must_be_booleans(field):
    with pytest.raises(ConfigError, match=field):
        DetectorConfig(**{field: "yes"})


def test_water_thickness_is_validated_by_the_registry():
    with pytest.raises(ConfigError, match="water_size_um"):
        CrystalConfig(water_size_um=-0.5)
    with pytest.raises(ConfigError, match="water_size_um"):
        CrystalConfig(water_size_um=float("nan"))


@pytest.mark.parametrize("extra", ["-water -2", "-printout_pixel 99 99",
                                   "-stol /nonexistent/x"])
def test_cli_exits_2_and_writes_nothing(extra, tmp_path, capsys):
    out = tmp_path / "out.bin"
    code = main(["simulate", *BASE.split(), *extra.split(), "-floatfile", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and extra.split()[0] in err


def test_cli_prints_the_trace_of_one_pixel(capsys):
    assert main(["simulate", *BASE.split(), "-printout_pixel", "2", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("   2    3 : stol = ")
    assert lines[8].startswith("pixel ") and lines[13].startswith("Z: ")
    assert lines[14].startswith("image 8x8")  # the summary: no output file was asked for
