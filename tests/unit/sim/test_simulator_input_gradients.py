"""Gradients through the file-input features, float64: misset and cell through ``-mat``,
lambda through sources without their own wavelength, masked pixels (exactly 0), and the
gradient inside a ``-dmin`` cut."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from braggcheck import Config, simulate
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.sim.source_list import SourceList
from braggcheck.sim.state import baseline_value

MATRIX = ((-0.0067264, 0.0055110, -0.0055456), (0.0082586, 0.0028428, -0.0044933),
          (-0.0036270, -0.0066834, -0.0070114))
DETECTOR = DetectorConfig(fpixels=10, spixels=10, pixel_mm=0.4, oversample=2)


def _config(crystal=None, beam=None, detector=DETECTOR) -> Config:
    crystal = crystal or CrystalConfig(cell_a=70.0, cell_b=80.0, cell_c=90.0, n_a=3, n_b=3,
                                       n_c=3, misset_rot_x=5.0, reciprocal_matrix=MATRIX)
    return Config(crystal=crystal, beam=beam or BeamConfig(), detector=detector)


def _weights(config: Config) -> torch.Tensor:
    det = config.detector
    return torch.as_tensor(np.random.default_rng(7).random((det.spixels, det.fpixels)))


def _check(config: Config, name: str) -> None:
    weights = _weights(config)
    base = baseline_value(config, name)
    start = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    scale = float((simulate(config) * weights).sum())

    def projected(value: torch.Tensor) -> torch.Tensor:
        return (simulate(config, {name: value}) * weights).sum() / scale

    assert torch.autograd.gradcheck(projected, (start,), eps=1e-6 * max(1.0, abs(base)),
                                    atol=1e-6, rtol=1e-4)
    (gradient,) = torch.autograd.grad(projected(start), start)
    assert gradient != 0, f"{name} must change the image"


@pytest.mark.parametrize("name", ["misset_rot_x", "misset_rot_z", "cell_a", "cell_c",
                                  "phi_start_deg"])
def test_the_matrix_orientation_is_differentiable(name):
    _check(_config(), name)


def test_the_gauss_shape_differentiates_the_cell_angle_through_the_matrix():
    crystal = CrystalConfig(cell_a=70.0, cell_b=80.0, cell_c=90.0, n_a=3, n_b=3, n_c=3,
                            shape="gauss", reciprocal_matrix=MATRIX)
    _check(_config(crystal), "cell_beta")


def test_sources_on_the_run_s_wavelength_follow_lambda():
    sources = SourceList(positions=((-10.0, 0.0, 0.0), (-10.0, 0.005, -0.003)),
                         wavelengths_A=(None, 1.01))
    _check(_config(beam=BeamConfig(sources=sources)), "lambda_A")


def test_sources_with_their_own_wavelengths_do_not_depend_on_lambda():
    sources = SourceList(positions=((-10.0, 0.0, 0.0), (-10.0, 0.005, -0.003)),
                         wavelengths_A=(0.99, 1.01))
    config = _config(beam=BeamConfig(sources=sources))
    start = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    image = simulate(config, {"lambda_A": start})
    (gradient,) = torch.autograd.grad((image * _weights(config)).sum(), start,
                                      allow_unused=True)
    assert gradient is None or gradient == 0


def test_masked_pixels_have_exactly_zero_gradient_and_the_others_the_unmasked_one():
    kept = np.random.default_rng(5).random((10, 10)) > 0.4
    plain = _config()
    masked = _config(detector=DetectorConfig(fpixels=10, spixels=10, pixel_mm=0.4,
                                             oversample=2, mask=PixelMask(kept)))
    weights = _weights(plain)
    grads = []
    for config in (plain, masked):
        start = torch.tensor(70.0, dtype=torch.float64, requires_grad=True)
        image = simulate(config, {"cell_a": start})
        if config is masked:
            assert (image[~torch.as_tensor(kept)] == 0).all()
            (masked_only,) = torch.autograd.grad(image[~torch.as_tensor(kept)].sum(), start,
                                                 retain_graph=True, allow_unused=True)
            assert masked_only is None or masked_only == 0
            image = image * weights
        else:
            image = image * weights * torch.as_tensor(kept)
        (gradient,) = torch.autograd.grad(image.sum(), start)
        grads.append(gradient)
    assert grads[0] != 0
    assert torch.allclose(grads[0], grads[1], rtol=1e-12, atol=0)
    _check(masked, "distance_mm")


def test_a_fully_masked_image_is_zero_and_still_differentiable():
    config = _config(detector=DetectorConfig(fpixels=4, spixels=4, pixel_mm=0.4, oversample=1,
                                             mask=PixelMask(np.zeros((4, 4), bool))))
    start = torch.tensor(70.0, dtype=torch.float64, requires_grad=True)
    image = simulate(config, {"cell_a": start})
    assert (image == 0).all()
    (gradient,) = torch.autograd.grad(image.sum(), start)
    assert gradient == 0


def test_the_gradient_inside_a_resolution_cut():
    detector = DetectorConfig(fpixels=10, spixels=10, pixel_mm=0.4, oversample=2,
                              distance_mm=40.0, dmin_A=20.0)
    config = _config(detector=detector)
    image = simulate(config)
    assert (image == 0).any() and (image > 0).any()
    _check(config, "cell_a")
    _check(config, "misset_rot_x")
