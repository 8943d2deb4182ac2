"""Exact forward relations (superposition, pixel factors, spot values), and that each one
catches a realistic forward bug that keeps the gradients self-consistent, shrinking it to a
small configuration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings

import braggcheck.sim.crystal
import braggcheck.sim.physics
import braggcheck.sim.scene
import braggcheck.sim.simulator
from braggcheck.cli import replay
from braggcheck.nanobragg.serialization import config_to_dict
from braggcheck.sim.config import Config
from braggcheck.sim.sources import Sources
from braggcheck.testing.framework.harness import PropertyFailure
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks import CHECKS
from braggcheck.testing.nanobragg.checks import independent as ind
from braggcheck.testing.nanobragg.harness import run_property, with_stored_examples
from braggcheck.testing.nanobragg.strategies.cases import cases
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES


@with_stored_examples("superposition")
@given(case=cases(shapes=ALL_SHAPES))
def test_image_is_the_mean_of_its_one_step_parts(case):
    run_property("superposition", case, "test_image_is_the_mean_of_its_one_step_parts")


@with_stored_examples("pixel_factors")
@given(case=cases(shapes=ALL_SHAPES))
def test_solid_angle_and_polarization_match_the_geometry(case):
    run_property("pixel_factors", case, "test_solid_angle_and_polarization_match_the_geometry")


@with_stored_examples("spot_values")
@given(case=cases(shapes=ALL_SHAPES))
def test_spot_values_match_closed_forms_for_every_shape(case):
    run_property("spot_values", case, "test_spot_values_match_closed_forms_for_every_shape")


TRICLINIC = {"cell_a": 70.0, "cell_b": 80.0, "cell_c": 90.0, "cell_alpha": 75.0,
             "cell_beta": 85.0, "cell_gamma": 95.0, "misset_rot_x": 10.0,
             "misset_rot_y": 20.0, "misset_rot_z": 30.0}


@pytest.mark.parametrize("cell", ["cubic", "triclinic"])
@pytest.mark.parametrize("shape", ["square", "round", "gauss", "tophat"])
def test_every_shape_and_cell_meets_its_closed_form(shape, cell):
    """Spot values at the node and off it, with polarization, phi and a tilted detector."""
    fudge = {"gauss": 30.0}.get(shape, 1.0)  # TOPHAT spots at fudge 1 span several pixels
    config = Config().replace(fpixels=20, spixels=20, oversample=1, pixel_mm=0.3, shape=shape,
                              fudge=fudge, polarization=0.7, phi_start_deg=7.0,
                              detector_rotx_deg=2.0, twotheta_deg=3.0,
                              **(TRICLINIC if cell == "triclinic" else {}))
    result = CHECKS["spot_values"](Case(config=config))
    assert result.passed and not result.inconclusive, result.report()
    assert f"spot_values: {shape}" in result.events


# ---- no check is vacuous ----

def test_checks_are_inconclusive_when_they_could_not_fail():
    tiny = Config().replace(fpixels=1, spixels=1, oversample=1)
    plain = Config().replace(fpixels=16, spixels=16, oversample=1)
    # One pixel: no spot contrast, so no check may pass on it.
    for name in ("superposition", "pixel_factors", "spot_values"):
        assert CHECKS[name](Case(config=tiny)).inconclusive, name
    # One phi step gets a second, so the phi relation runs on every case with a spot.
    result = CHECKS["superposition"](Case(config=plain))
    assert result.passed and result.rows[0].status == "ok", result.report()
    assert "superposition: phi step added" in result.events


def test_the_factors_compared_are_not_trivial():
    config = Config().replace(fpixels=16, spixels=16, oversample=2, polarization=0.5,
                              beam_center_f_mm=-3.0)
    result = CHECKS["pixel_factors"](Case(config=config))
    assert result.passed, result.report()
    place = ind.placement(config)
    positions = ind.first_subpixels(config, place, 2)
    obliquity = place.close / np.linalg.norm(positions, axis=-1)
    assert obliquity.min() < 1 - 1e-4  # the real/point ratio is not px^2 everywhere
    factor = ind.polarization(place.beam, positions / np.linalg.norm(positions, axis=-1,
                                                                     keepdims=True),
                              place.polar, 0.5)
    assert np.abs(factor - 1).max() > 1e-4


# ---- each relation catches a planted forward bug and shrinks it ----

def hunt_settings(shrink: bool) -> settings:
    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    return settings(max_examples=150, database=None, derandomize=True, deadline=None,
                    phases=phases, report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck), print_blob=False)


SHRINK = [pytest.param(False, id="found"),
          pytest.param(True, id="shrunk", marks=pytest.mark.slow)]
"""Each planted bug runs twice: by default until the property fails (Hypothesis tries the
simplest configurations first, so this takes a few examples), and under ``-m slow`` with
shrinking too, asserting the minimal case is small (10-25 s each on two cores: drawing a
configuration costs ~70 ms there, and shrinking draws a few hundred)."""
BASELINE = config_to_dict(Config().replace(fpixels=16, spixels=16, oversample=1))


def _changes(config: Config) -> dict:
    drawn = config_to_dict(config)
    return {f"{s}.{k}": v for s in drawn for k, v in drawn[s].items()
            if BASELINE[s].get(k) != v}


def hunt(tmp_path, check: str, shapes: tuple[str, ...] = ALL_SHAPES,
         shrink: bool = True) -> tuple[Case, str]:
    """Run ``check`` under Hypothesis until it fails; the (shrunk) case and the message."""
    failing = []

    @hunt_settings(shrink)
    @given(case=cases(shapes=shapes))
    def prop(case):
        try:
            run_property(check, case, check, failures_dir=tmp_path)
        except PropertyFailure:
            failing.append(case)
            raise

    with pytest.raises(PropertyFailure) as caught:
        prop()
    return failing[-1], str(caught.value)


def assert_caught(tmp_path, check: str, row: str, needed: set[str], max_changes: int,
                  shrink: bool, shapes: tuple[str, ...] = ALL_SHAPES) -> None:
    final, message = hunt(tmp_path, check, shapes, shrink)
    assert "FAIL" in message and row in message, message
    assert f"braggcheck replay {tmp_path / check}.json" in message
    assert replay.main([str(tmp_path / f"{check}.json"), "--check", check]) == 1
    if not shrink:
        return
    changed = _changes(final.config)
    # The shrunk case keeps what the bug needs (e.g. two phi steps) and little else.
    assert needed <= {k.split(".")[1] for k in changed}, changed
    assert len(changed) <= max_changes, f"not shrunk to a small configuration: {changed}"
    det = final.config.detector
    assert det.fpixels * det.spixels <= 16 * 16


@pytest.mark.parametrize("shrink", SHRINK)
def test_phi_sampled_at_mid_step_is_caught(tmp_path, monkeypatch, shrink):
    original = braggcheck.sim.scene.phi_angles

    def midpoint(state, step_deg, steps):  # a realistic slip: the middle of each step
        return original(state, step_deg, steps) + step_deg / 2 * math.pi / 180

    monkeypatch.setattr(braggcheck.sim.scene, "phi_angles", midpoint)
    assert_caught(tmp_path, "superposition", "phi steps", set(), 4, shrink, shapes=("square",))


@pytest.mark.parametrize("shrink", SHRINK)
def test_mosaic_before_phi_is_caught(tmp_path, monkeypatch, shrink):
    def wrong_order(real, spindle_axis, phis, mosaic):
        crystal = braggcheck.sim.crystal
        spindle = crystal.axis_angle_matrix(crystal.unit(spindle_axis), phis)
        combined = spindle[:, None] @ mosaic[None]  # phi applied after the domain's tilt
        return torch.einsum("tmjk,ik->tmij", combined, real).reshape(-1, 3, 3)

    monkeypatch.setattr(braggcheck.sim.scene, "orientations", wrong_order)
    assert_caught(tmp_path, "superposition", "mosaic domains",
                  {"mosaic_domains", "phi_start_deg"}, 6, shrink)


@pytest.mark.parametrize("shrink", SHRINK)
def test_first_source_counted_twice_is_caught(tmp_path, monkeypatch, shrink):
    original = braggcheck.sim.scene.source_grid

    def double_first(*args, **kwargs):  # source 0 weighted 2, the last one dropped
        sources = original(*args, **kwargs)
        if sources.wavelength.shape[0] < 2:
            return sources
        return Sources(torch.cat((sources.incident[:1], sources.incident[:-1])),
                       torch.cat((sources.wavelength[:1], sources.wavelength[:-1])))

    monkeypatch.setattr(braggcheck.sim.scene, "source_grid", double_first)
    assert_caught(tmp_path, "superposition", "sources", set(), 6, shrink)


@pytest.mark.parametrize("shrink", SHRINK)
def test_wrong_obliquity_exponent_is_caught(tmp_path, monkeypatch, shrink):
    original = braggcheck.sim.simulator.pixel_factors

    def squared_obliquity(scene, slow, fast):  # omega = px^2 (close/R)^2 / R^2
        value = original(scene, slow, fast)
        if scene.point_pixel:
            return value
        det = scene.detector
        step = det.pixel / scene.oversample
        first = (det.pix0[:, None] + det.fdet[:, None] * ((fast * scene.oversample + 0.5) * step)
                 + det.sdet[:, None] * ((slow * scene.oversample + 0.5) * step))
        return value * det.close / torch.linalg.norm(first, dim=0)

    monkeypatch.setattr(braggcheck.sim.simulator, "pixel_factors", squared_obliquity)
    assert_caught(tmp_path, "pixel_factors", "real/point", set(), 3, shrink, shapes=("square",))
    monkeypatch.undo()  # the intact simulator passes the stored failure
    assert replay.main([str(tmp_path / "pixel_factors.json"), "--check", "pixel_factors"]) == 0


@pytest.mark.parametrize("shrink", SHRINK)
def test_wrong_polarization_sign_is_caught(tmp_path, monkeypatch, shrink):
    original = braggcheck.sim.simulator.polarization_factor

    def flipped(incident, diffracted, polar, kahn):  # the Kahn term with the wrong sign
        return original(incident, diffracted, polar, -kahn)

    monkeypatch.setattr(braggcheck.sim.simulator, "polarization_factor", flipped)
    assert_caught(tmp_path, "pixel_factors", "polar/nopolar", {"polarization"}, 4, shrink)


@pytest.mark.parametrize("shrink", SHRINK)
def test_truncated_round_constant_is_caught(tmp_path, monkeypatch, shrink):
    monkeypatch.setattr(braggcheck.sim.physics, "ROUND_XTAL_SCALE", 0.7236)
    assert_caught(tmp_path, "spot_values", "node value (round)", {"shape"}, 4, shrink,
                  shapes=("round",))


@pytest.mark.parametrize("shrink", SHRINK)
def test_gauss_width_off_by_its_square_root_is_caught(tmp_path, monkeypatch, shrink):
    original = braggcheck.sim.simulator.gauss_lattice_factor

    def narrower(hkl, reciprocal, cells, fudge):  # exp(-rho/0.63) -> exp(-rho/0.63^2)
        return original(hkl, reciprocal, cells, fudge / 0.63)

    monkeypatch.setattr(braggcheck.sim.simulator, "gauss_lattice_factor", narrower)
    assert_caught(tmp_path, "spot_values", "numpy model", {"shape"}, 5, shrink)
