"""Gradient properties: analytic vs numerical derivatives, forward vs reverse mode.

Parameter subsets, configurations, pixel weights and directions are all drawn by Hypothesis
(``braggcheck.testing.nanobragg.strategies.cases.cases``); the checks live in
``braggcheck.testing.nanobragg.checks`` so that
``braggcheck replay`` reruns exactly what failed here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from braggcheck.testing.nanobragg.harness import run_property, with_stored_examples
from braggcheck.testing.nanobragg.strategies.branches import BRANCHES, branch_cases
from braggcheck.testing.nanobragg.strategies.cases import cases


@with_stored_examples("gradient")
@given(case=cases())
def test_gradient_matches_finite_differences(case):
    run_property("gradient", case, "test_gradient_matches_finite_differences")


@with_stored_examples("forward_reverse")
@given(case=cases(max_names=6))
def test_forward_mode_equals_reverse_mode(case):
    run_property("forward_reverse", case, "test_forward_mode_equals_reverse_mode")


@with_stored_examples("finite")
@given(case=cases(shapes=("square", "round", "gauss", "tophat")))
def test_images_and_gradients_are_finite(case):
    run_property("finite", case, "test_images_and_gradients_are_finite")


@pytest.mark.parametrize("branch", BRANCHES)
@pytest.mark.parametrize("check", ["gradient", "forward_reverse"])
@settings(max_examples=max(4, settings().max_examples // 8))
@given(data=st.data())
def test_derivatives_hold_on_each_fused_branch(check, branch, data):
    # The general draws above meet these branches only by a joint chance (none did in a ci
    # run: braggcheck.testing.branch_strategies); here every example is on the branch. An
    # eighth of the profile's examples each. dmin_cut: a -dmin cut placed so that no
    # finite-difference step moves a sample across it (strategies/resolution_cut.py).
    case = data.draw(branch_cases(branch), label="case")
    run_property(check, case, f"test_derivatives_hold_on_each_fused_branch_{check}_{branch}")
