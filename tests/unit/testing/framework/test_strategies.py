"""Strategies draw every parameter exactly at its baseline and its special values, not only at
random: a shortcut branch at an exact value is otherwise never reached."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from braggcheck.testing.framework import strategies
from braggcheck.testing.framework.strategies import (
    MIN_STREAM_EXAMPLES,
    SAMPLE_STREAMS,
    derandomized_sample,
    parameter_values,
    perturbed_configs,
    target_cases,
)

from ....toy import load_toy

pytestmark = pytest.mark.framework

toy = load_toy()


class FixedToy(toy.ToyTarget):
    """Draws one configuration only: every other value comes from the perturbation."""

    def configs(self):
        return st.just(toy.ToyConfig(texture=0.5))

    def accepts(self, config, name, value):
        return name != "width_px" and super().accepts(config, name, value)


@pytest.mark.parametrize("value", [0.0, 180.0, -180.0])
def test_a_periodic_parameter_is_drawn_exactly_at_zero_and_whole_turns(value):
    assert find(parameter_values(toy.PARAMETERS["azimuth_deg"]), lambda v: v == value) == value


def test_a_parameter_shrinks_to_its_baseline_and_is_also_drawn_at_random():
    spec = toy.PARAMETERS["distance_mm"]
    assert find(parameter_values(spec), lambda v: True) == spec.baseline
    assert find(parameter_values(spec), lambda v: v not in (spec.baseline, 0.0)) != 100.0


def test_drawn_configurations_are_moved_to_exact_special_values_through_with_value():
    config = find(perturbed_configs(FixedToy()), lambda c: c.azimuth_deg == -180.0)
    assert config == toy.ToyConfig(texture=0.5, azimuth_deg=-180.0)


@settings(max_examples=40, derandomize=True, database=None, deadline=None)
@given(config=perturbed_configs(FixedToy()))
def test_a_value_the_target_does_not_accept_is_never_set(config):
    assert config.width_px == toy.ToyConfig().width_px
    assert config.amplitude > 0  # the open valid range excludes 0


def test_without_with_value_the_drawn_configuration_is_kept():
    class Plain(FixedToy):
        with_value = None

    assert find(perturbed_configs(Plain()), lambda c: True) == dataclasses.replace(
        toy.ToyConfig(), texture=0.5)


class PinnedAtSixteen(toy.ToyTarget):
    """On a 16-pixel detector the distance may not move (a joint constraint): there it
    cannot be stepped, so no case is focused on it."""

    def accepts(self, config, name, value):
        pinned = name == "distance_mm" and config.pixels == 16 and value != config.distance_mm
        return not pinned and super().accepts(config, name, value)


def test_a_focused_case_is_one_where_its_parameter_applies_and_can_be_stepped():
    target = PinnedAtSixteen()
    focused = derandomized_sample(target_cases(target, max_names=2, focus="distance_mm"), 10)
    assert focused and all(c.names[0] == "distance_mm" and c.config.pixels != 16
                           for c in focused)
    assert any(c.config.pixels == 16 for c in derandomized_sample(target_cases(target), 10))
    textured = derandomized_sample(target_cases(toy.TOY, focus="azimuth_deg"), 10)
    assert all(c.config.texture > 0 and c.names[0] == "azimuth_deg" for c in textured)


def test_a_smaller_derandomized_sample_is_the_start_of_a_larger_one():
    """A small sample may be taken as the start of a larger one, without drawing it again: a
    sample of k x MIN_STREAM_EXAMPLES values (2 <= k <= SAMPLE_STREAMS) is k seeded runs of
    MIN_STREAM_EXAMPLES, the first k of the larger sample's. (One run's worth is a single
    derandomized run, not seeded: not a prefix.)"""
    values = st.tuples(st.integers(), st.floats(allow_nan=False), st.text(max_size=3))
    large = SAMPLE_STREAMS * MIN_STREAM_EXAMPLES
    full = derandomized_sample(values, large)
    assert len(full) == large
    for count in (2 * MIN_STREAM_EXAMPLES, 4 * MIN_STREAM_EXAMPLES,
                  large - MIN_STREAM_EXAMPLES):
        assert derandomized_sample(values, count) == full[:count], count


ODD_CONSTANTS = '''"""Constants Hypothesis would draw from, were they local and loaded."""
INTEGERS = (123457, -987653, 2**40 + 7, 31337, -4242)
FLOATS = (0.3141592, -2718.28, 6.02e23, 1.6e-19, 299792.458)
STRINGS = ("odd constant", "zz9 plural z", "qwerty", "braggcheck?")
'''



def test_a_derandomized_sample_does_not_change_when_a_local_module_is_loaded(tmp_path,
                                                                             monkeypatch):
    """Hypothesis draws constants of the local modules loaded so far: without the switch a
    sample would differ with the tests run before it (or a pytest-xdist worker, or an edit of
    an unrelated file). The module's constants do reach a draw made without it."""
    from hypothesis.internal.conjecture import providers

    values = st.tuples(st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
    count = 4 * MIN_STREAM_EXAMPLES

    def unswitched() -> list:
        with monkeypatch.context() as patch:
            patch.setattr(strategies, "without_local_constants", contextlib.nullcontext)
            return derandomized_sample(values, count)

    before, unswitched_before = derandomized_sample(values, count), unswitched()
    # Hypothesis keeps the constants it has collected: restored after, so the module changes
    # no other test's draws.
    monkeypatch.setattr(providers, "_local_constants", providers._local_constants)
    monkeypatch.setattr(providers, "_sys_modules_len", providers._sys_modules_len)
    (tmp_path / "odd_constants_module.py").write_text(ODD_CONSTANTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("odd_constants_module")
    try:
        assert derandomized_sample(values, count) == before
        assert unswitched() != unswitched_before, "the module's constants reached no draw"
    finally:
        del sys.modules["odd_constants_module"]
        providers.CONSTANTS_CACHE.cache.clear()  # built with the module's constants
