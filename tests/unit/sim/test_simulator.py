"""The simulator: every registry parameter gets a finite, non-zero gradient through the image,
including at exact 90 degree angles, zero misset and pixels where h, k, l are exact integers."""

from __future__ import annotations

import pytest
import torch

import braggcheck.sim.scene as scene_module
from braggcheck import PARAMETERS, Config, ConfigError, simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.state import baseline_value

# Cubic cell, exact 90 degree angles, zero misset, beam centre on a pixel corner so the
# direct beam (h = k = l = 0 exactly there) is sampled; mosaic domains and a Kahn factor so
# the spread and the polarization enter the image.
ARGS = ("-cell 100 100 100 90 90 90 -default_F 100 -N 5 -detpixels 24 -mosaic 0.5 "
        "-mosaic_domains 3 -polar 0.5")


@pytest.fixture(scope="module")
def config() -> Config:
    return from_nanobragg_args(ARGS)


# Parameters whose physics needs more than ARGS: several sources or a thick sensor (only for
# them, so the other cases stay one source, one layer and fast).
EXTRA_FLAGS = {"divergence_mrad": " -hdivrange 0.4 -hdivsteps 2",
               "dispersion": " -dispersion 0.4 -dispsteps 2",
               "sensor_thickness_um": " -detector_thick 100",
               "sensor_attenuation_um": " -detector_thick 100 -detector_abs 200",
               "water_size_um": " -water 0.01"}  # cubic: its derivative is 0 at no water


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_every_parameter_has_a_finite_nonzero_gradient(config, name):
    if name in EXTRA_FLAGS:
        config = from_nanobragg_args(ARGS + EXTRA_FLAGS[name])
    value = torch.tensor(baseline_value(config, name), dtype=torch.float64, requires_grad=True)
    image = simulate(config, {name: value})
    weights = torch.linspace(0.5, 1.5, image.numel(), dtype=torch.float64).reshape(image.shape)
    (grad,) = torch.autograd.grad((image * weights).sum(), value)
    assert torch.isfinite(grad)
    assert float(grad) != 0.0


def test_direct_beam_on_a_subpixel_centre_has_finite_gradients(config):
    # With oversample 2 and 0.1 mm pixels, subpixel centres sit at 0.025 + 0.05 j mm, so a beam
    # centre of 1.225 mm puts a subpixel on the direct beam, where h = k = l = 0 (to rounding).
    moved = config.replace(beam_center_f_mm=1.225, beam_center_s_mm=1.225)
    value = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
    image = simulate(moved, {"cell_a": value})
    (grad,) = torch.autograd.grad(image.sum(), value)
    assert torch.isfinite(image).all() and torch.isfinite(grad)


def test_tensor_in_config_keeps_its_graph():
    distance = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
    config = from_nanobragg_args(ARGS).replace(distance_mm=distance)
    (grad,) = torch.autograd.grad(simulate(config).sum(), distance)
    assert float(grad) != 0.0


def test_float32_and_float64_agree(config):
    double = simulate(config, dtype=torch.float64)
    single = simulate(config, dtype=torch.float32)
    assert single.dtype == torch.float32
    torch.testing.assert_close(single.double(), double, rtol=1e-4, atol=1e-4 * float(double.max()))


def test_roi_zeroes_outside_and_keeps_inside(config):
    full = simulate(config)
    roi = simulate(config.replace(roi=(3, 10, 5, 20)))
    torch.testing.assert_close(roi[5:21, 3:11], full[5:21, 3:11])
    outside = roi.clone()
    outside[5:21, 3:11] = 0
    assert torch.all(outside == 0)


def test_chunking_does_not_change_image_or_gradient(config):
    def run(chunk):
        value = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        image = simulate(config, {"lambda_A": value}, pixels_per_chunk=chunk)
        (grad,) = torch.autograd.grad(image.sum(), value)
        return image.detach(), grad

    whole, whole_grad = run(None)
    pieces, pieces_grad = run(37)
    torch.testing.assert_close(pieces, whole, rtol=1e-14, atol=0)
    torch.testing.assert_close(pieces_grad, whole_grad, rtol=1e-12, atol=0)


def test_unknown_parameter_is_rejected(config):
    with pytest.raises(ConfigError, match="unknown parameter"):
        simulate(config, {"cell_q": torch.tensor(1.0)})


def test_oversample_is_a_choice_of_the_configuration_not_of_params():
    # The automatic oversample comes from the configuration's own values (a discrete choice),
    # so a tensor override moves the image smoothly instead of switching the sampling.
    config = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100 -N 5 "
                                        "-detpixels 16")
    assert config.oversample == 2
    shorter = torch.tensor(0.5, dtype=torch.float64)
    overridden = simulate(config, {"lambda_A": shorter})
    pinned = simulate(config.replace(lambda_A=0.5, oversample=2))
    assert config.replace(lambda_A=0.5).oversample > 2  # the replaced config resamples
    torch.testing.assert_close(overridden, pinned, rtol=1e-13, atol=0)


def test_one_detector_placement_per_simulate(monkeypatch):
    """The detector is placed once per image (the Config placed it once when it was built)."""
    config = Config().replace(fpixels=16, spixels=16)
    calls = []
    original = scene_module.detector_geometry

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(scene_module, "detector_geometry", counted)
    distance = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
    simulate(config, {"distance_mm": distance}).sum().backward()
    assert len(calls) == 1
