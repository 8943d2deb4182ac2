"""Structure-factor tables: reading nanoBragg's P1 ``h k l F`` text format into a dense grid."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from braggcheck.util.errors import ConfigError

MAX_GRID_POINTS = 1 << 26
"""The dense grid spans min..max of h, k and l: 64 M points (512 MB) at most."""


@dataclass(frozen=True, eq=False)
class HKLTable:
    """A dense grid of amplitudes over ``[h_min, h_min + shape[0])`` and likewise for k, l.

    Grid points the file does not list hold ``fill`` (the ``-default_F`` at load time), as in the
    reference program; indices outside the grid fall back to ``default_F`` at lookup.
    """

    origin: tuple[int, int, int]
    amplitudes: np.ndarray
    source: str = ""
    listed: np.ndarray | None = None
    """(R, 3) integer h, k, l of the reflections the file lists, in its order (a repeated one
    where it first appears): the order of the ``structure_factors`` parameter. None (a table
    built by hand): every grid point, in C order."""

    def __post_init__(self) -> None:
        origin, grid = self.origin, self.amplitudes
        if not (isinstance(origin, tuple) and len(origin) == 3
                and all(isinstance(i, int) and not isinstance(i, bool) for i in origin)):
            raise ConfigError(f"hkl origin = {origin!r}; valid: three integers (h, k, l)")
        if not isinstance(grid, np.ndarray) or grid.ndim != 3 or grid.size == 0:
            raise ConfigError("hkl amplitudes: valid: a non-empty 3-D numpy array")
        if not np.issubdtype(grid.dtype, np.number) or not np.isfinite(grid).all():
            raise ConfigError("hkl amplitudes: valid: finite real numbers only")
        if self.listed is not None:
            listed = self.listed
            if not (isinstance(listed, np.ndarray) and listed.ndim == 2
                    and listed.shape[1] == 3 and listed.shape[0] > 0
                    and np.issubdtype(listed.dtype, np.integer)):
                raise ConfigError("hkl listed: valid: an (R, 3) integer array of h, k, l")
            index = listed - np.asarray(origin)
            if ((index < 0) | (index >= np.asarray(grid.shape))).any():
                raise ConfigError("hkl listed: every reflection must lie inside the grid")

    def reflection_indices(self) -> np.ndarray:
        """(R, 3) grid indices (not Miller indices) of the reflections, in the table's order."""
        if self.listed is None:
            return np.indices(self.shape).reshape(3, -1).T
        return self.listed - np.asarray(self.origin)

    def reflection_amplitudes(self) -> np.ndarray:
        """(R,) the table's amplitude of each reflection, in the table's order."""
        index = self.reflection_indices()
        return self.amplitudes[index[:, 0], index[:, 1], index[:, 2]]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.amplitudes.shape)  # type: ignore[return-value]


def read_hkl(path: str | Path, default_F: float = 0.0) -> HKLTable:
    """Read a text table of ``h k l F`` lines.

    Rules (documented in docs/errors.md): blank lines and lines starting with ``#`` are skipped;
    every other line holds exactly four numbers; h, k, l must be integers; a reflection listed twice
    keeps its last value (the reference program's behaviour, since its second pass overwrites).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # not the locale's; a BOM is allowed
    except FileNotFoundError:
        raise ConfigError(f"-hkl: file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"-hkl: cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"-hkl: {str(path)!r} is not a text file of 'h k l F' lines") from None
    if "\0" in text:  # NUL bytes decode as UTF-8 but never occur in a text table
        raise ConfigError(f"-hkl: {str(path)!r} is not a text file of 'h k l F' lines")
    amplitudes: dict[tuple[int, int, int], float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            h, k, l, F = _parse_line(path, number, stripped)
            amplitudes[(h, k, l)] = F  # a repeated reflection keeps its last value
    if not amplitudes:
        raise ConfigError(f"-hkl: {str(path)!r} holds no reflections (expected 'h k l F' lines)")
    hkl = np.array(list(amplitudes), dtype=np.int64)
    lows = hkl.min(axis=0)
    shape = tuple(int(x) for x in hkl.max(axis=0) - lows + 1)
    if math.prod(shape) > MAX_GRID_POINTS:
        raise ConfigError(f"-hkl: {str(path)!r} spans h, k, l ranges of {shape[0]} x {shape[1]} x "
                          f"{shape[2]} grid points; valid: at most {MAX_GRID_POINTS} in all")
    grid = np.full(shape, float(default_F), dtype=np.float64)
    index = hkl - lows
    grid[index[:, 0], index[:, 1], index[:, 2]] = list(amplitudes.values())
    return HKLTable(origin=tuple(int(x) for x in lows), amplitudes=grid, source=str(path),
                    listed=hkl)


def _parse_line(path: Path, number: int, line: str) -> tuple[int, int, int, float]:
    where = f"-hkl: {str(path)!r} line {number}"
    # A binary file can hold one enormous "line": keep the message short.
    shown = repr(line) if len(repr(line)) <= 60 else repr(line)[:57] + "..."
    fields = line.split()
    if len(fields) != 4:
        raise ConfigError(f"{where}: expected 4 numbers 'h k l F', found {len(fields)}: {shown}")
    try:
        values = [float(x) for x in fields]
    except ValueError:
        raise ConfigError(f"{where}: not a number in {shown}") from None
    if not all(math.isfinite(v) for v in values):
        raise ConfigError(f"{where}: values must be finite, got {shown}")
    if any(v != int(v) for v in values[:3]):
        raise ConfigError(f"{where}: h, k, l must be integers, got {shown}")
    return int(values[0]), int(values[1]), int(values[2]), values[3]
