"""JSON forms of the file-input fields: ``reciprocal_matrix``, ``sources`` and ``mask``.

The matrix is nested lists; sources are ``{"positions": [[x, y, z], ...], "wavelengths_A":
[w or null, ...]}``; a mask is ``{"rows": ["0110...", ...]}``, one string per slow row, 1 for
a pixel evaluated (readable, and exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.source_list import SourceList
from braggcheck.util.errors import ConfigError

INPUT_FIELDS = ("reciprocal_matrix", "sources", "mask")


def input_field_to_json(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "reciprocal_matrix":
        return [[float(x) for x in row] for row in value]
    if name == "sources":
        return {"positions": [list(p) for p in value.positions],
                "wavelengths_A": list(value.wavelengths_A)}
    return {"rows": ["".join("1" if k else "0" for k in row) for row in value.kept]}


def input_field_from_json(name: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        if name == "reciprocal_matrix":
            return tuple(tuple(float(x) for x in row) for row in value)
        if name == "sources":
            return SourceList(positions=tuple(tuple(p) for p in value["positions"]),
                              wavelengths_A=tuple(value["wavelengths_A"]))
        rows = value["rows"]
        return PixelMask(kept=np.array([[ch == "1" for ch in row] for row in rows],
                                       dtype=bool).reshape(len(rows), -1))
    except (TypeError, KeyError, ValueError):
        raise ConfigError(f"config: {name} = {str(value)[:60]!r} is not a stored {name}") from None
