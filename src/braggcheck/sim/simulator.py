"""The differentiable nanoBragg image: photons per pixel, as ``-floatfile`` writes them.

``simulate`` is a pure function of a :class:`Config` and optional tensor overrides of registry
parameters. Everything that does not depend on pixels (cell, orientations, sources, detector
placement) is built once; pixels are then evaluated in chunks sized for the device
(:mod:`braggcheck.sim.chunk_sizing`: cache-sized on CPU, from the free memory on CUDA). With a
gradient wanted, the pixels whose autograd state fits in the stored-state limit (CPU:
``STORED_BYTES_LIMIT``) keep it (on the parallelepiped path as one compact node,
:mod:`braggcheck.sim.fused_pixels`); the chunks after them are evaluated without storing and
recomputed during the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from braggcheck.sim.amplitudes import AmplitudeLookup, structure_factor_values
from braggcheck.sim.autograd_state import (
    amplitude_state,
    fused_path,
    stored_bytes,
    stored_values_per_sample,
    subpixels_per_pixel,
)
from braggcheck.sim.chunk_sizing import (
    CPU_STORED_BYTES_LIMIT,
    DeviceMemory,
    chunk_pixels,
    device_memory,
    stored_bytes_limit,
)
from braggcheck.sim.chunking import current_chunking
from braggcheck.sim.compilation import maybe_compile
from braggcheck.sim.config import Config
from braggcheck.sim.crystal_size import (
    continuous_lattice_factor,
    continuous_stored_values,
)
from braggcheck.sim.fused_lattice import (
    LatticeSetup,
    SquaredAmplitudes,
    unit_directions,
)
from braggcheck.sim.fused_pixels import (
    PixelSetup,
    PlaneOffsets,
    fused_pixel_intensity,
    plain_pixel_intensity,
)
from braggcheck.sim.physics import (
    gauss_lattice_factor,
    polarization_factor,
    round_lattice_factor,
    square_lattice_factor,
    tophat_lattice_factor,
)
from braggcheck.sim.pixel_features import feature_pixel_values
from braggcheck.sim.pixel_mask import kept_pixels, placed
from braggcheck.sim.resolution import (
    polarization_of,
    polarization_samples,
    with_cut,
)
from braggcheck.sim.scene import Scene, build_scene
from braggcheck.sim.sensor import capture_fraction, layered
from braggcheck.sim.state import build_state
from braggcheck.sim.tensor_tree import dataclass_tensors, with_tensors
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import check_int

STORED_BYTES_LIMIT = CPU_STORED_BYTES_LIMIT
"""With a gradient wanted, the first pixels (whole chunks) whose :func:`stored_bytes` fits in
the limit keep their autograd state (their backward is one pass); each chunk after them is
evaluated without storing and recomputed in the backward pass, so memory does not grow with the
image. The limit is this on CPU and :func:`chunk_sizing.stored_bytes_limit` on CUDA; set to
another value (tests) it holds on every device, and ``with chunking(stored_bytes_limit=...)``
(:mod:`braggcheck.sim.chunking`) wins over both."""


def squared_amplitudes(scene: Scene) -> SquaredAmplitudes | None:
    """F_cell^2 of Miller indices (3, R, M) (nearest reflection or interpolated), or None when
    every F is ``default_F``."""
    if scene.amplitudes is None:
        return None
    return AmplitudeLookup(scene.amplitudes, scene.hkl_origin, scene.default_F,
                           scene.interpolate)


def lattice_factor(scene: Scene, hkl: torch.Tensor) -> torch.Tensor:
    if scene.sizes is not None:  # real cell counts (braggcheck.sim.crystal_size)
        return continuous_lattice_factor(hkl, scene.shape, scene.cells, scene.sizes,
                                         scene.reciprocal, scene.fudge)
    if scene.shape == "square":
        return square_lattice_factor(hkl, scene.cells, reduced=True)
    if scene.shape == "round":
        return round_lattice_factor(hkl, scene.cells, scene.fudge)
    reciprocal = scene.reciprocal.to(hkl.dtype)
    if scene.shape == "gauss":
        return gauss_lattice_factor(hkl, reciprocal, scene.cells, scene.fudge)
    return tophat_lattice_factor(hkl, reciprocal, scene.cells, scene.fudge)


def lattice_intensity(scene: Scene, hkl: torch.Tensor) -> torch.Tensor:
    """The squared lattice factor of Miller indices (..., 3), by plain autograd ops."""
    lattice = lattice_factor(scene, hkl)
    return lattice * lattice


def detector_plane(scene: Scene) -> torch.Tensor:
    """Columns fdet, sdet (and odet for a thick sensor): offsets on them give positions."""
    det = scene.detector
    if scene.sensor is None:
        return torch.stack((det.fdet, det.sdet), dim=1)
    # The layer depth step rides on odet (sensor.layered gives layer indices): see there.
    return torch.stack((det.fdet, det.sdet, det.odet * scene.sensor.step), dim=1)


def plane_offsets(scene: Scene) -> PlaneOffsets:
    """Pixel indices -> offsets (k, n * subpixels) of their subpixels along the detector plane
    columns, pixel-major, subpixels slow-outer, sensor layers outermost within a pixel."""
    o = scene.oversample
    step = scene.detector.pixel / o
    sensor = scene.sensor

    def offsets(slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        sub = subpixel_offsets(o, slow)
        s_pos = (slow[:, None] * o + sub[None, :, 0]) * step  # (n, O*O)
        f_pos = (fast[:, None] * o + sub[None, :, 1]) * step
        if sensor is None:
            return torch.stack((f_pos.reshape(-1), s_pos.reshape(-1)))
        f_pos, s_pos, depth = layered(f_pos, s_pos, sensor)
        return torch.stack((f_pos.reshape(-1), s_pos.reshape(-1), depth.reshape(-1)))

    return offsets


def pixel_intensity(scene: Scene, slow: torch.Tensor, fast: torch.Tensor,
                    pixels_per_chunk: int) -> torch.Tensor:
    """``sum over subpixels, sources and orientations of F^2 L^2(h)`` per pixel (n,).

    With a gradient wanted on the fused path, one autograd node covers these pixels
    (:mod:`braggcheck.sim.fused_pixels`, chunked inside); otherwise plain ops on all of them.
    """
    amplitudes = squared_amplitudes(scene)
    det = scene.detector
    arguments = (det.pix0, detector_plane(scene), scene.projection, scene.projection_offset,
                 slow, fast)
    fused = torch.is_grad_enabled() and fused_path(scene)
    plain_lattice = None if fused else (lambda reduced: lattice_intensity(scene, reduced))
    lattice = LatticeSetup(scene.cells, scene.sample_dtype,
                           with_cut(amplitudes, scene.resolution), plain_lattice)
    setup = PixelSetup(lattice, plane_offsets(scene), subpixels_per_pixel(scene),
                       pixels_per_chunk)
    evaluate = fused_pixel_intensity if fused else plain_pixel_intensity
    summed = evaluate(*arguments, setup)
    if amplitudes is None:  # one F for all: square it once, not per sample
        return summed * (scene.default_F * scene.default_F)
    return summed


def subpixel_offsets(oversample: int, like: torch.Tensor) -> torch.Tensor:
    """(O*O, 2) offsets (slow, fast) in units of a subpixel, slow index outer."""
    grid = torch.arange(oversample, dtype=like.dtype, device=like.device) + 0.5
    slow, fast = torch.meshgrid(grid, grid, indexing="ij")
    return torch.stack((slow.reshape(-1), fast.reshape(-1)), dim=-1)


def pixel_factors(scene: Scene, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
    """Per pixel (n,): scale x polarization x solid angle (x capture fraction), evaluated at
    the first subpixel (of the last sensor layer for the capture), as the reference does."""
    det = scene.detector
    step = det.pixel / scene.oversample
    f_first = (fast * scene.oversample + 0.5) * step
    s_first = (slow * scene.oversample + 0.5) * step
    first = torch.addmm(det.pix0[:, None], torch.stack((det.fdet, det.sdet), dim=1),
                        torch.stack((f_first, s_first)))
    diffracted, inverse = unit_directions(first)
    if scene.point_pixel:
        omega = inverse * inverse
    else:
        omega = det.pixel**2 * det.close * inverse**3
    value = scene.scale * omega
    if scene.resolution is not None and not scene.nopolar:
        # -dmin: the polarization of the first sample within the cut; where none is, the
        # reference never sets it and its initial 0 blanks the pixel, water included (under
        # -nopolar it starts at 1: the pixel keeps its water background).
        positions = torch.addmm(det.pix0[:, None], detector_plane(scene),
                                plane_offsets(scene)(slow, fast))
        incident, direction, inside = polarization_samples(
            scene.resolution, positions, scene.sources.incident, scene.sources.wavelength,
            subpixels_per_pixel(scene))
        value = torch.where(inside, value, torch.zeros_like(value))
        value = value * polarization_of(incident, direction, det.polar, scene.kahn)
    elif not scene.nopolar:
        value = value * polarization_factor(scene.sources.incident[0], diffracted, det.polar,
                                            scene.kahn)
    if scene.sensor is not None:
        depth = (scene.sensor.layers - 1) * scene.sensor.step
        last, _ = unit_directions(first + det.odet[:, None] * depth)
        value = value * capture_fraction(last, det.odet, scene.sensor)
    return value


def pixel_values(scene: Scene, slow: torch.Tensor, fast: torch.Tensor,
                 pixels_per_chunk: int | None = None) -> torch.Tensor:
    """Photons for the pixels at integer indices ``slow``, ``fast`` (both shape (P,)).

    ``pixels_per_chunk`` bounds the working memory of the fused gradient path (default: all
    pixels at once); the plain path evaluates all given pixels together.
    """
    pixels = slow.shape[0]
    if scene.features is not None and scene.features.plain_only:  # pixel_features
        position = torch.addmm(scene.detector.pix0[:, None], detector_plane(scene),
                               plane_offsets(scene)(slow, fast))
        return feature_pixel_values(scene, position, pixels,
                                    lambda reduced: lattice_intensity(scene, reduced),
                                    squared_amplitudes(scene))
    chunk = pixels_per_chunk or max(1, pixels)
    # The per-pixel factors in chunks as large in elements as the subpixel chunks: cache-sized
    # arrays, while a block of a million pixels at once would run from main memory.
    # (Compiled, all at once: the compiled kernel fuses them, and a loop would be unrolled.)
    step = pixels if torch.compiler.is_compiling() else chunk * subpixels_per_pixel(scene)
    factors = [pixel_factors(scene, slow[i:i + step], fast[i:i + step])
               for i in range(0, pixels, step)]
    factors = factors[0] if len(factors) == 1 else torch.cat(factors)
    water = scene.features.water if scene.features is not None else 0.0  # pixel_features
    return (pixel_intensity(scene, slow, fast, chunk) + water) * factors


class _RecomputedChunk(torch.autograd.Function):
    """One chunk of pixels whose intermediates are not stored: backward evaluates it again.

    Unlike ``torch.utils.checkpoint`` (non-reentrant), the first evaluation runs with autograd
    off, so it is as cheap as a plain forward and skips the derivative work that
    :mod:`braggcheck.sim.fused_pixels` does when a graph is recorded. The backward re-runs the
    chunk on the saved scene tensors themselves (not copies), so ``create_graph=True`` and
    second derivatives work.
    """

    @staticmethod
    def forward(ctx, kernel: Callable, scene: Scene, slow: torch.Tensor, fast: torch.Tensor,
                *tensors: torch.Tensor) -> torch.Tensor:
        ctx.kernel, ctx.scene = kernel, scene
        ctx.save_for_backward(slow, fast, *tensors)
        return kernel(with_tensors(scene, iter(tensors)), slow, fast)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        slow, fast, *tensors = ctx.saved_tensors
        wanted = [i for i, tensor in enumerate(tensors) if tensor.requires_grad]
        grads: list[torch.Tensor | None] = [None] * len(tensors)
        if wanted:
            with torch.enable_grad():
                # Fresh aliases mark where this chunk's graph starts: some scene tensors are
                # computed from others (pix0 from fdet, projection from orientations), and
                # differentiating up to the originals would walk, and free, the shared graph
                # above the chunk and count those paths twice.
                aliases = [tensor.view_as(tensor) for tensor in tensors]
                # Eager even when the forward was compiled: every chunk's fresh aliases and
                # scene would fail the compiled guards and recompile the kernel per chunk.
                values = pixel_values(with_tensors(ctx.scene, iter(aliases)), slow, fast)
            if not values.requires_grad:  # the wanted tensors do not reach these pixels (a
                # cell angle under -mat): their gradient is zero, as on the stored path
                return None, None, None, None, *grads
            found = torch.autograd.grad(values, [aliases[i] for i in wanted], grad,
                                        allow_unused=True,
                                        create_graph=torch.is_grad_enabled())
            for i, value in zip(wanted, found, strict=True):
                grads[i] = value
        return None, None, None, None, *grads


def default_pixels_per_chunk(scene: Scene, memory: DeviceMemory, pixels: int) -> int:
    """The chunk :func:`simulate` uses when the caller passes none
    (:func:`chunk_sizing.chunk_pixels` on this scene's samples per pixel)."""
    samples = subpixels_per_pixel(scene) * scene.sources.wavelength.shape[0]
    samples *= scene.orientations.shape[0]
    sample_size = torch.empty((), dtype=scene.sample_dtype).element_size()
    # A chunk recomputed in the backward pass holds its own autograd state next to its
    # temporaries; the costlier paths (continuous N, interpolation) also have temporaries in
    # proportion to their state.
    extra = stored_values_per_sample(scene)
    extra += (continuous_stored_values(scene.shape, scene.sizes) or 0) + amplitude_state(scene)
    return chunk_pixels(memory, samples, pixels, sample_size, extra)


def stored_limit(memory: DeviceMemory) -> int:
    """The stored-state limit for this call: a ``with chunking(stored_bytes_limit=...)``'s,
    else ``STORED_BYTES_LIMIT`` when it has been set to another value than the CPU default
    (tests), else the device's (:func:`chunk_sizing.stored_bytes_limit`)."""
    limit = current_chunking().stored_bytes_limit
    if limit is not None:
        return limit
    if STORED_BYTES_LIMIT != CPU_STORED_BYTES_LIMIT:
        return STORED_BYTES_LIMIT
    return stored_bytes_limit(memory)


def _chunked_pixels(scene: Scene, roi: tuple[int, int, int, int], like: torch.Tensor,
                    pixels_per_chunk: int, limit: int) -> torch.Tensor:
    """The ROI's pixels in chunks of ``pixels_per_chunk``.

    With a gradient wanted, the pixels whose estimated autograd state fits in ``limit`` (bytes)
    keep it (on the fused path as one autograd node over all of them,
    chunked inside, so the state lives in a few large tensors rather than thousands of small
    ones); each chunk after that is recomputed in the backward pass, so memory is bounded
    whatever the image size.
    """
    fmin, fmax, smin, smax = roi
    slow, fast = torch.meshgrid(
        torch.arange(smin, smax + 1, dtype=like.dtype, device=like.device),
        torch.arange(fmin, fmax + 1, dtype=like.dtype, device=like.device),
        indexing="ij",
    )
    slow, fast = slow.reshape(-1), fast.reshape(-1)
    slow, fast, kept = kept_pixels(scene.mask, slow, fast)  # -mask
    kernel = maybe_compile(pixel_values, like.device)
    tensors = dataclass_tensors(scene)
    pixels = slow.shape[0]
    graph = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
    stored = 0  # pixels that keep their autograd state: whole chunks within the limit
    if graph:
        fitting = limit // max(1, stored_bytes(scene, 1, like))
        stored = min(pixels, fitting - fitting % pixels_per_chunk)
    pieces = []
    first = 0
    if stored and fused_path(scene):
        pieces.append(kernel(scene, slow[:stored], fast[:stored], pixels_per_chunk))
        first = stored
    for start in range(first, pixels, pixels_per_chunk):
        s = slow[start:start + pixels_per_chunk]
        f = fast[start:start + pixels_per_chunk]
        if graph and start >= stored:
            pieces.append(_RecomputedChunk.apply(kernel, scene, s, f, *tensors))
        else:
            pieces.append(kernel(scene, s, f))
    return placed(pieces, kept, tensors, like).reshape(smax - smin + 1, fmax - fmin + 1)


def _checked_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a torch.device that exists here, or a one-line ConfigError."""
    if device is None:
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device = {device!r}: valid: 'cpu', 'cuda', 'cuda:N' or a "
                          "torch.device") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device = {device!r}: no CUDA device is available; valid: 'cpu'")
    return chosen


def simulate(
    config: Config,
    params: Mapping[str, torch.Tensor] | None = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    pixels_per_chunk: int | None = None,
) -> torch.Tensor:
    """The image (spixels, fpixels) in photons per pixel, differentiable in ``params``.

    ``params`` maps registry parameter names to tensors that replace the configuration's values;
    the result has a gradient with respect to each. Pixels outside the ROI are 0. Discrete
    choices (the automatic oversample, the source grid's shape) are those of ``config``
    (``config.oversample``), so the image is a smooth function of ``params``.
    ``pixels_per_chunk`` (default: :mod:`braggcheck.sim.chunk_sizing`'s rule for the device)
    bounds the working memory; it changes nothing but rounding.
    """
    if not isinstance(config, Config):
        raise ConfigError(f"config: expected a braggcheck.Config, got {type(config).__name__}")
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype = {dtype}: valid: torch.float32 or torch.float64")
    device = _checked_device(device)
    if pixels_per_chunk is not None:
        check_int("pixels_per_chunk", pixels_per_chunk, 1)
    # The geometry (cell, orientations, detector, Miller indices) is always float64; ``dtype``
    # sets the per-sample lattice math and the returned image.
    state = build_state(config, params, torch.float64, device)
    scene = build_scene(config, state, dtype, structure_factor_values(params, config.crystal.hkl))
    det = config.detector
    roi = det.roi_bounds
    # Read once per image: the chunk and the stored state share the same free memory.
    memory = device_memory(device)
    if pixels_per_chunk is None:
        pixels_per_chunk = current_chunking().pixels_per_chunk  # a ``with chunking(...)``
    if pixels_per_chunk is None:
        fmin, fmax, smin, smax = roi
        pixels_per_chunk = default_pixels_per_chunk(scene, memory,
                                                    (fmax - fmin + 1) * (smax - smin + 1))
    values = _chunked_pixels(scene, roi, state["cell_a"], pixels_per_chunk,
                             stored_limit(memory))
    fmin, fmax, smin, smax = roi
    return torch.nn.functional.pad(
        values.to(dtype), (fmin, det.fpixels - 1 - fmax, smin, det.spixels - 1 - smax)
    )
