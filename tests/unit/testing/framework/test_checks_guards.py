"""The checker checked on every guard: each plants exactly one degenerate condition in the toy
target (non-finite output or derivative, NaN Taylor remainders, a vacuous or detached
derivative) or in the example store (an empty folder, an unparseable file) and sees the check
fail or report inconclusive, visibly, never pass."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.check_support import derivative_verdict, unusable
from braggcheck.testing.framework.derivatives import TaylorResult, taylor_failure
from braggcheck.testing.framework.harness import (
    TARGET_CHECKS,
    judge,
    property_tests,
    stored_cases,
)
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.store import example_files
from braggcheck.util.errors import ConfigError

from .noisy_toys import toy

pytestmark = pytest.mark.framework

CONFIG = toy.ToyConfig(texture=0.5, azimuth_deg=20.0, pixels=20)


def case(*names: str) -> TargetCase:
    return TargetCase(config=CONFIG, names=names, angle="azimuth_deg")


def verdict(target, check: str, names: tuple[str, ...]) -> str:
    result = TARGET_CHECKS[check](target, case(*names))
    return "inconclusive" if result.inconclusive else "pass" if result.passed else "FAIL"


def test_the_unplanted_toy_passes_these_cases():
    """The guards below fail because of what they plant, not because of the cases."""
    for check in TARGET_CHECKS:
        assert verdict(toy.TOY, check, ("width_px", "amplitude")) == "pass", check


class NaNPixel(toy.ToyTarget):
    def render(self, config, params):
        image = super().render(config, params)
        return torch.where(torch.arange(image.numel()).reshape(image.shape) == 7,
                           torch.nan, image)


class NaNGradient(torch.autograd.Function):
    """Identity whose derivative is NaN in both modes."""

    @staticmethod
    def forward(ctx, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * torch.nan

    @staticmethod
    def jvp(ctx, tangent):
        return tangent * torch.nan


class NaNDerivative(toy.ToyTarget):
    def render(self, config, params):
        params = {n: NaNGradient.apply(v) for n, v in params.items()}
        return super().render(config, params)


class NaNAwayFromTheCase(toy.ToyTarget):
    """Finite at the case, NaN once width_px moves by more than ``reach`` (relative)."""

    def __init__(self, reach: float) -> None:
        self.reach = reach

    def render(self, config, params):
        image = super().render(config, params)
        width = params.get("width_px")
        if width is not None and abs(float(width.detach()) / config.width_px - 1) > self.reach:
            return image * torch.nan
        return image


class Detached(toy.ToyTarget):
    """The output depends on every parameter, but the graph reaches none (gradient zero)."""

    def render(self, config, params):
        return super().render(config, {n: v.detach() for n, v in params.items()})


class Constant(toy.ToyTarget):
    """The output depends on no parameter at all: every derivative is zero, truly."""

    def render(self, config, params):
        return super().render(config, {n: v * 0 + getattr(config, n)
                                       for n, v in params.items()})


@pytest.mark.parametrize("check", list(TARGET_CHECKS))
def test_a_nan_pixel_fails_every_check(check):
    assert verdict(NaNPixel(), check, ("width_px", "amplitude")) == "FAIL"


@pytest.mark.parametrize("check", list(TARGET_CHECKS))
def test_a_nan_derivative_fails_every_check_that_differentiates(check):
    assert verdict(NaNDerivative(), check, ("width_px", "amplitude")) == "FAIL"


@pytest.mark.parametrize(("check", "reach"), [("gradient", 1e-6), ("taylor", 1e-5)])
def test_nan_taylor_remainders_or_differences_fail(check, reach):
    """1e-6: D(h) finite, D(2h) NaN; 1e-5: every difference finite, the Taylor test's first
    steps (~4e-4 here) NaN."""
    result = TARGET_CHECKS[check](NaNAwayFromTheCase(reach), case("width_px"))
    assert not result.passed and not result.inconclusive, result.report()
    assert "non-finite" in result.message


@pytest.mark.parametrize("check", ["gradient", "taylor", "linearity"])
def test_a_detached_parameter_fails(check):
    assert verdict(Detached(), check, ("width_px", "amplitude")) == "FAIL"


@pytest.mark.parametrize("check", ["gradient", "forward_reverse", "taylor"])
def test_a_vacuous_derivative_is_inconclusive_never_a_pass(check):
    result = TARGET_CHECKS[check](Constant(), case("width_px"))
    assert result.inconclusive and not result.passed, result.report()
    assert result.message


def test_an_empty_or_missing_example_folder_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no stored examples"):
        example_files(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        example_files(tmp_path / "typo")
    (tmp_path / "a.json").write_text("{}")
    assert example_files(tmp_path) == [tmp_path / "a.json"]


@pytest.mark.parametrize("text", ["{not json", '{"case": 3}', "[]", ""])
def test_an_unparseable_example_file_is_an_error_naming_it(tmp_path, text):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(ConfigError, match=r"bad\.json"):
        stored_cases(toy.TOY, tmp_path, "gradient")


def test_a_stored_case_of_another_target_is_an_error(tmp_path):
    document = {"target": "other", "check": None, "case": {"config": {}, "names": ["x"]}}
    (tmp_path / "other.json").write_text(json.dumps(document))
    with pytest.raises(ConfigError, match="other"):
        stored_cases(toy.TOY, tmp_path, "gradient")


def test_a_property_suite_named_an_empty_or_missing_examples_folder_is_an_error(tmp_path):
    """A mistyped examples folder must not replay nothing silently (every stored case lost)."""
    with pytest.raises(ConfigError, match="holds no stored examples"):
        stored_cases(toy.TOY, tmp_path, "gradient")
    with pytest.raises(ConfigError, match="does not exist"):
        property_tests(toy.TOY, ["finite"], examples_dir=tmp_path / "typo")


@pytest.mark.parametrize("statuses", [["below noise"], ["unresolved", "below noise"], []])
def test_a_verdict_with_nothing_resolved_is_inconclusive_never_a_pass(statuses):
    """Rows that resolved nothing (or none at all) prove nothing: inconclusive, not passed (the
    mutant ``vacuous-verdict-passes`` turned exactly this into a pass)."""
    rows = [Row(f"d/d p{i}", 1.0, 1.0, 0.0, status) for i, status in enumerate(statuses)]
    result = derivative_verdict("gradient", rows, [])
    assert result.inconclusive and not result.passed


@pytest.mark.parametrize("rates", [[float("nan"), 2.0], [2.0, float("nan")],
                                   [float("nan")] * 3])
def test_a_nan_taylor_rate_is_a_failure(rates):
    """NaN compares False with everything: a rate that is NaN must not read as >= 1.9 (the
    mutant ``taylor-nan-rate-passes``)."""
    result = TaylorResult(steps=[1e-2, 5e-3, 2.5e-3], remainders=[1.0, 0.25, 0.0625],
                          rates=rates, slope=1.0)
    assert taylor_failure(result) is not None
    assert taylor_failure(TaylorResult([1e-2, 5e-3], [1.0, 0.25], [2.0, 2.01], 1.0)) is None


@pytest.mark.parametrize("bad", [float("inf"), -float("inf"), float("nan")])
def test_an_infinite_or_nan_output_element_is_a_failure(bad):
    """Inf, not only NaN, fails the output guard (the mutant ``infinite-image-unguarded`` let an
    Inf through to the signal test)."""
    image = torch.ones(4, 4, dtype=torch.float64)
    image[1, 2] = bad
    result = unusable(toy.TOY, "finite", image, toy.ToyConfig())
    assert result is not None and not result.passed and not result.inconclusive
    assert "not finite" in result.message


def test_an_inconclusive_example_is_rejected_never_passed():
    """The harness rejects an inconclusive example (Hypothesis counts it; when every example is
    inconclusive the run is Unsatisfiable), never lets it pass (the mutant
    ``inconclusive-passes``)."""
    inconclusive = CheckResult("gradient", False, "nothing resolved", inconclusive=True)

    @settings(max_examples=5, database=None, deadline=None)
    @given(st.integers(0, 9))
    def prop(_: int) -> None:
        judge("gradient", inconclusive, [], lambda failed: "")

    with pytest.raises(Unsatisfiable):
        prop()
