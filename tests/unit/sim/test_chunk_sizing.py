"""The device sizing rules as pure functions of made-up devices, and simulate's use of them.

CPU chunking must stay exactly what it was (2^16 samples per chunk, 1 GiB of stored state), so
CPU images, gradients and timings do not move; CUDA sizes from the free memory.
"""

from __future__ import annotations

import pytest
import torch

from braggcheck import simulate
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim import chunk_sizing, simulator
from braggcheck.sim.chunk_sizing import (
    CHUNK_MEMORY_FRACTION,
    CPU_STORED_BYTES_LIMIT,
    ELEMENTS_PER_CHUNK,
    STORED_MEMORY_FRACTION,
    DeviceMemory,
    chunk_pixels,
    device_memory,
    stored_bytes_limit,
    working_bytes_per_sample,
)
from braggcheck.sim.chunking import chunking
from braggcheck.sim.scene import build_scene
from braggcheck.sim.state import build_state

GIB = 2**30
CPU = DeviceMemory("cpu")
H200 = DeviceMemory("cuda", 139 * GIB)
SMALL_GPU = DeviceMemory("cuda", 15 * GIB)  # a 16 GB card less the context and other tenants


@pytest.mark.parametrize("samples", [1, 4, 9, 40, 27 * 4, 70_000])
@pytest.mark.parametrize("free", [0, GIB, 10**15])
def test_cpu_chunk_is_the_fixed_sample_count_whatever_the_memory(samples, free):
    got = chunk_pixels(DeviceMemory("cpu", free), samples, 10**8, 8)
    assert got == max(1, ELEMENTS_PER_CHUNK // samples)
    assert stored_bytes_limit(DeviceMemory("cpu", free)) == CPU_STORED_BYTES_LIMIT == 2**30


def test_the_issue_image_is_one_chunk_on_a_large_gpu():
    """1024^2, N=5, oversample 2 (4 samples per pixel), float32: one chunk, on an H200 and on
    a 16 GB card alike."""
    for gpu in (H200, SMALL_GPU):
        assert chunk_pixels(gpu, 4, 1024 * 1024, 4) == 1024 * 1024
    assert chunk_pixels(CPU, 4, 1024 * 1024, 4) == 2**14  # CPU: 64 chunks, as before


@pytest.mark.parametrize("sample_size", [4, 8])
def test_4096_image_with_10_domains_fits_a_16_gb_gpu(sample_size):
    """4096^2 pixels x 4 subpixels x 10 mosaic domains = 671 M samples: chunked, and the
    chunk's temporaries plus the stored state stay under the free memory with headroom."""
    pixels, samples = 4096**2, 4 * 10
    chunk = chunk_pixels(SMALL_GPU, samples, pixels, sample_size, extra_values=3)
    assert 1 < chunk < pixels
    working = chunk * samples * working_bytes_per_sample(sample_size, 3)
    assert working <= CHUNK_MEMORY_FRACTION * SMALL_GPU.free_bytes
    assert working >= 0.9 * CHUNK_MEMORY_FRACTION * SMALL_GPU.free_bytes  # not needlessly small
    total = working + stored_bytes_limit(SMALL_GPU)
    assert total <= 0.8 * SMALL_GPU.free_bytes


def test_cuda_chunk_grows_with_free_memory_and_is_bounded():
    sizes = [chunk_pixels(DeviceMemory("cuda", free), 40, 4096**2, 4)
             for free in (0, 10**4, GIB, 8 * GIB, 64 * GIB, 10**15)]
    assert sizes == sorted(sizes)
    assert sizes[0] == sizes[1] == 1  # never zero
    assert sizes[-1] == 4096**2  # never more than the image
    # Larger samples, costlier paths: fewer pixels per chunk.
    assert chunk_pixels(SMALL_GPU, 40, 4096**2, 8) < chunk_pixels(SMALL_GPU, 40, 4096**2, 4)
    assert (chunk_pixels(SMALL_GPU, 40, 4096**2, 4, extra_values=170)
            < chunk_pixels(SMALL_GPU, 40, 4096**2, 4))


def test_cuda_stored_limit_is_a_share_of_free_memory():
    assert stored_bytes_limit(H200) == int(STORED_MEMORY_FRACTION * 139 * GIB)
    assert stored_bytes_limit(DeviceMemory("cuda", 0)) == 0  # nothing free: recompute all


def test_device_memory_of_cpu_asks_nothing_of_cuda(monkeypatch):
    def refuse(*_args):
        raise AssertionError("CUDA queried for a CPU device")

    monkeypatch.setattr(torch.cuda, "mem_get_info", refuse)
    assert device_memory(torch.device("cpu")) == DeviceMemory("cpu", 0)


def test_device_memory_of_cuda_counts_the_allocator_cache(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (5 * GIB, 16 * GIB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device: 3 * GIB)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device: GIB)
    assert device_memory(torch.device("cuda")) == DeviceMemory("cuda", 7 * GIB)


# simulate's wiring: which chunk and limit reach the chunk loop.
ARGS = ("-cell 70 80 90 80 95 100 -default_F 100 -N 4 -lambda 1.2 -distance 80 -pixel 0.2 "
        "-detpixels 24 -oversample 2 -mosaic 1 -mosaic_domains 2 -dispersion 1 -dispsteps 2")


def _spied(monkeypatch) -> list[tuple[int, int]]:
    seen = []
    original = simulator._chunked_pixels

    def spy(scene, roi, like, pixels_per_chunk, limit):
        seen.append((pixels_per_chunk, limit))
        return original(scene, roi, like, pixels_per_chunk, limit)

    monkeypatch.setattr(simulator, "_chunked_pixels", spy)
    return seen


def test_simulate_on_cpu_chunks_exactly_as_before(monkeypatch):
    config = from_nanobragg_args(ARGS)
    seen = _spied(monkeypatch)
    simulate(config)
    scene = build_scene(config, build_state(config, None, torch.float64, torch.device("cpu")))
    # The formula simulate used before the device rule: oversample^2 x sources x orientations.
    per_pixel = 4 * scene.sources.wavelength.shape[0] * scene.orientations.shape[0]
    assert per_pixel == 4 * 2 * 2
    assert seen == [(ELEMENTS_PER_CHUNK // per_pixel, 2**30)]


def test_simulate_sizes_from_the_device_and_the_user_chunk_wins(monkeypatch):
    """A made-up CUDA device (the computation stays on CPU): its memory sets the chunk and the
    stored limit; ``pixels_per_chunk`` passed by the caller still wins; the image is the same."""
    config = from_nanobragg_args(ARGS)
    reference = simulate(config, pixels_per_chunk=10**6)
    # 16 samples a pixel, each with the temporaries and the 3 stored values of the fused path
    per_pixel = 4 * 2 * 2 * working_bytes_per_sample(8, 3)
    free = int(100 * per_pixel / CHUNK_MEMORY_FRACTION) + 1  # room for 100 pixels per chunk
    monkeypatch.setattr(simulator, "device_memory", lambda device: DeviceMemory("cuda", free))
    seen = _spied(monkeypatch)
    image = simulate(config)
    simulate(config, pixels_per_chunk=7)
    assert seen == [(100, int(free * STORED_MEMORY_FRACTION)),
                    (7, int(free * STORED_MEMORY_FRACTION))]
    torch.testing.assert_close(image, reference, rtol=1e-12, atol=0.0)


def test_a_set_stored_limit_wins_on_every_device(monkeypatch):
    monkeypatch.setattr(simulator, "device_memory", lambda device: H200)
    monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", 0)
    assert simulator.stored_limit(H200) == 0
    monkeypatch.setattr(simulator, "STORED_BYTES_LIMIT", CPU_STORED_BYTES_LIMIT)
    assert simulator.stored_limit(H200) == stored_bytes_limit(H200)
    assert simulator.stored_limit(CPU) == CPU_STORED_BYTES_LIMIT
    assert chunk_sizing.CPU_STORED_BYTES_LIMIT == simulator.STORED_BYTES_LIMIT


def test_a_chunking_block_wins_over_the_device(monkeypatch):
    """``with chunking(...)`` (braggcheck.sim.chunking: the property cases' settings) sets the
    chunk and the stored-state limit on every device, a made-up large GPU included."""
    monkeypatch.setattr(simulator, "device_memory", lambda device: H200)
    seen = _spied(monkeypatch)
    config = from_nanobragg_args(ARGS)
    with chunking(pixels_per_chunk=50, stored_bytes_limit=1234):
        simulate(config)
        assert simulator.stored_limit(H200) == 1234
    simulate(config)
    assert seen == [(50, 1234), (24 * 24, stored_bytes_limit(H200))]
