"""Physical invariants that hold exactly (to float64 rounding) over the valid space."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings

from braggcheck import PARAMETERS
from braggcheck.testing.nanobragg.harness import run_property, with_stored_examples
from braggcheck.testing.nanobragg.strategies.cases import cases
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES


@with_stored_examples("fluence_linearity")
@given(case=cases(shapes=ALL_SHAPES))
def test_image_is_linear_in_fluence(case):
    run_property("fluence_linearity", case, "test_image_is_linear_in_fluence")


PERIODIC = [name for name, parameter in PARAMETERS.items() if parameter.period is not None]
"""Every periodic registry parameter: each is turned on every run, by construction."""


@pytest.mark.parametrize("angle", PERIODIC)
@with_stored_examples("rotation_periodicity")
@settings(max_examples=max(4, settings().max_examples // 4))
@given(case=cases())
def test_whole_turns_change_nothing(angle, case):
    # The drawn case's own angle is replaced, so no periodic parameter is left to chance; a
    # quarter of the profile's examples each keeps the total near one test's worth x 2.
    run_property("rotation_periodicity", replace(case, angle=angle),
                 f"test_whole_turns_change_nothing_{angle}")


@with_stored_examples("misset_equivalence")
@given(case=cases(shapes=ALL_SHAPES))
def test_equal_rotations_give_equal_images(case):
    run_property("misset_equivalence", case, "test_equal_rotations_give_equal_images")


@with_stored_examples("cell_duality")
@given(case=cases())
def test_real_and_reciprocal_bases_are_dual(case):
    run_property("cell_duality", case, "test_real_and_reciprocal_bases_are_dual")


@with_stored_examples("brightest_spot")
@given(case=cases())
def test_brightest_spot_obeys_braggs_law(case):
    run_property("brightest_spot", case, "test_brightest_spot_obeys_braggs_law")


@with_stored_examples("distance_scaling")
@given(case=cases(shapes=ALL_SHAPES))
def test_intensity_scales_as_inverse_distance_squared(case):
    run_property("distance_scaling", case, "test_intensity_scales_as_inverse_distance_squared")


@with_stored_examples("repeatable")
@given(case=cases(shapes=ALL_SHAPES))
def test_same_config_gives_identical_bits(case):
    run_property("repeatable", case, "test_same_config_gives_identical_bits")


@with_stored_examples("valid_config")
@given(case=cases(shapes=ALL_SHAPES))
def test_generated_configs_are_valid(case):
    run_property("valid_config", case, "test_generated_configs_are_valid")
