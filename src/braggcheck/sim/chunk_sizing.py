"""How many pixels ``simulate`` evaluates at once, and how much autograd state it keeps, by device.

CPU: chunks of :data:`ELEMENTS_PER_CHUNK` samples (cache-sized arrays; reports/performance.md)
and :data:`CPU_STORED_BYTES_LIMIT` of stored state, as measured there. Unchanged by the device
rule below.

CUDA: every chunk is one more round of kernel launches (tens of them), so 2^16-sample chunks
leave the GPU waiting on the launches (issue 23: 64 chunks of a 1024^2 image took 95 ms where
one took 9 ms). The chunk is sized from the device memory free at call time instead: its working
memory (temporaries, and its own autograd state while it is recomputed in the backward pass)
gets :data:`CHUNK_MEMORY_FRACTION` of it, the stored autograd state of the other pixels
:data:`STORED_MEMORY_FRACTION`, the rest is headroom for the image-sized arrays (values,
per-pixel factors, pixel indices) and the allocator's rounding. tests/cuda/test_chunk_memory.py
checks the peak against the free memory on a real GPU.

The rules are pure functions of :class:`DeviceMemory` (tested with made-up devices on CPU);
:func:`device_memory` reads the real one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ELEMENTS_PER_CHUNK = 1 << 16
"""CPU: samples (subpixel x source x orientation x layer) evaluated at once; bounds the working
memory to cache-sized arrays."""

CPU_STORED_BYTES_LIMIT = 2**30
"""CPU: autograd state kept for the backward pass (beyond it chunks are recomputed)."""

CHUNK_MEMORY_FRACTION = 0.25
"""CUDA: share of the free device memory one chunk's temporaries may take."""

STORED_MEMORY_FRACTION = 0.5
"""CUDA: share of the free device memory the stored autograd state may take."""

WORKING_FLOAT64_PER_SAMPLE = 8
"""Float64 temporaries per sample of a chunk: the Miller indices and their rounding (3 + 3,
always float64), the copy of the stored derivative in the backward pass (3 / 3 of a row
block's share), with some margin."""

WORKING_SAMPLE_VALUES_PER_SAMPLE = 24
"""Sample-dtype temporaries per sample: the reduced indices (3), each axis's squared Chebyshev
value and slope (6), the recurrence's rotating buffers, sine and cosine (6), the product and
the derivative being written (4); plain autograd (other lattice shapes, no gradient) allocates
about as many, freed op by op. Rounded up."""


@dataclass(frozen=True)
class DeviceMemory:
    """What the sizing rules need to know about a device."""

    kind: str
    """``torch.device.type``: ``"cuda"`` sizes from memory, anything else is sized as CPU."""
    free_bytes: int = 0
    """Bytes usable by this call (CUDA: free plus cached by torch's allocator; CPU: unused)."""


def device_memory(device: torch.device) -> DeviceMemory:
    """The memory of ``device`` now: for CUDA, ``torch.cuda.mem_get_info``'s free bytes plus
    what torch's caching allocator holds without a tensor in it (reusable by this call)."""
    if device.type != "cuda":
        return DeviceMemory(device.type)
    free, _total = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return DeviceMemory("cuda", int(free + max(0, cached)))


def working_bytes_per_sample(sample_size: int, extra_values: int = 0) -> int:
    """Temporaries of one sample in a chunk, in bytes; ``extra_values`` sample-dtype values more
    for costlier paths (e.g. the 64-point interpolation stencil)."""
    return (WORKING_FLOAT64_PER_SAMPLE * 8
            + (WORKING_SAMPLE_VALUES_PER_SAMPLE + extra_values) * sample_size)


def chunk_pixels(device: DeviceMemory, samples_per_pixel: int, pixels: int,
                 sample_size: int, extra_values: int = 0) -> int:
    """Pixels per chunk for an image of ``pixels`` pixels whose every pixel has
    ``samples_per_pixel`` samples (subpixels x sources x orientations x sensor layers) in a dtype
    of ``sample_size`` bytes.

    CPU: ``ELEMENTS_PER_CHUNK // samples_per_pixel`` (at least 1), whatever the memory.
    CUDA: as many pixels as fit in ``CHUNK_MEMORY_FRACTION`` of the free memory (at least 1, at
    most the image: one chunk when it fits).
    """
    samples_per_pixel = max(1, samples_per_pixel)
    if device.kind != "cuda":
        return max(1, ELEMENTS_PER_CHUNK // samples_per_pixel)
    budget = int(device.free_bytes * CHUNK_MEMORY_FRACTION)
    per_pixel = samples_per_pixel * working_bytes_per_sample(sample_size, extra_values)
    return max(1, min(max(1, pixels), budget // per_pixel))


def stored_bytes_limit(device: DeviceMemory) -> int:
    """Autograd state kept for the backward pass before chunks are recomputed instead: CPU a
    fixed 1 GiB (the memory target of issue 7, reports/performance.md); CUDA
    ``STORED_MEMORY_FRACTION`` of the free memory (recomputing a chunk is a whole extra
    forward, storing is free while memory lasts)."""
    if device.kind != "cuda":
        return CPU_STORED_BYTES_LIMIT
    return int(device.free_bytes * STORED_MEMORY_FRACTION)
