"""Per-pixel features of the reference program: water background, curved detector and the
per-subpixel capture fraction, polarization and solid angle (``-water``, ``-curved_det``,
``-oversample_thick/_polar/_omega``).

Reference behaviour matched here (docs/geometry.md, "Per-pixel features"):

- The water background ``I_bg = F_w^2 r_e^2 fluence w^3 rho N_A / MW`` starts each pixel's raw
  sum, *before* that sum is scaled by ``r_e^2 fluence / steps`` (so r_e^2 fluence enters it
  twice) and by the pixel's polarization, solid angle and capture fraction.
- ``-curved_det`` replaces every subpixel's position by ``distance * beam`` rotated about the
  slow axis by (lab y of the flat position) / distance, then about the fast axis by (lab z) /
  distance: the lab components, not the detector coordinates, whatever the convention.
- With ``-oversample_X`` the factor X multiplies the pixel's *running* sum after every sample
  (subpixel x source x phi step x domain), background and earlier samples included, instead of
  each sample's own term; samples the reference skips (a lattice factor of exactly 0 without
  water, i.e. outside tophat spots) multiply nothing. ``-oversample_polar`` computes the
  polarization even under ``-nopolar``; ``-oversample_thick`` on a thin detector multiplies by
  ``exp(0) - exp(0) = 0``, so the image is 0.

Those features need every sample's term, so they run on plain autograd ops
(:func:`feature_pixel_values`); the water background alone adds one number per pixel on the
fused path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from braggcheck.sim.constants import R_E_SQUARED_M2
from braggcheck.sim.detector import DetectorGeometry
from braggcheck.sim.fused_lattice import (
    SquaredAmplitudes,
    miller_indices,
    reduced_indices,
    unit_directions,
)
from braggcheck.sim.physics import polarization_factor
from braggcheck.sim.resolution import ResolutionCut, within_cut
from braggcheck.sim.rotations import rotate_axis
from braggcheck.sim.sensor import Sensor
from braggcheck.sim.sources import Sources

WATER_F = 2.57
"""Forward-scattering structure factor of a water molecule (electrons), the reference's."""
WATER_MW = 18.0
"""g/mol."""
WATER_DENSITY = 1e6
"""g/m^3: the reference's factor 1e6 (1 g/cm^3)."""
AVOGADRO = 6.02214179e23
"""The reference program's value."""
MICRON = 1e-6


@dataclass(frozen=True)
class PixelFeatures:
    """The per-pixel features a scene uses (``water`` keeps its graph)."""

    water: torch.Tensor
    """The background every pixel's raw sum starts from (F^2 units, 0 without water)."""
    water_on: bool
    """Whether the thickness is nonzero: then no sample is skipped (the reference's rule)."""
    curved: bool = False
    thick: bool = False
    polar: bool = False
    omega: bool = False

    @property
    def per_subpixel(self) -> bool:
        return self.thick or self.polar or self.omega

    @property
    def plain_only(self) -> bool:
        """Whether the image needs :func:`feature_pixel_values` (not the fused kernels)."""
        return self.curved or self.per_subpixel


def water_background(water_um: torch.Tensor, fluence: torch.Tensor) -> torch.Tensor:
    """``I_bg`` for a water thickness in microns, differentiable in both (cubic in w)."""
    w = water_um * MICRON
    return (WATER_F * WATER_F * R_E_SQUARED_M2 * WATER_DENSITY * AVOGADRO / WATER_MW
            * fluence * w * w * w)


def pixel_features(state: dict[str, torch.Tensor], curved: bool, thick: bool, polar: bool,
                   omega: bool) -> PixelFeatures:
    water_um = state["water_size_um"]
    water_on = bool(water_um.detach() != 0)  # a discrete choice, as the reference makes it
    return PixelFeatures(water=water_background(water_um, state["fluence"]), water_on=water_on,
                         curved=curved, thick=thick, polar=polar, omega=omega)


def curved_positions(position: torch.Tensor, detector: DetectorGeometry) -> torch.Tensor:
    """Flat subpixel positions (3, M) -> the curved detector's: ``distance * beam`` rotated
    about sdet by y / distance, then about fdet by z / distance (lab y, z of the flat ones)."""
    distance = detector.distance
    start = (distance * detector.beam).expand(position.shape[1], 3)
    swung = rotate_axis(start, detector.sdet, position[1] / distance)
    return rotate_axis(swung, detector.fdet, position[2] / distance).T


class FeatureScene(Protocol):
    """What :func:`feature_pixel_values` reads of the simulator's scene."""

    detector: DetectorGeometry
    sources: Sources
    projection: torch.Tensor
    projection_offset: torch.Tensor
    oversample: int
    kahn: torch.Tensor
    sample_dtype: torch.dtype
    nopolar: bool
    point_pixel: bool
    scale: torch.Tensor
    default_F: float
    sensor: Sensor | None
    features: PixelFeatures | None
    resolution: ResolutionCut | None


@dataclass(frozen=True)
class SubpixelFactors:
    """Per subpixel (n, U): solid angle and capture fraction; per source (n, U, S): polar."""

    omega: torch.Tensor
    capture: torch.Tensor | None
    polar: torch.Tensor


def subpixel_factors(scene: FeatureScene, direction: torch.Tensor, inverse: torch.Tensor,
                     pixels: int) -> SubpixelFactors:
    """Every subpixel's (and sensor layer's) factors, as the reference would compute them
    there; directions (3, n*U) pixel-major, layers outer within a pixel."""
    det = scene.detector
    per_pixel = direction.shape[1] // pixels
    if scene.point_pixel:
        omega = inverse * inverse
    else:
        omega = det.pixel**2 * det.close * inverse**3
    polar = torch.stack([polarization_factor(incident, direction, det.polar, scene.kahn)
                         for incident in scene.sources.incident], dim=-1)
    sensor = scene.sensor
    capture = None
    if sensor is not None:
        # (the layer index as a float of the geometry's dtype: an integer tensor times a
        # Python float would be float32)
        layer = torch.div(torch.arange(per_pixel, device=direction.device),
                          scene.oversample**2, rounding_mode="floor").to(direction.dtype)
        depth = (layer * (sensor.step * sensor.mu)).repeat(pixels)
        rho = det.odet @ direction
        capture = torch.exp(-depth / rho) - torch.exp(-(depth + sensor.step * sensor.mu) / rho)
        capture = capture.view(pixels, per_pixel)
    return SubpixelFactors(omega.view(pixels, per_pixel), capture,
                           polar.view(pixels, per_pixel, -1))


@dataclass(frozen=True)
class PixelSums:
    """One block of pixels, as the reference's loop leaves it: the raw sum ``I`` (n,), the
    photons (n,), the subpixel factors, the (curved) positions (3, n*U), Miller indices
    (3, R, n*U) and squared lattice factors (R, n*U), samples ordered as in the reference."""

    raw: torch.Tensor
    value: torch.Tensor
    factors: SubpixelFactors
    position: torch.Tensor
    hkl: torch.Tensor
    squared_lattice: torch.Tensor


def pixel_sums(scene: FeatureScene, position: torch.Tensor, pixels: int,
               lattice: Callable[[torch.Tensor], torch.Tensor],
               amplitudes: SquaredAmplitudes | None) -> PixelSums:
    """Photons of ``pixels`` pixels from their flat subpixel positions (3, pixels * U), by
    plain autograd ops, with the features of ``scene.features``.

    ``lattice``: reduced Miller indices (R, M, 3) -> squared lattice factor (R, M);
    ``amplitudes``: F^2 of Miller indices (3, R, M), or None for ``default_F`` everywhere.
    """
    features = scene.features
    if features is None:
        raise ValueError("pixel_sums: the scene has no PixelFeatures")
    det = scene.detector
    if features.curved:
        position = curved_positions(position, det)
    direction, inverse = unit_directions(position)
    hkl = miller_indices(direction, scene.projection, scene.projection_offset)
    squared_lattice = lattice(reduced_indices(hkl, scene.sample_dtype).permute(1, 2, 0))
    if amplitudes is None:
        terms = squared_lattice * (scene.default_F * scene.default_F)
    else:
        terms = squared_lattice * amplitudes(hkl.detach()).to(squared_lattice.dtype)
    sources = scene.sources.incident.shape[0]
    per_pixel = position.shape[1] // pixels
    # (R, M) with R = (source, orientation), M = (pixel, subpixel) -> the reference's loop
    # order per pixel: layer, subpixel slow, subpixel fast, source, phi step, domain.
    shape = (sources, -1, pixels, per_pixel)
    terms = terms.to(position.dtype).view(shape).permute(2, 3, 0, 1)
    factors = subpixel_factors(scene, direction, inverse, pixels)
    kept = None  # -dmin: which (pixel, subpixel, source) samples the cut keeps
    if scene.resolution is not None:
        kept = within_cut(scene.resolution, direction, scene.sources.incident,
                          scene.sources.wavelength).view(pixels, per_pixel, sources)
        terms = terms * kept[..., None].to(terms.dtype)
    if features.per_subpixel:
        total = running_sum(terms, factors, features, squared_lattice.view(shape), kept)
    else:
        total = features.water + terms.sum((1, 2, 3))
    value = scene.scale * total
    if not features.omega:  # the first subpixel's, as without the features
        value = value * factors.omega[:, 0]
    if not features.polar and not scene.nopolar:
        value = value * first_kept_polarization(factors.polar, kept)
    if not features.thick and factors.capture is not None:  # the last layer's first subpixel
        layers = scene.sensor.layers if scene.sensor is not None else 1
        value = value * factors.capture[:, (layers - 1) * scene.oversample**2]
    return PixelSums(total, value, factors, position, hkl, squared_lattice)


def feature_pixel_values(scene: FeatureScene, position: torch.Tensor, pixels: int,
                         lattice: Callable[[torch.Tensor], torch.Tensor],
                         amplitudes: SquaredAmplitudes | None) -> torch.Tensor:
    """The photons of :func:`pixel_sums` (the simulator's path for curved detectors and
    per-subpixel factors)."""
    return pixel_sums(scene, position, pixels, lattice, amplitudes).value


def first_kept_polarization(polar: torch.Tensor, kept: torch.Tensor | None) -> torch.Tensor:
    """Per pixel: the polarization (pixels, U, S) of its first sample, or under -dmin of its
    first sample within the cut (where the reference first computes it), 0 where none is
    (the reference's initial value: the pixel, water included, is then 0)."""
    if kept is None:
        return polar[:, 0, 0]
    flat = kept.reshape(kept.shape[0], -1)
    inside = flat.any(1)
    first = torch.where(inside, flat.to(torch.int8).argmax(1), 0)
    chosen = polar.reshape(polar.shape[0], -1).gather(1, first[:, None])[:, 0]
    return torch.where(inside, chosen, torch.zeros_like(chosen))


def running_sum(terms: torch.Tensor, factors: SubpixelFactors, features: PixelFeatures,
                squared_lattice: torch.Tensor, kept: torch.Tensor | None = None
                ) -> torch.Tensor:
    """``I = I_bg; for each sample j: I = (I + t_j) f_j`` in closed form: every term times the
    product of its own and all later factors (a reversed cumulative product). Samples the
    -dmin cut drops (``kept`` False, (pixels, U, S)) add and multiply nothing."""
    pixels, per_pixel, sources, orientations = terms.shape
    factor = torch.ones_like(factors.polar)
    if features.thick:  # a thin detector's capture is exp(0) - exp(0) = 0 in the reference
        capture = factors.capture if factors.capture is not None else torch.zeros_like(
            factors.omega)
        factor = factor * capture[..., None]
    if features.polar:
        factor = factor * factors.polar
    if features.omega:
        factor = factor * factors.omega[..., None]
    factor = factor[..., None].expand(pixels, per_pixel, sources, orientations)
    if not features.water_on:  # skipped samples (lattice factor exactly 0) multiply nothing
        skipped = (squared_lattice == 0).permute(2, 3, 0, 1)
        factor = torch.where(skipped, torch.ones_like(factor), factor)
    if kept is not None:  # the reference skips a cut sample before its phi and mosaic loops
        factor = torch.where(kept[..., None], factor, torch.ones_like(factor))
    factor = factor.reshape(pixels, -1)
    suffix = torch.cumprod(factor.flip(1), 1).flip(1)
    return features.water * suffix[:, 0] + (terms.reshape(pixels, -1) * suffix).sum(1)
