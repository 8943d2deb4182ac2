"""``structure_factors``: one differentiable amplitude per reflection of the hkl table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from braggcheck import Config, simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim import simulator
from braggcheck.sim.amplitudes import STRUCTURE_FACTORS, AmplitudeLookup, lagrange_weights
from braggcheck.testing.nanobragg.strategies.hkl_tables import random_table
from braggcheck.util.errors import ConfigError

F64 = torch.float64
SPOTS = ("-cell 100 100 100 90 90 90 -N 5 -lambda 1 -distance 100 -pixel 0.1 -detpixels 24 "
         "-default_F 10 -mosflm")


def _config(shape: str = "square", density: float = 0.7, fill: float = 0.0, **kw) -> Config:
    """The Tier-2 'spots' window (over the (0 k l) spots, k = -6..-4, l = 4..6) with a random table
    around them, some reflections left unlisted (they hold ``fill``)."""
    table = random_table((-2, -9, 1), (2, -1, 9), seed=3, density=density, fill=fill)
    return from_nanobragg_args(SPOTS).replace(
        hkl=table, default_F=0.0, shape=shape, beam_center_f_mm=-4.0, beam_center_s_mm=-4.0, **kw)


def _values(config: Config) -> torch.Tensor:
    return torch.tensor(config.crystal.hkl.reflection_amplitudes(), dtype=F64)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_table_values_reproduce_the_image_bit_for_bit(dtype):
    config = _config()
    plain = simulate(config, dtype=dtype)
    values = _values(config).requires_grad_(True)
    again = simulate(config, {STRUCTURE_FACTORS: values}, dtype=dtype)
    assert float(plain.max()) > 0 and torch.equal(again.detach(), plain)


@pytest.mark.parametrize("recomputed", [False, True])
@pytest.mark.parametrize("shape", ["square", "round"])
def test_the_gradient_equals_exact_differences(shape, recomputed, monkeypatch):
    """The image is quadratic in each F, so central differences are exact up to rounding;
    'round' runs plain autograd, 'square' the fused node, ``recomputed`` the chunks rebuilt in
    the backward pass."""
    if recomputed:
        monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", 0)
    config = _config(shape)
    weights = torch.randn(24, 24, generator=torch.Generator().manual_seed(1), dtype=F64)
    values = _values(config).requires_grad_(True)

    def loss(f: torch.Tensor) -> torch.Tensor:
        return (weights * simulate(config, {STRUCTURE_FACTORS: f})).sum()

    (grad,) = torch.autograd.grad(loss(values), values)
    active = grad.abs().argsort(descending=True)[:4]
    quiet = int((grad == 0).sum())
    assert quiet > 0, "reflections whose spots miss the window must get no gradient"
    with torch.no_grad():
        for j in active.tolist():
            step = torch.zeros_like(values)
            step[j] = 1.0
            numerical = (loss(values + step) - loss(values - step)) / 2
            assert float(grad[j]) == pytest.approx(float(numerical), rel=1e-9)


def test_unlisted_grid_points_and_outside_indices_stay_constant():
    """With a fill of 50 the unlisted points shine, but no entry of the vector is theirs:
    setting every listed F to 0 leaves exactly the fill's image."""
    config = _config(fill=50.0)
    values = torch.zeros(_values(config).shape, dtype=F64, requires_grad=True)
    image = simulate(config, {STRUCTURE_FACTORS: values})
    table = config.crystal.hkl
    only_fill = np.where(np.isin(np.arange(table.amplitudes.size), np.ravel_multi_index(
        table.reflection_indices().T, table.shape)), 0.0, 50.0).reshape(table.shape)
    expected = simulate(config.replace(hkl=type(table)(table.origin, only_fill)))
    assert float(expected.max()) > 0
    torch.testing.assert_close(image.detach(), expected, rtol=1e-12, atol=0)
    (grad,) = torch.autograd.grad(image.sum(), values)
    assert torch.equal(grad, torch.zeros_like(grad))  # F = 0: d(F^2)/dF = 0


@pytest.mark.parametrize(("value", "message"), [
    (torch.ones(3, dtype=F64), "expected a tensor of shape"),
    ([1.0, 2.0], "expected a tensor of shape"),
    ("nan", "finite"),
])
def test_bad_vectors_are_one_line_errors(value, message):
    config = _config()
    if value == "nan":
        value = _values(config)
        value[2] = float("nan")
    with pytest.raises(ConfigError, match=message) as error:
        simulate(config, {STRUCTURE_FACTORS: value})
    assert "\n" not in str(error.value)


def test_without_a_table_the_parameter_is_refused():
    config = from_nanobragg_args(SPOTS)
    with pytest.raises(ConfigError, match="no hkl table"):
        simulate(config, {STRUCTURE_FACTORS: torch.ones(1, dtype=F64)})


def test_the_lagrange_weights_reproduce_cubics_and_sum_to_one():
    t = torch.linspace(0, 1, 11, dtype=F64)
    weights = lagrange_weights(t)
    nodes = torch.arange(-1.0, 3.0, dtype=F64)
    for power in range(4):
        torch.testing.assert_close((weights * nodes**power).sum(-1), t**power)


def test_interpolation_is_exact_for_a_tricubic_grid_and_falls_back_at_the_edges():
    """On a grid holding a polynomial of degree <= 3 per axis the stencil is exact; within
    two of the table's edge the nearest reflection is used (the reference's range test)."""
    h, k, l = torch.meshgrid(*(torch.arange(0, 8, dtype=F64),) * 3, indexing="ij")

    def cubic(h, k, l):
        return 1 + 0.5 * h**3 - k**2 * l + 0.1 * l**3
    lookup = AmplitudeLookup(cubic(h, k, l), (0, 0, 0), 7.0, interpolate=True)
    inside = torch.tensor([[2.3, 4.9, 5.0], [3.0, 2.0, 4.5], [4.99, 3.7, 2.01]],
                          dtype=F64).T
    torch.testing.assert_close(lookup.amplitudes(inside), cubic(*inside))
    edge = torch.tensor([[1.9, 5.2], [3.0, 3.0], [3.0, 8.4]], dtype=F64)
    nearest = lookup.amplitudes(edge)
    assert float(nearest[0]) == float(lookup.grid[2, 3, 3])  # h = 1.9 < 2: nearest (2, 3, 3)
    assert float(nearest[1]) == 7.0  # l = 8 lies outside the grid: default_F
