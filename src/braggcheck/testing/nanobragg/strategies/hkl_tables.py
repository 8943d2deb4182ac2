"""In-memory hkl tables for tests and strategies: dense or sparse, with or without a fill.

A table is what :func:`braggcheck.sim.hkl.read_hkl` would build from a file listing the chosen
reflections (in a shuffled order, so the ``structure_factors`` order is not the grid's), with
``fill`` (the ``-default_F`` of load time) at the grid points it does not list.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from braggcheck.sim.hkl import HKLTable
from braggcheck.util.file_writer import write_output


def random_table(low: tuple[int, int, int], high: tuple[int, int, int], seed: int,
                 density: float = 1.0, fill: float = 0.0,
                 amplitudes: tuple[float, float] = (20.0, 200.0),
                 always: Iterable[tuple[int, int, int]] = ()) -> HKLTable:
    """Reflections on the box ``low..high`` (inclusive) kept with probability ``density``
    (the two corners and the Miller indices ``always`` inside the box always, so the grid
    spans the box), amplitudes uniform in ``amplitudes``, listed in a random order."""
    generator = np.random.default_rng(seed)
    axes = [np.arange(a, b + 1) for a, b in zip(low, high, strict=True)]
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    keep = generator.random(points.shape[0]) < density
    keep[0] = keep[-1] = True
    for index in always:
        offset = np.asarray(index) - np.asarray(low)
        if ((offset >= 0) & (offset < [len(a) for a in axes])).all():
            keep[np.ravel_multi_index(tuple(offset), [len(a) for a in axes])] = True
    listed = points[keep][generator.permutation(int(keep.sum()))].astype(np.int64)
    values = generator.uniform(*amplitudes, size=listed.shape[0])
    shape = tuple(b - a + 1 for a, b in zip(low, high, strict=True))
    grid = np.full(shape, float(fill))
    index = listed - np.asarray(low)
    grid[index[:, 0], index[:, 1], index[:, 2]] = values
    return HKLTable(origin=tuple(int(x) for x in low), amplitudes=grid, listed=listed)


def write_table(table: HKLTable, path: str) -> None:
    """The table's reflections as an ``h k l F`` text file, in the table's order (floats
    written exactly, so reading it back gives the same table)."""
    index = table.reflection_indices()
    values = table.reflection_amplitudes()
    hkl = index + np.asarray(table.origin)
    lines = (f"{h} {k} {l} {value!r}\n"
             for (h, k, l), value in zip(hkl.tolist(), values.tolist(), strict=True))
    write_output(path, "".join(lines).encode())
