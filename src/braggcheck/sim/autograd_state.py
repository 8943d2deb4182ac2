"""Which gradient path a scene takes and what its autograd state costs.

:func:`fused_path` chooses between the compact fused node (:mod:`braggcheck.sim.fused_pixels`)
and plain autograd; :func:`stored_bytes` estimates the state a block of pixels keeps for the
backward pass, which bounds how many pixels keep it (``simulator.STORED_BYTES_LIMIT``) and,
on CUDA, how large a chunk may be (:mod:`braggcheck.sim.chunk_sizing`).
"""

from __future__ import annotations

import torch

from braggcheck.sim.crystal_size import continuous_stored_values
from braggcheck.sim.fused_lattice import fused_applies
from braggcheck.sim.scene import Scene


def fused_path(scene: Scene) -> bool:
    """Whether a recorded gradient uses :mod:`braggcheck.sim.fused_pixels` (parallelepiped
    crystals with N <= 16 on every axis, none of them a tensor, no per-subpixel feature, no
    interpolation and no resolution cut: the node differentiates the amplitude grid itself,
    which a cut's per-sample weights would hide) rather than plain autograd."""
    plain = scene.features is not None and scene.features.plain_only  # pixel_features
    return (scene.shape == "square" and fused_applies(scene.cells) and scene.sizes is None
            and not plain and not scene.interpolate and scene.resolution is None)


def subpixels_per_pixel(scene: Scene) -> int:
    layers = scene.sensor.layers if scene.sensor is not None else 1
    return scene.oversample**2 * layers


def stored_bytes(scene: Scene, pixels: int, like: torch.Tensor) -> int:
    """Estimated autograd state of ``pixels`` pixels.

    Fused path: per sample the lattice derivative (3 values, sample dtype), per pixel ~24
    values of solid angle and polarization (~40 with a thick sensor's capture fraction);
    ``tests/unit/sim/test_simulator_chunking.py`` holds it to within 1x-1.5x of what autograd saves.
    Plain autograd (other crystal shapes) stores ~12 values per sample and per subpixel.
    """
    subpixels = pixels * subpixels_per_pixel(scene)
    samples = subpixels * scene.sources.wavelength.shape[0] * scene.orientations.shape[0]
    sample_size = torch.empty((), dtype=scene.sample_dtype).element_size()
    geometry_size = like.element_size()
    per_subpixel = 0 if fused_path(scene) else 12
    per_pixel = 24 if scene.sensor is None else 40  # the capture fraction adds ~16
    return (samples * stored_values_per_sample(scene) * sample_size
            + (subpixels * per_subpixel + pixels * per_pixel) * geometry_size)


def stored_values_per_sample(scene: Scene) -> int:
    """Sample-dtype values :func:`stored_bytes` counts per sample: 3 on the fused path, ~12
    by plain autograd, the continuous-N path's own count, plus the amplitudes' state."""
    per_sample = 3 if fused_path(scene) else 12
    per_sample = continuous_stored_values(scene.shape, scene.sizes) or per_sample
    return per_sample + amplitude_state(scene)


def amplitude_state(scene: Scene) -> int:
    """Extra stored values per sample for the amplitudes: on the fused path 2 F L^2 (one),
    with interpolation the plain autograd state of the 64-point stencil (gathered values,
    their indices and the partial sums, ~170 values)."""
    if scene.amplitudes is None:
        return 0
    return 170 if scene.interpolate else (1 if fused_path(scene) else 0)
