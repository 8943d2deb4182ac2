"""The small checks behind every field: one line naming the field, the value and the range."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck.util.validation import (
    check_bool,
    check_int,
    check_number,
    check_vector,
    describe_range,
)

from ..error_message import one_line_message

_message = one_line_message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, torch.tensor(math.nan)])
def test_non_finite_numbers_are_rejected(value: object) -> None:
    assert _message(check_number, "lambda_A", value, 0.0).startswith("lambda_A = ")


@pytest.mark.parametrize("value", ["1.0", None, True, [1.0], 1j, torch.ones(2),
                                   torch.tensor(True), torch.tensor(1 + 1j)])
def test_wrong_types_are_rejected(value: object) -> None:
    assert _message(check_number, "cell_a", value).startswith("cell_a: expected a")


def test_range_message_names_field_value_and_interval() -> None:
    text = _message(check_number, "polarization", 1.5, -1.0, 1.0, low_inclusive=True,
                    high_inclusive=True)
    assert text == "polarization = 1.5 is out of range; valid: [-1, 1]"
    assert "valid: > 0" in _message(check_number, "distance_mm", torch.tensor(0.0), 0.0)


def test_inclusive_edges_are_accepted_and_open_edges_rejected() -> None:
    check_number("mosaic_spread_deg", 0.0, 0.0, 90.0, low_inclusive=True)
    check_number("polarization", torch.tensor(-1.0, requires_grad=True), -1.0, 1.0,
                 low_inclusive=True, high_inclusive=True)
    _message(check_number, "mosaic_spread_deg", 90.0, 0.0, 90.0, low_inclusive=True)
    _message(check_number, "mosaic_spread_deg", -0.0 - 1e-300, 0.0, 90.0, low_inclusive=True)


def test_integers_reject_bools_floats_and_out_of_range() -> None:
    assert "expected an integer" in _message(check_int, "n_a", True, 1)
    assert "expected an integer" in _message(check_int, "n_a", 5.0, 1)
    assert _message(check_int, "n_a", 0, 1, 1000) == (
        "n_a = 0 is out of range; valid: an integer >= 1 and <= 1000")
    check_int("n_a", 1000, 1, 1000)


def test_bools_must_be_bools() -> None:
    check_bool("nopolar", False)
    assert "expected True or False" in _message(check_bool, "nopolar", "false")
    assert "expected True or False" in _message(check_bool, "nopolar", 0)


@pytest.mark.parametrize("value", [(0, 0, 0), (1, 0), (1, 0, 0, 0), (math.nan, 0, 1),
                                   (1, "a", 0), "1 0 0", (torch.ones(2), 0, 0)])
def test_bad_vectors_are_rejected(value: object) -> None:
    assert _message(check_vector, "spindle_axis", value).startswith("spindle_axis")


def test_describe_range() -> None:
    assert describe_range(None, None) == "any finite number"
    assert describe_range(0.0, None, True) == ">= 0"
    assert describe_range(0.0, 180.0) == "(0, 180)"


def test_an_int_beyond_the_float_range_is_not_finite() -> None:
    text = _message(check_number, "cell_a", 10**400, 0.0)
    assert text.startswith("cell_a = 1000") and "is not finite" in text and len(text) < 120
