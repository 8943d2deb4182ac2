"""The flags of the per-pixel features and the reference's no-op flags: their tables for the
parser (:mod:`braggcheck.nanobragg.args`), their configuration fields and their export.

No-op flags are parsed by the reference program but never change its image (checked in its
source): ``-stol/-4stol/-Q FILE`` (read into a table nothing uses; the program stops if the
file is unreadable or empty, so braggcheck checks that), ``-stolout FILE`` (never opened),
``-coherent`` (only set), ``-density/-sample_den`` and ``-MW`` (overwritten before use).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from braggcheck.sim.config import Config
from braggcheck.util.errors import ConfigError

FEATURE_SWITCHES = {
    "-curved_det": "curved_detector",
    "-oversample_thick": "oversample_thick",
    "-oversample_polar": "oversample_polar",
    "-oversample_omega": "oversample_omega",
}
"""Flag -> DetectorConfig field."""
NO_OP_SWITCHES = {"-coherent"}
NO_OP_SCALARS = {"-density", "-sample_den", "-MW"}
STOL_FILES = {"-stol", "-4stol", "-Q"}
NO_OP_TEXT = {"-stolout"}

NO_VALUE_FLAGS = set(FEATURE_SWITCHES) | NO_OP_SWITCHES | {"-printout"}
SCALAR_FLAGS = {"-water"} | NO_OP_SCALARS
NONNEGATIVE_FLAGS = {"-water"}
TEXT_FLAGS = STOL_FILES | NO_OP_TEXT
PAIR_FLAGS = {"-printout_pixel"}
"""Flags followed by two integers (fast, slow)."""
NO_OP_FLAGS = NO_OP_SWITCHES | NO_OP_SCALARS | STOL_FILES | NO_OP_TEXT


def detector_fields(flags: dict[str, Any]) -> dict[str, bool]:
    """DetectorConfig keyword arguments of the feature switches."""
    return {field: flag in flags for flag, field in FEATURE_SWITCHES.items()}


def check_no_op_files(flags: dict[str, Any]) -> None:
    """The reference stops on an unreadable or empty -stol/-4stol/-Q file: so does braggcheck
    (one line naming the flag and the file), though the table never reaches the image."""
    for flag in STOL_FILES & set(flags):
        path = Path(flags[flag])
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            raise ConfigError(f"{flag} {path}: cannot read it ({exc.strerror or exc}); valid: "
                              "a readable text file of stol F lines") from None
        if not any(line.strip(" \t,;:!\r\n") for line in text.splitlines()):
            raise ConfigError(f"{flag} {path}: no data in the file; valid: a text file of "
                              "stol F lines")


def printout_request(flags: dict[str, Any], config: Config
                     ) -> tuple[bool, tuple[int, int] | None]:
    """(trace wanted, (fast, slow) or None for every pixel). ``-printout_pixel`` also turns
    the trace on (the reference matches ``-printout`` inside it); a negative fast index
    means every pixel, as there. A pixel outside the rendered region is an error (the
    reference would print nothing)."""
    pixel = flags.get("-printout_pixel")
    wanted = "-printout" in flags or pixel is not None
    if pixel is not None and pixel[0] < 0:
        pixel = None
    if pixel is not None:
        fmin, fmax, smin, smax = config.detector.roi_bounds
        if not (fmin <= pixel[0] <= fmax and smin <= pixel[1] <= smax):
            raise ConfigError(f"-printout_pixel {pixel[0]} {pixel[1]}: outside the rendered "
                              f"pixels; valid: fast {fmin}..{fmax}, slow {smin}..{smax} (or a "
                              "negative fast index for every pixel)")
    return wanted, pixel


def feature_flags(config: Config) -> list[str]:
    """The flags of ``config``'s per-pixel features. Put first on the command line: the
    reference ignores ``-curved_det`` when it is the last word."""
    words: list[str] = []
    water = config.crystal.water_size_um
    water_value = float(water.detach()) if hasattr(water, "detach") else float(water)
    if water_value != 0:
        words += ["-water", repr(water_value)]
    det = config.detector
    words += [flag for flag, field in FEATURE_SWITCHES.items() if getattr(det, field)]
    return words
