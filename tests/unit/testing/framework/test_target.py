"""The target protocol's optional declarations: capabilities, defaults, special values, and the
reason a check does not apply."""

from __future__ import annotations

from typing import ClassVar

import pytest

from braggcheck.testing.framework.target import (
    Capabilities,
    ParameterSpec,
    capabilities,
    defaults,
    not_applicable,
    special_values,
)
from braggcheck.util.errors import ConfigError

from ....toy import load_toy

pytestmark = pytest.mark.framework

toy = load_toy()


class Bare:
    """A target that declares nothing optional (only what not_applicable reads)."""

    name = "bare"
    parameters: ClassVar = {"x": ParameterSpec("x", "", 1.0, (0.0, None), (0.5, 2.0), 1.0)}


def test_undeclared_capabilities_are_all_supported_and_defaults_are_none():
    assert capabilities(Bare()) == Capabilities(forward_mode=True)
    assert defaults(Bare()) == {}
    assert [not_applicable(Bare(), c) for c in ("gradient", "forward_reverse")] == [None, None]


def test_a_missing_capability_and_missing_parameters_kinds_are_reasons():
    class NoForward(Bare):
        capabilities = Capabilities(forward_mode=False, why="a custom Function without jvp")

    assert not_applicable(NoForward(), "forward_reverse") == (
        "target bare declares forward_mode = False (a custom Function without jvp)")
    assert "no periodic parameter" in not_applicable(Bare(), "periodicity")
    assert "no linear parameter" in not_applicable(Bare(), "linearity")
    assert not_applicable(toy.TOY, "periodicity") is None  # the toy's azimuth is periodic


def test_a_bad_declaration_is_a_one_line_config_error():
    class Wrong(Bare):
        capabilities: ClassVar = {"forward_mode": False}

        def defaults(self):
            return {"": None}

    with pytest.raises(ConfigError, match=r"must be a braggcheck\.testing\.Capabilities"):
        capabilities(Wrong())
    with pytest.raises(ConfigError, match="non-empty names"):
        defaults(Wrong())


def test_defaults_are_read_from_the_method():
    assert defaults(toy.TOY) == {"uniform": toy.ToyConfig(),
                                 "textured": toy.ToyConfig(texture=0.5, azimuth_deg=20.0)}


def test_special_values_are_the_baseline_zero_whole_turns_and_declared_ones_inside_the_range():
    azimuth = toy.PARAMETERS["azimuth_deg"]
    assert special_values(azimuth) == (0.0, -180.0, 180.0)
    assert special_values(toy.PARAMETERS["amplitude"]) == (1000.0,)  # 0 is not valid
    spec = ParameterSpec("t", "", 2.0, (0.0, 10.0), (1.0, 3.0), 1.0, closed=(True, False),
                         special=(5.0, 11.0))
    assert special_values(spec) == (2.0, 0.0, 5.0)  # 11 lies outside the valid range
