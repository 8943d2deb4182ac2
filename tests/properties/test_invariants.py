"""Physical invariants that hold exactly (to float64 rounding) over the valid space."""

from __future__ import annotations

from hypothesis import given

from braggcheck.harness import run_property, with_stored_examples
from braggcheck.strategies import ALL_SHAPES, cases


@with_stored_examples("fluence_linearity")
@given(case=cases(shapes=ALL_SHAPES))
def test_image_is_linear_in_fluence(case):
    run_property("fluence_linearity", case, "test_image_is_linear_in_fluence")


@with_stored_examples("rotation_periodicity")
@given(case=cases())
def test_whole_turns_change_nothing(case):
    run_property("rotation_periodicity", case, "test_whole_turns_change_nothing")


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
