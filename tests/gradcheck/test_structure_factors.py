"""Tier 2 for the vector parameter ``structure_factors``: its rows pass, cover the registry's
vector parameters, and a gradient 1 % off is caught."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from braggcheck.sim.registry import VECTOR_PARAMETERS
from braggcheck.testing.nanobragg.tier2.table import missing_parameters
from braggcheck.testing.nanobragg.tier2.vectors import ONE_HOT, VECTOR_CASES
from braggcheck.testing.nanobragg.vector_gradients import VectorProbe, check_structure_factors

from ..planted import ScaledGradient


@pytest.mark.parametrize("case", VECTOR_CASES, ids=[c.id for c in VECTOR_CASES])
def test_the_vector_rows_pass(case):
    results = case.run()
    assert len(results) == 1 + ONE_HOT, "the window must hold enough reflections' spots"
    problems = [p for result in results for p in result.problems]
    assert not problems, "; ".join(problems)
    assert all(abs(r.numerical) > 0 and r.second != 0 for r in results)


def test_every_vector_parameter_has_a_row():
    assert not missing_parameters()
    extra = dataclasses.replace(VECTOR_PARAMETERS["structure_factors"], name="new_vector")
    assert missing_parameters(registry={"new_vector": extra}) == ["new_vector"]


class _ScaledProbe(VectorProbe):
    """The amplitudes' gradient scaled by 1.01: forward and reverse mode agree, the
    differences do not."""

    def image(self, x: torch.Tensor) -> torch.Tensor:
        return super().image(ScaledGradient.apply(x, 1.01))


def test_a_gradient_one_percent_off_is_caught():
    config = VECTOR_CASES[0].config()
    results = check_structure_factors(_ScaledProbe(config), 0, [], second=False)
    (problem,) = results[0].problems
    assert "reverse mode" in problem and "differs from the differences" in problem
