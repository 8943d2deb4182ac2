"""Continuous crystal size: real cell counts N through params (braggcheck.sim.crystal_size).

At the configured integers the image is bit-for-bit the integer one, at other integers it is
the image of a configuration with those integers, and in between the lattice factor is
sin(N pi y) / sin(pi y) of the reduced index, with finite, right value and gradient at y = 0.
"""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.sim.crystal_size import (
    chebyshev_sign,
    continuous_lattice_factor,
    continuous_sincg,
    grating_ratio,
)
from braggcheck.sim.physics import sincg
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import fused_path
from braggcheck.sim.state import build_state

F64 = torch.float64
SHAPES = {"square": "", "round": " -round_xtal", "gauss": " -gauss_xtal",
          "tophat": " -tophat_spots"}
FLAGS = ("-cell 100 100 100 90 90 90 -default_F 100 -Na 5 -Nb 3 -Nc 17 -lambda 1 "
         "-distance 100 -detpixels 16 -oversample 2 -Xbeam 0.825 -Ybeam 0.825")
"""The beam centre 0.825 mm puts a subpixel centre on the direct beam: h = k = l = 0 there."""


def _y() -> torch.Tensor:
    return torch.cat((torch.linspace(-0.5, 0.5, 401, dtype=F64),
                      torch.tensor([0.0, 1e-9, -1e-7, 0.0031], dtype=F64)))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 16, 17, 25])
def test_at_the_configured_integer_the_factor_is_sincg_bit_for_bit(n):
    y = _y()
    assert torch.equal(continuous_sincg(y, n, torch.tensor(float(n), dtype=F64)),
                       sincg(y, n, reduced=True))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 17])
def test_chebyshev_sign_is_the_sign_sincg_drops(n):
    y = torch.tensor([0.0123, 0.21, -0.33], dtype=F64)
    exact = torch.sin(n * math.pi * y) / torch.sin(math.pi * y)
    torch.testing.assert_close(chebyshev_sign(n) * sincg(y, n, reduced=True), exact,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, value", [(5, 5.5), (5, 6.0), (3, 2.25), (17, 16.2), (1, 1.7)])
def test_between_integers_the_factor_is_the_grating_ratio(n, value):
    y = _y()[(_y() != 0)]
    got = continuous_sincg(y, n, torch.tensor(value, dtype=F64)) ** 2
    exact = (torch.sin(value * math.pi * y) / torch.sin(math.pi * y)) ** 2
    torch.testing.assert_close(got, exact, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("value", [1.0, 2.5, 5.0, 17.3])
def test_value_and_gradients_are_right_at_the_removable_singularity(value):
    y = torch.zeros((), dtype=F64, requires_grad=True)
    cells = torch.tensor(value, dtype=F64, requires_grad=True)
    factor = continuous_sincg(y, 5, cells)
    d_y, d_n = torch.autograd.grad(factor, (y, cells))
    # sin(N x)/sin(x) -> N at x = 0: slope 1 in N, 0 in y (an even function)
    assert chebyshev_sign(5) * factor.item() == pytest.approx(value, rel=1e-15)
    assert d_n.item() == pytest.approx(chebyshev_sign(5), rel=1e-12)
    assert d_y.item() == 0.0


def test_grating_ratio_gradients_match_finite_differences_across_its_series_branch():
    # 0.01 / (pi N) is the branch point; points on both sides of it and at y = 0
    for y0 in (0.0, 4e-4, 6e-4, 0.01, 0.3, 0.5):
        y = torch.tensor(y0, dtype=F64, requires_grad=True)
        cells = torch.tensor(5.3, dtype=F64, requires_grad=True)
        assert torch.autograd.gradcheck(grating_ratio, (y, cells), eps=1e-7, atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
def test_lattice_factor_at_a_bragg_node_is_the_cell_volume(shape):
    sizes = torch.tensor([5.5, 3.2, 7.9], dtype=F64)
    reciprocal = torch.eye(3, dtype=F64) / 100
    value = continuous_lattice_factor(torch.zeros(3, dtype=F64), shape, (5, 3, 7), sizes,
                                      reciprocal, 1.0)
    scale = 0.723601254558268 if shape == "round" else 1.0
    assert abs(value.item()) == pytest.approx(5.5 * 3.2 * 7.9 * scale, rel=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
def test_tensor_counts_at_the_configured_integers_give_the_same_image_bit_for_bit(shape):
    config = parse_nanobragg_args(FLAGS + SHAPES[shape]).config
    counts = {name: torch.tensor(float(v), dtype=F64, requires_grad=True)
              for name, v in (("n_a", 5), ("n_b", 3), ("n_c", 17))}
    assert torch.equal(simulate(config, counts), simulate(config))
    with torch.no_grad():
        assert torch.equal(simulate(config, counts), simulate(config))


@pytest.mark.parametrize("shape", SHAPES)
def test_other_integers_through_params_equal_a_configuration_with_them(shape):
    config = parse_nanobragg_args(FLAGS + SHAPES[shape]).config
    other = parse_nanobragg_args(FLAGS.replace("-Na 5 -Nb 3 -Nc 17", "-Na 6 -Nb 2 -Nc 16")
                                 + SHAPES[shape]).config
    counts = {"n_a": torch.tensor(6.0, dtype=F64), "n_b": torch.tensor(2.0, dtype=F64),
              "n_c": torch.tensor(16.0, dtype=F64)}
    wanted = simulate(other)
    torch.testing.assert_close(simulate(config, counts), wanted, rtol=1e-11,
                               atol=1e-11 * wanted.max().item())


@pytest.mark.parametrize("shape", ["square", "round", "gauss"])
def test_gradient_in_the_counts_matches_finite_differences_at_integer_h(shape):
    config = parse_nanobragg_args(FLAGS + SHAPES[shape]).config
    weights = torch.linspace(0.5, 1.5, 256, dtype=F64).reshape(16, 16)

    def loss(n_a, n_b, n_c):
        image = simulate(config, {"n_a": n_a, "n_b": n_b, "n_c": n_c})
        return (image * weights).sum() / 1e6

    point = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (5.0, 3.0, 17.0)]
    assert torch.autograd.gradcheck(loss, point, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_counts_as_tensors_take_the_plain_path_and_keep_the_discrete_choices():
    config = parse_nanobragg_args(FLAGS.replace("-Nc 17", "-Nc 4")
                                  .replace(" -oversample 2", "")).config
    plain = build_state(config, None, F64, torch.device("cpu"))
    assert fused_path(build_scene(config, plain))  # integers: the fused gradient kernel
    wanted = {**plain, "n_a": torch.tensor(5.0, dtype=F64, requires_grad=True)}
    assert not fused_path(build_scene(config, wanted))  # a count wanted: plain autograd
    moved = {**plain, "n_a": torch.tensor(40.0, dtype=F64)}
    scene = build_scene(config, moved)
    assert not fused_path(scene) and scene.sizes is not None
    # The automatic oversample follows the configuration's integers, not the tensor.
    assert scene.oversample == config.oversample
    assert config.crystal.n_a == 5 and isinstance(config.crystal.n_a, int)


def test_a_forward_mode_tangent_in_a_count_selects_the_continuous_path():
    config = parse_nanobragg_args(FLAGS).config
    direction = torch.tensor(1.0, dtype=F64)

    def image_sum(n_a):
        return simulate(config, {"n_a": n_a}).sum()

    _, tangent = torch.func.jvp(image_sum, (torch.tensor(5.0, dtype=F64),), (direction,))
    n_a = torch.tensor(5.0, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(image_sum(n_a), n_a)
    assert tangent.item() != 0.0
    assert tangent.item() == pytest.approx(grad.item(), rel=1e-10)
