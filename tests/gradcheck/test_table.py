"""The Tier-2 table itself: registry coverage, the spec's pins, and what its setups contain."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from braggcheck import PARAMETERS
from braggcheck.sim.compilation import compile_disabled, maybe_compile
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import pixel_values
from braggcheck.sim.state import baseline_value, build_state
from braggcheck.testing.nanobragg.tier2.report import coverage_markdown
from braggcheck.testing.nanobragg.tier2.table import (
    CANONICAL_PINS,
    CASES,
    DIRECT_BEAM_MM,
    SETUPS,
    GradcheckCase,
    case,
    missing_parameters,
)


def test_every_registry_parameter_has_a_deterministic_gradcheck():
    missing = missing_parameters()
    assert not missing, f"registry parameters without a Tier-2 gradcheck case: {missing}"


def test_the_coverage_check_names_a_parameter_added_to_the_registry():
    extra = dataclasses.replace(PARAMETERS["fluence"], name="new_parameter")
    registry = {**PARAMETERS, "new_parameter": extra}
    assert missing_parameters(CASES, registry) == ["new_parameter"]


def test_the_committed_coverage_audit_is_current():
    path = Path(__file__).parents[2] / "reports" / "gradients" / "coverage.md"
    assert path.is_file() and path.read_text() == coverage_markdown(), (
        "reports/gradients/coverage.md is stale: run `braggcheck report --coverage-only`")


def test_the_joint_setup_puts_every_parameter_inside_its_valid_range():
    """The Taylor test steps every parameter both ways; none may sit on a range edge."""
    config = SETUPS["joint"].config()
    on_edge = []
    for name, parameter in PARAMETERS.items():
        value, margin = baseline_value(config, name), 1e-3 * parameter.scale
        low, high = parameter.valid_range
        if (low is not None and value - margin <= low) or (
                high is not None and value + margin >= high):
            on_edge.append(name)
    assert not on_edge, f"set these inside their valid range in SETUPS['joint']: {on_edge}"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("parameter", sorted(CANONICAL_PINS))
def test_canonical_pin_is_in_the_table(parameter):
    wanted = f"{parameter}@{CANONICAL_PINS[parameter]}"
    assert wanted in {c.id for c in CASES}


def test_the_misset_pin_is_the_89_degree_spec_baseline():
    (pin,) = [c for c in CASES if c.id == "misset_rot_x@misset89"]
    assert "89" in pin.id
    crystal = pin.config().crystal
    assert (crystal.misset_rot_x, crystal.misset_rot_y, crystal.misset_rot_z) == (89, 0, 0)
    assert (crystal.cell_a, crystal.cell_b, crystal.cell_c) == (100, 100, 100)
    assert (crystal.n_a, crystal.n_b, crystal.n_c) == (5, 5, 5)
    assert float(pin.config().beam.lambda_A) == 1.0


def test_cases_at_exact_90_degree_angles_and_zero_misset_exist():
    crystal = SETUPS["direct"].config().crystal
    assert (crystal.cell_alpha, crystal.cell_beta, crystal.cell_gamma) == (90, 90, 90)
    assert (crystal.misset_rot_x, crystal.misset_rot_y, crystal.misset_rot_z) == (0, 0, 0)
    checked = {p for c in CASES if c.setup == "direct" for p in c.parameters}
    assert {"cell_alpha", "cell_beta", "cell_gamma", "misset_rot_x"} <= checked


def test_the_direct_window_has_a_sample_at_exact_integer_h():
    """Subpixel (0, 0) of pixel (12, 12) lies on the direct beam: h = k = l = 0 there."""
    config = SETUPS["direct"].config()
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    scene = build_scene(config, state)
    det = scene.detector
    assert scene.oversample == 2
    assert float(state["beam_center_f_mm"]) == float(state["beam_center_s_mm"]) == DIRECT_BEAM_MM
    centre = (12 * 2 + 0.5) * det.pixel / 2  # first subpixel centre of pixel 12, in metres
    position = det.pix0 + centre * det.fdet + centre * det.sdet
    scattering = (position / torch.linalg.norm(position) - scene.sources.incident[0])
    scattering = scattering / scene.sources.wavelength[0]
    hkl = scene.orientations[0] @ scattering
    assert float(hkl.abs().max()) < 1e-9
    value = pixel_values(scene, torch.tensor([12.0], dtype=torch.float64),
                         torch.tensor([12.0], dtype=torch.float64))
    assert torch.isfinite(value).all()


def test_parameters_with_needs_run_where_the_image_depends_on_them():
    mosaic = [c.config().crystal for c in CASES if "mosaic_spread_deg" in c.parameters]
    assert mosaic and all(x.mosaic_domains > 1 and float(x.mosaic_spread_deg) > 0
                          for x in mosaic)
    polar = [c.config().beam for c in CASES if "polarization" in c.parameters]
    assert polar and not any(beam.nopolar for beam in polar)


def test_a_case_with_a_custom_step_must_say_why():
    with pytest.raises(ValueError, match="reason"):
        case("fluence", "direct", eps=1e-7)
    assert case("fluence", "direct", eps=1e-7, why="a reason").eps == 1e-7


def test_a_case_cannot_choose_its_tolerance():
    """Tolerances are measured from the finite differences (tier2.measured_tolerances)."""
    with pytest.raises(TypeError):
        case("fluence", "direct", rtol=0.05, why="the predecessor's rtol")
    with pytest.raises(ValueError, match="unknown"):
        GradcheckCase(("no_such_parameter",), "direct")


def test_gradient_tests_run_eager_code():
    assert compile_disabled()

    def kernel(x):
        return x

    assert maybe_compile(kernel, torch.device("cuda")) is kernel
