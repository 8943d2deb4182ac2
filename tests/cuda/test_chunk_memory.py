"""The device sizing rule on a real GPU (braggcheck.sim.chunk_sizing): the issue's image is one
chunk by default, and the memory a simulation allocates stays within the free memory the rule
was told about, pretending a smaller GPU (a 16 GB card for the 4096^2 image with 10 domains)."""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim import simulator
from braggcheck.sim.chunk_sizing import DeviceMemory
from braggcheck.sim.state import build_state

from .conftest import DEVICE

pytestmark = pytest.mark.cuda

ISSUE_IMAGE = "-cell 100 100 100 90 90 90 -default_F 100 -N 5 -oversample 2 -detpixels 1024"
MOSAIC = " -mosaic 1 -mosaic_domains 10 -mosaic_seed 1234"
GIB = 2**30


def _spied(monkeypatch) -> list[int]:
    seen = []
    original = simulator._chunked_pixels

    def spy(scene, roi, like, pixels_per_chunk, limit):
        seen.append(pixels_per_chunk)
        return original(scene, roi, like, pixels_per_chunk, limit)

    monkeypatch.setattr(simulator, "_chunked_pixels", spy)
    return seen


def test_the_issue_image_is_one_chunk_by_default(monkeypatch):
    seen = _spied(monkeypatch)
    with torch.no_grad():
        simulate(from_nanobragg_args(ISSUE_IMAGE), dtype=torch.float32, device=DEVICE)
    assert seen == [1024 * 1024]


def _peak_bytes(run) -> int:
    """Device memory allocated by ``run`` at its peak, above what was allocated before."""
    torch.cuda.synchronize(DEVICE)
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(DEVICE)
    torch.cuda.reset_peak_memory_stats(DEVICE)
    run()
    torch.cuda.synchronize(DEVICE)
    return torch.cuda.max_memory_allocated(DEVICE) - before


@pytest.mark.parametrize(("side", "free_gib", "dtype"), [
    (1024, 1, torch.float32), (1024, 1, torch.float64),
    (4096, 15, torch.float32),  # issue 23: must not exhaust a 16 GB GPU
], ids=["1024-float32", "1024-float64", "4096-float32-16GB"])
@pytest.mark.parametrize("gradient", [False, True], ids=["forward", "forward_backward"])
def test_memory_stays_within_what_the_rule_was_told(side, free_gib, dtype, gradient,
                                                    monkeypatch):
    """10 mosaic domains (40 samples per pixel) with ``free_gib`` GiB said to be free: the
    chunk and the stored state are sized from it, and the peak allocation stays below it."""
    free = free_gib * GIB
    monkeypatch.setattr(simulator, "device_memory", lambda device: DeviceMemory("cuda", free))
    seen = _spied(monkeypatch)
    config = from_nanobragg_args(ISSUE_IMAGE.replace("1024", str(side)) + MOSAIC)

    def run() -> None:
        if not gradient:
            with torch.no_grad():
                simulate(config, dtype=dtype, device=DEVICE)
            return
        state = build_state(config, None, dtype, DEVICE)
        params = {name: value.detach().clone().requires_grad_(True)
                  for name, value in state.items()}
        simulate(config, params, dtype=dtype, device=DEVICE).sum().backward()

    peak = _peak_bytes(run)
    (chunk,) = seen
    assert chunk < side * side, "the case must need several chunks to test the rule"
    assert peak <= free, f"peak {peak / GIB:.2f} GiB above the {free_gib} GiB the rule had"
