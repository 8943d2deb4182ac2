"""The source grid: counts and step rules of brief 5.3, grid values, directions, and the
divergence/dispersion registry parameters' gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.sources import divergence_pairs, source_count, source_grid
from braggcheck.testing.framework.derivatives import compare_derivatives
from braggcheck.testing.nanobragg.target import GradientProbe

CELL = "-cell 100 100 100 90 90 90 -default_F 100 -N 5"


def beam_of(args: str):
    return from_nanobragg_args(f"{CELL} {args}").beam


def grid(args: str, lambda_A: float = 1.0):
    beam = beam_of(args)
    like = torch.float64
    return beam, source_grid(beam, torch.tensor([1.0, 0, 0], dtype=like),
                             torch.tensor([0, 0, 1.0], dtype=like), torch.tensor(lambda_A,
                                                                                 dtype=like))


@pytest.mark.parametrize(("steps", "kept"), [(1, 4), (2, 4), (3, 5), (4, 12), (5, 13)])
def test_elliptical_trimming_counts(steps, kept):
    # verified against the reference binary (brief 5.3); a count of 1 with a range becomes 2
    assert source_count(beam_of(f"-divergence 1 -divsteps {steps}")) == kept


@pytest.mark.parametrize("steps", [2, 3, 4, 5])
def test_square_div_keeps_the_whole_raster(steps):
    assert source_count(beam_of(f"-divergence 1 -divsteps {steps} -square_div")) == steps**2


def test_count_only_means_a_one_radian_range():
    # -hdivrange 2 -divsteps 4: horizontal 2 mrad in 4 steps, vertical 1 rad in 4 steps
    beam = beam_of("-hdivrange 2 -divsteps 4")
    assert beam.vdiv_range_mrad == 1000.0
    assert beam.vdiv_step_mrad == 250.0  # range / count, not range / (count - 1)
    assert beam.hdiv_steps == beam.vdiv_steps == 4
    assert source_count(beam) == 14


def test_dispersion_steps_alone_give_one_wavelength():
    beam = beam_of("-dispsteps 3")
    assert beam.dispersion_steps == 1
    assert source_count(beam) == 1


@pytest.mark.parametrize(("args", "steps", "range_", "step"), [
    ("-hdivstep 0.5", 2, 0.5, 0.5),  # step only: range = step
    ("-hdivrange 0.5", 2, 0.5, 0.5),  # range only: step = range
    # ceil(range / step) in the reference's radians: (0.28/1000)/(0.02/1000) is exactly 14.0
    # (in mrad, 0.28/0.02 is 14.000000000000002, which the brief's note rounds up to 15)
    ("-hdivrange 0.28 -hdivstep 0.02", 14, 0.28, 0.02),
    ("-hdivsteps 4 -hdivstep 0.1", 2, 0.1, 0.1),  # count + step: the count is overridden
    ("-hdivsteps 5 -hdivrange 1", 5, 1.0, 0.25),  # count + range: range / (count - 1)
    ("-hdivsteps 1 -hdivrange 1", 2, 1.0, 1.0),  # ... with the count raised to 2
    ("-hdivsteps 3 -hdivrange 1 -hdivstep 0.1", 3, 1.0, 0.1),  # all three as given
    ("-hdivrange 1 -hdivstep 0", 2, 1.0, 1.0),  # a step <= 0 counts as unset
])
def test_step_rules(args, steps, range_, step):
    beam = beam_of(args)
    resolved = beam.hdiv_step_mrad if beam.hdiv_step_mrad is not None else (
        beam.hdiv_range_mrad / (beam.hdiv_steps - 1))
    assert (beam.hdiv_steps, beam.hdiv_range_mrad) == (steps, pytest.approx(range_))
    assert resolved == pytest.approx(step)


def test_later_flags_win_per_axis():
    assert beam_of("-hdivrange 1 -divergence 2").hdiv_range_mrad == 2.0
    assert beam_of("-divergence 2 -hdivrange 1").hdiv_range_mrad == 1.0
    assert beam_of("-hdivsteps 3 -divsteps 4 -divergence 1").hdiv_steps == 4


def test_grid_values_and_order():
    # horizontal outer, vertical inner, values step * i - range / 2 (mrad)
    pairs = divergence_pairs(beam_of("-divergence 0.4 -divsteps 3 -square_div"))
    values = [-0.2, 0.0, 0.2]
    expected = [(h, v) for h in values for v in values]
    np.testing.assert_allclose(np.array(pairs), np.array(expected), rtol=1e-12, atol=1e-15)


def test_wavelengths_and_dispersion_innermost():
    _, sources = grid("-dispersion 2 -dispsteps 3 -hdivrange 0.4 -hdivsteps 2", 1.5)
    expected = [1.5e-10 * (1 + f) for f in (-0.01, 0.0, 0.01)] * 2
    assert sources.wavelength.numpy() == pytest.approx(expected, rel=1e-15)
    assert torch.equal(sources.incident[0], sources.incident[2])
    assert not torch.equal(sources.incident[2], sources.incident[3])


def rodrigues(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    return (v * math.cos(angle) + np.cross(axis, v) * math.sin(angle)
            + axis * (axis @ v) * (1 - math.cos(angle)))


def test_source_directions_rotate_about_polarization_then_vertical():
    _, sources = grid("-hdivrange 4 -vdivrange 2 -hdivsteps 2 -vdivsteps 2 -square_div")
    beam, polar = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
    vertical = np.cross(beam, polar)
    expected = []
    for h in (-2e-3, 2e-3):
        for v in (-1e-3, 1e-3):
            position = rodrigues(rodrigues(-10 * beam, polar, v), vertical, h)
            expected.append(-position / np.linalg.norm(position))
    assert sources.incident.numpy() == pytest.approx(np.array(expected), abs=1e-15)


def test_divergence_parameter_scales_the_whole_grid():
    config = from_nanobragg_args(f"{CELL} -hdivrange 1 -vdivrange 0.5 -divsteps 3")
    beam = config.beam
    like = torch.float64
    args = (torch.tensor([1.0, 0, 0], dtype=like), torch.tensor([0, 0, 1.0], dtype=like),
            torch.tensor(1.0, dtype=like))
    scaled = source_grid(beam, *args, divergence_mrad=torch.tensor(2.0, dtype=like))
    doubled = from_nanobragg_args(f"{CELL} -hdivrange 2 -vdivrange 1 -divsteps 3")
    reference = source_grid(doubled.beam, *args)
    assert torch.allclose(scaled.incident, reference.incident, atol=1e-15)


GRADIENT_CASES = {
    "divergence_mrad": "-divergence 2 -divsteps 3",
    "dispersion": "-dispersion 2 -dispsteps 3",
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_is_finite_nonzero_and_matches_finite_differences(name):
    config = from_nanobragg_args(
        f"{CELL} -misset 10 20 30 -detpixels 24 {GRADIENT_CASES[name]}")
    probe = GradientProbe(config, (name,))
    # Richardson extrapolation of central differences at steps 2e-3 and 1e-3: the folded
    # Miller-index projection (simulator.hkl_projection) rounds h to ~1e-14 absolute, so the
    # loss is rough at the 1e-14 level and steps below ~1e-4 measure rounding, not slope;
    # with larger steps the O(eps^2) truncation is what must go, and extrapolation removes it.
    (coarse,) = compare_derivatives(probe, eps=2e-3)
    (fine,) = compare_derivatives(probe, eps=1e-3)
    extrapolated = (4 * fine.numerical - coarse.numerical) / 3
    assert math.isfinite(fine.analytic) and fine.analytic != 0.0
    assert fine.above_noise
    # measured 7e-8 (dispersion) and 5e-10 (divergence)
    assert abs(fine.analytic - extrapolated) < 1e-6 * abs(extrapolated)


def test_divergence_and_dispersion_change_the_image():
    base = from_nanobragg_args(f"{CELL} -detpixels 16 -divergence 1 -divsteps 3 "
                                      "-dispersion 1 -dispsteps 3")
    image = simulate(base)
    wider = simulate(base, {"divergence_mrad": torch.tensor(3.0, dtype=torch.float64)})
    broader = simulate(base, {"dispersion": torch.tensor(3.0, dtype=torch.float64)})
    assert not torch.allclose(image, wider)
    assert not torch.allclose(image, broader)
