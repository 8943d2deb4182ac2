"""The hkl tables of ``braggcheck bench`` cases: a file of exactly N reflections, written once
per size into the temporary folder and reused (the workers read it through ``-hkl``)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from braggcheck.util.file_writer import write_output


def table_file(reflections: int) -> Path:
    """A text table of ``reflections`` reflections: the first ones, in C order, of a cube of
    Miller indices centred on 000 (so the spots near the beam are listed), F uniform in
    [20, 200) from a fixed seed."""
    path = Path(tempfile.gettempdir()) / f"braggcheck-bench-{reflections}.hkl"
    if path.is_file():
        return path
    side = math.ceil(reflections ** (1 / 3))
    low = -(side // 2)
    axis = np.arange(low, low + side)
    hkl = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    values = np.random.default_rng(0).uniform(20.0, 200.0, size=reflections)
    lines = (f"{h} {k} {l} {f:.2f}\n" for (h, k, l), f in zip(hkl[:reflections].tolist(),
                                                             values.tolist(), strict=True))
    write_output(path, "".join(lines).encode())
    return path
