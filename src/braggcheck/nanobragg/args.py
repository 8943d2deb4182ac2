"""Parse nanoBragg's command-line flags into a :class:`Config` plus output requests.

Flags are matched by their exact spelling (the reference program matches substrings, which
produces the quirks of brief section 13; braggcheck does not reproduce those). Every flag is
either understood or rejected with a one-line ConfigError naming it: nothing is ignored.
After parsing, the reference program's rules resolve defaults in the same order it applies them
(detector size, beam centre per convention, pivot, phi/mosaic/divergence step rules, fluence).
"""

from __future__ import annotations

import math
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braggcheck.nanobragg import pixel_flags
from braggcheck.nanobragg.input_flags import FILE_FLAGS, header_flags, matrix_flags, source_flags
from braggcheck.nanobragg.interpolation import parsed_interpolate
from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.constants import DEFAULT_FLUENCE, HC_EV_ANGSTROM
from braggcheck.sim.detector import default_beam_center_mm
from braggcheck.sim.hkl import read_hkl
from braggcheck.sim.limits import MAX_CELLS
from braggcheck.sim.rng import Ran1
from braggcheck.util.errors import ConfigError

UNSUPPORTED: dict[str, str] = {}
"""Reference-program flags that braggcheck knows but does not implement yet."""


@dataclass
class Outputs:
    """What the run should write, besides the image itself."""

    floatfile: str | None = None
    intfile: str | None = None
    noisefile: str | None = None
    pgmfile: str | None = None
    scale: float | None = None
    """SMV scale; None or <= 0 means 55000 / image maximum, as in the reference program."""
    adc: float = 40.0
    seed: int | None = None
    """Noise seed (``-seed N`` seeds ran1 with -N); None means -time(), not reproducible."""
    pgmscale: float | None = None
    printout: bool = False
    """Print the reference's per-pixel trace (``-printout``, ``-printout_pixel``)."""
    printout_pixel: tuple[int, int] | None = None
    """(fast, slow) of the one pixel to trace; None means every pixel."""


@dataclass
class ParsedArgs:
    config: Config
    outputs: Outputs
    header: dict[str, Any] = field(default_factory=dict)
    """Beam-centre bookkeeping the SMV header reports (Xbeam, Ybeam in mm)."""


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


def _split(args: str | list[str]) -> list[str]:
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


def _last_flag(flags: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """Which of ``names`` came last on the command line (None if none did)."""
    for flag in reversed(flags["_order"]):
        if flag in names:
            return flag
    return None


def _last(flags: dict[str, Any], names: tuple[str, ...], default: Any = None) -> Any:
    """The value of whichever of ``names`` came last (later flags win, as in the reference)."""
    flag = _last_flag(flags, names)
    return default if flag is None else flags[flag]


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


def random_misset_angles(seed: int) -> tuple[float, float, float]:
    """``-misset random``: the reference program's draw from ``-misset_seed seed`` (degrees)."""
    rng = Ran1(-abs(seed))
    r1, r2, r3 = (2.0 * rng() - 1.0 for _ in range(3))
    radial = math.sqrt(1.0 - r2 * r2)
    axis = np.array((radial * math.sin(math.pi * r1), radial * math.cos(math.pi * r1), r2))
    factor = np.float32(np.float32(1.0 - r3 * r3) ** np.float32(1.0 / 3.0))
    tau = float(np.float32(np.float32(90.0) * factor))
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    u = math.cos(tau) * np.eye(3) + (1 - math.cos(tau)) * np.outer(axis, axis)
    u += math.sin(tau) * cross
    rx = math.atan2(u[2, 1], u[2, 2])
    ry = math.atan2(-u[2, 0], math.hypot(u[2, 1], u[2, 2]))
    rz = math.atan2(u[1, 0], u[0, 0])
    return tuple(math.degrees(x) for x in (rx, ry, rz))  # type: ignore[return-value]


def _step_rule(count: int | None, range_: float | None, step: float | None,
               count_only_range: float, per_unit: float) -> tuple[int, float, float | None]:
    """The reference program's (count, range, step) completion for divergence/dispersion.

    Unset values are negative, as in the reference, and a step <= 0 counts as unset. Returns
    (count, range, step); the step is None where it equals range / (count - 1), so a later
    change of the range (e.g. through the registry) moves the whole grid consistently.
    ``per_unit`` converts to the reference's internal unit (rad, fraction) for the one rule
    that rounds, ``ceil(range / step)``, so float ties round as they do there.
    """
    n = -1 if count is None else count
    r = -1.0 if range_ is None else range_
    d = -1.0 if step is None else step
    explicit = False
    if n <= 0:
        if r < 0:
            n, r, d = (1, 0.0, 0.0) if d <= 0 else (2, d, d)
        elif d <= 0:
            n, d = 2, r
        else:
            n = math.ceil((r / per_unit) / (d / per_unit))
            explicit = True
    elif r < 0:
        if d <= 0:
            r = count_only_range
            d = r / n
            explicit = True
        else:
            n, r = 2, d
    elif d <= 0:
        n = max(n, 2)
        d = r / (n - 1)
    else:
        explicit = True
    if r <= 0 or d <= 0 or n <= 0:
        return 1, 0.0, None
    return n, r, d if explicit else None


def _phi_rule(count: int | None, osc: float | None, step: float | None) -> tuple[int, float]:
    """(steps, step in degrees) from any partial -phisteps/-osc/-phistep input (brief 2.5)."""
    if count == 0:
        count = 1
    if count is None and osc is None and step is None:
        return 1, 0.0
    if osc is None and count is None:
        return 2, step  # type: ignore[return-value]
    if step is None and count is None:
        return 2, osc / 2  # type: ignore[operator]
    if count is None:
        if step <= 0:  # type: ignore[operator]
            raise ConfigError(f"-phistep = {step:g} with -osc: valid: > 0")
        return max(1, math.ceil(osc / step)), step  # type: ignore[operator,return-value]
    if osc is None and step is None:
        return count, 1.0 / count
    if osc is None:
        return 2, step  # type: ignore[return-value]
    if step is None:
        return count, osc / count
    return count, step


def parse_nanobragg_args(args: str | list[str]) -> ParsedArgs:
    """Flags -> ParsedArgs (configuration, outputs and header bookkeeping)."""
    flags = read_flags(_split(args))
    header_flags(flags)  # -mask, -img: their SMV headers act as flags given first
    pixel_flags.check_no_op_files(flags)
    get = flags.get
    convention = "mosflm"
    for flag in flags["_order"]:  # the last convention or vector flag decides
        if flag in CONVENTION_FLAGS:
            convention = flag[1:]
        elif flag in VECTOR_FLAGS:
            convention = "custom"
    if convention != "custom":  # a named convention's block overwrites every vector
        for flag in VECTOR_FLAGS:
            flags.pop(flag, None)

    source_flags(flags, convention)  # -sourcefile
    beam = _beam(flags)
    matrix_flags(flags, beam.lambda_A)  # -mat: needs the run's wavelength
    crystal = _crystal(flags)
    detector, header = _detector(flags, convention)
    try:
        config = Config(crystal=crystal, beam=beam, detector=detector)
    except TypeError as exc:  # a programming error, not user input
        raise ConfigError(str(exc)) from exc
    noise = _last_flag(flags, ("-noisefile", "-nonoise")) != "-nonoise"
    pgm = _last_flag(flags, ("-pgmfile", "-pgmscale", "-nopgm")) != "-nopgm"
    printout, printout_pixel = pixel_flags.printout_request(flags, config)
    outputs = Outputs(
        floatfile=get("-floatfile"),
        intfile=get("-intfile"),
        noisefile=get("-noisefile") if noise else None,
        pgmfile=get("-pgmfile") if pgm else None,
        scale=get("-scale"),
        adc=get("-adc", 40.0),
        seed=get("-seed"),
        pgmscale=get("-pgmscale"),
        printout=printout, printout_pixel=printout_pixel,
    )
    header["osc_deg"] = _phi_range(get("-phisteps"), get("-osc"), get("-phistep"))
    return ParsedArgs(config=config, outputs=outputs, header=header)


def from_nanobragg_args(args: str | list[str]) -> Config:
    """The Config of nanoBragg's own command-line flags (a string or a list of words)."""
    return parse_nanobragg_args(args).config


def _phi_range(count: int | None, osc: float | None, step: float | None) -> float:
    """The oscillation range (deg) the SMV header reports, after the phi rules of brief 2.5."""
    if osc is not None and osc >= 0:
        return osc
    if step is not None and step > 0:
        return step
    return 1.0 if count is not None and count >= 0 else 0.0


def _crystal(flags: dict[str, Any]) -> CrystalConfig:
    get = flags.get
    if "-cell" not in flags:
        raise ConfigError("-cell: a unit cell is required (-cell a b c alpha beta gamma, or "
                          "-mat FILE)")
    a, b, c, alpha, beta, gamma = flags["-cell"]
    for name, value in (("a", a), ("b", b), ("c", c)):
        if value <= 0:
            raise ConfigError(f"-cell: length {name} = {value:g} A; valid: > 0")
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not 0 < value < 180:
            raise ConfigError(f"-cell: angle {name} = {value:g} deg; valid: (0, 180)")
    misset = get("-misset", (0.0, 0.0, 0.0))
    if misset == "random":
        seed = get("-misset_seed", get("-seed", -int(time.time())))
        misset = random_misset_angles(seed)
    cells = [get("-N", 1)] * 3
    for index, flag in enumerate(("-Na", "-Nb", "-Nc")):
        if flag in flags:
            cells[index] = flags[flag]
    order = flags["_order"]
    if "-N" in flags:  # a later -N overrides earlier per-axis values
        last_n = max(i for i, f in enumerate(order) if f == "-N")
        for index, flag in enumerate(("-Na", "-Nb", "-Nc")):
            if flag not in flags or max(i for i, f in enumerate(order) if f == flag) < last_n:
                cells[index] = flags["-N"]
    for name, value in zip(("-Na", "-Nb", "-Nc"), cells, strict=True):
        if value < 1:
            raise ConfigError(f"{name if name in flags else '-N'} = {value}; valid: an integer "
                              ">= 1 (the reference program silently uses 1)")
    cells = _cells_from_size(flags, cells, (a, b, c))
    default_F = get("-default_F", 0.0)
    hkl = None
    if "-hkl" in flags:
        hkl = read_hkl(flags["-hkl"], default_F)
    elif default_F <= 0:
        raise ConfigError(f"-default_F = {default_F:g} without -hkl; valid: > 0, or give an "
                          "-hkl table (no structure factors means a blank image)")
    spread = get("-mosaic", 0.0)
    domains = get("-mosaic_domains")
    if spread < 0:
        raise ConfigError(f"-mosaic = {spread:g} deg; valid: >= 0")
    if spread == 0:
        domains = 1
    elif domains is None:
        domains = 10
    if domains < 1:
        raise ConfigError(f"-mosaic_domains = {domains}; valid: an integer >= 1")
    phi_steps, phi_step = _phi_rule(get("-phisteps"), get("-osc"), get("-phistep"))
    shape = "square"
    for flag in flags["_order"]:
        if flag in ("-round_xtal", "-square_xtal", "-gauss_xtal", "-tophat_spots"):
            shape = {"-round_xtal": "round", "-square_xtal": "square",
                     "-gauss_xtal": "gauss", "-tophat_spots": "tophat"}[flag]
    return CrystalConfig(
        cell_a=a, cell_b=b, cell_c=c, cell_alpha=alpha, cell_beta=beta, cell_gamma=gamma,
        misset_rot_x=misset[0], misset_rot_y=misset[1], misset_rot_z=misset[2],
        n_a=cells[0], n_b=cells[1], n_c=cells[2],
        default_F=default_F, hkl=hkl, shape=shape, fudge=get("-fudge", 1.0),
        mosaic_spread_deg=spread, mosaic_domains=domains,
        mosaic_seed=get("-mosaic_seed", 12345678),
        phi_start_deg=get("-phi", 0.0), phi_step_deg=phi_step, phi_steps=phi_steps,
        spindle_axis=get("-spindle_axis"),
        reciprocal_matrix=get("_matrix"),
        water_size_um=get("-water", 0.0),
        interpolate=parsed_interpolate(flags["_order"], hkl is not None, cells),
    )


def _cells_from_size(flags: dict[str, Any], cells: list[int],
                     lengths: tuple[float, float, float]) -> list[int]:
    """``-xtalsize`` and friends (mm) override N: ceil(size / cell length)."""
    sizes = [flags.get("-xtalsize", 0.0)] * 3
    for index, flag in enumerate(("-xtal_x", "-xtal_y", "-xtal_z")):
        if flag in flags:
            sizes[index] = flags[flag]
    beamsize = flags.get("-beamsize", 0.1)
    for index in (1, 2):  # the beam clips the crystal's width and height
        if beamsize < sizes[index]:
            sizes[index] = beamsize
    result = list(cells)
    for index, (size, length) in enumerate(zip(sizes, lengths, strict=True)):
        if size > 0:
            count = size * 1e-3 / (length * 1e-10)
            if not count <= MAX_CELLS:  # also inf
                raise ConfigError(f"-xtalsize: {size:g} mm holds {count:.3g} unit cells along "
                                  f"axis {'abc'[index]}; valid: <= {MAX_CELLS}")
            result[index] = max(1, math.ceil(count))
    return result


def _beam(flags: dict[str, Any]) -> BeamConfig:
    get = flags.get
    wavelength = 1.0
    for flag in flags["_order"]:
        if flag == "-lambda":
            wavelength = flags["-lambda"]
        elif flag == "-energy":
            if flags["-energy"] <= 0:
                raise ConfigError(f"-energy = {flags['-energy']:g} eV; valid: > 0")
            wavelength = HC_EV_ANGSTROM / flags["-energy"]
    if wavelength <= 0:
        raise ConfigError(f"-lambda = {wavelength:g} A; valid: > 0")
    fluence = get("-fluence", DEFAULT_FLUENCE)
    flux, exposure, beamsize = get("-flux", 0.0), get("-exposure", 1.0), get("-beamsize", 0.1)
    if flux != 0 and exposure > 0 and beamsize >= 0:
        if beamsize == 0:
            raise ConfigError("-beamsize = 0 mm with -flux: valid: a beam size > 0 mm")
        fluence = flux * exposure / (beamsize * 1e-3) ** 2
    # -divergence/-divsteps set both axes; whichever flag comes later wins, per axis.
    hdiv_range = _last(flags, ("-divergence", "-hdivrange"))
    vdiv_range = _last(flags, ("-divergence", "-vdivrange"))
    hsteps = _last(flags, ("-divsteps", "-hdivsteps"))
    vsteps = _last(flags, ("-divsteps", "-vdivsteps"))
    # A count alone means a range of 1 rad (1000 mrad); the dispersion range starts at 0, not
    # unset, so a count alone leaves a single wavelength (brief 5.3).
    hn, hr, hd = _step_rule(hsteps, hdiv_range, get("-hdivstep"), 1000.0, 1000.0)
    vn, vr, vd = _step_rule(vsteps, vdiv_range, get("-vdivstep"), 1000.0, 1000.0)
    dn, dr, dd = _step_rule(get("-dispsteps"), get("-dispersion", 0.0), None, 100.0, 100.0)
    round_div = True
    for flag in flags["_order"]:
        if flag in ("-round_div", "-square_div"):
            round_div = flag == "-round_div"
    return BeamConfig(
        lambda_A=wavelength,
        fluence=fluence,
        polarization=get("-polar", 0.0),
        nopolar=_last_flag(flags, ("-polar", "-nopolar")) == "-nopolar",  # -polar re-enables
        beam_vector=get("-beam_vector"),
        polar_vector=get("-polar_vector"),
        hdiv_range_mrad=hr, hdiv_steps=hn, hdiv_step_mrad=hd,
        vdiv_range_mrad=vr, vdiv_steps=vn, vdiv_step_mrad=vd,
        dispersion_pct=dr, dispersion_steps=dn, dispersion_step_pct=dd,
        round_div=round_div,
        sources=get("_sources"),
    )


def _detector(flags: dict[str, Any], convention: str) -> tuple[DetectorConfig, dict[str, Any]]:
    get = flags.get
    pixel = get("-pixel", 0.1)
    if pixel <= 0:
        raise ConfigError(f"-pixel = {pixel:g} mm; valid: > 0")
    sizes = []
    counts = []
    for axis in ("f", "s"):
        size = _last(flags, ("-detsize", f"-detsize_{axis}"), 102.4)
        count = _last(flags, ("-detpixels", f"-detpixels_{axis}"))
        if count is not None:
            if count < 1:
                raise ConfigError(f"-detpixels = {count}; valid: an integer >= 1")
            size = count * pixel
        if size <= 0:
            raise ConfigError(f"-detsize = {size:g} mm; valid: > 0")
        sizes.append(size)
        counts.append(max(1, math.ceil(size / pixel - 0.5)))
    size_f, size_s = sizes
    close_f = (get("-ORGX") - 0.5) * pixel if "-ORGX" in flags else size_f / 2
    close_s = (get("-ORGY") - 0.5) * pixel if "-ORGY" in flags else size_s / 2
    xclose, yclose = get("-Xclose", close_f), get("-Yclose", close_s)
    # Unset beam-centre coordinates take the convention's default from its one definition
    # (detector.default_beam_center_mm); Xbeam/Ybeam are kept for the SMV header.
    default_f, default_s = default_beam_center_mm(convention, size_f, size_s, pixel, close_f,
                                                  close_s)
    if convention in ("mosflm", "denzo"):
        xbeam = get("-Xbeam", (size_s + pixel) / 2)
        ybeam = get("-Ybeam", (size_f + pixel) / 2)
        shift = pixel / 2 if convention == "mosflm" else 0.0
        fbeam = ybeam + shift if "-Ybeam" in flags else default_f
        sbeam = xbeam + shift if "-Xbeam" in flags else default_s
    elif convention == "adxv":
        xbeam = get("-Xbeam", (size_f + pixel) / 2)
        ybeam = get("-Ybeam", (size_s - pixel) / 2)
        fbeam = xbeam if "-Xbeam" in flags else default_f
        sbeam = size_s - ybeam if "-Ybeam" in flags else default_s
    else:
        xbeam, ybeam = get("-Xbeam", xclose), get("-Ybeam", yclose)
        fbeam, sbeam = xbeam, ybeam
        if convention == "custom":
            close_f, close_s = xclose, yclose
            if "-Xbeam" in flags or "-Ybeam" in flags:
                close_f, close_s = fbeam, sbeam
    fbeam = get("-Fbeam", fbeam)
    sbeam = get("-Sbeam", sbeam)
    pivot = None
    if convention == "custom":
        pivot = custom_pivot(flags)
    oversample = get("-oversample")
    if oversample is not None and oversample <= 0:
        oversample = None
    roi = get("-roi")
    if roi is not None:
        roi = (roi[0], roi[1], roi[2], roi[3])
    twotheta = get("-twotheta", 0.0)
    detector = DetectorConfig(
        convention=convention,
        pivot=pivot,
        distance_mm=get("-distance", 100.0),
        close_distance_mm=get("-close_distance"),
        pixel_mm=pixel,
        fpixels=counts[0],
        spixels=counts[1],
        beam_center_f_mm=fbeam,
        beam_center_s_mm=sbeam,
        close_f_mm=close_f,
        close_s_mm=close_s,
        detector_rotx_deg=get("-detector_rotx", 0.0),
        detector_roty_deg=get("-detector_roty", 0.0),
        detector_rotz_deg=get("-detector_rotz", 0.0),
        twotheta_deg=twotheta,
        twotheta_axis=get("-twotheta_axis"),
        fdet_vector=get("-fdet_vector"),
        sdet_vector=get("-sdet_vector"),
        odet_vector=get("-odet_vector"),
        oversample=oversample,
        point_pixel="-point_pixel" in flags,
        roi=roi,
        mask=get("_mask"),
        dmin_A=get("-dmin", 0.0),
        **_sensor(flags),
        **pixel_flags.detector_fields(flags),
    )
    header = {"xbeam_mm": xbeam, "ybeam_mm": ybeam, "detsize_f_mm": size_f,
              "detsize_s_mm": size_s}
    return detector, header


def _sensor(flags: dict[str, Any]) -> dict[str, Any]:
    """-detector_thick/-detector_abs/-detector_thicksteps, in command-line order (brief 7.2).

    ``-detector_abs inf`` (or 0) switches the thickness off *at that point* and leaves no
    absorption; a later -detector_thick switches the thickness back on with nothing absorbed,
    which makes every pixel 0, exactly as the reference program does.
    """
    thickness, attenuation = 0.0, None
    for flag in flags["_order"]:
        if flag == "-detector_thick":
            thickness = flags[flag]
            if thickness < 0:
                raise ConfigError(f"-detector_thick = {thickness:g} um; valid: >= 0")
        elif flag == "-detector_abs":
            word = flags[flag]
            try:
                value = math.inf if "inf" in word.lower() else float(word)
            except ValueError:
                raise ConfigError(f"-detector_abs: expected a length in um or inf, got "
                                  f"{word!r}") from None
            if value < 0 or math.isnan(value):
                raise ConfigError(f"-detector_abs = {word}; valid: > 0 um, or 0/inf for none")
            if value in (0.0, math.inf):
                thickness, attenuation = 0.0, math.inf
            else:
                attenuation = value
    layers = flags.get("-detector_thicksteps")
    return {
        "sensor_thickness_um": thickness,
        "sensor_attenuation_um": attenuation,
        "sensor_layers": layers if layers is not None and layers > 0 else None,
    }


def custom_pivot(flags: dict[str, Any]) -> str:
    """In the CUSTOM convention the last pivot-setting flag decides (brief 6.5)."""
    pivot = "beam"
    implies = {"-distance": "beam", "-Xbeam": "beam", "-Ybeam": "beam",
               "-close_distance": "sample", "-Xclose": "sample", "-Yclose": "sample",
               "-ORGX": "sample", "-ORGY": "sample", "-twotheta": "sample",
               # each convention flag also sets a pivot while parsing (-dials: BEAM); only a
               # named convention's own block overrides it, CUSTOM keeps it
               "-mosflm": "beam", "-adxv": "beam", "-denzo": "beam", "-dials": "beam",
               "-xds": "sample"}
    for flag in flags["_order"]:
        if flag in flags.get("_from_header", ()):
            continue  # an SMV header's values imply no pivot
        if flag == "-pivot":
            value = flags["-pivot"]
            if value not in ("beam", "sample"):
                raise ConfigError(f"-pivot {value!r}: valid: beam or sample")
            pivot = value
        elif flag in implies:
            pivot = implies[flag]
    return pivot
