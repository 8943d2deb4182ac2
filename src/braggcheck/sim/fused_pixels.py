"""Per-pixel lattice intensity of a block of pixels, with its gradient state stored compactly.

For every pixel the intensity is summed over its subpixels (and sensor layers) and over every
source x orientation row block r: ``I = sum_sub sum_r F_r^2 L^2(h_r)``, with
``h_r = P_r u - o_r``, ``u = p / |p|`` and ``p = pix0 + plane @ offsets`` (the subpixel's
position on the detector).

Plain autograd over chunks of pixels would store about ten intermediates per sample plus the
geometry of every subpixel, in thousands of chunk-sized allocations that fragment the C heap
(reports/performance.md: 2.3 GB resident for 1.1 GB of state on the first call, 3.8 GB from
the third). Here one autograd node covers the whole block: its forward walks the pixels in
cache-sized chunks, computing the lattice intensity and its derivative in h together
(:func:`braggcheck.sim.fused_lattice.intensity_and_derivative`), and keeps one block-sized tensor:
``D = d(F^2 L^2)/dh`` (three values per sample; with an hkl table also ``2 F L^2``, the
derivative in the sample's amplitude, so the amplitude grid gets its gradient). The backward
walks the same chunks: it recomputes the subpixels' directions (a few passes per subpixel,
against a multiple of that per sample) and, since the incoming gradient g is one number per
pixel, reads ``D`` by two small matrix products: ``D [g u | g]^T`` gives the gradients of
``P`` and ``o``, ``P^T D`` (times g) that of u, hence of ``pix0`` and ``plane``.

Second derivatives (``create_graph=True``) differentiate :func:`plain_pixel_intensity` (the
plain formula) instead, which is exact; forward mode contracts the same ``D`` with the tangent
of h.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch

from braggcheck.sim.fused_lattice import (
    LatticeSetup,
    Workspace,
    intensity_and_derivative,
    miller_indices,
    projected_intensity,
)

PlaneOffsets = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""Pixel indices ``slow``, ``fast`` (n,) -> detector-plane offsets (k, n * subpixels) of their
subpixels (m, constants), pixel-major."""


@dataclass(frozen=True)
class PixelSetup:
    """What the pixel sums need besides the tensors they differentiate."""

    lattice: LatticeSetup
    offsets: PlaneOffsets
    subpixels: int  # per pixel, sensor layers included
    pixels_per_chunk: int


def plain_pixel_intensity(pix0: torch.Tensor, plane: torch.Tensor, projection: torch.Tensor,
                          offset: torch.Tensor, slow: torch.Tensor, fast: torch.Tensor,
                          setup: PixelSetup) -> torch.Tensor:
    """The per-pixel intensity (n,) by plain autograd ops, all pixels at once."""
    position = torch.addmm(pix0[:, None], plane, setup.offsets(slow, fast))
    summed = projected_intensity(position, projection, offset, setup.lattice)
    return summed.view(-1, setup.subpixels).sum(1)


def _chunks(pixels: int, setup: PixelSetup) -> Iterator[tuple[slice, slice]]:
    """(pixel slice, subpixel slice) of each chunk."""
    step = setup.pixels_per_chunk
    for start in range(0, pixels, step):
        stop = min(start + step, pixels)
        yield slice(start, stop), slice(start * setup.subpixels, stop * setup.subpixels)


def _chunk_of(derivative: torch.Tensor, rows: int, sub: slice) -> torch.Tensor:
    """The (rows, m) piece of the chunk-major stored derivative for subpixels ``sub``."""
    return derivative[rows * sub.start:rows * sub.stop].view(rows, -1)


def _geometry(pix0: torch.Tensor, plane: torch.Tensor, slow: torch.Tensor, fast: torch.Tensor,
              setup: PixelSetup, work: Workspace
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Plane offsets (k, m), unit directions (3, m) and inverse distances (m) of a chunk's
    subpixels (autograd off); recomputed in the backward pass rather than stored (cheaper than
    the page faults of storing them, and a quarter of the memory)."""
    offsets = setup.offsets(slow, fast)
    count = offsets.shape[1]
    dtype = pix0.dtype
    position = torch.addmm(pix0[:, None], plane, offsets,
                           out=work.take("position", 3, count, dtype=dtype))
    squares = torch.mul(position, position, out=work.take("squares", 3, count, dtype=dtype))
    inverse = torch.sum(squares, 0, out=work.take("inverse", count, dtype=dtype)).rsqrt_()
    return offsets, position.mul_(inverse), inverse


def _with_grid(setup: PixelSetup, grid: torch.Tensor | None) -> PixelSetup:
    """``setup`` whose amplitude lookup reads ``grid`` (the node's own input tensor)."""
    lookup = setup.lattice.squared_amplitudes
    if lookup is None or grid is None:
        return setup
    return replace(setup, lattice=replace(setup.lattice, squared_amplitudes=lookup.using(grid)))


def _amplitude_rows(rows: int, sub: slice) -> slice:
    """The stored ``2 F L^2`` of subpixels ``sub``: (rows / 3) x m values, chunk-major."""
    return slice(rows // 3 * sub.start, rows // 3 * sub.stop)


class _FusedPixelIntensity(torch.autograd.Function):
    @staticmethod
    def forward(pix0: torch.Tensor, plane: torch.Tensor, projection: torch.Tensor,
                offset: torch.Tensor, grid: torch.Tensor | None, slow: torch.Tensor,
                fast: torch.Tensor, setup: PixelSetup
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        setup = _with_grid(setup, grid)
        pixels, rows = slow.shape[0], projection.shape[0]
        sample_dtype = setup.lattice.sample_dtype
        value = torch.empty(pixels, dtype=sample_dtype, device=pix0.device)
        # Chunk-major: chunk c's (3, R, m_c) derivative is one contiguous piece.
        derivative = torch.empty(rows * pixels * setup.subpixels, dtype=sample_dtype,
                                 device=pix0.device)
        # d(F^2 L^2)/dF per sample and row block, for the gradient of the amplitude grid: one
        # more value per sample, kept whenever there is a grid (forward mode needs it too).
        slope = None if grid is None else torch.empty(
            rows // 3 * pixels * setup.subpixels, dtype=sample_dtype, device=pix0.device)
        work = Workspace(pix0.device)
        for pix, sub in _chunks(pixels, setup):
            _, unit, _ = _geometry(pix0, plane, slow[pix], fast[pix], setup, work)
            hkl = miller_indices(unit, projection, offset,
                                 out=work.take("hkl", rows, unit.shape[1], dtype=pix0.dtype))
            amplitude_slope = None if slope is None else (
                slope[_amplitude_rows(rows, sub)].view(hkl.shape[1:]))
            summed = intensity_and_derivative(hkl, setup.lattice,
                                              _chunk_of(derivative, rows, sub).view(hkl.shape),
                                              work, amplitude_slope)
            value[pix] = summed.view(-1, setup.subpixels).sum(1)
        return value, derivative, slope

    @staticmethod
    def setup_context(ctx, inputs: tuple, output: tuple) -> None:
        # (setup_context rather than ctx in forward: torch.func.jvp and forward AD need it)
        pix0, plane, projection, offset, grid, slow, fast, setup = inputs
        _, derivative, slope = output
        ctx.setup = setup
        ctx.mark_non_differentiable(*(t for t in (derivative, slope) if t is not None))
        ctx.set_materialize_grads(False)  # no zero-filled gradient for it
        saved = (pix0, plane, projection, offset, grid, slow, fast, derivative, slope)
        ctx.save_for_backward(*saved)
        ctx.save_for_forward(*saved)

    @staticmethod
    def jvp(ctx, d_pix0: torch.Tensor | None, d_plane: torch.Tensor | None,
            d_projection: torch.Tensor | None, d_offset: torch.Tensor | None,
            d_grid: torch.Tensor | None, *_constants: None
            ) -> tuple[torch.Tensor | None, None, None]:
        """Forward mode: per chunk the tangent of h, contracted with the saved derivative,
        plus the grid's tangent at each sample's reflection times the saved 2 F L^2."""
        pix0, plane, projection, offset, grid, slow, fast, derivative, slope = ctx.saved_tensors
        setup: PixelSetup = _with_grid(ctx.setup, grid)
        rows = projection.shape[0]
        tangent = torch.zeros(slow.shape[0], dtype=pix0.dtype, device=pix0.device)
        work = Workspace(pix0.device)
        for pix, sub in _chunks(slow.shape[0], setup):
            offsets, unit, inverse = _geometry(pix0, plane, slow[pix], fast[pix], setup, work)
            d_hkl = torch.zeros((rows, unit.shape[1]), dtype=unit.dtype, device=unit.device)
            if d_pix0 is not None or d_plane is not None:
                d_position = torch.zeros_like(unit)
                if d_pix0 is not None:
                    d_position = d_position + d_pix0[:, None]
                if d_plane is not None:
                    d_position = d_position + d_plane @ offsets
                along = (unit * d_position).sum(0)  # du = (dp - u (u . dp)) / |p|
                d_unit = torch.addcmul(d_position, unit, along, value=-1) * inverse
                d_hkl = d_hkl + projection @ d_unit
            if d_projection is not None:
                d_hkl = d_hkl + d_projection @ unit
            if d_offset is not None:
                d_hkl = d_hkl - d_offset
            chunk = _chunk_of(derivative, rows, sub)
            per_sample = (chunk * d_hkl).sum(0)
            if d_grid is not None and slope is not None:
                per_sample = per_sample + _grid_tangent(
                    setup, d_grid, slope[_amplitude_rows(rows, sub)], unit, projection, offset)
            tangent[pix] = per_sample.view(-1, setup.subpixels).sum(1)
        return tangent.to(setup.lattice.sample_dtype), None, None

    @staticmethod
    def backward(ctx, grad: torch.Tensor | None, _derivative_grad: torch.Tensor | None,
                 _slope_grad: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
        pix0, plane, projection, offset, grid, slow, fast, derivative, slope = (
            ctx.saved_tensors)
        setup: PixelSetup = _with_grid(ctx.setup, grid)
        needs = ctx.needs_input_grad[:5]
        constants = (None, None, None)
        if grad is None:
            return None, None, None, None, None, *constants
        if torch.is_grad_enabled():  # create_graph: differentiate the plain formula instead
            tensors = (pix0, plane, projection, offset, grid)
            inputs = [t for t, need in zip(tensors, needs, strict=True) if need]
            value = plain_pixel_intensity(pix0, plane, projection, offset, slow, fast, setup)
            found = iter(torch.autograd.grad(value, inputs, grad, create_graph=True,
                                             allow_unused=True))
            return *(next(found) if need else None for need in needs), *constants
        rows, per_pixel = projection.shape[0], setup.subpixels
        # Sums over millions of samples accumulate in the geometry dtype (float64).
        grad = grad.to(pix0.dtype)
        grad_pix0, grad_plane = torch.zeros_like(pix0), torch.zeros_like(plane)
        grad_projection, grad_offset = torch.zeros_like(projection), torch.zeros_like(offset)
        grad_grid = None if not needs[4] else torch.zeros(
            grid.numel(), dtype=pix0.dtype, device=grid.device)
        work = Workspace(pix0.device)

        def take(name: str, *shape: int) -> torch.Tensor:
            return work.take(name, *shape, dtype=pix0.dtype)

        for pix, sub in _chunks(slow.shape[0], setup):
            offsets, unit, inverse = _geometry(pix0, plane, slow[pix], fast[pix], setup, work)
            chunk = _chunk_of(derivative, rows, sub)
            if chunk.dtype != pix0.dtype:
                chunk = take("derivative", *chunk.shape).copy_(chunk)
            # dI/dh = D g with g the pixel's gradient, the same for all its subpixels, so g
            # multiplies per-subpixel factors and D is only read, by two matrix products.
            g = take("g", unit.shape[1]).view(-1, per_pixel)
            g.copy_(grad[pix, None].expand(-1, per_pixel))
            g = g.view(-1)
            if grad_grid is not None:
                _add_grid_gradient(setup, grad_grid, slope[_amplitude_rows(rows, sub)], g,
                                   unit, projection, offset)
            if needs[2] or needs[3]:  # [dI/dP | -dI/do] = D [g u | g]^T in one product
                weighted = take("weighted", 4, unit.shape[1])
                torch.mul(unit, g, out=weighted[:3])
                weighted[3].copy_(g)
                both = chunk @ weighted.T
                grad_projection.add_(both[:, :3])
                grad_offset.sub_(both[:, 3:])
            if needs[0] or needs[1]:
                grad_unit = torch.mm(projection.T, chunk, out=take("grad_unit", *unit.shape))
                grad_unit.mul_(g)
                along = torch.mul(unit, grad_unit, out=take("squares", *unit.shape)).sum(0)
                grad_position = grad_unit.addcmul_(unit, along, value=-1).mul_(inverse)
                grad_pix0.add_(grad_position.sum(1))
                grad_plane.addmm_(grad_position, offsets.T)
        found = (grad_pix0, grad_plane, grad_projection, grad_offset,
                 None if grad_grid is None else grad_grid.view(grid.shape).to(grid.dtype))
        return *(g if need else None for g, need in zip(found, needs, strict=True)), *constants


def _reflections(setup: PixelSetup, unit: torch.Tensor, projection: torch.Tensor,
                 offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat grid index of each sample's nearest reflection (R, m) and whether it is inside
    the grid (recomputed from the directions: cheaper than storing an index per sample)."""
    hkl = miller_indices(unit, projection, offset)
    return setup.lattice.squared_amplitudes.nearest_index(hkl)


def _add_grid_gradient(setup: PixelSetup, grad_grid: torch.Tensor, slope: torch.Tensor,
                       g: torch.Tensor, unit: torch.Tensor, projection: torch.Tensor,
                       offset: torch.Tensor) -> None:
    """grad_F += sum over the samples whose nearest reflection is F of g 2 F L^2."""
    flat, inside = _reflections(setup, unit, projection, offset)
    weighted = slope.view(flat.shape).to(g.dtype) * g
    grad_grid.index_add_(0, flat.reshape(-1),
                         torch.where(inside, weighted, 0).reshape(-1))


def _grid_tangent(setup: PixelSetup, d_grid: torch.Tensor, slope: torch.Tensor,
                  unit: torch.Tensor, projection: torch.Tensor, offset: torch.Tensor
                  ) -> torch.Tensor:
    """Per sample (m,): sum over row blocks of 2 F L^2 times dF at the nearest reflection."""
    flat, inside = _reflections(setup, unit, projection, offset)
    d_amplitude = torch.where(inside, d_grid.reshape(-1)[flat].to(unit.dtype), 0)
    return (slope.view(flat.shape).to(unit.dtype) * d_amplitude).sum(0)


def fused_pixel_intensity(pix0: torch.Tensor, plane: torch.Tensor, projection: torch.Tensor,
                          offset: torch.Tensor, slow: torch.Tensor, fast: torch.Tensor,
                          setup: PixelSetup) -> torch.Tensor:
    """:func:`plain_pixel_intensity` with the gradient state computed in the forward pass;
    needs :func:`braggcheck.sim.fused_lattice.fused_applies` and the parallelepiped lattice."""
    if _eager_node is not None and torch.compiler.is_compiling():
        # torch.compile would unroll the chunk loop (hundreds of chunks for a 1024^2 image:
        # minutes of compilation): the node runs eagerly and compiled code goes around it.
        return _eager_node(pix0, plane, projection, offset, _grid(setup), slow, fast, setup)
    return _FusedPixelIntensity.apply(pix0, plane, projection, offset, _grid(setup), slow,
                                      fast, setup)[0]


def _grid(setup: PixelSetup) -> torch.Tensor | None:
    """The amplitude grid, an explicit input of the node so that its gradient is returned."""
    lookup = setup.lattice.squared_amplitudes
    return None if lookup is None else lookup.grid


_eager_node: Callable[..., torch.Tensor] | None = None


def prepare_for_compile() -> None:
    """Make the node opaque to torch.compile (:mod:`braggcheck.sim.compilation` calls this before
    compiling). Not done at import: ``torch.compiler.disable`` imports torch._dynamo (1.5 s,
    70 MB), which an uncompiled run never needs."""
    global _eager_node
    if _eager_node is None:
        def node(*arguments: object) -> torch.Tensor:
            return _FusedPixelIntensity.apply(*arguments)[0]

        _eager_node = torch.compiler.disable(node)
