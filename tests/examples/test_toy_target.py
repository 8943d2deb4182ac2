"""The toy target (``examples/toy_target.py``) under the framework: its Tier-2 table, a planted
bug found, shrunk, stored and replayed, JSON round trips and bad stored files."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings

from braggcheck.testing import (
    TARGET_CHECKS,
    PropertyFailure,
    Target,
    TargetCase,
    case_from_json,
    case_to_json,
    default_table,
    missing_parameters,
    property_tests,
    replay,
    run_case,
    target_cases,
)
from braggcheck.testing.framework.derivatives import run_gradcheck
from braggcheck.testing.framework.measured_tolerance import measured_tolerances
from braggcheck.testing.framework.table import gradcheck_error
from braggcheck.util.errors import ConfigError

from ..planted import ScaledGradient
from ..toy import load_toy

pytestmark = pytest.mark.framework  # framework self-tests: no braggcheck physics

toy = load_toy()
ROOT = Path(__file__).parents[2]

HUNT = settings(max_examples=60, derandomize=True, database=None, deadline=None,
                phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck), print_blob=False)


class DistanceOffByOnePercent(toy.ToyTarget):
    """The toy with a planted bug: d(image)/d(distance) is 1 % too large (name still 'toy',
    so its stored failures replay against the right toy)."""

    factor = 1.01

    def render(self, config, params):
        params = dict(params)
        if "distance_mm" in params:
            params["distance_mm"] = ScaledGradient.apply(params["distance_mm"], self.factor)
        return super().render(config, params)


class DistanceOffBy5e4(DistanceOffByOnePercent):
    """A subtler bug: 5e-4, which torch's default gradcheck rtol of 1e-3 lets pass."""

    factor = 1.0005


def test_the_toy_is_a_target():
    assert isinstance(toy.TOY, Target)


def test_the_toy_table_checks_every_parameter():
    assert missing_parameters(toy.TABLE, toy.PARAMETERS) == []
    assert missing_parameters(toy.TABLE[1:], toy.PARAMETERS) == ["wavelength_A"]


class GradientLostAtDefault(toy.ToyTarget):
    """The toy with the bug the independent nanoBragg port had (issue #21): a shortcut branch
    at the default configuration that loses the gradient (here of the detector distance).
    Everywhere else the toy is right; random draws of 16-32 pixel detectors almost never sit
    exactly on the default."""

    def render(self, config, params):
        if config == toy.ToyConfig() and "distance_mm" in params:
            params = {**params, "distance_mm": params["distance_mm"].detach()}
        return super().render(config, params)


@pytest.mark.parametrize("case", toy.TABLE, ids=lambda c: c.id)
def test_tier2_case_of_the_toy(case):
    outcome = run_case(case)
    assert outcome.passed, outcome.report()
    assert case.gradgrad == (case.parameters[0] in ("wavelength_A", "d_spacing_A"))
    assert (outcome.second is not None) == case.gradgrad


def test_the_toy_declares_defaults_and_its_default_table_covers_them():
    assert list(toy.TOY.defaults()) == ["uniform", "textured"]
    # Every parameter on each default, but the azimuth of the untextured ring (needs texture).
    assert [c.id for c in toy.DEFAULT_TABLE if c.setup == "default:uniform"] == [
        f"{p}@default:uniform" for p in toy.PARAMETERS if p != "azimuth_deg"]
    assert missing_parameters([c for c in toy.DEFAULT_TABLE if c.setup == "default:textured"],
                              toy.PARAMETERS) == []


@pytest.mark.parametrize("case", toy.DEFAULT_TABLE, ids=lambda c: c.id)
def test_tier2_case_on_a_default_of_the_toy(case):
    outcome = run_case(case)
    assert outcome.passed, outcome.report()


def test_tier2_on_the_defaults_finds_a_gradient_lost_only_at_the_default():
    rows = {c.id: c for c in default_table(GradientLostAtDefault())}
    lost = run_case(rows["distance_mm@default:uniform"])
    assert not lost.passed
    report = lost.report()
    assert "FAIL" in report and "distance_mm" in report and "analytic        0.0" in report
    assert run_case(rows["distance_mm@default:textured"]).passed  # only the default path


def test_the_property_suite_finds_a_gradient_lost_at_the_default_at_its_first_example(
        tmp_path):
    bugged = GradientLostAtDefault()
    seen = []
    original = bugged.render

    def recording(config, params):
        seen.append(config)
        return original(config, params)

    bugged.render = recording
    (test,) = property_tests(bugged, checks=["gradient"], failures_dir=tmp_path).values()
    with pytest.raises(PropertyFailure) as caught:
        settings(max_examples=20, database=None, deadline=None, derandomize=True)(test)()
    assert seen[0] == toy.ToyConfig()  # the default is the first example run
    # Found among the explicit default examples (Hypothesis runs them all, then reports):
    # no drawn example was needed.
    assert len(test.cost.renders) == len(toy.TOY.defaults())
    assert "derivative mismatch for distance_mm" in str(caught.value)
    stored = json.loads((tmp_path / "test_toy_gradient.json").read_text())
    assert case_from_json(toy.TOY, stored["case"]).config == toy.ToyConfig()
    # The right toy passes the same default example.
    (right,) = replay(toy.TOY, tmp_path / "test_toy_gradient.json")
    assert right.passed, right.report()


def test_tier2_finds_the_planted_bug():
    bugged = DistanceOffBy5e4()
    (case,) = [type(c)(c.parameters, c.setup, target=bugged, setups=c.setups)
               for c in toy.TABLE if c.parameters == ("distance_mm",)]
    # gradcheck with the measured tolerance (run_case's first check; torch.func.jvp, its
    # next, refuses an autograd.Function without setup_context, as ScaledGradient is).
    error = gradcheck_error(lambda: run_gradcheck(case.probe(), **measured_tolerances(case)))
    assert error is not None and "Jacobian mismatch" in error
    assert run_gradcheck(case.probe(), eps=case.eps, atol=1e-5, rtol=1e-3)  # torch's: passes


def hunt(folder: str) -> str:
    """Run the planted bug's property test; return its failure message (stored under folder)."""
    (test,) = property_tests(DistanceOffByOnePercent(), checks=["gradient"],
                             failures_dir=Path(folder)).values()
    try:
        HUNT(test)()
    except PropertyFailure as failure:
        return str(failure)
    return ""


def test_the_planted_bug_is_found_shrunk_stored_and_replayed(tmp_path):
    # In a fresh interpreter: inside the whole suite's session (tests/unit and
    # tests/properties collected together) the same derandomized hunt stops shrinking at a
    # two-parameter case; the cause is not found yet (issue #12 closing note), and the assertions
    # below stay as strict as when the test runs alone.
    code = (f"from tests.examples.test_toy_target import hunt; "
            f"print(hunt({str(tmp_path)!r}), end='')")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=False)
    message = run.stdout
    assert run.returncode == 0, run.stderr
    path = tmp_path / "test_toy_gradient.json"
    assert "derivative mismatch for distance_mm" in message
    assert repr(str(path)) in message
    stored = json.loads(path.read_text())
    assert stored["target"] == "toy" and stored["check"] == "gradient"
    shrunk = case_from_json(toy.TOY, stored["case"])
    # Shrunk to the one wrong parameter on about the simplest ring: the baselines, no texture,
    # 16 pixels, but for at most one value (Hypothesis counts 1.0 simpler than 1.5).
    assert shrunk.names == ("distance_mm",)
    simplest = dataclasses.asdict(toy.ToyConfig(pixels=16))
    changed = {k: v for k, v in dataclasses.asdict(shrunk.config).items() if simplest[k] != v}
    assert len(changed) <= 1, changed
    (bugged,) = replay(DistanceOffByOnePercent(), path)
    assert not bugged.passed and not bugged.inconclusive
    (fixed,) = replay(toy.TOY, path)
    assert fixed.passed, fixed.report()


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(case=target_cases(toy.TOY))
def test_drawn_cases_survive_a_json_round_trip(case):
    text = json.dumps(case_to_json(toy.TOY, case))
    assert case_from_json(toy.TOY, json.loads(text)) == case


def test_the_toy_renders_on_any_dtype_path_with_its_graph():
    config = toy.ToyConfig(texture=0.5)
    distance = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
    image = toy.TOY.render(config, {"distance_mm": distance})
    assert image.shape == toy.TOY.shape(config) and image.requires_grad


@pytest.mark.parametrize(("document", "words"), [
    ({"target": "nanobragg", "case": {"config": {}, "names": ["cell_a"]}},
     "is a case of target 'nanobragg', not 'toy'"),
    ({"target": "toy", "case": {"config": {"bad": 1}, "names": ["amplitude"]}},
     "case: malformed field"),
    ({"target": "toy", "case": {"config": {}, "names": ["cell_a"]}},
     "not parameters of target toy"),
    ({"target": "toy", "check": "nope", "case": {"config": {}, "names": ["amplitude"]}},
     "unknown check 'nope'"),
    ({"target": "toy", "case": {"config": {}, "names": ["amplitude"], "angle": "amplitude"}},
     "is not a periodic parameter of target toy"),
])
def test_a_bad_stored_file_is_a_one_line_config_error(tmp_path, document, words):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        replay(toy.TOY, path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_case_needs_parameters():
    with pytest.raises(ConfigError, match="at least one parameter"):
        TargetCase(toy.ToyConfig(), ())


def test_every_derivative_check_catches_the_planted_bug_the_right_toy_passes():
    case = TargetCase(toy.ToyConfig(texture=0.5), ("distance_mm",))
    for check in ("gradient", "taylor"):
        right = TARGET_CHECKS[check](toy.TOY, case)
        wrong = TARGET_CHECKS[check](DistanceOffByOnePercent(), case)
        assert right.passed, right.report()
        assert not wrong.passed and not wrong.inconclusive, wrong.report()


def test_the_taylor_check_is_inconclusive_along_a_linear_parameter():
    """No curvature along amplitude: the remainder is rounding, and that proves nothing."""
    result = TARGET_CHECKS["taylor"](toy.TOY, TargetCase(toy.ToyConfig(), ("amplitude",)))
    assert result.inconclusive, result.report()
