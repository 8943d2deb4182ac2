"""Sensor thickness and attenuation length as registry parameters (tensors through params).

Thin or thick and the layer count stay the configuration's; the thickness sets the layer depths
(its step rides on the odet column of the detector plane, so that the fused gradient kernel,
which treats plane offsets as constants, differentiates it) and the attenuation length sets the
capture fraction.
"""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import fused_path
from braggcheck.sim.state import build_state

F64 = torch.float64
BASE = ("-cell 100 100 100 90 90 90 -default_F 100 -N 5 -lambda 1 -distance 100 "
        "-detpixels 12 -oversample 2 -Xbeam -15 -Ybeam -15")
THICK = " -detector_thick 200 -detector_thicksteps 3"


def _config(extra: str):
    return parse_nanobragg_args(BASE + extra).config


def _t(value: float, grad: bool = False) -> torch.Tensor:
    return torch.tensor(value, dtype=F64, requires_grad=grad)


def test_tensors_at_the_configured_values_give_the_same_image_bit_for_bit():
    config = _config(THICK + " -detector_abs 300")
    params = {"sensor_thickness_um": _t(200.0, True), "sensor_attenuation_um": _t(300.0, True)}
    assert torch.equal(simulate(config, params), simulate(config))


def test_a_thickness_through_params_equals_a_configuration_with_it():
    explicit = _config(THICK + " -detector_abs 300")
    moved = simulate(explicit, {"sensor_thickness_um": _t(350.0)})
    wanted = simulate(_config(" -detector_thick 350 -detector_thicksteps 3 -detector_abs 300"))
    torch.testing.assert_close(moved, wanted, rtol=1e-12, atol=0.0)


def test_an_unset_attenuation_length_stays_the_configured_thickness():
    # mu = 1 / (configured thickness): a thickness in params moves the layers, not mu.
    moved = simulate(_config(THICK), {"sensor_thickness_um": _t(350.0)})
    wanted = simulate(_config(" -detector_thick 350 -detector_thicksteps 3 -detector_abs 200"))
    torch.testing.assert_close(moved, wanted, rtol=1e-12, atol=0.0)


def test_an_attenuation_length_through_params_equals_a_configuration_with_it():
    moved = simulate(_config(THICK), {"sensor_attenuation_um": _t(450.0)})
    wanted = simulate(_config(THICK + " -detector_abs 450"))
    torch.testing.assert_close(moved, wanted, rtol=1e-12, atol=0.0)


def test_a_thin_configuration_stays_thin_whatever_the_thickness_tensor():
    config = _config("")
    thickness = _t(200.0, True)
    image = simulate(config, {"sensor_thickness_um": thickness})
    assert torch.equal(image.detach(), simulate(config))
    assert not image.requires_grad  # the image does not depend on it


@pytest.mark.parametrize("shape", ["", " -round_xtal"])
@pytest.mark.parametrize("name", ["sensor_thickness_um", "sensor_attenuation_um"])
def test_gradient_matches_finite_differences_on_fused_and_plain_paths(shape, name):
    config = _config(THICK + " -detector_abs 300" + shape)
    state = build_state(config, {name: _t(100.0, True)}, F64, torch.device("cpu"))
    assert fused_path(build_scene(config, state)) == (shape == "")
    weights = torch.linspace(0.5, 1.5, 144, dtype=F64).reshape(12, 12)
    norm = (simulate(config) * weights).sum()  # the loss is 1 at the configured values

    def loss(value: torch.Tensor) -> torch.Tensor:
        return (simulate(config, {name: value * 100.0}) * weights).sum() / norm

    start = 200.0 if name == "sensor_thickness_um" else 300.0
    point = _t(start / 100.0, True)
    (grad,) = torch.autograd.grad(loss(point), point)
    assert abs(grad.item()) > 1e-2
    assert torch.autograd.gradcheck(loss, (point,), eps=1e-6, atol=1e-7, rtol=1e-6)
