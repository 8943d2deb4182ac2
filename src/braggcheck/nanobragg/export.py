"""A :class:`Config` as nanoBragg command-line flags: the inverse of ``nanobragg_args``.

Only flags whose value differs from what the parser resolves without them are written, so a
shrunk case reads as a short flag list. Floats are written with ``repr``, so parsing gives back
bit-identical values; where the parser derives a field by arithmetic (``-ORGX`` -> close_f_mm,
the MOSFLM ``-Ybeam`` + pixel / 2 -> Fbeam), the flag value is solved for, a few ulps around
the inverse, so that the derived field is exact. Only flags the reference C program itself
understands are written (not braggcheck's ``-Fbeam``/``-Sbeam``), so any nanoBragg-compatible
program can run the list. A field no flag can express raises a one-line ConfigError naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import torch

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.detector_flags import custom_pivot
from braggcheck.nanobragg.export_inputs import input_file_flags
from braggcheck.nanobragg.flags import KNOWN_FLAGS, UNSUPPORTED, read_flags
from braggcheck.nanobragg.interpolation import interpolation_flags
from braggcheck.nanobragg.pixel_flags import feature_flags
from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.constants import DEFAULT_FLUENCE
from braggcheck.sim.detector import (
    FRAMES,
    default_beam_center_mm,
    effective_pivot,
    resolved_beam_center_mm,
    resolved_close_mm,
)
from braggcheck.util.errors import ConfigError

PARSER_DETECTOR_MM = 102.4
"""The reference program's default detector edge (mm): -detpixels is written when it differs."""
ULP_SEARCH = 8
"""How many ulps either side of an inverse are tried to make a derived field exact."""
VECTOR_FIELDS = (("crystal", "spindle_axis", "-spindle_axis"),
                 ("beam", "beam_vector", "-beam_vector"),
                 ("beam", "polar_vector", "-polar_vector"),
                 ("detector", "fdet_vector", "-fdet_vector"),
                 ("detector", "sdet_vector", "-sdet_vector"),
                 ("detector", "odet_vector", "-odet_vector"))
"""Vector fields: any of these flags switches the reference program to the CUSTOM convention
(-twotheta_axis too; it is written with -twotheta, see ``_detector_flags``)."""


def _num(value: object) -> str:
    """A float as the shortest text that parses back to the same double."""
    if isinstance(value, torch.Tensor):
        value = float(value.detach())
    return repr(float(value))  # type: ignore[arg-type]


def _f(value: object) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)  # type: ignore[arg-type]


def _solve(target: float, forward: Callable[[float], float], guess: float,
           field_name: str) -> float:
    """A flag value x with forward(x) == target exactly (searching ulps around ``guess``)."""
    candidates = [guess]
    up = down = guess
    for _ in range(ULP_SEARCH):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        candidates += [up, down]
    for x in candidates:
        if forward(x) == target:
            return x
    raise ConfigError(f"{field_name} = {target!r}: no flag value reproduces it exactly "
                      "(the parser derives it by arithmetic); choose a value a flag can express")


def canonical(config: Config) -> Config:
    """``config`` with the defaults the parser always spells out filled in (beam centre,
    sample-pivot origin, the CUSTOM pivot): what ``from_nanobragg_args(to_nanobragg_args())``
    returns. The image is the same."""
    det = config.detector
    f, s = resolved_beam_center_mm(det)
    cf, cs = resolved_close_mm(det)
    changes: dict[str, object] = {}
    if det.beam_center_f_mm is None:
        changes["beam_center_f_mm"] = f
    if det.beam_center_s_mm is None:
        changes["beam_center_s_mm"] = s
    if det.close_f_mm is None:
        changes["close_f_mm"] = cf
    if det.close_s_mm is None:
        changes["close_s_mm"] = cs
    if det.convention == "custom" and det.pivot is None:
        changes["pivot"] = effective_pivot(det)
    elif det.convention != "custom" and det.pivot == FRAMES[det.convention].pivot:
        changes["pivot"] = None  # the convention's own pivot, spelled out: the same detector
    if not changes:
        return config
    return replace(config, detector=replace(det, **changes))


def first_difference(a: Config, b: Config) -> str | None:
    """The first field (``section.field``) where two configurations differ, HKL tables compared
    by content (an HKLTable compares by identity), tensors by value; None when equal."""
    for section in ("crystal", "beam", "detector"):
        one, other = getattr(a, section), getattr(b, section)
        for f in fields(one):
            x, y = getattr(one, f.name), getattr(other, f.name)
            if f.name == "hkl":
                same = (x is None) == (y is None) and (x is None or (
                    x.origin == y.origin and x.amplitudes.shape == y.amplitudes.shape
                    and np.array_equal(x.amplitudes, y.amplitudes)))
            else:
                same = _plain(x) == _plain(y)
            if not same:
                return f"{section}.{f.name}"
    return None


def _plain(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    return value


def to_nanobragg_args(config: Config, hkl_path: str | Path | None = None,
                      verify: bool = True, input_dir: str | Path | None = None) -> list[str]:
    """The flags that make the reference program render ``config``.

    ``hkl_path``: the file holding ``config.crystal.hkl`` (default: the path it was read from).
    ``verify``: parse the flags back and raise if anything differs (naming the field), so a
    returned list is always exact.
    ``input_dir``: where a matrix, source list or mask is written for the program to read
    (default: ``braggcheck.nanobragg.export_inputs.default_input_dir()``).
    """
    if not isinstance(config, Config):
        raise ConfigError(f"config: expected a braggcheck.Config, got {type(config).__name__}")
    target = canonical(config)
    words = [*feature_flags(target),  # first: the reference ignores a last -curved_det
             *_crystal_flags(target.crystal, hkl_path), *_beam_flags(target.beam),
             *_detector_flags(target), *input_file_flags(target, _solve, input_dir)]
    if verify:
        back = from_nanobragg_args(words)
        where = first_difference(back, target)
        if where is not None:
            raise ConfigError(f"{where}: the flags {' '.join(words)!r} do not reproduce it "
                              "(no flag expresses this value)")
    return words


def _crystal_flags(crystal: CrystalConfig, hkl_path: str | Path | None) -> list[str]:
    c = crystal
    words = ["-cell", *(_num(getattr(c, f"cell_{x}")) for x in
                        ("a", "b", "c", "alpha", "beta", "gamma"))]
    misset = [_f(getattr(c, f"misset_rot_{x}")) for x in "xyz"]
    if any(misset):
        words += ["-misset", *map(_num, misset)]
    counts = (c.n_a, c.n_b, c.n_c)
    if len(set(counts)) == 1:
        words += ["-N", str(c.n_a)] if c.n_a != 1 else []
    else:
        for flag, n in zip(("-Na", "-Nb", "-Nc"), counts, strict=True):
            words += [flag, str(n)] if n != 1 else []
    if c.default_F != 0:
        words += ["-default_F", _num(c.default_F)]
    if c.hkl is not None:
        path = str(hkl_path) if hkl_path is not None else c.hkl.source
        if not path:
            raise ConfigError("hkl: an in-memory table has no file; pass hkl_path= (a file "
                              "holding it) to export it")

        clash = [flag for flag in (*KNOWN_FLAGS, *UNSUPPORTED) if flag in path]
        if clash or any(ch.isspace() for ch in path):
            # The reference program matches flags by substring in every word, values too.
            raise ConfigError(f"hkl path {path!r}: valid: a path without spaces or flag names "
                              f"({', '.join(clash) or 'a space'} in it)")
        words += ["-hkl", path]
    words += interpolation_flags(c)
    if c.shape != "square":
        words.append({"round": "-round_xtal", "gauss": "-gauss_xtal",
                      "tophat": "-tophat_spots"}[c.shape])
    if c.fudge != 1:
        words += ["-fudge", _num(c.fudge)]
    spread = _f(c.mosaic_spread_deg)
    if spread != 0:
        words += ["-mosaic", _num(spread)]
        if c.mosaic_domains != 10:
            words += ["-mosaic_domains", str(c.mosaic_domains)]
    elif c.mosaic_domains != 1:
        raise ConfigError(f"mosaic_domains = {c.mosaic_domains} with mosaic_spread_deg = 0: no "
                          "flag expresses it (the reference program then uses 1 domain)")
    if c.mosaic_seed != 12345678:
        words += ["-mosaic_seed", str(c.mosaic_seed)]
    if _f(c.phi_start_deg) != 0:
        words += ["-phi", _num(c.phi_start_deg)]
    words += _phi_flags(c.phi_steps, c.phi_step_deg)
    return words


def _phi_flags(steps: int, step: float) -> list[str]:
    """The parser's phi rules: -phistep alone means 2 steps; -phisteps with -phistep needs
    -osc as well (without it the count is ignored)."""
    if (steps, step) == (1, 0.0):
        return []
    if steps == 2:
        return ["-phistep", _num(step)]
    return ["-phisteps", str(steps), "-osc", _num(steps * step), "-phistep", _num(step)]


def _grid_flags(prefix: str, range_: float, steps: int, step: float | None,
                name: str) -> list[str]:
    """A divergence axis: range, count and (only when not range / (count - 1)) step."""
    if steps == 1 and range_ == 0 and step is None:
        return []
    if range_ <= 0 or (step is None and steps < 2) or (step is not None and step <= 0):
        raise ConfigError(f"{name}: {steps} steps over {range_!r} mrad (step {step!r}): no flag "
                          "expresses it (the parser completes such grids differently)")
    words = [f"-{prefix}range", _num(range_), f"-{prefix}steps", str(steps)]
    return words + ([f"-{prefix}step", _num(step)] if step is not None else [])


def _beam_flags(beam: BeamConfig) -> list[str]:
    b = beam
    words: list[str] = []
    if _f(b.lambda_A) != 1.0:
        words += ["-lambda", _num(b.lambda_A)]
    if _f(b.fluence) != DEFAULT_FLUENCE:
        words += ["-fluence", _num(b.fluence)]
    if _f(b.polarization) != 0:
        words += ["-polar", _num(b.polarization)]
    if b.nopolar:
        words.append("-nopolar")  # after -polar: the later of the two decides
    if b.divergence_mrad is not None:
        raise ConfigError("divergence_mrad: no flag expresses a scaled grid; set hdiv/vdiv "
                          "ranges and steps instead")
    words += _grid_flags("hdiv", b.hdiv_range_mrad, b.hdiv_steps, b.hdiv_step_mrad,
                         "hdiv_steps")
    words += _grid_flags("vdiv", b.vdiv_range_mrad, b.vdiv_steps, b.vdiv_step_mrad,
                         "vdiv_steps")
    if not b.round_div:
        words.append("-square_div")
    dispersion = _f(b.dispersion_pct)
    if b.dispersion_step_pct is not None:
        raise ConfigError("dispersion_step_pct: no flag sets the wavelength step (the parser "
                          "derives it from -dispersion and -dispsteps)")
    if dispersion != 0 or b.dispersion_steps != 1:
        if dispersion <= 0 or b.dispersion_steps < 2:
            raise ConfigError(f"dispersion_steps = {b.dispersion_steps} over {dispersion!r} %: "
                              "no flag expresses it (valid: >= 2 steps over a range > 0)")
        words += ["-dispersion", _num(dispersion)]
        if b.dispersion_steps != 2:
            words += ["-dispsteps", str(b.dispersion_steps)]
    return words


def _vector_flags(config: Config) -> list[str]:
    words: list[str] = []
    for section, name, flag in VECTOR_FIELDS:
        value = getattr(getattr(config, section), name)
        if value is not None:
            if config.detector.convention != "custom":
                raise ConfigError(f"{name}: an explicit vector needs the custom convention (any "
                                  f"vector flag switches the reference program to it)")
            words += [flag, *map(_num, value)]
    return words


def _detector_flags(config: Config) -> list[str]:
    det = config.detector
    convention = det.convention
    words: list[str] = []
    if convention == "custom":
        words += _vector_flags(config)
        if not words and det.twotheta_axis is None:
            raise ConfigError("convention = 'custom' with no explicit vector: no flag expresses "
                              "it (only a vector flag selects the custom convention)")
    else:
        _vector_flags(config)  # raises on any explicit vector
        if det.twotheta_axis is not None:
            raise ConfigError("twotheta_axis: an explicit axis needs the custom convention")
        if det.pivot is not None and det.pivot != FRAMES[convention].pivot:
            raise ConfigError(f"pivot = {det.pivot!r} with convention {convention!r}: the "
                              "convention fixes the pivot; only the custom convention takes "
                              "-pivot")
        if convention != "mosflm":
            words.append(f"-{convention}")
    pixel = det.pixel_mm
    if pixel != 0.1:
        words += ["-pixel", _num(pixel)]
    default_count = max(1, math.ceil(PARSER_DETECTOR_MM / pixel - 0.5))
    if det.fpixels == det.spixels:
        words += ["-detpixels", str(det.fpixels)] if det.fpixels != default_count else []
    else:
        for flag, count in (("-detpixels_f", det.fpixels), ("-detpixels_s", det.spixels)):
            words += [flag, str(count)] if count != default_count else []
    words += _centre_flags(det)
    if _f(det.distance_mm) != 100.0:
        words += ["-distance", _num(det.distance_mm)]
    if det.close_distance_mm is not None:
        words += ["-close_distance", _num(det.close_distance_mm)]
    for axis in "xyz":
        angle = _f(getattr(det, f"detector_rot{axis}_deg"))
        if angle != 0:
            words += [f"-detector_rot{axis}", _num(angle)]
    if det.twotheta_axis is not None:
        # -twotheta_axis also sets the angle to its first component (substring matching in
        # the reference program): the angle is written after it, always.
        words += ["-twotheta_axis", *map(_num, det.twotheta_axis),
                  "-twotheta", _num(det.twotheta_deg)]
    elif _f(det.twotheta_deg) != 0:
        words += ["-twotheta", _num(det.twotheta_deg)]
    if det.oversample is not None:
        words += ["-oversample", str(det.oversample)]
    if det.point_pixel:
        words.append("-point_pixel")
    if det.roi is not None:
        words += ["-roi", *map(str, det.roi)]
    words += _sensor_flags(det)
    if convention == "custom":
        if custom_pivot(read_flags(words)) != det.pivot:
            words += ["-pivot", str(det.pivot)]  # last: it overrides every implied pivot
    return words


def _sensor_flags(det: DetectorConfig) -> list[str]:
    """-detector_abs before -detector_thick: ``-detector_abs inf`` also zeroes the thickness."""
    words: list[str] = []
    attenuation = det.sensor_attenuation_um
    if attenuation is not None:
        words += ["-detector_abs", "inf" if attenuation == math.inf else _num(attenuation)]
    if det.sensor_thickness_um != 0:
        words += ["-detector_thick", _num(det.sensor_thickness_um)]
    if det.sensor_layers is not None:
        words += ["-detector_thicksteps", str(det.sensor_layers)]
    return words


def _centre_flags(det: DetectorConfig) -> list[str]:
    """Beam centre and sample-pivot origin (both already resolved by ``canonical``) through the
    flags the convention reads them from, solved so that the parser's arithmetic is exact."""
    pixel = det.pixel_mm
    size_f, size_s = det.fpixels * pixel, det.spixels * pixel
    fbeam, sbeam = _f(det.beam_center_f_mm), _f(det.beam_center_s_mm)
    close_f, close_s = _f(det.close_f_mm), _f(det.close_s_mm)
    words: list[str] = []
    if det.convention == "custom":
        if (fbeam, sbeam) != (close_f, close_s):
            raise ConfigError(f"beam_center_f_mm/beam_center_s_mm = ({fbeam!r}, {sbeam!r}): in "
                              "the custom convention they equal close_f_mm/close_s_mm (the "
                              "reference program sets both from -Xbeam/-Ybeam)")
        if fbeam != size_f / 2:
            words += ["-Xbeam", _num(fbeam)]
        if sbeam != size_s / 2:
            words += ["-Ybeam", _num(sbeam)]
        return words
    for flag, value, size, name in (("-ORGX", close_f, size_f, "close_f_mm"),
                                    ("-ORGY", close_s, size_s, "close_s_mm")):
        if value != size / 2:
            solved = _solve(value, lambda o: (o - 0.5) * pixel, value / pixel + 0.5, name)
            words += [flag, _num(solved)]
    # Compared with the parser's default (the one definition, detector.default_beam_center_mm):
    # a flag is written only where the value is not what the flags' absence gives.
    default_f, default_s = default_beam_center_mm(det.convention, size_f, size_s, pixel,
                                                  close_f, close_s)
    if det.convention in ("mosflm", "denzo"):
        shift = pixel / 2 if det.convention == "mosflm" else 0.0
        if fbeam != default_f:
            y = _solve(fbeam, lambda v: v + shift, fbeam - shift, "beam_center_f_mm")
            words += ["-Ybeam", _num(y)]
        if sbeam != default_s:
            x = _solve(sbeam, lambda v: v + shift, sbeam - shift, "beam_center_s_mm")
            words += ["-Xbeam", _num(x)]
    elif det.convention == "adxv":
        if fbeam != default_f:
            words += ["-Xbeam", _num(fbeam)]
        if sbeam != default_s:
            y = _solve(sbeam, lambda v: size_s - v, size_s - sbeam, "beam_center_s_mm")
            words += ["-Ybeam", _num(y)]
    else:  # xds, dials: the beam centre defaults to the sample-pivot origin
        if fbeam != close_f:
            words += ["-Xbeam", _num(fbeam)]
        if sbeam != close_s:
            words += ["-Ybeam", _num(sbeam)]
    return words
