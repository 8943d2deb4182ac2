"""Every case of a fused-branch strategy reaches its branch when its gradient is recorded: the
fused node runs over several chunks, or the fused lattice derivative runs with N = 2."""

from __future__ import annotations

import pytest

from braggcheck import Config
from braggcheck.sim import fused_lattice, fused_pixels
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.strategies.branches import FUSED_BRANCHES, fused_branch_cases
from braggcheck.testing.nanobragg.strategies.cases import derandomized_sample
from braggcheck.testing.nanobragg.target import GradientProbe

SAMPLE = 6
"""Cases drawn per branch (each is simulated once, with a gradient recorded)."""


def _reached(case: Case, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many chunks the largest fused node covered and how many N = 2 axes the fused
    lattice derivative met, while the case's image and its gradient are computed (recomputed
    chunks run the fused node in the backward pass)."""
    seen = {"chunks": 0, "two_cell_axes": 0}
    chunks, squared_and_slope = fused_pixels._chunks, fused_lattice._squared_and_slope

    def counted_chunks(pixels, setup):
        pieces = list(chunks(pixels, setup))
        seen["chunks"] = max(seen["chunks"], len(pieces))
        return iter(pieces)

    def counted_slope(y, cells, axis, work):
        seen["two_cell_axes"] += cells == 2
        return squared_and_slope(y, cells, axis, work)

    monkeypatch.setattr(fused_pixels, "_chunks", counted_chunks)
    monkeypatch.setattr(fused_lattice, "_squared_and_slope", counted_slope)
    probe = GradientProbe(case.config, case.names)
    with case.simulation():
        probe.image(probe.point().requires_grad_(True)).sum().backward()
    return seen


@pytest.mark.parametrize("branch", FUSED_BRANCHES)
def test_every_case_reaches_its_branch(branch, monkeypatch):
    for case in derandomized_sample(fused_branch_cases(branch), SAMPLE):
        reached = _reached(case, monkeypatch)
        if branch == "stored_chunks":
            assert reached["chunks"] >= 2, (case, reached)
        else:
            assert reached["two_cell_axes"] > 0, (case, reached)
        assert not set(case.names) & {"n_a", "n_b", "n_c"}


def test_the_reach_probe_sees_a_case_off_both_branches(monkeypatch):
    """The counts above can be 0: a small default case (one chunk, N = 5) reaches neither."""
    case = Case(config=Config().replace(fpixels=16, spixels=16))
    assert _reached(case, monkeypatch) == {"chunks": 1, "two_cell_axes": 0}


def test_an_unknown_branch_is_refused():
    with pytest.raises(ValueError, match="branch 'nothing': valid: stored_chunks, two_cells"):
        fused_branch_cases("nothing")
