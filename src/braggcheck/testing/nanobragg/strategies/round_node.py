"""A ROUND crystal with one sample near a Bragg node: the series arm of the lattice factor.

The ROUND factor ``j(x) = 3 (sin x - x cos x) / x^3`` is evaluated by its even series below
x^2 = 1e-2 (a removable singularity), where its derivative is another formula. A sample lands
that close to a node only by chance, and a differentiated cell count (the continuous path,
:func:`braggcheck.sim.crystal_size.continuous_lattice_factor`) with ROUND is another chance:
together the gradient checks never drew them. Here the direct beam (h = k = l = 0) is put at
a drawn distance from one subpixel sample point, so that sample's x^2 is
:data:`NEAR_NODE_X2`: inside the series arm, yet far enough from the node (x^2 = 0, where its
derivative through x^2 vanishes) that the series' slope is what the check compares.
"""

from __future__ import annotations

import math

import torch

from braggcheck.sim.config import Config
from braggcheck.sim.fused_lattice import miller_indices
from braggcheck.testing.nanobragg.strategies.placement import beam_direction, place_on_ray
from braggcheck.testing.nanobragg.strategies.resolution_cut import sample_positions

NEAR_NODE_X2 = 4e-3
"""Where the near-node sample is put: (pi N |offset|)^2 fudge, inside the series arm
(x^2 < 1e-2) with room for the check's steps, and far from 0."""
SERIES_X2 = 1e-2
"""The series arm's bound (braggcheck.sim.crystal_size._sphere_transform)."""
ONE_SOURCE = {"hdiv_range_mrad": 0.0, "hdiv_steps": 1, "hdiv_step_mrad": None,
              "vdiv_range_mrad": 0.0, "vdiv_steps": 1, "vdiv_step_mrad": None,
              "dispersion_pct": 0.0, "dispersion_steps": 1, "dispersion_step_pct": None,
              "sources": None, "curved_detector": False}
"""One source along the beam on a flat detector: the direct beam's ray is then the node's."""


def node_distances(config: Config) -> torch.Tensor:
    """x^2 = pi^2 fudge sum_i (N_i (h_i - round h_i))^2 of every (orientation, sample) of the
    evaluated pixels, flat."""
    scene, (position, *_) = sample_positions(config)
    crystal = config.crystal
    cells = torch.tensor([crystal.n_a, crystal.n_b, crystal.n_c], dtype=torch.float64)
    direction = position / position.norm(dim=0, keepdim=True)
    hkl = miller_indices(direction, scene.projection, scene.projection_offset)
    offset = (hkl - torch.round(hkl)) * cells[:, None, None]
    return (math.pi**2 * crystal.fudge * (offset * offset).sum(0)).reshape(-1)


def near_node(config: Config, fast_mm: float, slow_mm: float) -> Config | None:
    """``config`` (one source, flat) with the direct beam moved off the sample point at
    (``fast_mm``, ``slow_mm``) from pixel (0, 0)'s corner along fast so that its x^2 is about
    :data:`NEAR_NODE_X2` (x^2 grows as the square of the distance: one probe scales it); None
    when the placement is refused or no sample lands inside the series arm."""
    direction = tuple(beam_direction(config.detector.convention, config.beam).tolist())
    probe_mm = 0.05 * config.detector.pixel_mm / config.oversample
    probe = place_on_ray(config, direction, fast_mm + probe_mm, slow_mm)
    if probe is None:
        return None
    reached = float(node_distances(probe).min())
    if not reached > 0:
        return None
    placed = place_on_ray(config, direction,
                          fast_mm + probe_mm * math.sqrt(NEAR_NODE_X2 / reached), slow_mm)
    if placed is None:
        return None
    x2 = node_distances(placed)
    inside = x2[(x2 < SERIES_X2) & (x2 > NEAR_NODE_X2 / 4)]
    return placed if inside.numel() else None
