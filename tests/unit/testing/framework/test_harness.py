"""The property harness for any target: defaults first, NOT APPLICABLE tests, render cost,
the shrinking budget and a replay command that works from any directory."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.cost import (
    SHRINK_SECONDS,
    SHRINK_SECONDS_VARIABLE,
    CountingTarget,
    shrink_budget,
)
from braggcheck.testing.framework.harness import (
    NOT_APPLICABLE_MARK,
    PropertyFailure,
    default_cases,
    property_tests,
    replay,
    replay_command,
    run_check,
)
from braggcheck.testing.framework.store import write_document
from braggcheck.testing.framework.target import Capabilities
from braggcheck.util.errors import ConfigError

from ....planted import ScaledGradient
from ....toy import EXAMPLES, TOY_EXAMPLES, load_toy

pytestmark = pytest.mark.framework

toy = load_toy()


class NoForwardMode(toy.ToyTarget):
    capabilities = Capabilities(forward_mode=False, why="its custom Function has no jvp")


class NoPeriod(toy.ToyTarget):
    parameters: ClassVar = {n: s for n, s in toy.PARAMETERS.items() if n != "azimuth_deg"}


class WidthOffByOnePercent(toy.ToyTarget):
    def render(self, config, params):
        if "width_px" in params:
            params = {**params, "width_px": ScaledGradient.apply(params["width_px"], 1.01)}
        return super().render(config, params)


def test_every_default_is_a_case_of_every_parameter_it_depends_on():
    cases = default_cases(toy.TOY)
    assert list(cases) == ["uniform", "textured"]
    assert cases["uniform"].names == tuple(n for n in toy.PARAMETERS if n != "azimuth_deg")
    assert cases["textured"].names == tuple(toy.PARAMETERS)
    assert cases["textured"].angle == "azimuth_deg"
    assert default_cases(NoPeriod())["uniform"].angle is None


def test_the_defaults_run_before_the_stored_examples():
    seen = []

    class Recording(toy.ToyTarget):
        def render(self, config, params):
            seen.append(config)
            return super().render(config, params)

    (test,) = property_tests(Recording(), ["finite"], examples_dir=TOY_EXAMPLES).values()
    settings(phases=[Phase.explicit], database=None, deadline=None)(test)()
    first = list(dict.fromkeys(seen))
    assert first[:2] == list(toy.TOY.defaults().values())
    assert len(first) == 3  # then the one stored example


@pytest.mark.parametrize(("target", "check", "words"), [
    (NoForwardMode(), "forward_reverse", "forward_mode = False (its custom Function has no jvp)"),
    (NoPeriod(), "periodicity", "no periodic parameter"),
])
def test_a_check_the_target_cannot_run_is_a_marked_not_applicable_test(target, check, words):
    tests = property_tests(target)
    assert len(tests) == 8  # every check has a test, and the resolution test
    test = tests[f"test_toy_{check}"]
    (mark,) = test.pytestmark
    assert mark.name == NOT_APPLICABLE_MARK and words in mark.args[0]
    with pytest.raises(pytest.skip.Exception, match="NOT APPLICABLE"):
        test()  # only without braggcheck's plugin, which deselects it first


def test_a_not_applicable_check_is_neither_a_pass_nor_a_failure_in_replay():
    path = TOY_EXAMPLES / "thin_textured_ring_odd_detector.json"
    result = run_check(NoForwardMode(), "forward_reverse", TargetCase(toy.ToyConfig(),
                                                                       ("distance_mm",)))
    assert not result.passed and not result.failed and result.not_applicable
    assert result.report().startswith("forward_reverse: NOT APPLICABLE - target toy declares")
    results = {r.check: r for r in replay(NoForwardMode(), path, "forward_reverse")}
    assert results["forward_reverse"].not_applicable


def test_renders_are_counted_and_the_first_examples_cost_printed(capsys):
    counted = CountingTarget(toy.TOY)
    counted.render(toy.ToyConfig(), {})
    assert counted.renders == 1 and counted.seconds > 0 and counted.name == "toy"
    (test,) = property_tests(toy.TOY, ["gradient"]).values()
    settings(max_examples=3, database=None, deadline=None, derandomize=True,
             suppress_health_check=list(HealthCheck))(test)()
    assert test.cost.render_seconds > 0
    assert len(test.cost.renders) >= 3 and all(n > 0 for n in test.cost.renders)
    out = capsys.readouterr().out
    assert out.count("cost of test_toy_gradient: one render") == 1
    assert "renders per example" in out


def test_the_shrink_budget_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.delenv(SHRINK_SECONDS_VARIABLE, raising=False)
    assert shrink_budget() == SHRINK_SECONDS and shrink_budget(5) == 5
    monkeypatch.setenv(SHRINK_SECONDS_VARIABLE, "12.5")
    assert shrink_budget() == 12.5
    monkeypatch.setenv(SHRINK_SECONDS_VARIABLE, "soon")
    with pytest.raises(ConfigError, match="BRAGGCHECK_SHRINK_SECONDS = 'soon'"):
        shrink_budget()
    with pytest.raises(ConfigError, match="must be > 0"):
        shrink_budget(0)


def _hunt(tmp_path, budget):
    (test,) = property_tests(WidthOffByOnePercent(), ["gradient"], failures_dir=tmp_path,
                             shrink_seconds=budget).values()
    with pytest.raises(PropertyFailure) as caught:
        settings(max_examples=60, derandomize=True, database=None, deadline=None,
                 phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
                 suppress_health_check=list(HealthCheck))(test)()
    return test, str(caught.value)


def test_shrinking_stops_at_its_budget_and_reports_a_real_failure(tmp_path, capsys):
    full, _ = _hunt(tmp_path / "full", 600)
    assert not full.shrink_clock.spent
    cut, message = _hunt(tmp_path / "cut", 1e-9)
    err = capsys.readouterr().err
    assert "shrinking test_toy_gradient: failure found" in err
    assert "budget of 1e-09 s spent after 1 steps; reporting the best so far" in err
    # Hardly any example ran once the budget was spent (the shrinker's tries were rejected
    # before rendering), and what is reported and stored is still a failing case.
    assert len(cut.cost.renders) < len(full.cost.renders)
    assert "derivative mismatch for width_px" in message
    (again,) = replay(WidthOffByOnePercent(), tmp_path / "cut" / "test_toy_gradient.json")
    assert again.failed


def test_the_replay_command_works_from_any_directory(tmp_path):
    stored = json.loads((TOY_EXAMPLES / "thin_textured_ring_odd_detector.json").read_text())
    path = write_document("copy", stored, tmp_path / "deep" / "folder")
    command = replay_command(toy.TOY, path)
    target = (EXAMPLES / "toy_target.py").resolve()
    assert command == f"braggcheck replay {path.resolve()} --target {target}:TOY"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-m", "braggcheck", *shlex.split(command)[1:]],
                         cwd=elsewhere, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all checks passed" in run.stdout


def test_a_target_bound_to_no_name_gets_the_python_call_with_an_absolute_path(tmp_path):
    command = replay_command(toy.ToyTarget(), tmp_path / "f.json")
    assert command.startswith(f"braggcheck.testing.replay(TARGET, '{tmp_path / 'f.json'}')")


def test_an_inconclusive_default_is_said_not_passed_silently(capsys):
    class DarkAtDefault(toy.ToyTarget):
        def missing_signal(self, config, image):
            return "dark at the default" if config == toy.ToyConfig() else None

    (test,) = property_tests(DarkAtDefault(), ["gradient"]).values()
    settings(phases=[Phase.explicit], database=None, deadline=None)(test)()
    out = capsys.readouterr().out
    assert ("gradient: an explicit example (a default or stored case) is INCONCLUSIVE and "
            "proves nothing: dark at the default") in out


def test_a_target_that_raises_is_shrunk_within_the_budget_too(tmp_path, capsys):
    class RaisesOnTexture(toy.ToyTarget):
        def render(self, config, params):
            if config.texture > 0 and params:
                raise RuntimeError("planted crash on textured rings")
            return super().render(config, params)

    (test,) = property_tests(RaisesOnTexture(), ["gradient"], failures_dir=tmp_path,
                             shrink_seconds=1e-9).values()
    with pytest.raises(RuntimeError, match="planted crash"):
        settings(max_examples=30, derandomize=True, database=None, deadline=None,
                 phases=(Phase.generate, Phase.shrink),
                 suppress_health_check=list(HealthCheck))(test)()
    assert "budget of 1e-09 s spent" in capsys.readouterr().err
