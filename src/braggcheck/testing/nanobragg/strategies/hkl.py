"""Hypothesis strategies for configurations with an hkl table (the ``structure_factors``
vector parameter): dense or sparse tables spanning the Miller indices the detector reaches, the
``default_F`` fill of unlisted points on or off, the value outside the table, and whether F is
interpolated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from hypothesis import strategies as st

from braggcheck.sim.config import Config
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import build_state
from braggcheck.testing.nanobragg.strategies.cases import configs
from braggcheck.testing.nanobragg.strategies.hkl_tables import random_table
from braggcheck.testing.nanobragg.vector_gradients import bright_indices

DENSITIES = (1.0, 0.6, 0.25)
"""Dense, half-full and sparse tables (the listed share of the grid's points)."""
FILLS = (0.0, 40.0)
"""The ``-default_F`` at load time: unlisted points hold it (off: 0, a blank there)."""
OUTSIDE = (0.0, 15.0)
"""``default_F`` at simulation time: F of indices outside the table."""
MARGIN = 3
"""Reflections beyond the reached indices on each side: the interpolation stencil's reach
(2 inside the table's edge, plus one) so interpolated samples do not all fall back."""
MAX_REFLECTIONS = 20_000


def reached_indices(config: Config) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The integer box holding the Miller indices of every detector corner and edge midpoint,
    for every source and orientation (the index is smooth over a flat detector, so its range
    is reached on the border, extended by ``MARGIN``)."""
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state)
        det = scene.detector
        f_size = config.detector.fpixels * det.pixel
        s_size = config.detector.spixels * det.pixel
        steps = torch.linspace(0.0, 1.0, 9, dtype=torch.float64)
        f, s = torch.meshgrid(steps * f_size, steps * s_size, indexing="ij")
        position = (det.pix0[:, None] + det.fdet[:, None] * f.reshape(-1)
                    + det.sdet[:, None] * s.reshape(-1))
        unit = position / torch.linalg.norm(position, dim=0)
        hkl = (scene.projection @ unit - scene.projection_offset).view(3, -1)
    low = tuple(math.floor(float(v)) - MARGIN for v in hkl.min(1).values)
    high = tuple(math.ceil(float(v)) + MARGIN for v in hkl.max(1).values)
    return low, high  # type: ignore[return-value]


def _box_size(low: Sequence[int], high: Sequence[int]) -> int:
    return math.prod(b - a + 1 for a, b in zip(low, high, strict=True))


@st.composite
def hkl_configs(draw: st.DrawFn, shapes: Sequence[str] = ("square",),
                interpolate: bool | None = None, short: bool | None = None) -> Config:
    """A drawn configuration (:func:`braggcheck.testing.nanobragg.strategies.cases.configs`) given
    a random
    table over the indices it reaches; ``interpolate`` None draws it too, and so does
    ``short`` None (whether the table stops short of the reached indices on one axis)."""
    config = draw(configs(shapes).filter(
        lambda c: _box_size(*reached_indices(c)) <= MAX_REFLECTIONS))
    low, high = reached_indices(config)
    # The reflections of the drawn spots are always listed, so every image has Bragg signal
    # however sparse the table (the rest of the table may still leave other spots out).
    with torch.no_grad():
        spots = bright_indices(config, simulate(config))
    seed, density = draw(st.integers(0, 2**16)), draw(st.sampled_from(DENSITIES))
    fill = draw(st.sampled_from(FILLS))
    chosen = draw(st.booleans()) if interpolate is None else interpolate
    outside = draw(st.sampled_from(OUTSIDE))
    # Drawn last (earlier draws keep their examples): a table that stops short of the
    # reached indices on one axis, so some samples fall outside it, on the fused gradient
    # path too (its backward and jvp mask them: a branch only a gradient check sees).
    if draw(st.booleans()) if short is None else short:
        axis = draw(st.integers(0, 2))
        high = tuple(max(a, b - MARGIN - 1) if i == axis else b
                     for i, (a, b) in enumerate(zip(low, high, strict=True)))
    table = random_table(low, high, seed=seed, density=density, fill=fill, always=spots)
    return config.replace(hkl=table, default_F=outside, interpolate=chosen)


VECTOR_STRATEGIES = {"structure_factors": hkl_configs}
"""Per registry vector parameter, the strategy of configurations its checks draw from
(``tests/properties/test_structure_factors.py`` fails for a vector parameter without one)."""


def table_labels(config: Config) -> set[str]:
    """What a drawn table exercises: density, fill, the outside value, interpolation."""
    table = config.crystal.hkl
    listed = table.reflection_indices().shape[0] / table.amplitudes.size
    return {"dense" if listed == 1 else "sparse",
            "fill on" if table.amplitudes.max() > 0 and bool(
                (table.amplitudes == max(FILLS)).any()) else "fill off",
            "outside F on" if config.crystal.default_F > 0 else "outside F off",
            "interpolated" if config.crystal.interpolate else "nearest"}
