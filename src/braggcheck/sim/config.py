"""Frozen configuration dataclasses: crystal, beam and detector.

Every field is validated at construction, so a Config that exists is one the simulator accepts.
Fields named in the parameter registry may hold tensors; a tensor keeps its graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal

import torch

from braggcheck.sim.constants import DEFAULT_FLUENCE
from braggcheck.sim.hkl import HKLTable
from braggcheck.sim.registry import PARAMETERS
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import check_bool, check_int, check_number, check_vector

if TYPE_CHECKING:
    from collections.abc import Sequence

Number = float | torch.Tensor
Vector = tuple[float, float, float]
CONVENTIONS = ("mosflm", "xds", "dials", "adxv", "denzo", "custom")
SHAPES = ("square", "round", "gauss", "tophat")
PIVOTS = ("beam", "sample")
MAX_CELLS = 1000
MAX_PIXELS = 16384
MAX_DIVERGENCE_MRAD = 1000 * math.pi
"""A divergence range or step beyond pi radians (the whole half-space) means nothing."""
MAX_DISPERSION_PCT = 200.0
"""The grid reaches lambda * (1 - range / 200): at 200 % the shortest wavelength would be 0."""


def _validate_registered(section: object, section_name: str) -> None:
    """Check each registered field of ``section`` against the registry's valid range."""
    optional = {f.name for f in fields(section) if f.default is None}  # type: ignore[arg-type]
    for parameter in PARAMETERS.values():
        if parameter.section != section_name:
            continue
        value = getattr(section, parameter.field)
        if value is None and parameter.field in optional:
            continue  # None stands for a default derived from other fields
        parameter.validate(value)


def _validate_optional_vector(section: object, names: Sequence[str]) -> None:
    for name in names:
        value = getattr(section, name)
        if value is not None:
            check_vector(name, value)


def _as_float(value: Number) -> float:
    """A plain float for bookkeeping outside the differentiable path (validation, auto rules)."""
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    return float(value)


@dataclass(frozen=True)
class CrystalConfig:
    """Unit cell, orientation, size, mosaicity, spindle and structure factors."""

    cell_a: Number = 100.0
    cell_b: Number = 100.0
    cell_c: Number = 100.0
    cell_alpha: Number = 90.0
    cell_beta: Number = 90.0
    cell_gamma: Number = 90.0
    misset_rot_x: Number = 0.0
    misset_rot_y: Number = 0.0
    misset_rot_z: Number = 0.0
    n_a: int = 5
    n_b: int = 5
    n_c: int = 5
    default_F: float = 100.0
    hkl: HKLTable | None = None
    shape: Literal["square", "round", "gauss", "tophat"] = "square"
    fudge: float = 1.0
    mosaic_spread_deg: Number = 0.0
    mosaic_domains: int = 1
    mosaic_seed: int = 12345678
    phi_start_deg: Number = 0.0
    phi_step_deg: float = 0.0
    phi_steps: int = 1
    spindle_axis: Vector | None = None
    """None means the convention's axis (MOSFLM (0,0,1), XDS (1,0,0), DIALS (0,1,0))."""
    interpolate: bool = False
    """Tricubic F between reflections of ``hkl`` (braggcheck.sim.amplitudes); no-op without."""

    def __post_init__(self) -> None:
        _validate_registered(self, "crystal")
        check_bool("interpolate", self.interpolate)
        for name in ("n_a", "n_b", "n_c"):
            check_int(name, getattr(self, name), 1, MAX_CELLS)
        check_number("default_F", self.default_F, 0.0, None, low_inclusive=True)
        if self.hkl is not None and not isinstance(self.hkl, HKLTable):
            raise ConfigError(f"hkl: expected an HKLTable (braggcheck.sim.hkl.read_hkl) or None, "
                              f"got {type(self.hkl).__name__}")
        if self.shape not in SHAPES:
            raise ConfigError(f"shape = {self.shape!r} is not one of {', '.join(SHAPES)}")
        check_number("fudge", self.fudge, 0.0, None)
        check_int("mosaic_domains", self.mosaic_domains, 1, 100000)
        check_int("mosaic_seed", self.mosaic_seed, -(2**31) + 1, 2**31 - 1)
        check_number("phi_step_deg", self.phi_step_deg)
        check_int("phi_steps", self.phi_steps, 1, 100000)
        _validate_optional_vector(self, ("spindle_axis",))
        _check_cell_angles(self.cell_alpha, self.cell_beta, self.cell_gamma)


def _check_not_parallel(name_a: str, a: Vector | None, name_b: str, b: Vector | None) -> None:
    """Two user axes that span no plane (the detector's fast and slow) leave no detector."""
    if a is None or b is None:
        return
    x1, y1, z1 = (_as_float(v) for v in a)
    x2, y2, z2 = (_as_float(v) for v in b)
    cross = (y1 * z2 - z1 * y2, z1 * x2 - x1 * z2, x1 * y2 - y1 * x2)
    size = math.hypot(*cross) / (math.hypot(x1, y1, z1) * math.hypot(x2, y2, z2))
    if size < 1e-9:
        raise ConfigError(f"{name_a} = {tuple(a)} and {name_b} = {tuple(b)} are parallel; "
                          "valid: two directions spanning the detector plane")


MIN_VOLUME_FRACTION = 1e-3
"""Smallest V / (a b c) accepted: flatter cells are degenerate to rounding (a cell of angles
(60, 60, 120 - 1e-14) is 'real' but its volume is 0 in float64, so the image would be NaN)."""


def volume_fraction(alpha_deg: float, beta_deg: float, gamma_deg: float) -> float:
    """V / (a b c) of a cell with these angles (0 for angles that admit no cell)."""
    angles = [math.radians(x) for x in (alpha_deg, beta_deg, gamma_deg)]
    s = sum(angles) / 2
    skew = math.sin(s) * math.prod(math.sin(s - x) for x in angles)
    return 2 * math.sqrt(skew) if skew > 0 else 0.0


def _check_cell_angles(alpha: Number, beta: Number, gamma: Number) -> None:
    """Three angles admit a real cell iff each is below the sum of the others and all < 360;
    the cell must also not be flat to rounding (``MIN_VOLUME_FRACTION``)."""
    a, b, c = (_as_float(x) for x in (alpha, beta, gamma))
    if a + b + c >= 360.0:
        raise ConfigError(
            f"cell angles ({a:g}, {b:g}, {c:g}) sum to {a + b + c:g} deg; "
            "valid: alpha + beta + gamma < 360"
        )
    for name, angle, others in (("alpha", a, b + c), ("beta", b, a + c), ("gamma", c, a + b)):
        if angle >= others:
            raise ConfigError(
                f"cell_{name} = {angle:g} deg admits no real cell; valid: each angle smaller "
                "than the sum of the other two"
            )
    fraction = volume_fraction(a, b, c)
    if fraction < MIN_VOLUME_FRACTION:
        raise ConfigError(
            f"cell angles ({a:.10g}, {b:.10g}, {c:.10g}) give a flat cell "
            f"(V/abc = {fraction:.2g}); valid: angles with V/abc >= {MIN_VOLUME_FRACTION:g}"
        )


@dataclass(frozen=True)
class BeamConfig:
    """Wavelength, fluence, polarization and the source grid (divergence, dispersion)."""

    lambda_A: Number = 1.0
    fluence: Number = DEFAULT_FLUENCE
    polarization: Number = 0.0
    """Kahn factor K; the reference program's default is 0."""
    nopolar: bool = False
    beam_vector: Vector | None = None
    """Propagation direction (source to sample); None means the convention's."""
    polar_vector: Vector | None = None
    hdiv_range_mrad: float = 0.0
    hdiv_steps: int = 1
    hdiv_step_mrad: float | None = None
    """None means range / (steps - 1); grid values are step * i - range / 2."""
    vdiv_range_mrad: float = 0.0
    vdiv_steps: int = 1
    vdiv_step_mrad: float | None = None
    dispersion_pct: Number = 0.0
    """Full wavelength range in percent of lambda (registry ``dispersion``)."""
    dispersion_steps: int = 1
    dispersion_step_pct: float | None = None
    round_div: bool = True
    """Drop the corners of the divergence grid (an ellipse), as ``-round_div`` does."""
    divergence_mrad: Number | None = None
    """Scale of the whole divergence grid (registry ``divergence_mrad``): the grid's wider full
    range. None means max(hdiv_range_mrad, vdiv_range_mrad); another value scales every angle
    (steps included) by value / that, so the number of sources and the trimming stay fixed."""

    def __post_init__(self) -> None:
        _validate_registered(self, "beam")
        _validate_optional_vector(self, ("beam_vector", "polar_vector"))
        for name in ("nopolar", "round_div"):
            check_bool(name, getattr(self, name))
        for name in ("hdiv_range_mrad", "vdiv_range_mrad", "hdiv_step_mrad", "vdiv_step_mrad"):
            if not (name.endswith("step_mrad") and getattr(self, name) is None):
                check_number(name, getattr(self, name), 0.0, MAX_DIVERGENCE_MRAD,
                             low_inclusive=True, high_inclusive=True)
        check_number("dispersion_pct", self.dispersion_pct, 0.0, MAX_DISPERSION_PCT,
                     low_inclusive=True)
        if self.dispersion_step_pct is not None:
            check_number("dispersion_step_pct", self.dispersion_step_pct, 0.0, None,
                         low_inclusive=True)
        for name in ("hdiv_steps", "vdiv_steps", "dispersion_steps"):
            check_int(name, getattr(self, name), 1, 10000)

    @property
    def nominal_divergence_mrad(self) -> float:
        """The divergence grid's wider full range, as configured (what divergence_mrad scales)."""
        return max(float(self.hdiv_range_mrad), float(self.vdiv_range_mrad))


@dataclass(frozen=True)
class DetectorConfig:
    """Detector size, placement and sampling."""

    convention: Literal["mosflm", "xds", "dials", "adxv", "denzo", "custom"] = "mosflm"
    pivot: Literal["beam", "sample"] | None = None
    """None means the convention's pivot (BEAM for MOSFLM/DENZO/ADXV, SAMPLE for XDS/DIALS)."""
    distance_mm: Number = 100.0
    close_distance_mm: float | None = None
    pixel_mm: float = 0.1
    fpixels: int = 1024
    spixels: int = 1024
    beam_center_f_mm: Number | None = None
    """nanoBragg's Fbeam; None means the convention's default centre."""
    beam_center_s_mm: Number | None = None
    close_f_mm: float | None = None
    """nanoBragg's Fclose (the SAMPLE pivot's origin); None means the detector centre."""
    close_s_mm: float | None = None
    detector_rotx_deg: Number = 0.0
    detector_roty_deg: Number = 0.0
    detector_rotz_deg: Number = 0.0
    twotheta_deg: Number = 0.0
    twotheta_axis: Vector | None = None
    fdet_vector: Vector | None = None
    sdet_vector: Vector | None = None
    odet_vector: Vector | None = None
    oversample: int | None = None
    """Subpixels per pixel edge; None means the reference program's automatic choice."""
    point_pixel: bool = False
    roi: tuple[int, int, int, int] | None = None
    """(fast_min, fast_max, slow_min, slow_max), inclusive, like ``-roi``."""
    sensor_thickness_um: float = 0.0
    """Sensor thickness (``-detector_thick``); 0 means a thin detector: no parallax, no
    absorption."""
    sensor_attenuation_um: float | None = None
    """Attenuation length (``-detector_abs``); None means the thickness itself, ``math.inf``
    no absorption at all (then no layer captures anything, as in the reference program)."""
    sensor_layers: int | None = None
    """Depth samples (``-detector_thicksteps``); None means 2 layers thickness/2 apart, n means
    n layers thickness/(n-1) apart (the reference program's rules, brief 7.2)."""

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise ConfigError(
                f"convention = {self.convention!r} is not one of {', '.join(CONVENTIONS)}"
            )
        if self.pivot is not None and self.pivot not in PIVOTS:
            raise ConfigError(f"pivot = {self.pivot!r} is not one of beam, sample")
        for parameter in PARAMETERS.values():
            value = getattr(self, parameter.field, None)
            # Only the beam centre has a convention default (None); None elsewhere is an error.
            if parameter.section == "detector" and not (
                value is None and parameter.field.startswith("beam_center")
            ):
                parameter.validate(value)
        if self.close_distance_mm is not None:
            check_number("close_distance_mm", self.close_distance_mm, 0.0, None)
        for name in ("close_f_mm", "close_s_mm"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name))
        check_number("pixel_mm", self.pixel_mm, 0.0, None)
        check_int("fpixels", self.fpixels, 1, MAX_PIXELS)
        check_int("spixels", self.spixels, 1, MAX_PIXELS)
        if self.oversample is not None:
            check_int("oversample", self.oversample, 1, 64)
        check_bool("point_pixel", self.point_pixel)
        _validate_optional_vector(
            self, ("twotheta_axis", "fdet_vector", "sdet_vector", "odet_vector")
        )
        _check_not_parallel("fdet_vector", self.fdet_vector, "sdet_vector", self.sdet_vector)
        if self.roi is not None:
            self._check_roi()
        self._check_sensor()

    def _check_sensor(self) -> None:
        check_number("sensor_thickness_um", self.sensor_thickness_um, 0.0, 1e6,
                     low_inclusive=True)
        attenuation = self.sensor_attenuation_um
        if attenuation is not None and attenuation != math.inf:
            check_number("sensor_attenuation_um", attenuation, 0.0, None)
        if self.sensor_layers is not None:
            check_int("sensor_layers", self.sensor_layers, 1, 1000)

    def _check_roi(self) -> None:
        roi = self.roi
        if not isinstance(roi, tuple | list) or len(roi) != 4:
            raise ConfigError(f"roi = {roi!r}: expected (fast_min, fast_max, slow_min, slow_max)")
        fmin, fmax, smin, smax = roi
        for name, value, limit in (
            ("roi fast_min", fmin, self.fpixels - 1),
            ("roi fast_max", fmax, self.fpixels - 1),
            ("roi slow_min", smin, self.spixels - 1),
            ("roi slow_max", smax, self.spixels - 1),
        ):
            check_int(name, value, 0, limit)
        if fmin > fmax or smin > smax:
            raise ConfigError(f"roi = {tuple(roi)}: each minimum must not exceed its maximum")

    @property
    def roi_bounds(self) -> tuple[int, int, int, int]:
        """The ROI as (fast_min, fast_max, slow_min, slow_max), the whole detector by default."""
        if self.roi is None:
            return (0, self.fpixels - 1, 0, self.spixels - 1)
        return tuple(self.roi)  # type: ignore[return-value]


@dataclass(frozen=True)
class Config:
    """A whole simulation: crystal, beam and detector."""

    crystal: CrystalConfig = field(default_factory=CrystalConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    oversample: int = field(default=0, init=False, compare=False, repr=False)
    """Subpixels per pixel edge actually used: ``detector.oversample``, or the reference
    program's automatic choice for *this configuration's* values. It is a discrete choice of
    the configuration: tensors passed to ``simulate(params=...)`` do not change it, so the
    image stays a smooth function of them."""

    def __post_init__(self) -> None:
        for name, cls in (("crystal", CrystalConfig), ("beam", BeamConfig),
                          ("detector", DetectorConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"{name}: expected a {cls.__name__}, "
                                  f"got {type(getattr(self, name)).__name__}")
        from braggcheck.sim.simulator import check_placement  # the simulator imports this module

        object.__setattr__(self, "oversample", check_placement(self))

    @classmethod
    def from_nanobragg_args(cls, args: str | list[str]) -> Config:
        """Parse nanoBragg's own command-line flags (a string or a list of words)."""
        from braggcheck.nanobragg.args import parse_nanobragg_args

        return parse_nanobragg_args(args).config

    def to_nanobragg_args(self, hkl_path: str | None = None) -> list[str]:
        """The nanoBragg flags for this configuration (see ``braggcheck.nanobragg.export``)."""
        from braggcheck.nanobragg.export import to_nanobragg_args

        return to_nanobragg_args(self, hkl_path=hkl_path)

    def replace(self, **changes: Any) -> Config:
        """A copy with registry parameters (by name) or section objects replaced."""
        sections: dict[str, dict[str, Any]] = {"crystal": {}, "beam": {}, "detector": {}}
        direct = {}
        for name, value in changes.items():
            if name in sections:
                direct[name] = value
            elif name in PARAMETERS:
                parameter = PARAMETERS[name]
                sections[parameter.section][parameter.field] = value
            else:
                section = _section_of_field(name)
                sections[section][name] = value
        # One Config construction at the end: each one places the detector to validate it.
        parts = {name: direct.get(name, getattr(self, name)) for name in sections}
        for name, values in sections.items():
            if values and isinstance(parts[name], type(getattr(self, name))):
                parts[name] = replace(parts[name], **values)
        return replace(self, **parts)


def _section_of_field(name: str) -> str:
    for section, cls in (("crystal", CrystalConfig), ("beam", BeamConfig),
                         ("detector", DetectorConfig)):
        if name in {f.name for f in fields(cls)}:
            return section
    raise ConfigError(f"{name!r} is neither a registry parameter nor a configuration field")


def resolved_default(config: Config, name: str) -> float:
    """The value a registry parameter whose field is None stands for (it depends on others)."""
    from braggcheck.sim.detector import resolved_beam_center_mm

    if name == "divergence_mrad":
        return config.beam.nominal_divergence_mrad
    if name.startswith("beam_center"):
        return resolved_beam_center_mm(config.detector)[0 if name.endswith("f_mm") else 1]
    raise ConfigError(f"{name}: no default for an unset value")


def baseline_value(config: Config, name: str) -> float:
    """The float value of registry parameter ``name`` in ``config`` (defaults resolved)."""
    parameter = PARAMETERS[name]
    value = getattr(getattr(config, parameter.section), parameter.field)
    if value is None:
        value = resolved_default(config, name)
    return _as_float(value)

