"""Configuration fields are validated at construction, through the API and through simulate."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import BeamConfig, Config, CrystalConfig, DetectorConfig, simulate

from ..error_message import one_line_message

SMALL = Config(detector=DetectorConfig(fpixels=3, spixels=3, oversample=1))


_message = one_line_message


@pytest.mark.parametrize(("section", "name", "value", "expected"), [
    (CrystalConfig, "cell_a", 0.0, "cell_a = 0.0 is out of range; valid: > 0"),
    (CrystalConfig, "cell_b", -5.0, "cell_b = -5.0 is out of range; valid: > 0"),
    (BeamConfig, "lambda_A", 0.0, "lambda_A = 0.0 is out of range; valid: > 0"),
    (DetectorConfig, "distance_mm", -1.0, "distance_mm = -1.0 is out of range; valid: > 0"),
    (DetectorConfig, "pixel_mm", 0.0, "pixel_mm = 0.0 is out of range; valid: > 0"),
    (DetectorConfig, "fpixels", 0, "fpixels = 0 is out of range; valid: an integer >= 1"),
    (CrystalConfig, "n_b", 0, "n_b = 0 is out of range; valid: an integer >= 1"),
    (DetectorConfig, "oversample", 0, "oversample = 0 is out of range; valid: an integer >= 1"),
    (BeamConfig, "fluence", -1.0, "fluence = -1.0 is out of range; valid: >= 0"),
    (CrystalConfig, "mosaic_spread_deg", -0.1, "mosaic_spread_deg = -0.1 is out of range"),
    (BeamConfig, "polarization", 1.01, "polarization = 1.01 is out of range; valid: [-1, 1]"),
    (CrystalConfig, "misset_rot_y", math.nan, "misset_rot_y = nan is not finite"),
    (DetectorConfig, "twotheta_deg", math.inf, "twotheta_deg = inf is not finite"),
    (CrystalConfig, "cell_c", "100", "cell_c: expected a number"),
    (CrystalConfig, "n_a", True, "n_a: expected an integer"),
    (CrystalConfig, "n_a", 5.0, "n_a: expected an integer"),
    (BeamConfig, "nopolar", "no", "nopolar: expected True or False"),
    (DetectorConfig, "point_pixel", 1, "point_pixel: expected True or False"),
    (CrystalConfig, "hkl", "table.hkl", "hkl: expected an HKLTable"),
    (CrystalConfig, "shape", "cube", "shape = 'cube' is not one of"),
    (DetectorConfig, "convention", "MOSFLM", "convention = 'MOSFLM' is not one of"),
    (DetectorConfig, "detector_rotx_deg", None, "detector_rotx_deg: expected a number"),
    (BeamConfig, "hdiv_range_mrad", None, "hdiv_range_mrad: expected a number"),
    (BeamConfig, "dispersion_pct", 200.0, "dispersion (dispersion_pct) = 200.0 is out of range"),
    (BeamConfig, "vdiv_range_mrad", 1e4, "vdiv_range_mrad = 10000.0 is out of range"),
    (CrystalConfig, "spindle_axis", (0, 0, 0), "spindle_axis = (0, 0, 0) is the zero vector"),
    (BeamConfig, "beam_vector", (1.0, math.nan, 0.0), "beam_vector = nan is not finite"),
    (DetectorConfig, "fdet_vector", (1.0, 0.0), "fdet_vector: expected three numbers"),
    (DetectorConfig, "roi", (0, 1024, 0, 5), "roi fast_max = 1024 is out of range"),
    (DetectorConfig, "roi", (3, 2, 0, 5), "each minimum must not exceed its maximum"),
    (DetectorConfig, "roi", (0, 1, 2), "roi = (0, 1, 2): expected (fast_min"),
])
def test_field_errors_name_field_value_and_range(section, name, value, expected) -> None:
    assert expected in _message(section, **{name: value})


@pytest.mark.parametrize("angles", [(60, 30, 30), (30, 100, 60), (120, 120, 120),
                                    (179.9, 179.9, 1)])
def test_cell_angles_without_a_real_cell(angles: tuple[float, float, float]) -> None:
    alpha, beta, gamma = angles
    text = _message(CrystalConfig, cell_alpha=alpha, cell_beta=beta, cell_gamma=gamma)
    assert "valid:" in text and "cell" in text


def test_tensor_fields_must_be_real_scalars() -> None:
    assert "real scalar tensor" in _message(CrystalConfig, cell_a=torch.ones(3))
    assert "real scalar tensor" in _message(CrystalConfig, cell_a=torch.tensor(1 + 1j))
    assert "not finite" in _message(BeamConfig, lambda_A=torch.tensor(math.inf))
    CrystalConfig(cell_a=torch.tensor(90.0, requires_grad=True))  # a graph is fine


def test_sections_must_have_their_types() -> None:
    assert "crystal: expected a CrystalConfig" in _message(Config, crystal=BeamConfig())
    assert "is neither a registry parameter" in _message(Config().replace, no_such_field=1)


@pytest.mark.parametrize("changes", [
    {"detector_roty_deg": 90.0}, {"detector_rotx_deg": 0.0, "detector_rotz_deg": -90.0},
    {"twotheta_deg": 90.0}, {"convention": "xds", "detector_roty_deg": 90.0},
])
def test_a_detector_plane_through_the_sample_is_rejected(changes: dict) -> None:
    text = _message(SMALL.replace, **changes)
    assert text.startswith("detector placement: the detector plane passes through the sample")
    assert "valid: a perpendicular distance" in text


def test_a_detector_tilted_almost_edge_on_is_still_accepted() -> None:
    SMALL.replace(detector_roty_deg=89.0)
    SMALL.replace(convention="xds", close_distance_mm=50.0, detector_roty_deg=90.0)


def test_parallel_detector_axes_are_rejected() -> None:
    text = _message(DetectorConfig, convention="custom", fdet_vector=(0, 0, 1),
                    sdet_vector=(0, 0, -2))
    assert "are parallel" in text


def test_an_impossible_automatic_oversample_is_rejected() -> None:
    text = _message(Config().replace, distance_mm=1e-9)
    assert text.startswith("oversample: the automatic choice would be")
    assert "valid: <= 64" in text
    Config().replace(distance_mm=1e-9, oversample=1)  # an explicit choice is fine


def test_simulate_validates_params_like_the_config() -> None:
    assert "cell_a" in _message(simulate, SMALL, {"cell_a": torch.tensor(-1.0)})
    assert "not finite" in _message(simulate, SMALL, {"lambda_A": torch.tensor(math.nan)})
    assert "scalar" in _message(simulate, SMALL, {"fluence": torch.ones(2)})
    assert "unknown parameter" in _message(simulate, SMALL, {"cell_d": torch.tensor(1.0)})
    assert "params: expected a dict" in _message(simulate, SMALL, [("cell_a", 1.0)])
    assert "admits no real cell" in _message(
        simulate, SMALL, {"cell_alpha": torch.tensor(170.0, dtype=torch.float64),
                          "cell_beta": torch.tensor(30.0, dtype=torch.float64)})
    assert "detector plane passes through the sample" in _message(
        simulate, SMALL, {"detector_roty_deg": torch.tensor(90.0, dtype=torch.float64)})
    assert "expected a braggcheck.Config" in _message(simulate, "config")


def test_valid_edges_are_accepted() -> None:
    Config().replace(mosaic_spread_deg=0.0, polarization=-1.0, fluence=0.0)
    Config().replace(polarization=1.0, cell_alpha=1.0, cell_beta=90.0, cell_gamma=90.0)
    Config().replace(cell_alpha=119.9, cell_beta=119.9, cell_gamma=119.9)
    DetectorConfig(roi=(0, 1023, 0, 1023), beam_center_f_mm=None)


def test_replace_applies_field_changes_to_a_replaced_section() -> None:
    changed = Config().replace(crystal=CrystalConfig(n_a=7), cell_a=50.0)
    assert (changed.crystal.n_a, changed.crystal.cell_a) == (7, 50.0)
    assert "crystal: expected a CrystalConfig" in _message(Config().replace, crystal=3,
                                                           cell_a=50.0)


def test_simulate_checks_its_keyword_arguments() -> None:
    assert "dtype" in _message(simulate, SMALL, dtype=torch.int32)
    assert "device = 'gpu0'" in _message(simulate, SMALL, device="gpu0")
    assert "pixels_per_chunk = 0 is out of range" in _message(simulate, SMALL,
                                                              pixels_per_chunk=0)
    if not torch.cuda.is_available():
        assert "no CUDA device" in _message(simulate, SMALL, device="cuda")
