"""Every case of a branch strategy reaches its branch when its gradient is recorded: the
fused node runs over several chunks, or the fused lattice derivative runs with N = 2, or a
-dmin cut has samples on both sides that no finite-difference step moves across, or a ROUND
sample lies in the series arm with a cell count differentiated, or the fused node's forward
mode has a tangent on the detector plane and none on pix0."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from braggcheck import Config
from braggcheck.sim import fused_lattice, fused_pixels, pixel_features, resolution
from braggcheck.sim.crystal_size import AXES as CELL_COUNTS
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import baseline_value
from braggcheck.testing.framework.derivatives import forward_mode_derivative
from braggcheck.testing.nanobragg.branch_reach import reached_arms
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.regions import guard_region
from braggcheck.testing.nanobragg.strategies.branches import (
    CELL_ANGLES,
    FUSED_BRANCHES,
    branch_cases,
    fused_branch_cases,
    resolution_cut_cases,
    unreaching_names,
)
from braggcheck.testing.nanobragg.strategies.cases import derandomized_sample
from braggcheck.testing.nanobragg.strategies.resolution_cut import (
    GEOMETRY,
    REACH,
    dmin_for,
    sample_resolutions,
)
from braggcheck.testing.nanobragg.strategies.round_node import (
    NEAR_NODE_X2,
    SERIES_X2,
    node_distances,
)
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


def test_under_a_matrix_the_cell_angles_do_not_reach_a_square_crystal():
    """Why the fused branches leave them out under -mat (a drawn two_cells case differentiated
    cell_alpha alone, and no gradient reached the fused node)."""
    turned = 0.01 / 2**0.5
    config = Config().replace(fpixels=8, spixels=8, reciprocal_matrix=(
        (0.01, 0.0, 0.0), (0.0, turned, turned), (0.0, -turned, turned)))
    for name in (*CELL_ANGLES, "cell_a"):
        value = torch.tensor(baseline_value(config, name), dtype=torch.float64,
                             requires_grad=True)
        reached = simulate(config, {name: value}).requires_grad
        assert reached == (name not in unreaching_names(config)), name
    assert not set(CELL_ANGLES) & unreaching_names(config.replace(reciprocal_matrix=None))


def test_the_reach_probe_sees_a_case_off_both_branches(monkeypatch):
    """The counts above can be 0: a small default case (one chunk, N = 5) reaches neither."""
    case = Case(config=Config().replace(fpixels=16, spixels=16))
    assert _reached(case, monkeypatch) == {"chunks": 1, "two_cell_axes": 0}


def test_an_unknown_branch_is_refused():
    with pytest.raises(ValueError, match="branch 'nothing': valid: stored_chunks, two_cells"):
        fused_branch_cases("nothing")


# ---- the dmin_cut branch -------------------------------------------------------------------

CUT_SAMPLE = 4
"""dmin_cut cases drawn (each rendered at its point and at +-REACH along every name)."""


def _kept_samples(config: Config, values: dict[str, float],
                  monkeypatch: pytest.MonkeyPatch) -> torch.Tensor:
    """Every sample-within-cut decision the simulator itself makes while it renders ``config``
    at ``values`` (its own within_cut and kept_samples, spied), flat, in call order."""
    seen: list[torch.Tensor] = []

    def spied(function):
        def wrapper(*args):
            kept = function(*args)
            seen.append(kept.reshape(-1))
            return kept
        return wrapper

    monkeypatch.setattr(resolution, "within_cut", spied(resolution.within_cut))
    monkeypatch.setattr(pixel_features, "within_cut", spied(pixel_features.within_cut))
    monkeypatch.setattr(resolution, "kept_samples", spied(resolution.kept_samples))
    try:
        with torch.no_grad():
            simulate(config, {n: torch.tensor(v, dtype=torch.float64)
                              for n, v in values.items()})
    finally:
        monkeypatch.undo()
    assert seen, "the simulator made no cut decision"
    return torch.cat(seen)


def _sides_kept_over_the_reach(case: Case, monkeypatch: pytest.MonkeyPatch) -> torch.Tensor:
    """The decisions at the case's point, after asserting that they are the same at +-REACH
    (scaled units) along each differentiated name and along the drawn direction (largest entry
    1): the farthest the finite-difference check moves them."""
    config = case.config
    centre = _kept_samples(config, {}, monkeypatch)
    direction = case.direction_tensor()
    direction = direction / direction.abs().max()
    steps = [{name: 1.0} for name in case.names]
    steps.append(dict(zip(case.names, direction.tolist(), strict=True)))
    for step in steps:
        for k in (-1, 1):
            values = {n: baseline_value(config, n) + k * d * REACH * PARAMETERS[n].scale
                      for n, d in step.items()}
            moved = _kept_samples(config, values, monkeypatch)
            assert torch.equal(moved, centre), (step, k, int((moved != centre).sum()))
    return centre


def test_every_dmin_case_cuts_part_of_its_samples_and_no_step_moves_one_across(monkeypatch):
    for case in derandomized_sample(branch_cases("dmin_cut"), CUT_SAMPLE):
        kept = _sides_kept_over_the_reach(case, monkeypatch)
        assert kept.any() and not kept.all(), case.config.detector.dmin_A
        assert case.names[0] in GEOMETRY and not case.config.beam.nopolar


def test_the_reach_check_sees_a_cut_on_a_sample(monkeypatch):
    """A cut through a sample's resolution (dmin moved onto one) is crossed within the reach:
    the assertion above can fail."""
    case = derandomized_sample(branch_cases("dmin_cut"), 1)[0]
    q = sample_resolutions(case.config).reshape(-1)
    on_one = float(q.sort().values[len(q) // 2])
    crossed = replace(case, config=case.config.replace(dmin_A=dmin_for(on_one)))
    with pytest.raises(AssertionError):
        _sides_kept_over_the_reach(crossed, monkeypatch)


PATH_SAMPLE = 3
"""Cases of the dmin_cut branch's pixel_polarization path traced."""


def test_every_pixel_polarization_dmin_case_reaches_both_arms_of_the_first_kept_sample():
    """Per-subpixel features with the polarization per pixel, and a pixel wholly cut beside one
    with a kept sample: both arms of each first_kept_polarization guard, in every case."""
    arms = {guard_region("pixel_features.py", f"first_kept_polarization#{k}", taken)
            for k in (1, 2) for taken in (True, False)}
    for case in derandomized_sample(resolution_cut_cases(path="pixel_polarization"),
                                    PATH_SAMPLE):
        det = case.config.detector
        assert not det.oversample_polar and not case.config.beam.nopolar
        assert arms <= reached_arms(case), (arms - reached_arms(case), case)


def test_every_pixel_factors_dmin_case_takes_the_polarization_per_pixel():
    """No per-subpixel feature: the image's -dmin polarization is pixel_factors' (where a
    detached diffracted direction once passed, the other path having taken its draws)."""
    arms = {guard_region("pixel_features.py", f"first_kept_polarization#{k}", taken)
            for k in (1, 2) for taken in (True, False)}
    for case in derandomized_sample(resolution_cut_cases(path="pixel_factors"), PATH_SAMPLE):
        det = case.config.detector
        assert not (det.curved_detector or det.oversample_thick or det.oversample_polar
                    or det.oversample_omega), case
        assert not case.config.beam.nopolar and det.dmin_A is not None
        assert not arms & reached_arms(case), case  # the per-subpixel path is not taken


def test_the_dmin_cut_branch_names_its_paths():
    with pytest.raises(ValueError, match="path 'nothing': valid: pixel_factors, "
                                         "pixel_polarization"):
        derandomized_sample(resolution_cut_cases(path="nothing"), 1)


# ---- the round_node and plane_tangent branches ---------------------------------------------

NODE_SAMPLE = 3
"""round_node / plane_tangent cases drawn (each traced or run in forward mode once)."""


def test_every_round_node_case_reaches_the_continuous_series_arm():
    for case in derandomized_sample(branch_cases("round_node"), NODE_SAMPLE):
        assert case.config.crystal.shape == "round" and case.names[0] in CELL_COUNTS
        x2 = node_distances(case.config)
        assert ((x2 > NEAR_NODE_X2 / 4) & (x2 < SERIES_X2)).any(), float(x2.min())
        arms = reached_arms(case)
        for site in ("_sphere_transform#1", "_sphere_transform#2"):
            assert guard_region("crystal_size.py", site, True) in arms, (site, case)


def test_the_node_distance_sees_a_beam_on_no_sample():
    """node_distances can fail the assertion above: the default case's nearest sample is far
    outside the series arm."""
    config = Config().replace(fpixels=16, spixels=16, shape="round")
    assert float(node_distances(config).min()) > SERIES_X2


def _plane_tangents(case: Case, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, bool]]:
    """(tangent on pix0, tangent on the plane) of every call of the fused node's forward-mode
    rule while the case's forward-mode derivative is computed."""
    seen: list[tuple[bool, bool]] = []
    jvp = fused_pixels._FusedPixelIntensity.jvp

    def spied(ctx, d_pix0, d_plane, *rest):
        seen.append((d_pix0 is not None, d_plane is not None))
        return jvp(ctx, d_pix0, d_plane, *rest)

    monkeypatch.setattr(fused_pixels._FusedPixelIntensity, "jvp", staticmethod(spied))
    probe = GradientProbe(case.config, case.names)
    with case.simulation():
        forward_mode_derivative(probe, case.direction_tensor())
    return seen


def test_every_plane_tangent_case_runs_the_fused_jvp_with_no_pix0_tangent(monkeypatch):
    for case in derandomized_sample(branch_cases("plane_tangent"), NODE_SAMPLE):
        assert set(_plane_tangents(case, monkeypatch)) == {(False, True)}, case


def test_the_tangent_spy_sees_a_pix0_tangent(monkeypatch):
    """The spy above tells the arms apart: distance_mm moves pix0 (and not the plane of a
    thin detector)."""
    case = Case(config=Config().replace(fpixels=16, spixels=16), names=("distance_mm",))
    assert set(_plane_tangents(case, monkeypatch)) == {(True, False)}
