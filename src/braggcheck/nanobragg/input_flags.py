"""The file-input and cut-off flags: ``-mat``, ``-sourcefile``, ``-mask``, ``-img``, ``-dmin``.

The argument parser (:mod:`braggcheck.nanobragg.args`) calls these on its flag dictionary:
the SMV headers of ``-mask`` and ``-img`` become flags placed *before* the command line's (so a
flag given there wins, as in the reference program, which reads the headers first), and the
files' contents are stored under private keys (``_matrix``, ``_sources``, ``_mask``) that the
parser passes to the configuration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from braggcheck.nanobragg.input_files import (
    header_value,
    read_matrix_file,
    read_smv,
    read_source_file,
)
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.orientation import cell_from_matrix
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.util.errors import ConfigError

FILE_FLAGS = {"-mat", "-sourcefile", "-mask", "-img"}
HEADER_FLAGS = (  # (header key, flag, must be > 0), in the reference program's reading order
    ("PIXEL_SIZE", "-pixel", True), ("DISTANCE", "-distance", True),
    ("CLOSE_DISTANCE", "-close_distance", True), ("WAVELENGTH", "-lambda", True),
    ("BEAM_CENTER_X", "-Xbeam", False), ("BEAM_CENTER_Y", "-Ybeam", False),
    ("ORGX", "-ORGX", False), ("ORGY", "-ORGY", False), ("PHI", "-phi", False),
    ("OSC_RANGE", "-osc", False),
)
"""What an SMV header sets. The keys match as substrings (brief 13): DISTANCE reads the later
CLOSE_DISTANCE=, ORGX reads XDS_ORGX=. TWOTHETA is read by the reference program into a
variable the detector never uses, so it changes nothing (nor here)."""


def header_flags(flags: dict[str, Any]) -> None:
    """Put the -mask then -img header values in front of the command line's flags.

    A flag the command line gives itself is not overridden. Header values imply no pivot
    (only command-line flags do, in the reference program); their names are recorded under
    ``_from_header`` for that.
    """
    pixel_mm = 0.1
    values: dict[str, float] = {}
    for flag in ("-mask", "-img"):
        if flag not in flags:
            continue
        header, pixels = read_smv(flag, flags[flag])
        height, width = pixels.shape
        values["-detpixels_f"], values["-detpixels_s"] = width, height
        for key, target, positive in HEADER_FLAGS:
            value = header_value(header, key)
            if value is None:
                continue
            if positive and not value > 0:
                raise ConfigError(f"{flag} {flags[flag]!r}: {key} = {value:g}; valid: > 0")
            if key == "PIXEL_SIZE":
                pixel_mm = value
            if key == "BEAM_CENTER_Y" and flag == "-mask":
                # The reference flips the slow centre for a mask's header only (not -img's),
                # with the pixel size known at that point (docs/geometry.md, "Input files").
                value = pixel_mm * height - value
            values[target] = value
        if flag == "-mask":
            flags["_mask"] = PixelMask(kept=pixels != 0)
    given = set(flags["_order"])
    inserted = [flag for flag in values if flag not in given]
    for flag in inserted:
        flags[flag] = int(values[flag]) if flag.startswith("-detpixels") else values[flag]
    flags["_order"][:0] = inserted
    flags["_from_header"] = set(inserted)


def matrix_flags(flags: dict[str, Any], wavelength_A: float) -> None:
    """``-mat``: the orientation, and the cell (from the matrix) when ``-cell`` is absent."""
    if "-mat" not in flags:
        return
    matrix = read_matrix_file(flags["-mat"], wavelength_A)
    flags["_matrix"] = matrix
    if "-cell" not in flags:
        cell = cell_from_matrix(matrix)
        flags["-cell"] = tuple(cell[f"cell_{x}"] for x in ("a", "b", "c", "alpha", "beta",
                                                             "gamma"))


def source_flags(flags: dict[str, Any], convention: str) -> None:
    """``-sourcefile``: explicit sources; missing positions lie along the (unit) beam."""
    if "-sourcefile" not in flags:
        return
    beam = flags.get("-beam_vector") if convention == "custom" else None
    direction = np.array(beam if beam is not None else FRAMES[convention].beam, dtype=float)
    norm = float(np.linalg.norm(direction))
    if norm > 0:
        direction = direction / norm
    flags["_sources"] = read_source_file(flags["-sourcefile"], tuple(direction))


def check_dmin(flags: dict[str, Any]) -> float:
    """``-dmin`` in Angstrom: 0 (the default) or less means no resolution cut."""
    dmin = flags.get("-dmin", 0.0)
    return max(0.0, dmin)
