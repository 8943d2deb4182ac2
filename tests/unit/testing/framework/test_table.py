"""The Tier-2 table's reporting: a failing row says what to look at, the target's defaults
become rows, and a capability the target lacks is NOT APPLICABLE in the report."""

from __future__ import annotations

import pytest
import torch

from braggcheck.testing.framework.table import TableCase, default_table, run_case
from braggcheck.testing.framework.target import Capabilities

from ....toy import load_toy

pytestmark = pytest.mark.framework

toy = load_toy()


class ReverseOnly(torch.autograd.Function):
    """Identity; reverse mode scales the derivative by ``factor``; no jvp: forward mode (and
    torch.func.jvp) cannot run it."""

    @staticmethod
    def forward(ctx, value, factor):
        ctx.factor = factor
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


class DistanceOffBy1e3(toy.ToyTarget):
    """A wrong distance derivative through a Function whose jvp torch.func cannot run."""

    factor = 1.001

    def render(self, config, params):
        if "distance_mm" in params:
            params = {**params, "distance_mm": ReverseOnly.apply(params["distance_mm"],
                                                                 self.factor)}
        return super().render(config, params)


class WrongWithoutForwardMode(DistanceOffBy1e3):
    capabilities = Capabilities(forward_mode=False, why="ReverseOnly has no jvp")


class RightWithoutForwardMode(WrongWithoutForwardMode):
    factor = 1.0


def _row(target, parameter="distance_mm", setup="textured"):
    return TableCase((parameter,), setup, target=target, setups=toy.SETUPS)


def test_a_failing_row_reports_every_number_a_scientist_needs():
    outcome = run_case(_row(WrongWithoutForwardMode()))
    report = outcome.report()
    assert report.startswith("distance_mm@textured: FAIL")
    for field in ("parameter       distance_mm", "analytic", "numerical", "error",
                  "tolerance", "measured noise", "step            1e-06", "problem:"):
        assert field in report, field
    d = outcome.derivative
    assert f"{d.analytic:.12e}" in report and f"{d.numerical:.12e}" in report
    assert f"{outcome.atol:.3e}" in report


def test_a_passing_row_reports_forward_against_reverse_and_the_second_derivative():
    report = run_case(_row(toy.TOY, "wavelength_A")).report()
    assert "PASS" in report and "forward/reverse jvp" in report and "d2L/dx2" in report
    assert "problem:" not in report and "NOT APPLICABLE" not in report


def test_forward_mode_is_not_applicable_for_a_target_that_declares_it_missing():
    outcome = run_case(_row(RightWithoutForwardMode()))
    assert outcome.passed, outcome.report()
    assert outcome.not_applicable == [
        "forward mode (gradcheck's forward AD, jvp vs vjp): target toy declares forward_mode "
        "= False (ReverseOnly has no jvp)"]
    assert "NOT APPLICABLE: forward mode" in outcome.report()
    with pytest.raises(RuntimeError):  # declared honestly: torch.func.jvp cannot run it
        run_case(_row(type("Declared", (DistanceOffBy1e3,), {"factor": 1.0})()))


def test_the_defaults_become_rows():
    rows = default_table(toy.TOY, ["distance_mm", "azimuth_deg"])
    assert [r.id for r in rows] == ["distance_mm@default:uniform",
                                    "distance_mm@default:textured",
                                    "azimuth_deg@default:textured"]
    assert rows[0].config() == toy.ToyConfig()
    assert default_table(type("Bare", (toy.ToyTarget,), {"defaults": None})()) == ()
