"""Chunked evaluation: the image and every gradient do not depend on the chunk size.

With a gradient wanted, chunks keep their autograd state until their estimated total passes
``STORED_BYTES_LIMIT``; the chunks after that are recomputed in the backward pass
(``_RecomputedChunk``). Every mix (all stored, all recomputed with the limit at 0, some of each)
must agree to rounding, including second derivatives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from braggcheck import PARAMETERS, Config, simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim import simulator
from braggcheck.sim.crystal_size import AXES as CELL_COUNTS
from braggcheck.sim.scene import build_scene
from braggcheck.sim.state import build_state

# Mosaic domains, phi steps, two sources and oversample 2: every axis of the sample grid.
ARGS = ("-cell 70 80 90 80 95 100 -misset 10 20 30 -default_F 100 -N 4 -lambda 1.2 "
        "-distance 80 -pixel 0.2 -detpixels 24 -oversample 2 -mosaic 1 -mosaic_domains 2 "
        "-phisteps 2 -osc 0.3 -dispersion 1 -dispsteps 2 -detector_rotx 3 -twotheta 5")
CHUNKS = [None, 10**6, 97, 24, 7]  # default, one chunk, uneven, one row, small


def _image_and_gradients(config: Config, pixels_per_chunk: int | None):
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    params = {name: value.clone().requires_grad_(True) for name, value in state.items()}
    weights = torch.linspace(0.5, 1.5, 24 * 24, dtype=torch.float64).reshape(24, 24)
    image = simulate(config, params, pixels_per_chunk=pixels_per_chunk)
    grads = torch.autograd.grad((image * weights).sum(), list(params.values()),
                                allow_unused=True)
    return image.detach(), dict(zip(params, grads, strict=True))


@pytest.fixture(scope="module")
def config() -> Config:
    return from_nanobragg_args(ARGS)


@pytest.fixture(scope="module")
def reference(config):
    return _image_and_gradients(config, 10**6)


@pytest.mark.parametrize("recompute", ["none", "all", "some"])
@pytest.mark.parametrize("pixels_per_chunk", [c for c in CHUNKS if c != 10**6])
def test_chunk_size_changes_nothing_but_rounding(config, reference, pixels_per_chunk, recompute,
                                                 monkeypatch):
    if recompute == "all":
        monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", 0)
    elif recompute == "some":  # about half the image's state
        scene = build_scene(config, build_state(config, None, torch.float64,
                                                          torch.device("cpu")))
        half = simulator.stored_bytes(scene, 24 * 12, torch.empty((), dtype=torch.float64))
        monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", half)
    image, grads = _image_and_gradients(config, pixels_per_chunk)
    ref_image, ref_grads = reference
    assert ref_image.max() > 10 * ref_image.median(), "the case must hold Bragg spots"
    torch.testing.assert_close(image, ref_image, rtol=1e-12, atol=1e-12 * float(ref_image.max()))
    nonzero = 0
    for name in PARAMETERS:
        got, want = grads[name], ref_grads[name]
        assert (got is None) == (want is None), name
        if want is not None:
            nonzero += bool(want != 0)
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-300, msg=name)
    assert nonzero >= 20, "most registry parameters must reach this image"


def test_no_grad_forward_matches_grad_forward(config, reference):
    with torch.no_grad():
        image = simulate(config, pixels_per_chunk=97)
    torch.testing.assert_close(image, reference[0].detach(), rtol=1e-12, atol=0.0)


def test_recompute_path_is_taken_above_the_limit(config, monkeypatch):
    calls = []
    original = simulator._RecomputedChunk.apply
    monkeypatch.setattr(simulator._RecomputedChunk, "apply",
                        lambda *args: calls.append(1) or original(*args))
    cell_a = torch.tensor(70.0, dtype=torch.float64, requires_grad=True)
    simulate(config, {"cell_a": cell_a}, pixels_per_chunk=100)
    assert not calls  # a 24x24 image is far below the default limit
    monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", 0)
    simulate(config, {"cell_a": cell_a}, pixels_per_chunk=100)
    assert len(calls) == 6  # ceil(576 / 100) chunks
    # A limit of two and a half chunks' state: the first two are stored, the other four not.
    calls.clear()
    scene = build_scene(config, build_state(config, None, torch.float64,
                                                      torch.device("cpu")))
    chunk = simulator.stored_bytes(scene, 100, torch.empty((), dtype=torch.float64))
    monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", chunk * 5 // 2)
    simulate(config, {"cell_a": cell_a}, pixels_per_chunk=100)
    assert len(calls) == 4


def test_second_derivative_through_recomputed_chunks(config, monkeypatch):
    monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", 0)
    def loss(cell_a: torch.Tensor, pixels_per_chunk: int) -> torch.Tensor:
        return simulate(config, {"cell_a": cell_a}, pixels_per_chunk=pixels_per_chunk).sum()

    results = []
    for chunk in (10**6, 50):
        cell_a = torch.tensor(70.0, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(loss(cell_a, chunk), cell_a, create_graph=True)
        (second,) = torch.autograd.grad(grad, cell_a)
        results.append((grad, second))
    (g1, s1), (g2, s2) = results
    assert s1 != 0
    torch.testing.assert_close(g2, g1, rtol=1e-10, atol=0.0)
    torch.testing.assert_close(s2, s1, rtol=1e-9, atol=0.0)


GOLDEN_HKL = Path(__file__).parents[2] / "data" / "golden" / "rand8.hkl"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("extra", ["", "-mosaic 1 -mosaic_domains 4 -mosaic_seed 1",
                                   "-oversample 3 -divergence 0.5 -divsteps 3 -square_div",
                                   "-polar 0.5 -detector_thick 100",
                                   "-round_xtal -mosaic 1 -mosaic_domains 2",
                                   f"-hkl {GOLDEN_HKL} -misset 5 -3 7",  # + 2 F L^2
                                   f"-hkl {GOLDEN_HKL} -interpolate -misset 5 -3 7"])
def test_stored_bytes_estimates_what_autograd_keeps(extra, dtype):
    """The memory bound rests on this estimate: it must not undercount the saved tensors (the
    limit would be exceeded) nor overcount them much (memory left unused, more recomputed)."""
    config = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100 -N 5 "
                                        f"-detpixels 64 {extra}")
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    params = {name: value.clone().requires_grad_(True) for name, value in state.items()}
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        simulate(config, params, dtype=dtype, pixels_per_chunk=64 * 64)
    # The scene of the tensors passed: the cell counts among them select the continuous
    # lattice path (braggcheck.sim.crystal_size), which stores more.
    scene = build_scene(config, params, dtype)
    estimate = simulator.stored_bytes(scene, 64 * 64, torch.empty((), dtype=torch.float64))
    saved = sum(storages.values())
    assert saved <= estimate <= 1.5 * saved, (saved, estimate)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("extra", [
    "-detector_thick 100 -detector_thicksteps 3 -polar 0.6",  # sensor layers: 3-column plane
    f"-hkl {GOLDEN_HKL} -nointerpolate -misset 5 -3 7",  # amplitudes from a table
    "-phisteps 2 -osc 0.5 -dispersion 1 -dispsteps 3 -roi 3 20 2 17",
])
def test_fused_and_plain_gradient_paths_agree(extra, dtype, monkeypatch):
    """The whole image through the fused node against plain autograd: detector plane offsets,
    sensor layers, structure-factor lookup and row blocks as the simulator feeds them."""
    config = from_nanobragg_args("-cell 80 90 100 88 92 95 -N 5 -default_F 50 "
                                        f"-lambda 1.1 -distance 90 -detpixels 24 {extra}")
    results = []
    for fused in (True, False):
        monkeypatch.setattr(simulator, "fused_path", lambda scene, fused=fused: fused)
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        # Tensor cell counts always take plain autograd (the fused node serves integer
        # counts only: fused_path says so, tests/unit/sim/test_crystal_size.py), so not here.
        params = {name: value.clone().requires_grad_(True) for name, value in state.items()
                  if name not in CELL_COUNTS}
        image = simulate(config, params, dtype=dtype, pixels_per_chunk=50)
        weights = torch.linspace(0.5, 1.5, image.numel(), dtype=dtype).reshape(image.shape)
        grads = torch.autograd.grad((image * weights).sum(), list(params.values()),
                                    allow_unused=True)
        results.append((image.detach(), grads))
    (image, grads), (plain_image, plain_grads) = results
    rtol = 1e-10 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(image, plain_image, rtol=rtol,
                               atol=rtol * float(plain_image.abs().max()))
    compared = 0
    for name, got, want in zip(params, grads, plain_grads, strict=True):
        assert (got is None) == (want is None), name
        if want is not None and float(want.abs()) > 0:
            compared += 1
            torch.testing.assert_close(got, want, rtol=100 * rtol, atol=0.0, msg=name)
    assert compared >= 15


def test_a_recomputed_chunk_that_a_wanted_parameter_does_not_reach_gives_zero():
    """Under -mat the cell angles set no orientation: a round crystal's recomputed chunks do
    not depend on cell_alpha, whose gradient is zero (backward used to raise "element 0 of
    tensors does not require grad")."""
    import math

    import torch

    from braggcheck import Config, simulate
    from braggcheck.sim import simulator

    turned = 1 / math.sqrt(2) / 100
    config = Config().replace(fpixels=8, spixels=8, shape="round", reciprocal_matrix=(
        (0.01, 0.0, 0.0), (0.0, turned, turned), (0.0, -turned, turned)))
    alpha = torch.tensor(90.0, dtype=torch.float64, requires_grad=True)
    saved = simulator.STORED_BYTES_LIMIT
    simulator.STORED_BYTES_LIMIT = 0  # every chunk recomputed in the backward
    try:
        image = simulate(config, {"cell_alpha": alpha}, pixels_per_chunk=16)
        (gradient,) = torch.autograd.grad(image.sum(), alpha, allow_unused=True)
    finally:
        simulator.STORED_BYTES_LIMIT = saved
    assert image.sum() > 0
    assert gradient is None or float(gradient) == 0.0
