"""The configuration's sections: crystal, beam and detector, frozen dataclasses.

Every field is validated at construction, so a Config that exists is one the simulator accepts.
Fields named in the parameter registry may hold tensors; a tensor keeps its graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

import torch

from braggcheck.sim.constants import DEFAULT_FLUENCE
from braggcheck.sim.hkl import HKLTable
from braggcheck.sim.limits import check_fields
from braggcheck.sim.orientation import Matrix, check_matrix
from braggcheck.sim.pixel_mask import PixelMask, check_mask_shape
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sensor_rules import unset_attenuation
from braggcheck.sim.source_list import SourceList
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import (
    as_float,
    check_bool,
    check_int,
    check_vector,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

Number = float | torch.Tensor
Vector = tuple[float, float, float]
CONVENTIONS = ("mosflm", "xds", "dials", "adxv", "denzo", "custom")
SHAPES = ("square", "round", "gauss", "tophat")
PIVOTS = ("beam", "sample")
PIXEL_FEATURE_FLAGS = ("curved_detector", "oversample_thick", "oversample_polar",
                       "oversample_omega")
"""DetectorConfig's switches of braggcheck.sim.pixel_features."""


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
    reciprocal_matrix: Matrix | None = None
    """Rows a*, b*, c* (1/A) of ``-mat``: their directions orient the cell (before misset),
    the cell parameters keep the lengths (braggcheck.sim.orientation)."""
    water_size_um: Number = 0.0
    """Amorphous water background (``-water``; registry ``water_size_um``; 0: none)."""
    interpolate: bool = False
    """Tricubic F between reflections of ``hkl`` (braggcheck.sim.amplitudes); no-op without."""

    def __post_init__(self) -> None:
        check_fields(self)  # first: the cell counts are integers here (reals only via params)
        _validate_registered(self, "crystal")
        check_bool("interpolate", self.interpolate)
        if self.reciprocal_matrix is not None:
            check_matrix("reciprocal_matrix", self.reciprocal_matrix)
        if self.hkl is not None and not isinstance(self.hkl, HKLTable):
            raise ConfigError(f"hkl: expected an HKLTable (braggcheck.sim.hkl.read_hkl) or None, "
                              f"got {type(self.hkl).__name__}")
        if self.shape not in SHAPES:
            raise ConfigError(f"shape = {self.shape!r} is not one of {', '.join(SHAPES)}")
        _validate_optional_vector(self, ("spindle_axis",))
        check_cell_angles(self.cell_alpha, self.cell_beta, self.cell_gamma)


def _check_not_parallel(name_a: str, a: Vector | None, name_b: str, b: Vector | None) -> None:
    """Two user axes that span no plane (the detector's fast and slow) leave no detector."""
    if a is None or b is None:
        return
    x1, y1, z1 = (as_float(v) for v in a)
    x2, y2, z2 = (as_float(v) for v in b)
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


def check_cell_angles(alpha: Number, beta: Number, gamma: Number) -> None:
    """Three angles admit a real cell iff each is below the sum of the others and all < 360;
    the cell must also not be flat to rounding (``MIN_VOLUME_FRACTION``)."""
    a, b, c = (as_float(x) for x in (alpha, beta, gamma))
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
    sources: SourceList | None = None
    """Explicit sources (``-sourcefile``); they replace the divergence/dispersion grid."""

    def __post_init__(self) -> None:
        _validate_registered(self, "beam")
        if self.sources is not None and not isinstance(self.sources, SourceList):
            raise ConfigError(f"sources: expected a SourceList or None, got "
                              f"{type(self.sources).__name__}")
        _validate_optional_vector(self, ("beam_vector", "polar_vector"))
        for name in ("nopolar", "round_div"):
            check_bool(name, getattr(self, name))
        check_fields(self)

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
    mask: PixelMask | None = None
    """Pixels to evaluate (``-mask``); the others are exactly 0 (braggcheck.sim.pixel_mask)."""
    dmin_A: float = 0.0
    """Resolution cut (``-dmin``): samples with d < dmin are skipped; 0 means none."""
    # Per-pixel features (braggcheck.sim.pixel_features; -curved_det, -oversample_thick/...).
    curved_detector: bool = False
    oversample_thick: bool = False
    oversample_polar: bool = False
    oversample_omega: bool = False

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
            ) and not unset_attenuation(parameter.field, value):
                parameter.validate(value)
        check_fields(self)
        check_bool("point_pixel", self.point_pixel)
        for name in PIXEL_FEATURE_FLAGS:
            check_bool(name, getattr(self, name))
        _validate_optional_vector(
            self, ("twotheta_axis", "fdet_vector", "sdet_vector", "odet_vector")
        )
        _check_not_parallel("fdet_vector", self.fdet_vector, "sdet_vector", self.sdet_vector)
        if self.roi is not None:
            self._check_roi()
        check_mask_shape(self.mask, self.fpixels, self.spixels)

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
