"""Parse nanoBragg's command-line flags into a :class:`Config` plus output requests.

Flags are matched by their exact spelling (the reference program matches substrings, which
produces the quirks of brief section 13; braggcheck does not reproduce those). Every flag is
either understood or rejected with a one-line ConfigError naming it: nothing is ignored.
After parsing, the reference program's rules resolve defaults in the same order it applies them
(detector size, beam centre per convention, pivot, phi/mosaic/divergence step rules, fluence).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from braggcheck.nanobragg import pixel_flags
from braggcheck.nanobragg.counting_rules import phi_range, phi_rule, random_misset_angles, step_rule
from braggcheck.nanobragg.detector_flags import detector_from_flags
from braggcheck.nanobragg.flag_values import last_flag, last_value
from braggcheck.nanobragg.flags import (
    CONVENTION_FLAGS,
    VECTOR_FLAGS,
    read_flags,
    split_words,
)
from braggcheck.nanobragg.input_flags import header_flags, matrix_flags, source_flags
from braggcheck.nanobragg.interpolation import parsed_interpolate
from braggcheck.sim.config import BeamConfig, Config, CrystalConfig
from braggcheck.sim.constants import DEFAULT_FLUENCE, HC_EV_ANGSTROM
from braggcheck.sim.hkl import read_hkl
from braggcheck.sim.limits import MAX_CELLS
from braggcheck.util.errors import ConfigError


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




def parse_nanobragg_args(args: str | list[str]) -> ParsedArgs:
    """Flags -> ParsedArgs (configuration, outputs and header bookkeeping)."""
    flags = read_flags(split_words(args))
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
    detector, header = detector_from_flags(flags, convention)
    try:
        config = Config(crystal=crystal, beam=beam, detector=detector)
    except TypeError as exc:  # a programming error, not user input
        raise ConfigError(str(exc)) from exc
    noise = last_flag(flags, ("-noisefile", "-nonoise")) != "-nonoise"
    pgm = last_flag(flags, ("-pgmfile", "-pgmscale", "-nopgm")) != "-nopgm"
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
    header["osc_deg"] = phi_range(get("-phisteps"), get("-osc"), get("-phistep"))
    return ParsedArgs(config=config, outputs=outputs, header=header)


def from_nanobragg_args(args: str | list[str]) -> Config:
    """The Config of nanoBragg's own command-line flags (a string or a list of words)."""
    return parse_nanobragg_args(args).config


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
    phi_steps, phi_step = phi_rule(get("-phisteps"), get("-osc"), get("-phistep"))
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
    """``-xtalsize`` and friends (mm) override N: ceil(size / cell length).

    Read in command-line order, as the reference does: ``-xtalsize`` after ``-xtal_z`` sets
    all three sizes again."""
    axes = ("-xtal_x", "-xtal_y", "-xtal_z")
    sizes = [0.0] * 3
    for flag in flags["_order"]:  # each flag's value is its last, which is the one that counts
        if flag == "-xtalsize":
            sizes = [flags[flag]] * 3
        elif flag in axes:
            sizes[axes.index(flag)] = flags[flag]
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
    hdiv_range = last_value(flags, ("-divergence", "-hdivrange"))
    vdiv_range = last_value(flags, ("-divergence", "-vdivrange"))
    hsteps = last_value(flags, ("-divsteps", "-hdivsteps"))
    vsteps = last_value(flags, ("-divsteps", "-vdivsteps"))
    # A count alone means a range of 1 rad (1000 mrad); the dispersion range starts at 0, not
    # unset, so a count alone leaves a single wavelength (brief 5.3).
    hn, hr, hd = step_rule(hsteps, hdiv_range, get("-hdivstep"), 1000.0, 1000.0)
    vn, vr, vd = step_rule(vsteps, vdiv_range, get("-vdivstep"), 1000.0, 1000.0)
    dn, dr, dd = step_rule(get("-dispsteps"), get("-dispersion", 0.0), None, 100.0, 100.0)
    round_div = True
    for flag in flags["_order"]:
        if flag in ("-round_div", "-square_div"):
            round_div = flag == "-round_div"
    return BeamConfig(
        lambda_A=wavelength,
        fluence=fluence,
        polarization=get("-polar", 0.0),
        nopolar=last_flag(flags, ("-polar", "-nopolar")) == "-nopolar",  # -polar re-enables
        beam_vector=get("-beam_vector"),
        polar_vector=get("-polar_vector"),
        hdiv_range_mrad=hr, hdiv_steps=hn, hdiv_step_mrad=hd,
        vdiv_range_mrad=vr, vdiv_steps=vn, vdiv_step_mrad=vd,
        dispersion_pct=dr, dispersion_steps=dn, dispersion_step_pct=dd,
        round_div=round_div,
        sources=get("_sources"),
    )


