"""Which registry parameters an image depends on: exactly those, no more, no fewer."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from braggcheck import PARAMETERS, Config
from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.source_list import SourceList
from braggcheck.testing.nanobragg.target import GradientProbe


def test_applicable_parameters_follow_the_registry_needs():
    baseline = applicable_parameters(Config())
    assert {"divergence_mrad", "dispersion", "mosaic_spread_deg"}.isdisjoint(baseline)
    assert "polarization" in baseline
    grid = Config().replace(hdiv_range_mrad=1.0, hdiv_steps=3, dispersion_pct=0.5,
                            dispersion_steps=2, nopolar=True)
    names = applicable_parameters(grid)
    assert {"divergence_mrad", "dispersion"} <= set(names) and "polarization" not in names
    # Steps without a range (or a range with one step) is still a single source.
    single = Config().replace(hdiv_steps=3, dispersion_pct=0.5)
    assert {"divergence_mrad", "dispersion"}.isdisjoint(applicable_parameters(single))


def probe_gradient(config: Config, names: tuple[str, ...]) -> torch.Tensor | None:
    """The gradient of the probe's loss in ``names`` (None where no graph reaches them)."""
    probe = GradientProbe(config, names)
    leaf = probe.point().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(probe.loss(leaf), leaf, allow_unused=True)
    return grad


def left_out_gradient(config: Config) -> tuple[list[str], torch.Tensor | None]:
    left_out = [n for n in PARAMETERS if n not in applicable_parameters(config)]
    return left_out, probe_gradient(config, tuple(left_out))


def test_parameters_left_out_have_an_identically_zero_derivative():
    config = Config().replace(fpixels=12, spixels=12, oversample=1, nopolar=True,
                              hdiv_steps=3, dispersion_pct=0.5)
    left_out, grad = left_out_gradient(config)
    assert {"divergence_mrad", "dispersion", "polarization", "mosaic_spread_deg"} <= set(
        left_out)
    assert grad is None or torch.equal(grad, torch.zeros_like(grad))


GRID = Config().replace(fpixels=12, spixels=12, oversample=1, hdiv_range_mrad=1.0,
                        hdiv_steps=3, dispersion_pct=0.5, dispersion_steps=2)
"""A divergence and dispersion grid, which a source file replaces."""
POSITIONS = ((-10.0, 0.0, 0.0), (-10.0, 0.01, 0.0))


@pytest.mark.parametrize("wavelengths, lambda_used", [((1.0, 1.1), False),
                                                      ((None, 1.1), True)])
def test_a_source_file_takes_the_grid_and_its_own_wavelengths_out(wavelengths, lambda_used):
    """-sourcefile replaces the divergence/dispersion grid; a source with its own wavelength
    does not use lambda_A. A parameter listed as applicable there would be demanded of every
    gradient check with a derivative that is identically 0."""
    config = GRID.replace(beam=replace(GRID.beam, sources=SourceList(POSITIONS, wavelengths)))
    names = applicable_parameters(config)
    assert {"divergence_mrad", "dispersion"}.isdisjoint(names)
    assert ("lambda_A" in names) == lambda_used
    left_out, grad = left_out_gradient(config)
    assert grad is None or torch.equal(grad, torch.zeros_like(grad)), left_out
    if lambda_used:  # and the one it keeps is really used
        used = probe_gradient(config, ("lambda_A",))
        assert used is not None and torch.all(used != 0)
