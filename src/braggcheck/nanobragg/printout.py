"""``-printout`` / ``-printout_pixel F S``: the reference program's per-pixel trace.

For each traced pixel the reference prints, after the pixel's loops, the values its loop
variables hold then: the *last* sample's stol, position, Miller indices, lattice factor, the
raw sum I, I/steps, the polarization, solid angle and capture fraction it multiplied by, the
pixel's value (single precision, as its float image holds it) and the last orientation's
real-space cell vectors. braggcheck prints the same lines in the same formats, so a trace can
be diffed against the C program's output (``grep``-ed out of its other messages).

Where the reference prints a value left over from an *earlier pixel* (F_cell when every sample
of the pixel was skipped, only possible for tophat spots without water), braggcheck prints the
last sample's F instead.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from braggcheck.sim.config import Config
from braggcheck.sim.physics import nearest_integer
from braggcheck.sim.pixel_features import PixelSums, pixel_sums
from braggcheck.sim.scene import Scene, build_scene
from braggcheck.sim.simulator import (
    detector_plane,
    lattice_factor,
    lattice_intensity,
    plane_offsets,
    squared_amplitudes,
)
from braggcheck.sim.state import build_state

PIXELS_PER_BLOCK = 256


def trace_lines(config: Config, pixel: tuple[int, int] | None) -> list[str]:
    """The trace of pixel (fast, slow), or of every ROI pixel (slow outer) when None."""
    fmin, fmax, smin, smax = config.detector.roi_bounds
    if pixel is None:
        pixels = [(f, s) for s in range(smin, smax + 1) for f in range(fmin, fmax + 1)]
    else:
        pixels = [pixel]
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state)
        lines: list[str] = []
        for start in range(0, len(pixels), PIXELS_PER_BLOCK):
            block = pixels[start:start + PIXELS_PER_BLOCK]
            lines += _block_lines(config, scene, block)
    return lines


def _block_lines(config: Config, scene: Scene, block: list[tuple[int, int]]) -> list[str]:
    fast = torch.tensor([f for f, _ in block], dtype=torch.float64)
    slow = torch.tensor([s for _, s in block], dtype=torch.float64)
    position = torch.addmm(scene.detector.pix0[:, None], detector_plane(scene),
                           plane_offsets(scene)(slow, fast))
    sums = pixel_sums(scene, position, len(block),
                      lambda reduced: lattice_intensity(scene, reduced),
                      squared_amplitudes(scene))
    lines: list[str] = []
    for index, (f, s) in enumerate(block):
        lines += _pixel_lines(config, scene, sums, index, f, s)
    return lines


def _structure_factor(scene: Scene, h0: np.ndarray) -> float:
    """F at the nearest reflection ``h0`` (3,), default_F outside the table."""
    if scene.amplitudes is None:
        return scene.default_F
    index = [int(h0[i]) - scene.hkl_origin[i] for i in range(3)]
    grid = scene.amplitudes
    if all(0 <= index[i] < grid.shape[i] for i in range(3)):
        return float(grid[index[0], index[1], index[2]])
    return scene.default_F


def _signed_lattice(scene: Scene, hkl: torch.Tensor) -> float:
    """F_latt with the reference's sign (braggcheck's sincg is only right up to a sign)."""
    if scene.shape != "square":
        return float(lattice_factor(scene, hkl[None]).reshape(()))
    value = 1.0
    for x, cells in zip(hkl.tolist(), scene.cells, strict=True):
        if cells > 1:
            angle = math.pi * x
            value *= cells if angle == 0 else math.sin(angle * cells) / math.sin(angle)
    return value


def _pixel_lines(config: Config, scene: Scene, sums: PixelSums, index: int, f: int,
                 s: int) -> list[str]:
    features = scene.features
    per_pixel = sums.position.shape[1] // sums.raw.shape[0]
    last_column = (index + 1) * per_pixel - 1
    position = sums.position[:, last_column]
    hkl = sums.hkl[:, -1, last_column]
    incident = scene.sources.incident[-1]
    wavelength = float(scene.sources.wavelength[-1])  # metres, as in the reference
    direction = position / torch.linalg.norm(position)
    stol = 0.5 * float(torch.linalg.norm((direction - incident) / wavelength))
    twotheta = math.atan2(math.hypot(float(position[1]), float(position[2])),
                          float(position[0]))
    stol_central = math.sin(twotheta / 2) / float(config.beam.lambda_A)
    h0 = nearest_integer(hkl).numpy()
    # F_cell of the last sample the reference did not skip (a zero lattice factor without
    # water is skipped before F_cell is looked up)
    lattice = sums.squared_lattice.view(-1, sums.raw.shape[0], per_pixel)[:, index]
    kept = torch.ones_like(lattice, dtype=torch.bool) if features is None or \
        features.water_on else lattice != 0
    kept_hkl = hkl
    kept_index = torch.nonzero(kept.T.reshape(-1))
    if kept_index.numel():
        flat = int(kept_index[-1])
        sub, row = divmod(flat, lattice.shape[0])
        kept_hkl = sums.hkl[:, row, index * per_pixel + sub]
    f_cell = _structure_factor(scene, nearest_integer(kept_hkl).numpy())
    f_latt = _signed_lattice(scene, hkl)
    raw = float(sums.raw[index])
    steps = (scene.sources.wavelength.shape[0] * scene.orientations.shape[0]
             * scene.oversample**2)
    factors = sums.factors
    polar_on = features is not None and features.polar
    omega_on = features is not None and features.omega
    thick_on = features is not None and features.thick
    if polar_on:
        polar = float(factors.polar[index, -1, -1])
    else:
        polar = 1.0 if scene.nopolar else float(factors.polar[index, 0, 0])
    omega = float(factors.omega[index, -1 if omega_on else 0])
    if factors.capture is None:
        capture = 0.0 if thick_on else 1.0
    else:
        layers = scene.sensor.layers if scene.sensor is not None else 1
        column = -1 if thick_on else (layers - 1) * scene.oversample**2
        capture = float(factors.capture[index, column])
    pixel_value = float(np.float32(float(sums.value[index])))
    axes = (scene.orientations[-1] * 1e10).tolist()  # rows a, b, c; columns X, Y, Z
    x, y, z = (float(v) for v in position)
    h, k, l = (float(v) for v in hkl)
    h0_, k0_, l0_ = (int(v) for v in h0)
    # the reference's printf formats (%g, %f, %15.10g, %11.8f): Python's format specs
    # print them identically
    lines = [
        f"{f:4d} {s:4d} : stol = {stol:g} or {stol_central:g}",
        f"at {x:g} {y:g} {z:g}",
        f"hkl= {h:f} {k:f} {l:f}  hkl0= {h0_:d} {k0_:d} {l0_:d}",
        f" F_cell={f_cell:g}  F_latt={f_latt:g}   I = {raw:g}",
        f"I/steps {raw / steps:15.10g}",
        f"polar   {polar:15.10g}",
        f"omega   {omega:15.10g}",
        f"capfrac {capture:15.10g}",
        f"pixel   {pixel_value:15.10g}",
        "real-space cell vectors (Angstrom):",
        f"     {'a':<10}  {'b':<10}  {'c':<10}",
    ]
    for axis, name in enumerate("XYZ"):
        a_x, b_x, c_x = (row[axis] for row in axes)
        lines.append(f"{name}: {a_x:11.8f} {b_x:11.8f} {c_x:11.8f}")
    return lines
