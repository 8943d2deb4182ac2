"""The registry of refinable parameters: each one declared once.

Strategies, gradient checks, coverage tests, validation and reports are all derived from this
table, the way PyTorch's OpInfo database drives its operator tests. Adding a parameter means one
entry here plus its physics; the coverage test in ``tests/gradcheck`` then demands its gradcheck.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from braggcheck.sim.constants import DEFAULT_FLUENCE
from braggcheck.sim.parameter import Parameter

HALF_INTEGER = (
    "at a pixel whose fractional Miller index is exactly half-integer the round, gauss and "
    "tophat spot shapes have a kink (tophat: a jump) and an hkl table's F jumps between "
    "neighbours; the square shape is smooth there"
)
AUTO_OVERSAMPLE = (
    "; without an explicit oversample the automatic subpixel count is a step function of the "
    "detector distance along the beam, so the image jumps where that count changes"
)


def _angle(name: str, field: str, section: str, description: str, **kw: Any) -> Parameter:
    """A rotation angle in degrees: any finite value is valid, drawn over the full circle."""
    kw.setdefault("typical_range", (-180.0, 180.0))
    return Parameter(
        name=name,
        units="deg",
        baseline=kw.pop("baseline", 0.0),
        valid_range=(None, None),
        scale=kw.pop("scale", 1.0),
        section=section,
        field=field,
        description=description,
        period=360.0,
        undefined=kw.pop("undefined", HALF_INTEGER),
        **kw,
    )


def _cell_length(axis: str) -> Parameter:
    return Parameter(
        name=f"cell_{axis}",
        units="A",
        baseline=100.0,
        valid_range=(0.0, None),
        typical_range=(40.0, 200.0),
        scale=100.0,
        section="crystal",
        field=f"cell_{axis}",
        description=f"unit-cell length {axis}",
        undefined=HALF_INTEGER,
    )


def _cell_angle(name: str) -> Parameter:
    return Parameter(
        name=f"cell_{name}",
        units="deg",
        baseline=90.0,
        valid_range=(0.0, 180.0),
        typical_range=(60.0, 120.0),
        scale=90.0,
        section="crystal",
        field=f"cell_{name}",
        description=f"unit-cell angle {name}; the three angles must admit a real cell",
        undefined=HALF_INTEGER,
    )


NON_INTEGER_CELLS = (
    "; with a non-integer N the square shape has a kink there too: sin(N pi y) / sin(pi y) of "
    "the reduced index y = h - round(h) is even in y, and its slope at y = +-1/2 is not zero"
)


def _cell_count(axis: str) -> Parameter:
    """Crystal size in unit cells along one axis: continuous for refinement (the configuration
    holds an integer, which fixes the discrete choices; see braggcheck.sim.crystal_size)."""
    return Parameter(
        name=f"n_{axis}",
        units="cells",
        baseline=5.0,
        valid_range=(1.0, 1000.0),
        low_inclusive=True,
        high_inclusive=True,
        typical_range=(3.0, 10.0),
        scale=5.0,
        section="crystal",
        field=f"n_{axis}",
        description=f"number of unit cells along {axis} (-N{axis}); a real value in params, an "
        "integer in the configuration (the automatic oversample, the flags and the fused "
        "kernel's choice follow the configuration's)",
        undefined=HALF_INTEGER + NON_INTEGER_CELLS,
        integer_in_config=True,
    )


_ENTRIES: tuple[Parameter, ...] = (
    _cell_length("a"),
    _cell_length("b"),
    _cell_length("c"),
    _cell_angle("alpha"),
    _cell_angle("beta"),
    _cell_angle("gamma"),
    *(
        _angle(
            f"misset_rot_{axis}",
            f"misset_rot_{axis}",
            "crystal",
            f"misset rotation about lab {axis}, applied x then y then z to the reciprocal basis",
        )
        for axis in "xyz"
    ),
    _angle("phi_start_deg", "phi_start_deg", "crystal", "spindle angle of the first phi step"),
    *(_cell_count(axis) for axis in "abc"),
    Parameter(
        name="mosaic_spread_deg",
        units="deg",
        baseline=0.0,
        valid_range=(0.0, 90.0),
        low_inclusive=True,
        typical_range=(0.0, 2.0),
        scale=1.0,
        section="crystal",
        field="mosaic_spread_deg",
        description="mosaic spread: the maximum tilt of a mosaic domain",
        needs="mosaic_domains > 1 (domain 0 is always the identity)",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="distance_mm",
        units="mm",
        baseline=100.0,
        valid_range=(0.0, None),
        typical_range=(50.0, 300.0),
        scale=100.0,
        section="detector",
        field="distance_mm",
        description="sample to detector distance along the beam (BEAM pivot) or, scaled by the "
        "detector tilt, the perpendicular distance (SAMPLE pivot)",
        undefined=HALF_INTEGER + AUTO_OVERSAMPLE,
        needs="no close_distance_mm (-close_distance), which places the detector instead",
    ),
    Parameter(
        name="beam_center_f_mm",
        units="mm",
        baseline=51.3,
        valid_range=(None, None),
        typical_range=(-5.0, 110.0),
        scale=10.0,
        section="detector",
        field="beam_center_f_mm",
        description="where the direct beam meets the detector, along fast (nanoBragg's Fbeam)",
        needs="a BEAM pivot (MOSFLM, DENZO, ADXV); the SAMPLE pivot places the detector by "
        "ORGX/ORGY instead",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="beam_center_s_mm",
        units="mm",
        baseline=51.3,
        valid_range=(None, None),
        typical_range=(-5.0, 110.0),
        scale=10.0,
        section="detector",
        field="beam_center_s_mm",
        description="where the direct beam meets the detector, along slow (nanoBragg's Sbeam)",
        needs="a BEAM pivot (MOSFLM, DENZO, ADXV)",
        undefined=HALF_INTEGER,
    ),
    *(
        _angle(
            f"detector_rot{axis}_deg",
            f"detector_rot{axis}_deg",
            "detector",
            f"detector rotation about lab {axis} (x then y then z, before two-theta)",
            typical_range=(-20.0, 20.0),
            undefined=HALF_INTEGER + AUTO_OVERSAMPLE,
        )
        for axis in "xyz"
    ),
    _angle(
        "twotheta_deg",
        "twotheta_deg",
        "detector",
        "detector swing about the two-theta axis, after the x/y/z rotations",
        typical_range=(-40.0, 40.0),
        undefined=HALF_INTEGER + AUTO_OVERSAMPLE,
    ),
    Parameter(
        name="sensor_thickness_um",
        units="um",
        baseline=0.0,
        valid_range=(0.0, 1e6),
        low_inclusive=True,
        typical_range=(10.0, 500.0),
        scale=100.0,
        section="detector",
        field="sensor_thickness_um",
        description="sensor thickness (-detector_thick): sets the depth of the sensor layers "
        "(parallax); the capture fraction depends on it through the attenuation length",
        needs="a thick sensor in the configuration (sensor_thickness_um > 0): thin or thick, "
        "like the layer count, is a discrete choice of the configuration",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="sensor_attenuation_um",
        units="um",
        baseline=100.0,
        valid_range=(0.0, None),
        typical_range=(20.0, 1000.0),
        scale=100.0,
        section="detector",
        field="sensor_attenuation_um",
        description="attenuation length of the sensor (-detector_abs): the capture fraction "
        "exp(-t step / (L rho)) - exp(-(t + 1) step / (L rho)); unset, it is the configured "
        "thickness (a thickness passed in params does not move it; for a thin detector, where "
        "it is unused, the baseline)",
        needs="a thick sensor in the configuration and a finite attenuation length (an "
        "infinite one, -detector_abs inf, captures nothing)",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="lambda_A",
        units="A",
        baseline=1.0,
        valid_range=(0.0, None),
        typical_range=(0.5, 2.0),
        scale=1.0,
        section="beam",
        field="lambda_A",
        description="central wavelength",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="fluence",
        units="photons/m^2",
        baseline=DEFAULT_FLUENCE,
        valid_range=(0.0, None),
        low_inclusive=True,
        typical_range=(1e20, 1e30),
        scale=DEFAULT_FLUENCE,
        section="beam",
        field="fluence",
        description="incident photons per unit area; the image is linear in it",
    ),
    Parameter(
        name="polarization",
        units="1",
        baseline=0.0,
        valid_range=(-1.0, 1.0),
        low_inclusive=True,
        high_inclusive=True,
        typical_range=(0.0, 1.0),
        scale=1.0,
        section="beam",
        field="polarization",
        description="Kahn polarization factor K (0 unpolarized, 1 fully polarized along the "
        "polarization vector)",
        needs="polarization not switched off (-nopolar)",
    ),
    Parameter(
        name="divergence_mrad",
        units="mrad",
        baseline=0.0,
        valid_range=(0.0, None),
        low_inclusive=True,
        typical_range=(0.1, 2.0),
        scale=1.0,
        section="beam",
        field="divergence_mrad",
        description="beam divergence: the full angular range of the source grid along its wider "
        "axis (as -divergence sets it); a new value scales every source angle, so the number of "
        "sources and the trimming stay those of the configured grid",
        needs="a divergence grid of several sources (e.g. -divergence 0.5 -divsteps 3)",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="dispersion",
        units="%",
        baseline=0.0,
        valid_range=(0.0, 100.0),
        low_inclusive=True,
        typical_range=(0.05, 2.0),
        scale=1.0,
        section="beam",
        field="dispersion_pct",
        description="spectral dispersion: the full wavelength range of the sources in percent of "
        "lambda (-dispersion); wavelengths are lambda (1 + step m - range / 2)",
        needs="several wavelengths (e.g. -dispersion 0.5 -dispsteps 3)",
        undefined=HALF_INTEGER,
    ),
    Parameter(
        name="water_size_um",
        units="um",
        baseline=0.0,
        valid_range=(0.0, None),
        low_inclusive=True,
        typical_range=(0.001, 0.01),
        scale=0.01,
        section="crystal",
        field="water_size_um",
        description="thickness of the amorphous water around the crystal (-water): a "
        "background F_w^2 r_e^2 fluence w^3 rho N_A / MW added to every pixel's raw sum before "
        "its r_e^2 fluence / steps scaling (so quadratic in fluence), as the reference does",
        needs="a nonzero thickness (the background grows as its cube: at 0 its derivative is "
        "0), and no -oversample_omega (which multiplies it by ~1e-6 per sample); at the default "
        "fluence 0.01 um already gives ~2e5 photons/sr of background, hence the small typical "
        "range",
        undefined="at 0 with -oversample_thick/_polar/_omega and a lattice factor of exactly 0 "
        "(tophat spots): the reference skips such samples only without water, so the image "
        "jumps between 0 and any positive thickness; smooth (cubic) elsewhere",
    ),
)

PARAMETERS: MappingProxyType[str, Parameter] = MappingProxyType({p.name: p for p in _ENTRIES})
"""Every refinable parameter, by name, in a stable order."""

_VECTOR_ENTRIES: tuple[Parameter, ...] = (
    Parameter(
        name="structure_factors",
        units="electrons",
        baseline=100.0,
        valid_range=(None, None),
        typical_range=(0.0, 300.0),
        scale=100.0,
        section="crystal",
        field="hkl",
        description="structure-factor amplitude F of every reflection of the hkl table, in the "
        "table's order (HKLTable.reflection_indices); the default_F fill of unlisted grid "
        "points and of indices outside the table stays a constant",
        needs="an hkl table (-hkl) with a reflection whose spot reaches the detector",
        undefined="where a sample's fractional Miller index is exactly half-integer its "
        "nearest reflection changes, so the image jumps between two reflections' F^2 (with "
        "-interpolate the derivative in h has a kink at integer h instead)",
        vector="reflection of the hkl table",
    ),
)

VECTOR_PARAMETERS: MappingProxyType[str, Parameter] = MappingProxyType(
    {p.name: p for p in _VECTOR_ENTRIES})
"""Refinable vector parameters (one tensor of configuration-dependent length each). Kept out of
PARAMETERS, whose consumers (strategies, Tier-2 scalar cases, the Taylor test) perturb scalars;
each has its own Tier-2 row and strategies (braggcheck.testing.nanobragg.vector_gradients)."""

REFINABLE: MappingProxyType[str, Parameter] = MappingProxyType(
    {**PARAMETERS, **VECTOR_PARAMETERS})
"""Every name ``simulate(config, params)`` accepts: the scalars, then the vectors."""
