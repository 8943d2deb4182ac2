"""Reading nanoBragg's command line into flags: the tables of the flags the reference
program knows (with their value kinds and aliases) and the word reader, which refuses unknown
flags and bad values with a one-line error naming the flag.
"""

from __future__ import annotations

import math
import shlex
from typing import Any

from braggcheck.nanobragg import pixel_flags
from braggcheck.nanobragg.input_flags import FILE_FLAGS
from braggcheck.util.errors import ConfigError

UNSUPPORTED: dict[str, str] = {}
"""Reference-program flags that braggcheck knows but does not implement yet."""


class _Reader:
    """Walks the argument list; every flag reads its values through here."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.position = 0
        self.flag = ""

    def next_flag(self) -> str | None:
        if self.position >= len(self.words):
            return None
        word = self.words[self.position]
        self.position += 1
        self.flag = word
        return word

    def text(self) -> str:
        if self.position >= len(self.words):
            raise ConfigError(f"{self.flag}: expected a value after it, found the end of input")
        word = self.words[self.position]
        self.position += 1
        return word

    def number(self) -> float:
        word = self.text()
        try:
            value = float(word)
        except ValueError:
            raise ConfigError(f"{self.flag}: expected a number, got {word!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{self.flag}: expected a finite number, got {word!r}")
        return value

    def numbers(self, count: int) -> list[float]:
        values = []
        for index in range(count):
            if self.position >= len(self.words):
                raise ConfigError(
                    f"{self.flag}: expected {count} numbers, found {index}"
                )
            following = self.words[self.position]
            if index and following.startswith("-") and not _is_number(following):
                raise ConfigError(f"{self.flag}: expected {count} numbers, found {index} "
                                  f"before {following}")
            values.append(self.number())
        return values

    def integer(self) -> int:
        word = self.text()
        try:
            return int(word)
        except ValueError:
            pass
        try:
            value = float(word)
        except ValueError:
            raise ConfigError(f"{self.flag}: expected an integer, got {word!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{self.flag}: expected an integer, got {word!r}")
        return int(value)  # the reference program truncates, like atoi


def _aliases(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, names[0])


FLAG_ALIASES = {
    **_aliases("-lambda", "-wave"),
    **_aliases("-mosaic", "-mosaici", "-mosaic_spr", "-mosaic_spread"),
    **_aliases("-mosaic_domains", "-mosaic_dom"),
    **_aliases("-floatfile", "-floatimage"),
    **_aliases("-intfile", "-intimage"),
    **_aliases("-noisefile", "-noiseimage"),
    **_aliases("-pgmfile", "-pgmimage"),
    **_aliases("-detector_abs", "-detector_absorb"),
    **_aliases("-detector_thicksteps", "-thicksteps"),
    **_aliases("-detpixels_f", "-detpixels_x"),
    **_aliases("-detpixels_s", "-detpixels_y"),
    **_aliases("-tophat_spots", "-binary_spots"),
    **_aliases("-xtalsize", "-xtal_size", "-samplesize", "-sample_size"),
    **_aliases("-xtal_x", "-xtal_thick", "-sample_thick", "-sample_x"),
    **_aliases("-xtal_y", "-xtal_width", "-width", "-sample_y", "-sample_width"),
    **_aliases("-xtal_z", "-xtal_height", "-height", "-sample_z", "-sample_height"),
}


NO_VALUE_FLAGS = {
    "-nopolar", "-point_pixel", "-nonoise", "-nopgm", "-noprogress", "-nointerpolate",
    "-interpolate",
    "-round_div", "-square_div", "-round_xtal", "-square_xtal", "-gauss_xtal", "-tophat_spots",
    "-mosflm", "-xds", "-dials", "-adxv", "-denzo",
}


SCALAR_FLAGS = {
    "-default_F", "-lambda", "-energy", "-fluence", "-flux", "-exposure", "-beamsize",
    "-distance", "-close_distance", "-pixel", "-detsize", "-detsize_f", "-detsize_s",
    "-Xbeam", "-Ybeam", "-Fbeam", "-Sbeam", "-Xclose", "-Yclose", "-ORGX", "-ORGY", "-polar",
    "-phi", "-osc", "-phistep", "-mosaic", "-detector_rotx", "-detector_roty",
    "-detector_rotz", "-twotheta", "-divergence", "-hdivrange", "-vdivrange", "-hdivstep",
    "-vdivstep", "-dispersion", "-fudge", "-scale", "-adc", "-xtalsize", "-xtal_x", "-xtal_y",
    "-xtal_z", "-detector_thick", "-pgmscale",
    "-dmin",
}


INTEGER_FLAGS = {
    "-N", "-Na", "-Nb", "-Nc", "-detpixels", "-detpixels_f", "-detpixels_s", "-phisteps",
    "-mosaic_domains", "-mosaic_seed", "-misset_seed", "-oversample", "-hdivsteps",
    "-vdivsteps", "-divsteps", "-dispsteps", "-seed", "-detector_thicksteps",
}


VECTOR_FLAGS = {
    "-fdet_vector", "-sdet_vector", "-odet_vector", "-beam_vector", "-polar_vector",
    "-spindle_axis", "-twotheta_axis", "-pix0_vector",
}


TEXT_FLAGS = {"-hkl", "-floatfile", "-intfile", "-noisefile", "-pgmfile", "-pivot",
              "-detector_abs"} | FILE_FLAGS


CONVENTION_FLAGS = ("-mosflm", "-xds", "-dials", "-adxv", "-denzo")


NONNEGATIVE_FLAGS = {
    "-flux", "-exposure", "-beamsize", "-xtalsize", "-xtal_x", "-xtal_y", "-xtal_z",
    "-divergence", "-hdivrange", "-vdivrange", "-hdivstep", "-vdivstep", "-dispersion",
    "-dmin",
}
"""Magnitudes the reference program silently ignores when negative; braggcheck rejects them."""


POSITIVE_FLAGS = {
    "-lambda", "-energy", "-distance", "-close_distance", "-pixel", "-detsize", "-detsize_f",
    "-detsize_s",
}
"""Lengths that must be > 0 even where a later flag would override them (-detpixels, -energy)."""


# The per-pixel features and the reference's no-op flags (braggcheck.nanobragg.pixel_flags).
NO_VALUE_FLAGS |= pixel_flags.NO_VALUE_FLAGS
SCALAR_FLAGS |= pixel_flags.SCALAR_FLAGS
NONNEGATIVE_FLAGS |= pixel_flags.NONNEGATIVE_FLAGS
TEXT_FLAGS |= pixel_flags.TEXT_FLAGS
KNOWN_FLAGS = (NO_VALUE_FLAGS | SCALAR_FLAGS | INTEGER_FLAGS | VECTOR_FLAGS | TEXT_FLAGS
               | {"-cell", "-misset", "-roi"} | set(FLAG_ALIASES) | pixel_flags.PAIR_FLAGS)


def split_words(args: str | list[str]) -> list[str]:
    if isinstance(args, str):
        try:
            return shlex.split(args)
        except ValueError as exc:
            raise ConfigError(f"arguments: cannot split {args!r}: {exc}") from None
    if not all(isinstance(word, str) for word in args):
        raise ConfigError("arguments: expected a string or a list of strings")
    return list(args)


def read_flags(words: list[str]) -> dict[str, Any]:
    """Flag -> value(s), later flags winning; order-sensitive facts are recorded too."""
    reader = _Reader(words)
    seen: dict[str, Any] = {"_order": []}
    while (word := reader.next_flag()) is not None:
        if not word.startswith("-") or _is_number(word):
            raise ConfigError(f"unexpected argument {word!r}: expected a flag such as -cell")
        if word in UNSUPPORTED:
            raise ConfigError(f"{word}: {UNSUPPORTED[word]} is not supported by braggcheck yet")
        flag = FLAG_ALIASES.get(word, word)
        if flag not in KNOWN_FLAGS:
            raise ConfigError(f"{word}: unknown flag (see 'braggcheck simulate --help-flags')")
        reader.flag = word
        seen["_order"].append(flag)
        if flag in NO_VALUE_FLAGS:
            value: Any = True
        elif flag in SCALAR_FLAGS:
            value = reader.number()
            if flag in NONNEGATIVE_FLAGS and value < 0:
                raise ConfigError(f"{word} = {value:g}; valid: >= 0")
            if flag in POSITIVE_FLAGS and value <= 0:
                raise ConfigError(f"{word} = {value:g}; valid: > 0")
        elif flag in INTEGER_FLAGS:
            value = reader.integer()
        elif flag in VECTOR_FLAGS:
            value = tuple(reader.numbers(3))
        elif flag in TEXT_FLAGS:
            value = reader.text()
            if value in KNOWN_FLAGS or value in UNSUPPORTED:
                raise ConfigError(f"{word}: expected a value after it, found the flag {value}")
            if flag == "-pivot" and value not in ("beam", "sample"):
                raise ConfigError(f"-pivot {value!r}: valid: beam or sample")
        elif flag == "-cell":
            value = tuple(reader.numbers(6))
        elif flag == "-roi":
            value = tuple(int(x) for x in reader.numbers(4))
        elif flag in pixel_flags.PAIR_FLAGS:
            value = (reader.integer(), reader.integer())
        elif flag == "-misset":
            value = _read_misset(reader)
        seen[flag] = value
        if flag == "-twotheta_axis":
            # The reference program matches flags by substring, so -twotheta_axis x y z also
            # acts as -twotheta x: it sets the angle to x degrees (and implies the SAMPLE pivot).
            # Emulated, because reference images made that way depend on it (brief 13).
            seen["-twotheta"] = value[0]
            seen["_order"].append("-twotheta")
    return seen


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _read_misset(reader: _Reader) -> Any:
    if reader.position < len(reader.words) and reader.words[reader.position] == "random":
        reader.position += 1
        return "random"
    return tuple(reader.numbers(3))
